/**
 * The container's network, made the way Calico's plugin makes it
 * (cni-plugin/pkg/dataplane/linux/dataplane_linux.go), with iproute2:
 *
 *   host namespace   cali<11 hex>  MAC ee:ee:ee:ee:ee:ee, up; proxy_arp,
 *                    forwarding, route_localnet on, proxy_delay 0
 *   container        <CNI_IFNAME>  the assigned /32 (/128) addresses;
 *                    169.254.1.1 dev eth0 scope link; default via 169.254.1.1;
 *                    a permanent neighbour entry 169.254.1.1 → ee:ee:ee:ee:ee:ee;
 *                    IPv6: default via the host veth's link-local address;
 *                    ip_forward off unless allow_ip_forwarding
 *
 * The host-side /32 route is not added here: the node's dataplane
 * controller programs it (protocol 202) from the WorkloadEndpoint, as Felix
 * does, so the route has one owner.
 *
 * The plugin runs in the host namespace (as the runtime starts it); the
 * container side is reached with `nsenter --net=<CNI_NETNS>` (any path: a
 * bind mount in /run/netns or /proc/<pid>/ns/net). Container-side changes
 * use `replace`, so running them again (a repeated ADD) converges instead
 * of failing. The project's rtnetlink layer (src/netlink) programs routes
 * only (no links, addresses or namespaces), hence iproute2 here.
 *
 * Pure parts (argv and batch builders, the CHECK comparison) are exported
 * for tests; `LinuxDataplane` is the thin driver, its failures translated
 * once into TartanError CNI_DATAPLANE_ERROR.
 */
import { existsSync, promises as fs } from 'node:fs';
import { TartanError } from '../errors';
import { CNI_DATAPLANE_ERROR, CniError, TARTAN_CNI_INTERFACE_EXISTS } from './errors';
import type { Runner } from './exec';
import { familyOf, GATEWAY_V4, HOST_MAC, hostCidr } from './result';

export interface LinkState {
  ifindex: number;
  /** The peer's ifindex (veth). */
  linkIndex?: number;
  name: string;
  mac: string;
  kind?: string;
  mtu: number;
  up: boolean;
}

export interface ContainerState {
  link: LinkState;
  /** Plain addresses on the interface (global scope). */
  addresses: string[];
  /** `ip -j route show dev <if>` rows: dst, gateway, scope. */
  routes: Array<{ dst: string; gateway?: string; scope?: string }>;
}

export interface VethSpec {
  netns: string;
  ifname: string;
  hostVeth: string;
  /** 0: kernel default. */
  mtu: number;
  addresses: readonly string[];
  allowIpForwarding: boolean;
}

export interface VethResult {
  containerMac: string;
  /** The host veth's link-local address, when an IPv6 address was assigned. */
  gatewayV6?: string;
  /** False when a pair from an earlier ADD of this container was found and reused. */
  created: boolean;
}

export interface Dataplane {
  setup(spec: VethSpec): Promise<VethResult>;
  /** Delete `ifname` in `netns` (its veth peer goes with it); false when there was nothing to delete. */
  teardown(netns: string, ifname: string): Promise<boolean>;
  /** Delete a host-side interface by name, if present. */
  removeHostLink(name: string): Promise<boolean>;
  /** What CHECK compares; undefined parts are missing. */
  inspect(netns: string, ifname: string, hostVeth: string): Promise<{ host?: LinkState; container?: ContainerState }>;
}

// ---- pure builders --------------------------------------------------------

/** `ip link add` for the pair, the container end created straight in its namespace. */
export function vethAddArgs(spec: Pick<VethSpec, 'hostVeth' | 'ifname' | 'netns' | 'mtu'>): string[] {
  const mtu = spec.mtu > 0 ? ['mtu', String(spec.mtu)] : [];
  return ['link', 'add', spec.hostVeth, ...mtu, 'address', HOST_MAC, 'type', 'veth', 'peer', 'name', spec.ifname, ...mtu, 'netns', spec.netns];
}

/** iproute2 batch (`ip -batch -`) configuring the container end; idempotent. */
export function containerBatch(ifname: string, addresses: readonly string[]): string {
  const lines = [`link set dev ${ifname} up`];
  for (const a of addresses) lines.push(`addr replace ${hostCidr(a)} dev ${ifname}${familyOf(a) === 6 ? ' nodad' : ''}`);
  if (addresses.some((a) => familyOf(a) === 4)) {
    lines.push(
      `route replace ${GATEWAY_V4} dev ${ifname} scope link`,
      `route replace default via ${GATEWAY_V4} dev ${ifname}`,
      `neigh replace ${GATEWAY_V4} lladdr ${HOST_MAC} dev ${ifname} nud permanent`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The IPv6 default route, once the host veth's link-local address is known (`ip` arguments). */
export function containerV6RouteArgs(ifname: string, gatewayV6: string): string[] {
  return ['-6', 'route', 'replace', 'default', 'via', gatewayV6, 'dev', ifname];
}

/** Host-side sysctls of the workload interface (path under /proc/sys, value). */
export function hostSysctls(hostVeth: string, has4: boolean, has6: boolean): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (has4) {
    out.push(
      [`net/ipv4/conf/${hostVeth}/route_localnet`, '1'],
      [`net/ipv4/neigh/${hostVeth}/proxy_delay`, '0'],
      [`net/ipv4/conf/${hostVeth}/proxy_arp`, '1'],
      [`net/ipv4/conf/${hostVeth}/forwarding`, '1'],
    );
  }
  if (has6) {
    out.push(
      [`net/ipv6/conf/${hostVeth}/disable_ipv6`, '0'],
      [`net/ipv6/conf/${hostVeth}/accept_dad`, '0'],
      [`net/ipv6/conf/${hostVeth}/proxy_ndp`, '1'],
      [`net/ipv6/conf/${hostVeth}/forwarding`, '1'],
      [`net/ipv6/conf/${hostVeth}/accept_ra`, '0'],
    );
  }
  return out;
}

/** `sysctl -w` arguments for the container namespace. */
export function containerSysctls(has4: boolean, has6: boolean, allowIpForwarding: boolean): string[] {
  const fwd = allowIpForwarding ? '1' : '0';
  const out: string[] = [];
  if (has4) out.push(`net.ipv4.ip_forward=${fwd}`);
  if (has6) {
    out.push('net.ipv6.conf.all.disable_ipv6=0', 'net.ipv6.conf.default.disable_ipv6=0', 'net.ipv6.conf.lo.disable_ipv6=0', `net.ipv6.conf.all.forwarding=${fwd}`);
  }
  return out;
}

/** The container interface and the host veth are the two ends of one pair. */
export function isPair(host: LinkState | undefined, container: LinkState | undefined): boolean {
  return (
    host !== undefined &&
    container !== undefined &&
    host.kind === 'veth' &&
    container.kind === 'veth' &&
    host.linkIndex === container.ifindex &&
    container.linkIndex === host.ifindex
  );
}

/**
 * CHECK: what is wrong with the container's networking, compared with the
 * addresses ADD assigned (empty when all is well).
 */
export function dataplaneProblems(
  state: { host?: LinkState; container?: ContainerState },
  expect: { ifname: string; hostVeth: string; netns: string; addresses: readonly string[] },
): string[] {
  const problems: string[] = [];
  const c = state.container;
  if (!state.host) problems.push(`host interface ${expect.hostVeth} does not exist`);
  else if (!state.host.up) problems.push(`host interface ${expect.hostVeth} is down`);
  if (!c) {
    problems.push(`interface ${expect.ifname} does not exist in ${expect.netns}`);
    return problems;
  }
  if (state.host && !isPair(state.host, c.link)) problems.push(`${expect.ifname} in ${expect.netns} is not the veth peer of ${expect.hostVeth}`);
  if (!c.link.up) problems.push(`${expect.ifname} is down`);
  for (const a of expect.addresses) {
    if (!c.addresses.includes(a)) problems.push(`${expect.ifname} lacks address ${hostCidr(a)}`);
  }
  if (expect.addresses.some((a) => familyOf(a) === 4)) {
    if (!c.routes.some((r) => r.dst === GATEWAY_V4 && r.scope === 'link')) problems.push(`no route ${GATEWAY_V4} dev ${expect.ifname} scope link`);
    if (!c.routes.some((r) => r.dst === 'default' && r.gateway === GATEWAY_V4)) problems.push(`no default route via ${GATEWAY_V4}`);
  }
  if (expect.addresses.some((a) => familyOf(a) === 6) && !c.routes.some((r) => r.dst === 'default' && r.gateway?.startsWith('fe80:'))) {
    problems.push('no IPv6 default route via the host link-local address');
  }
  return problems;
}

/** One row of `ip -j -d link show` → LinkState. */
export function parseLink(row: Record<string, unknown>): LinkState {
  const flags = Array.isArray(row['flags']) ? (row['flags'] as string[]) : [];
  const info = row['linkinfo'] as { info_kind?: string } | undefined;
  const out: LinkState = {
    ifindex: Number(row['ifindex']),
    name: String(row['ifname'] ?? ''),
    mac: String(row['address'] ?? ''),
    mtu: Number(row['mtu'] ?? 0),
    up: flags.includes('UP'),
  };
  if (typeof row['link_index'] === 'number') out.linkIndex = row['link_index'];
  if (info?.info_kind) out.kind = info.info_kind;
  return out;
}

// ---- the driver -----------------------------------------------------------

export interface LinuxDataplaneOptions {
  run: Runner;
  /** Debug lines about each command. */
  log?: (msg: string) => void;
  /** Writes one host-namespace sysctl ("net/ipv4/conf/<if>/proxy_arp", "1"); default: under /proc/sys. */
  writeSysctl?: (path: string, value: string) => Promise<void>;
  /** How long to wait for the host veth's IPv6 link-local address (default 3000 ms). */
  linkLocalWaitMs?: number;
}

export class LinuxDataplane implements Dataplane {
  private readonly run: Runner;
  private readonly log: (msg: string) => void;
  private readonly sysctl: (path: string, value: string) => Promise<void>;
  private readonly linkLocalWaitMs: number;

  constructor(opts: LinuxDataplaneOptions) {
    this.run = opts.run;
    this.log = opts.log ?? (() => undefined);
    this.sysctl = opts.writeSysctl ?? ((path, value) => fs.writeFile(`/proc/sys/${path}`, value));
    this.linkLocalWaitMs = opts.linkLocalWaitMs ?? 3000;
  }

  async setup(spec: VethSpec): Promise<VethResult> {
    const has4 = spec.addresses.some((a) => familyOf(a) === 4);
    const has6 = spec.addresses.some((a) => familyOf(a) === 6);
    const host = await this.link(undefined, spec.hostVeth);
    const container = await this.link(spec.netns, spec.ifname);
    let created = false;
    if (container) {
      if (!isPair(host, container)) {
        throw new CniError(
          TARTAN_CNI_INTERFACE_EXISTS,
          `interface ${spec.ifname} already exists in ${spec.netns}`,
          `${spec.ifname} (${container.kind ?? 'unknown kind'}) is not the peer of ${spec.hostVeth}; the spec requires ADD to fail rather than take it over`,
        );
      }
      this.log(`reusing the veth pair ${spec.hostVeth} / ${spec.ifname} of an earlier ADD`);
    } else {
      if (host) {
        // Left by an earlier sandbox of the same pod (same name), or a failed ADD: Calico deletes it too.
        this.log(`deleting stale host interface ${spec.hostVeth}`);
        await this.ip(undefined, ['link', 'del', 'dev', spec.hostVeth], { missingOk: true });
      }
      await this.ip(undefined, vethAddArgs(spec));
      created = true;
    }
    try {
      await this.ip(undefined, ['link', 'set', 'dev', spec.hostVeth, 'up']);
      for (const [path, value] of hostSysctls(spec.hostVeth, has4, has6)) await this.writeSysctl(path, value);
      const sysctls = containerSysctls(has4, has6, spec.allowIpForwarding);
      if (sysctls.length > 0) await this.exec(['nsenter', `--net=${spec.netns}`, 'sysctl', '-q', '-w', ...sysctls]);
      await this.ip(spec.netns, ['-batch', '-'], { input: containerBatch(spec.ifname, spec.addresses) });
      const out: VethResult = { containerMac: '', created };
      if (has6) {
        out.gatewayV6 = await this.hostLinkLocal(spec.hostVeth);
        await this.ip(spec.netns, containerV6RouteArgs(spec.ifname, out.gatewayV6));
      }
      const now = await this.link(spec.netns, spec.ifname);
      if (!now) throw new TartanError(CNI_DATAPLANE_ERROR, `${spec.ifname} vanished from ${spec.netns} while being configured`);
      out.containerMac = now.mac;
      return out;
    } catch (e) {
      // A pair made by this call is removed here; the caller rolls back the rest.
      if (created) await this.ip(undefined, ['link', 'del', 'dev', spec.hostVeth], { missingOk: true }).catch(() => undefined);
      throw e;
    }
  }

  async teardown(netns: string, ifname: string): Promise<boolean> {
    if (netns === '' || !existsSync(netns)) return false;
    return this.ip(netns, ['link', 'del', 'dev', ifname], { missingOk: true });
  }

  async removeHostLink(name: string): Promise<boolean> {
    return this.ip(undefined, ['link', 'del', 'dev', name], { missingOk: true });
  }

  async inspect(netns: string, ifname: string, hostVeth: string): Promise<{ host?: LinkState; container?: ContainerState }> {
    const out: { host?: LinkState; container?: ContainerState } = {};
    const host = await this.link(undefined, hostVeth);
    if (host) out.host = host;
    if (!existsSync(netns)) return out;
    const link = await this.link(netns, ifname);
    if (!link) return out;
    const addrs = JSON.parse((await this.ipOut(netns, ['-j', 'addr', 'show', 'dev', ifname, 'scope', 'global'])) || '[]') as Array<{
      addr_info?: Array<{ local?: string }>;
    }>;
    const routes4 = JSON.parse((await this.ipOut(netns, ['-j', '-4', 'route', 'show', 'dev', ifname])) || '[]') as Array<Record<string, unknown>>;
    const routes6 = JSON.parse((await this.ipOut(netns, ['-j', '-6', 'route', 'show', 'dev', ifname])) || '[]') as Array<Record<string, unknown>>;
    out.container = {
      link,
      addresses: addrs.flatMap((a) => (a.addr_info ?? []).map((i) => i.local ?? '')).filter((a) => a !== ''),
      routes: [...routes4, ...routes6].map((r) => {
        const route: { dst: string; gateway?: string; scope?: string } = { dst: String(r['dst']) };
        if (typeof r['gateway'] === 'string') route.gateway = r['gateway'];
        if (typeof r['scope'] === 'string') route.scope = r['scope'];
        return route;
      }),
    };
    return out;
  }

  /** The host veth's IPv6 link-local address; it appears once both ends are up. */
  private async hostLinkLocal(hostVeth: string): Promise<string> {
    const deadline = Date.now() + this.linkLocalWaitMs;
    for (;;) {
      const rows = JSON.parse((await this.ipOut(undefined, ['-j', '-6', 'addr', 'show', 'dev', hostVeth, 'scope', 'link'])) || '[]') as Array<{
        addr_info?: Array<{ local?: string }>;
      }>;
      const ll = rows.flatMap((r) => r.addr_info ?? []).find((a) => a.local?.startsWith('fe80:'))?.local;
      if (ll) return ll;
      if (Date.now() > deadline) throw new TartanError(CNI_DATAPLANE_ERROR, `${hostVeth} got no IPv6 link-local address (is IPv6 disabled on the host?)`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async link(netns: string | undefined, name: string): Promise<LinkState | undefined> {
    const res = await this.exec(this.ipArgv(netns, ['-j', '-d', 'link', 'show', 'dev', name]), { allowFailure: true });
    if (res.code !== 0) {
      if (isMissing(res.stderr)) return undefined;
      throw failure(this.ipArgv(netns, ['-j', '-d', 'link', 'show', 'dev', name]), res.stderr);
    }
    const rows = JSON.parse(res.stdout || '[]') as Array<Record<string, unknown>>;
    return rows[0] ? parseLink(rows[0]) : undefined;
  }

  /** Run `ip`; true if it did something, false if `missingOk` and the object was not there. */
  private async ip(netns: string | undefined, args: string[], opts: { input?: string; missingOk?: boolean } = {}): Promise<boolean> {
    const argv = this.ipArgv(netns, args);
    const res = await this.exec(argv, { allowFailure: true, ...(opts.input !== undefined ? { input: opts.input } : {}) });
    if (res.code === 0) return true;
    if (opts.missingOk && isMissing(res.stderr)) return false;
    throw failure(argv, res.stderr, opts.input);
  }

  private async ipOut(netns: string | undefined, args: string[]): Promise<string> {
    return (await this.exec(this.ipArgv(netns, args))).stdout;
  }

  private ipArgv(netns: string | undefined, args: string[]): string[] {
    return netns === undefined ? ['ip', ...args] : ['nsenter', `--net=${netns}`, 'ip', ...args];
  }

  private async exec(argv: string[], opts: { input?: string; allowFailure?: boolean } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    this.log(`$ ${argv.join(' ')}${opts.input ? `  <<< ${opts.input.trim().replace(/\n/g, ' | ')}` : ''}`);
    let res;
    try {
      res = await this.run(argv, opts.input !== undefined ? { input: opts.input } : {});
    } catch (e) {
      throw new TartanError(CNI_DATAPLANE_ERROR, `${argv.join(' ')}: ${(e as Error).message}`, { cause: e });
    }
    if (res.code !== 0 && !opts.allowFailure) throw failure(argv, res.stderr, opts.input);
    return res;
  }

  private async writeSysctl(path: string, value: string): Promise<void> {
    try {
      await this.sysctl(path, value);
    } catch (e) {
      throw new TartanError(CNI_DATAPLANE_ERROR, `sysctl ${path.replace(/\//g, '.')}=${value}: ${(e as Error).message}`, { cause: e });
    }
  }
}

/** iproute2's wording for an absent link or address. */
function isMissing(stderr: string): boolean {
  return /does not exist|Cannot find device|No such device/i.test(stderr);
}

function failure(argv: readonly string[], stderr: string, input?: string): TartanError {
  const what = input ? `${argv.join(' ')} (${input.trim().split('\n').join('; ')})` : argv.join(' ');
  return new TartanError(CNI_DATAPLANE_ERROR, `${what}: ${stderr.trim() || 'failed'}`);
}
