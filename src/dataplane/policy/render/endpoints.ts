/**
 * Endpoint index: effective labels, addresses per family, and selector
 * scopes (which endpoints a policy or a rule's selector refers to).
 *
 * Calico semantics reproduced here:
 * - A workload endpoint's labels are its profiles' `labelsToApply`, then its
 *   own labels, plus `projectcalico.org/namespace` (libcalico-go
 *   `apiv3.LabelNamespace`), so selectors can name the namespace.
 * - A NetworkPolicy (and any selector in its rules without a
 *   namespaceSelector) only sees workload endpoints of its own namespace.
 * - A namespaceSelector selects the namespaces (by Namespace labels) whose
 *   workload endpoints are candidates; host endpoints are never in a namespace.
 * - Global scopes (GlobalNetworkPolicy, Profile rules) see workload and host
 *   endpoints alike.
 */
import { TartanError } from '../../../errors';
import { parsePrefix } from '../../../util/ip';
import type { EndpointPort, HostEndpoint, IpVersion, PolicyInput, Profile, WorkloadEndpoint } from '../model';
import type { Selector, SelectorParser } from './selector-api';

export const NAMESPACE_LABEL = 'projectcalico.org/namespace';

export interface IndexedEndpoint {
  kind: 'wep' | 'hep';
  /** `wep:<ns>/<name>` or `hep:<name>`. */
  key: string;
  namespace: string | null;
  labels: Record<string, string>;
  /** ipset member form: bare address for host prefixes, else CIDR. */
  addrs: Record<IpVersion, string[]>;
  ports: EndpointPort[];
  local: boolean;
  interfaceName: string;
  profiles: string[];
}

/** Which endpoints a selector refers to. */
export interface Scope {
  selector: Selector;
  /** Restrict to workload endpoints of this namespace. */
  namespace: string | null;
  /** Restrict to workload endpoints of namespaces matching this. */
  namespaceSelector: Selector | null;
}

export function scopeId(s: Scope): string {
  let id = `sel=${s.selector.toString()}`;
  if (s.namespace !== null) id += `;ns=${s.namespace}`;
  if (s.namespaceSelector !== null) id += `;nssel=${s.namespaceSelector.toString()}`;
  return id;
}

function memberForm(cidr: string, owner: string): { v: IpVersion; text: string } {
  const p = parsePrefix(cidr);
  if (p === null) throw new TartanError('ENDPOINT_INVALID', `${owner}: bad address ${JSON.stringify(cidr)}`);
  const v: IpVersion = p.family === 'ipv4-unicast' ? 4 : 6;
  const full = v === 4 ? 32 : 128;
  return { v, text: p.length === full ? p.address : p.cidr };
}

function addrsOf(list: readonly string[], owner: string): Record<IpVersion, string[]> {
  const out: Record<IpVersion, string[]> = { 4: [], 6: [] };
  for (const c of list) {
    const m = memberForm(c, owner);
    out[m.v].push(m.text);
  }
  return out;
}

export class EndpointIndex {
  readonly endpoints: IndexedEndpoint[] = [];
  readonly localWorkloads: IndexedEndpoint[] = [];
  readonly localHosts: IndexedEndpoint[] = [];
  private readonly nsLabels = new Map<string, Record<string, string>>();
  private readonly parsed = new Map<string, Selector>();
  private readonly scopeMembers = new Map<string, IndexedEndpoint[]>();

  constructor(
    input: PolicyInput,
    private readonly parse: SelectorParser,
  ) {
    const profiles = new Map<string, Profile>(input.profiles.map((p) => [p.name, p]));
    for (const ns of input.namespaces ?? []) this.nsLabels.set(ns.name, ns.labels ?? {});
    const inherit = (names: readonly string[]): Record<string, string> => {
      const out: Record<string, string> = {};
      for (const n of names) Object.assign(out, profiles.get(n)?.labelsToApply ?? {});
      return out;
    };
    const weps = [...input.workloadEndpoints].sort((a, b) => cmp(wepKey(a), wepKey(b)));
    for (const w of weps) {
      const e: IndexedEndpoint = {
        kind: 'wep',
        key: wepKey(w),
        namespace: w.namespace,
        labels: { ...inherit(w.profiles ?? []), ...(w.labels ?? {}), [NAMESPACE_LABEL]: w.namespace },
        addrs: addrsOf(w.ipNetworks, wepKey(w)),
        ports: w.ports ?? [],
        local: w.node === input.localNode,
        interfaceName: w.interfaceName,
        profiles: w.profiles ?? [],
      };
      this.endpoints.push(e);
      if (e.local) this.localWorkloads.push(e);
    }
    const heps = [...input.hostEndpoints].sort((a, b) => cmp(hepKey(a), hepKey(b)));
    for (const h of heps) {
      const e: IndexedEndpoint = {
        kind: 'hep',
        key: hepKey(h),
        namespace: null,
        labels: { ...inherit(h.profiles ?? []), ...(h.labels ?? {}) },
        addrs: addrsOf(h.expectedIPs ?? [], hepKey(h)),
        ports: h.ports ?? [],
        local: h.node === input.localNode,
        interfaceName: h.interfaceName,
        profiles: h.profiles ?? [],
      };
      this.endpoints.push(e);
      if (e.local) this.localHosts.push(e);
    }
    checkUniqueIfaces(this.localWorkloads);
    checkUniqueIfaces(this.localHosts);
  }

  /** Parse (memoised); a bad selector names its owner in the error. */
  selector(text: string | undefined, owner: string): Selector {
    const t = text === undefined || text.trim() === '' ? 'all()' : text;
    let s = this.parsed.get(t);
    if (s === undefined) {
      try {
        s = this.parse(t);
      } catch (e) {
        if (e instanceof TartanError) throw new TartanError(e.code, `${owner}: ${e.message}`, { cause: e });
        throw e;
      }
      this.parsed.set(t, s);
    }
    return s;
  }

  inScope(e: IndexedEndpoint, s: Scope): boolean {
    if (s.namespace !== null && e.namespace !== s.namespace) return false;
    if (s.namespaceSelector !== null) {
      if (e.namespace === null) return false;
      if (!s.namespaceSelector.matches(this.nsLabels.get(e.namespace) ?? {})) return false;
    }
    return s.selector.matches(e.labels);
  }

  private readonly scopeKeys = new Map<string, Set<string>>();

  /** Keys of the endpoints in a scope (memoised): O(1) "does this policy select e". */
  memberKeys(s: Scope): Set<string> {
    const id = scopeId(s);
    let k = this.scopeKeys.get(id);
    if (k === undefined) {
      k = new Set(this.members(s).map((e) => e.key));
      this.scopeKeys.set(id, k);
    }
    return k;
  }

  /** All endpoints (any node) in a scope, memoised by scope id. */
  members(s: Scope): IndexedEndpoint[] {
    const id = scopeId(s);
    let m = this.scopeMembers.get(id);
    if (m === undefined) {
      m = this.endpoints.filter((e) => this.inScope(e, s));
      this.scopeMembers.set(id, m);
    }
    return m;
  }
}

function checkUniqueIfaces(list: readonly IndexedEndpoint[]): void {
  const seen = new Map<string, string>();
  for (const e of list) {
    const other = seen.get(e.interfaceName);
    if (other !== undefined) {
      throw new TartanError('ENDPOINT_INVALID', `${e.key} and ${other} share interface ${e.interfaceName}`);
    }
    seen.set(e.interfaceName, e.key);
  }
}

export function wepKey(w: WorkloadEndpoint): string {
  return `wep:${w.namespace}/${w.name}`;
}
export function hepKey(h: HostEndpoint): string {
  return `hep:${h.name}`;
}

/** Locale-independent string order (determinism across hosts). */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
