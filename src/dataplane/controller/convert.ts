/**
 * The pure half of the dataplane controller: Calico v3 resources (as the
 * datastore holds them) → what this node's kernel should have.
 *
 * - `toPolicyModel*`: resources → the plain policy model of
 *   src/dataplane/policy (fields the iptables dataplane uses; anything else
 *   is dropped here, in one place).
 * - `workloadRoutes`: the local WorkloadEndpoints' routes (Felix
 *   endpoint_mgr/route_table: one route per ipNetworks entry, via the
 *   workload's host-side interface, scope link, metric
 *   IPv4/IPv6NormalRoutePriority, our protocol 202).
 * - `interfaceSysctls`: the per-interface sysctls Felix writes for a
 *   workload interface (endpoint_mgr.go `configureInterface`).
 * - `resolveFelixConfig`: FelixConfiguration `default` < `node.<name>` < the
 *   caller's explicit options.
 *
 * No I/O, no clock: everything here is unit-tested directly.
 */
import { parsePrefix } from '../../util/ip';
import type {
  FelixConfiguration,
  GlobalNetworkPolicy as GnpResource,
  HostEndpoint as HepResource,
  NetworkPolicy as NpResource,
  Profile as ProfileResource,
  Rule as RuleResource,
  EntityRule as EntityResource,
  WorkloadEndpoint as WepResource,
} from '../../datastore/resources/types';
import type {
  EndpointPort,
  EntityRule,
  HostEndpoint,
  Namespace,
  Policy,
  PolicySpec,
  Profile,
  Rule,
  WorkloadEndpoint,
} from '../policy/model';
import type { EndpointToHostAction, PortProto } from '../policy/config';
import type { RouteTarget } from '../routes/types';

export type Family = 4 | 6;

/** A problem with one resource; the resource is left out (or partly used) and the rest goes on. */
export interface ConvertProblem {
  key: string;
  message: string;
}

// ---- policy model --------------------------------------------------------

/**
 * A rule using matches Tartan cannot enforce in iptables (HTTP, service
 * accounts, services) is left out entirely rather than widened: dropping
 * only the unsupported match would turn a narrow Allow into a broad one.
 */
function unsupported(r: RuleResource): string | null {
  if (r.http !== undefined) return 'http';
  for (const side of [r.source, r.destination]) {
    if (side === undefined) continue;
    if (side.serviceAccounts !== undefined) return 'serviceAccounts';
    if (side.services !== undefined) return 'services';
  }
  return null;
}

function entity(e: EntityResource | undefined): EntityRule | undefined {
  if (e === undefined) return undefined;
  const out: EntityRule = {};
  if (e.nets !== undefined) out.nets = e.nets;
  if (e.notNets !== undefined) out.notNets = e.notNets;
  if (e.selector !== undefined) out.selector = e.selector;
  if (e.notSelector !== undefined) out.notSelector = e.notSelector;
  if (e.namespaceSelector !== undefined) out.namespaceSelector = e.namespaceSelector;
  if (e.ports !== undefined) out.ports = e.ports;
  if (e.notPorts !== undefined) out.notPorts = e.notPorts;
  return out;
}

function rules(list: RuleResource[] | undefined, key: string, dir: string, problems: ConvertProblem[]): Rule[] | undefined {
  if (list === undefined) return undefined;
  const out: Rule[] = [];
  list.forEach((r, i) => {
    const why = unsupported(r);
    if (why !== null) {
      problems.push({ key, message: `${dir}[${i}]: ${why} matches are not supported; rule left out` });
      return;
    }
    const m: Rule = { action: r.action };
    if (r.ipVersion !== undefined) m.ipVersion = r.ipVersion;
    if (r.protocol !== undefined) m.protocol = r.protocol;
    if (r.notProtocol !== undefined) m.notProtocol = r.notProtocol;
    if (r.icmp !== undefined) m.icmp = r.icmp;
    if (r.notICMP !== undefined) m.notICMP = r.notICMP;
    const s = entity(r.source);
    const d = entity(r.destination);
    if (s !== undefined) m.source = s;
    if (d !== undefined) m.destination = d;
    out.push(m);
  });
  return out;
}

function policySpec(spec: GnpResource['spec'], key: string, problems: ConvertProblem[], global: boolean): PolicySpec {
  const out: PolicySpec = {};
  if (spec.tier !== undefined) out.tier = spec.tier;
  if (spec.order !== undefined) out.order = spec.order;
  if (spec.selector !== undefined) out.selector = spec.selector;
  if (spec.types !== undefined) out.types = spec.types;
  const ing = rules(spec.ingress, key, 'ingress', problems);
  const eg = rules(spec.egress, key, 'egress', problems);
  if (ing !== undefined) out.ingress = ing;
  if (eg !== undefined) out.egress = eg;
  if (spec.serviceAccountSelector !== undefined && spec.serviceAccountSelector.trim() !== '') {
    problems.push({ key, message: 'serviceAccountSelector is not supported; the policy selects no endpoint' });
    out.selector = '!all()';
  }
  if (global) {
    if (spec.doNotTrack !== undefined) out.doNotTrack = spec.doNotTrack;
    if (spec.preDNAT !== undefined) out.preDNAT = spec.preDNAT;
    if (spec.applyOnForward !== undefined) out.applyOnForward = spec.applyOnForward;
    if (spec.namespaceSelector !== undefined) out.namespaceSelector = spec.namespaceSelector;
  }
  return out;
}

export function toPolicy(r: GnpResource | NpResource, key: string, problems: ConvertProblem[]): Policy {
  if (r.kind === 'GlobalNetworkPolicy') {
    return { kind: 'GlobalNetworkPolicy', name: r.metadata.name, spec: policySpec(r.spec, key, problems, true) };
  }
  return {
    kind: 'NetworkPolicy',
    name: r.metadata.name,
    namespace: r.metadata.namespace ?? 'default',
    spec: policySpec(r.spec, key, problems, false),
  };
}

export function toProfile(r: ProfileResource, key: string, problems: ConvertProblem[]): Profile {
  const out: Profile = { name: r.metadata.name };
  const ing = rules(r.spec.ingress, key, 'ingress', problems);
  const eg = rules(r.spec.egress, key, 'egress', problems);
  if (ing !== undefined) out.ingress = ing;
  if (eg !== undefined) out.egress = eg;
  if (r.spec.labelsToApply !== undefined) out.labelsToApply = r.spec.labelsToApply;
  return out;
}

const PROTO_NAMES: Record<number, string> = { 6: 'TCP', 17: 'UDP', 132: 'SCTP' };

function ports(list: WepResource['spec']['ports']): EndpointPort[] | undefined {
  if (list === undefined) return undefined;
  return list.map((p) => ({
    name: p.name,
    protocol: typeof p.protocol === 'number' ? (PROTO_NAMES[p.protocol] ?? String(p.protocol)) : p.protocol,
    port: p.port,
  }));
}

export function toWorkloadEndpoint(r: WepResource): WorkloadEndpoint {
  const s = r.spec;
  const out: WorkloadEndpoint = {
    name: r.metadata.name,
    namespace: r.metadata.namespace ?? 'default',
    node: s.node ?? '',
    interfaceName: s.interfaceName ?? '',
    ipNetworks: s.ipNetworks ?? [],
  };
  if (r.metadata.labels !== undefined) out.labels = r.metadata.labels;
  if (s.profiles !== undefined) out.profiles = s.profiles;
  const p = ports(s.ports);
  if (p !== undefined) out.ports = p;
  return out;
}

export function toHostEndpoint(r: HepResource, nodeName: string): HostEndpoint {
  const s = r.spec;
  // A host endpoint without an interface is matched by IP only (ipset
  // members); with no interface to police, it is not given chains here.
  const local = s.node === nodeName && (s.interfaceName ?? '') !== '';
  const out: HostEndpoint = {
    name: r.metadata.name,
    node: local ? nodeName : s.node === nodeName ? '' : (s.node ?? ''),
    interfaceName: s.interfaceName ?? '',
  };
  if (s.expectedIPs !== undefined) out.expectedIPs = s.expectedIPs;
  if (r.metadata.labels !== undefined) out.labels = r.metadata.labels;
  if (s.profiles !== undefined) out.profiles = s.profiles;
  const p = ports(s.ports);
  if (p !== undefined) out.ports = p;
  return out;
}

/**
 * Namespace labels. In etcd mode Calico has no Namespace objects; the
 * Kubernetes convention (and what calico-kube-controllers writes) is a
 * profile `kns.<namespace>` whose labelsToApply carry the namespace's labels
 * with a `pcns.` prefix. Those are the labels namespaceSelectors see.
 */
export function namespacesFromProfiles(profiles: Iterable<Profile>): Namespace[] {
  const out: Namespace[] = [];
  for (const p of profiles) {
    if (!p.name.startsWith('kns.')) continue;
    const name = p.name.slice(4);
    const labels: Record<string, string> = { 'projectcalico.org/name': name };
    for (const [k, v] of Object.entries(p.labelsToApply ?? {})) {
      if (k.startsWith('pcns.')) labels[k.slice(5)] = v;
    }
    out.push({ name, labels });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Local workload endpoints that can be programmed, in key order; later
 * endpoints that reuse an interface name already taken are reported and
 * left out (the renderer would otherwise refuse the whole input).
 */
export function usableLocalWorkloads(
  weps: ReadonlyArray<readonly [string, WorkloadEndpoint]>,
  nodeName: string,
  problems: ConvertProblem[],
): Array<readonly [string, WorkloadEndpoint]> {
  const byIface = new Map<string, string>();
  const out: Array<readonly [string, WorkloadEndpoint]> = [];
  for (const [key, w] of [...weps].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (w.node !== nodeName) continue;
    if (w.interfaceName === '') {
      problems.push({ key, message: 'no spec.interfaceName; endpoint not programmed' });
      continue;
    }
    const other = byIface.get(w.interfaceName);
    if (other !== undefined) {
      problems.push({ key, message: `interface ${w.interfaceName} is already used by ${other}; endpoint not programmed` });
      continue;
    }
    byIface.set(w.interfaceName, key);
    out.push([key, w]);
  }
  return out;
}

// ---- routes --------------------------------------------------------------

export interface RouteSettings {
  families: readonly Family[];
  /** Felix IPv4NormalRoutePriority / IPv6NormalRoutePriority (1024). */
  metricV4: number;
  metricV6: number;
}

/** Canonical prefix and family of an ipNetworks entry (a bare address is a host prefix). */
export function canonicalNet(cidr: string): { prefix: string; family: Family } | null {
  const p = parsePrefix(cidr);
  if (p === null) return null;
  return { prefix: p.cidr, family: p.family === 'ipv4-unicast' ? 4 : 6 };
}

/**
 * Desired workload routes: prefix → device route via the endpoint's
 * interface. When two local endpoints claim the same prefix, the first in
 * key order keeps it and the other is reported.
 */
export function workloadRoutes(
  locals: ReadonlyArray<readonly [string, WorkloadEndpoint]>,
  s: RouteSettings,
  problems: ConvertProblem[],
): Map<string, RouteTarget> {
  const out = new Map<string, RouteTarget>();
  const owner = new Map<string, string>();
  for (const [key, w] of locals) {
    for (const net of w.ipNetworks) {
      const c = canonicalNet(net);
      if (c === null) {
        problems.push({ key, message: `bad ipNetworks entry ${JSON.stringify(net)}` });
        continue;
      }
      if (!s.families.includes(c.family)) continue;
      const prev = owner.get(c.prefix);
      if (prev !== undefined) {
        if (prev !== key) problems.push({ key, message: `${c.prefix} is already routed to ${prev}` });
        continue;
      }
      owner.set(c.prefix, key);
      out.set(c.prefix, { nextHops: [{ ifname: w.interfaceName }], metric: c.family === 4 ? s.metricV4 : s.metricV6 });
    }
  }
  return out;
}

// ---- sysctls -------------------------------------------------------------

export interface SysctlEntry {
  /** Absolute /proc/sys path. */
  path: string;
  value: string;
}

/**
 * Felix's per-workload-interface settings: IPv4 route_localnet=1,
 * neigh proxy_delay=0, proxy_arp=1 (the host answers the workload's ARP for
 * its gateway), forwarding=1, rp_filter=1 (strict: a workload cannot spoof
 * its source); IPv6 proxy_ndp=1, forwarding=1, accept_ra=0.
 */
export function interfaceSysctls(ifname: string, families: readonly Family[]): SysctlEntry[] {
  const out: SysctlEntry[] = [];
  if (families.includes(4)) {
    const c = `/proc/sys/net/ipv4/conf/${ifname}`;
    out.push(
      { path: `${c}/route_localnet`, value: '1' },
      { path: `/proc/sys/net/ipv4/neigh/${ifname}/proxy_delay`, value: '0' },
      { path: `${c}/proxy_arp`, value: '1' },
      { path: `${c}/forwarding`, value: '1' },
      { path: `${c}/rp_filter`, value: '1' },
    );
  }
  if (families.includes(6)) {
    const c = `/proc/sys/net/ipv6/conf/${ifname}`;
    out.push({ path: `${c}/proxy_ndp`, value: '1' }, { path: `${c}/forwarding`, value: '1' }, { path: `${c}/accept_ra`, value: '0' });
  }
  return out;
}

// ---- FelixConfiguration --------------------------------------------------

/** The FelixConfiguration-driven settings the controller uses (explicit options win). */
export interface EffectiveDataplaneConfig {
  interfacePrefix: string;
  families: Family[];
  metricV4: number;
  metricV6: number;
  routeRefreshMs: number;
  iptablesRefreshMs: number;
  endpointToHostAction: EndpointToHostAction;
  failsafeInbound?: PortProto[];
  failsafeOutbound?: PortProto[];
}

export const FELIX_DEFAULTS: EffectiveDataplaneConfig = {
  interfacePrefix: 'cali',
  families: [4],
  metricV4: 1024,
  metricV6: 1024,
  routeRefreshMs: 90_000,
  iptablesRefreshMs: 180_000,
  // Felix defaults to DROP; the Calico manifests (and Tartan) use ACCEPT.
  endpointToHostAction: 'ACCEPT',
};

/** Go-style duration ("90s", "1m30s", "500ms") → ms; undefined when unparsable. */
export function parseDuration(d: string | undefined): number | undefined {
  if (d === undefined) return undefined;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(d); m !== null; m = re.exec(d)) {
    const n = Number(m[1]);
    total += n * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : 3_600_000);
    consumed += m[0].length;
  }
  return consumed === d.length && consumed > 0 ? total : undefined;
}

function failsafe(list: FelixConfiguration['spec']['failsafeInboundHostPorts']): PortProto[] | undefined {
  if (list === undefined) return undefined;
  return list
    .filter((p) => p.net === undefined)
    .map((p) => ({ protocol: (p.protocol ?? 'TCP').toLowerCase() === 'udp' ? ('udp' as const) : ('tcp' as const), port: p.port }));
}

/**
 * Effective settings: built-in defaults < FelixConfiguration `default` <
 * `node.<nodeName>` < `explicit` (the daemon's config file / options, as
 * Felix's env and config file win over the datastore).
 */
export function resolveFelixConfig(
  configs: readonly FelixConfiguration[],
  nodeName: string,
  explicit: Partial<EffectiveDataplaneConfig> = {},
): EffectiveDataplaneConfig {
  const global = configs.find((c) => c.metadata.name === 'default')?.spec ?? {};
  const node = configs.find((c) => c.metadata.name === `node.${nodeName}`)?.spec ?? {};
  const s = { ...global, ...node };
  const fromDs: Partial<EffectiveDataplaneConfig> = {};
  if (s.interfacePrefix !== undefined && s.interfacePrefix !== '') fromDs.interfacePrefix = s.interfacePrefix.split(',')[0] ?? 'cali';
  if (s.ipv6Support !== undefined) fromDs.families = s.ipv6Support ? [4, 6] : [4];
  if (s.ipv4NormalRoutePriority !== undefined) fromDs.metricV4 = s.ipv4NormalRoutePriority;
  if (s.ipv6NormalRoutePriority !== undefined) fromDs.metricV6 = s.ipv6NormalRoutePriority;
  const rr = parseDuration(s.routeRefreshInterval);
  if (rr !== undefined) fromDs.routeRefreshMs = rr;
  const ir = parseDuration(s.iptablesRefreshInterval);
  if (ir !== undefined) fromDs.iptablesRefreshMs = ir;
  if (s.defaultEndpointToHostAction !== undefined) {
    fromDs.endpointToHostAction = s.defaultEndpointToHostAction.toUpperCase() as EndpointToHostAction;
  }
  const fi = failsafe(s.failsafeInboundHostPorts);
  const fo = failsafe(s.failsafeOutboundHostPorts);
  if (fi !== undefined) fromDs.failsafeInbound = fi;
  if (fo !== undefined) fromDs.failsafeOutbound = fo;
  const defined = Object.fromEntries(Object.entries(explicit).filter(([, v]) => v !== undefined)) as Partial<EffectiveDataplaneConfig>;
  return { ...FELIX_DEFAULTS, ...fromDs, ...defined };
}

/** True when a FelixConfiguration change alters settings fixed at start (Felix restarts for these). */
export function configChanged(a: EffectiveDataplaneConfig, b: EffectiveDataplaneConfig): boolean {
  return JSON.stringify(a) !== JSON.stringify(b);
}
