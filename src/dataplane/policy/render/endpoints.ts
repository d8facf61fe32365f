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
import type { EndpointPort, HostEndpoint, IpVersion, PolicyInput, WorkloadEndpoint } from '../model';
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

const scopeIds = new WeakMap<Scope, string>();
const selectorTexts = new WeakMap<Selector, string>();

function selText(s: Selector): string {
  let t = selectorTexts.get(s);
  if (t === undefined) {
    t = s.toString();
    selectorTexts.set(s, t);
  }
  return t;
}

/** Stable id of a scope (memoised per scope object: selectors print their canonical text). */
export function scopeId(s: Scope): string {
  let id = scopeIds.get(s);
  if (id !== undefined) return id;
  id = `sel=${selText(s.selector)}`;
  if (s.namespace !== null) id += `;ns=${s.namespace}`;
  if (s.namespaceSelector !== null) id += `;nssel=${selText(s.namespaceSelector)}`;
  scopeIds.set(s, id);
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

interface Source {
  src: WorkloadEndpoint | HostEndpoint;
  json: string;
  e: IndexedEndpoint;
}

interface ScopeEntry {
  scope: Scope;
  members: Set<string>;
  /** Members in index order; null when membership changed since it was computed. */
  list: IndexedEndpoint[] | null;
}

/**
 * The endpoint index. It can be kept across renders: `update(input)` finds
 * the endpoints that changed (same object, else same JSON, means unchanged)
 * and re-evaluates only those against every scope seen so far, recording
 * which scopes changed (`scopeDirty`) so cached sets and selections can be
 * kept for everything else.
 */
export class EndpointIndex {
  endpoints: IndexedEndpoint[] = [];
  localWorkloads: IndexedEndpoint[] = [];
  localHosts: IndexedEndpoint[] = [];
  /** Keys of endpoints added, removed or changed by the last update (all: `changedAll`). */
  changed = new Set<string>();
  /** The last update invalidated everything (first update, local node, namespace or profile labels). */
  changedAll = true;
  /** Bumped by every update that changed anything. */
  generation = 0;
  /**
   * Bumped when the local endpoints or their interface names may have changed
   * (an endpoint added or removed, or a changed one moved or renamed its
   * interface); otherwise an order of local endpoints by interface stays valid.
   */
  layoutGeneration = 0;
  private readonly dirtyScopes = new Set<string>();
  private readonly byKey = new Map<string, Source>();
  private nsLabels = new Map<string, Record<string, string>>();
  private nsJson = '';
  private profileLabelsJson = new Map<string, string>();
  private profileLabels = new Map<string, Record<string, string>>();
  private localNode: string | null = null;
  private readonly parsed = new Map<string, Selector>();
  private scopes = new Map<string, ScopeEntry>();

  constructor(
    input: PolicyInput,
    private readonly parse: SelectorParser,
  ) {
    this.update(input);
  }

  /** Did the last update change the members of this scope, or the addresses/ports of one of them? */
  scopeDirty(s: Scope): boolean {
    const id = scopeId(s);
    return this.changedAll || this.dirtyScopes.has(id) || !this.scopes.has(id);
  }

  /** Bring the index up to date with `input`; returns true if anything changed. */
  update(input: PolicyInput): boolean {
    this.changed = new Set();
    this.dirtyScopes.clear();
    let all = this.localNode !== input.localNode;
    this.localNode = input.localNode;
    const nsJson = JSON.stringify((input.namespaces ?? []).map((n) => [n.name, n.labels ?? {}]));
    if (nsJson !== this.nsJson) {
      all = true;
      this.nsJson = nsJson;
      this.nsLabels = new Map((input.namespaces ?? []).map((n) => [n.name, n.labels ?? {}]));
    }
    // Profiles' labelsToApply feed endpoint labels: endpoints of a changed profile change.
    const changedProfiles = new Set<string>();
    const nextLabels = new Map<string, string>();
    const labelsByName = new Map<string, Record<string, string>>();
    for (const p of input.profiles) {
      const j = p.labelsToApply === undefined ? '' : JSON.stringify(p.labelsToApply);
      nextLabels.set(p.name, j);
      labelsByName.set(p.name, p.labelsToApply ?? {});
      if (this.profileLabelsJson.get(p.name) !== j) changedProfiles.add(p.name);
    }
    for (const n of this.profileLabelsJson.keys()) if (!nextLabels.has(n)) changedProfiles.add(n);
    this.profileLabelsJson = nextLabels;
    this.profileLabels = labelsByName;
    if (all) this.byKey.clear();

    const seen = new Set<string>();
    /** Changed endpoints that were there before with the same addresses and ports (set members unchanged). */
    const sameContent = new Set<string>();
    /** Endpoints added or removed, or a changed one's locality or interface (orders must be rebuilt). */
    let layout = all;
    const visit = (key: string, src: WorkloadEndpoint | HostEndpoint, build: () => IndexedEndpoint): void => {
      seen.add(key);
      const prev = this.byKey.get(key);
      if (prev === undefined) layout = true;
      const profileHit = (src.profiles ?? []).some((p) => changedProfiles.has(p));
      if (prev !== undefined && !profileHit) {
        if (prev.src === src) return;
        const json = JSON.stringify(src);
        if (json === prev.json) {
          prev.src = src;
          return;
        }
        const e = build();
        if (contentKey(e) === contentKey(prev.e)) sameContent.add(key);
        if (e.local !== prev.e.local || e.interfaceName !== prev.e.interfaceName) layout = true;
        this.byKey.set(key, { src, json, e });
      } else {
        this.byKey.set(key, { src, json: JSON.stringify(src), e: build() });
      }
      this.changed.add(key);
    };
    const inherit = (names: readonly string[]): Record<string, string> => {
      const out: Record<string, string> = {};
      for (const n of names) Object.assign(out, this.profileLabels.get(n) ?? {});
      return out;
    };
    for (const w of input.workloadEndpoints) {
      const key = wepKey(w);
      visit(key, w, () => ({
        kind: 'wep',
        key,
        namespace: w.namespace,
        labels: { ...inherit(w.profiles ?? []), ...(w.labels ?? {}), [NAMESPACE_LABEL]: w.namespace },
        addrs: addrsOf(w.ipNetworks, key),
        ports: w.ports ?? [],
        local: w.node === input.localNode,
        interfaceName: w.interfaceName,
        profiles: w.profiles ?? [],
      }));
    }
    for (const h of input.hostEndpoints) {
      const key = hepKey(h);
      visit(key, h, () => ({
        kind: 'hep',
        key,
        namespace: null,
        labels: { ...inherit(h.profiles ?? []), ...(h.labels ?? {}) },
        addrs: addrsOf(h.expectedIPs ?? [], key),
        ports: h.ports ?? [],
        local: h.node === input.localNode,
        interfaceName: h.interfaceName,
        profiles: h.profiles ?? [],
      }));
    }
    for (const k of [...this.byKey.keys()]) {
      if (!seen.has(k)) {
        this.byKey.delete(k);
        this.changed.add(k);
        layout = true;
      }
    }
    this.changedAll = all;
    if (!all && this.changed.size === 0) return false;
    this.generation++;
    if (layout) this.layoutGeneration++;
    if (layout || this.changed.size * 8 > this.endpoints.length) {
      const weps: IndexedEndpoint[] = [];
      const heps: IndexedEndpoint[] = [];
      for (const s of this.byKey.values()) (s.e.kind === 'wep' ? weps : heps).push(s.e);
      weps.sort((a, b) => cmp(a.key, b.key));
      heps.sort((a, b) => cmp(a.key, b.key));
      this.endpoints = [...weps, ...heps];
    } else {
      // Same keys: the order by key stands, only the changed endpoints' objects are new.
      this.endpoints = this.endpoints.map((e) => (this.changed.has(e.key) ? (this.byKey.get(e.key) as Source).e : e));
    }
    this.localWorkloads = this.endpoints.filter((e) => e.local && e.kind === 'wep');
    this.localHosts = this.endpoints.filter((e) => e.local && e.kind === 'hep');
    if (layout) {
      // Otherwise the same endpoints are local on the same interfaces as before.
      checkUniqueIfaces(this.localWorkloads);
      checkUniqueIfaces(this.localHosts);
    }
    if (all) {
      this.scopes = new Map();
      return true;
    }
    // Only the changed endpoints can change any scope. A scope is dirty (its sets are recomputed)
    // when it gains or loses a member, or a member's addresses or ports changed.
    for (const [id, entry] of this.scopes) {
      for (const k of this.changed) {
        const e = this.byKey.get(k)?.e;
        const was = entry.members.has(k);
        const is = e !== undefined && this.inScope(e, entry.scope);
        if (is) entry.members.add(k);
        else entry.members.delete(k);
        if (was || is) entry.list = null;
        if (was !== is || (is && !sameContent.has(k))) this.dirtyScopes.add(id);
      }
    }
    return true;
  }

  /** The current endpoint with this key. */
  get(key: string): IndexedEndpoint | undefined {
    return this.byKey.get(key)?.e;
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

  private entry(s: Scope): ScopeEntry {
    const id = scopeId(s);
    let en = this.scopes.get(id);
    if (en === undefined) {
      const list = this.endpoints.filter((e) => this.inScope(e, s));
      en = { scope: s, members: new Set(list.map((e) => e.key)), list };
      this.scopes.set(id, en);
    }
    return en;
  }

  /** Keys of the endpoints in a scope (maintained incrementally): O(1) "does this policy select e". */
  memberKeys(s: Scope): Set<string> {
    return this.entry(s).members;
  }

  /** All endpoints (any node) in a scope, in index order. */
  members(s: Scope): IndexedEndpoint[] {
    const en = this.entry(s);
    if (en.list === null) en.list = this.endpoints.filter((e) => en.members.has(e.key));
    return en.list;
  }
}

/** What an endpoint contributes to the ipsets it is a member of. */
function contentKey(e: IndexedEndpoint): string {
  return JSON.stringify([e.addrs, e.ports]);
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
