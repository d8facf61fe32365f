/**
 * The pure renderer: policies + endpoints (+ ipset membership derived from
 * endpoint labels) → per family, per table, Tartan's chains with rule hashes,
 * the hook rules in the kernel chains, and the ipsets. Deterministic: the
 * same input always gives byte-identical output.
 *
 * Layout (Felix, felix/rules/static.go, with `tartan-`/`ttn-` prefixes):
 *   filter INPUT   → tartan-INPUT:  untracked-accept, -i <wl>+ -g ttn-wl-to-host,
 *                                   [ttn-failsafe-in, ttn-from-hep-dispatch], accept-mark ACCEPT
 *   filter FORWARD → tartan-FORWARD: untracked-accept, clear Pass,
 *                                   [ttn-from-hep-forward if Accept clear], ttn-from-wl-dispatch,
 *                                   ttn-to-wl-dispatch, [ttn-to-hep-forward], ACCEPT wl traffic,
 *                                   accept-mark ACCEPT
 *   filter OUTPUT  → tartan-OUTPUT: untracked-accept, -o <wl>+ RETURN (host→workload is
 *                                   always allowed, as Felix), [failsafe-out, to-hep-dispatch], accept-mark ACCEPT
 *   raw PREROUTING/OUTPUT → tartan-*: clear marks, doNotTrack host-endpoint chains
 *   mangle PREROUTING → tartan-PREROUTING: conntrack accept, preDNAT host-endpoint chains
 * Dispatch chains goto per-endpoint chains (ttn-tw-/fw-/th-/fh-/thfw-/fhfw-<iface>),
 * which jump to policy chains (ttn-pi-/po-<hash>) and profile chains (ttn-pri-/pro-<hash>).
 */
import { parseSelector } from '../../../selector';
import { renderConfig, type RenderConfig } from '../config';
import type { IpVersion, PolicyInput, Profile, Rule } from '../model';
import { type EndpointChainMode, endpointChainBody, comment } from './endpoint-chains';
import { EndpointIndex, type IndexedEndpoint, cmp } from './endpoints';
import { ruleHashes } from './hash';
import { buildChain, RenderCache } from './cache';
import { IpSetRegistry } from './ipsets';
import { ChainNames, type EndpointChainKind } from './names';
import { groupByTier, PolicySelection, sortPolicies, type PolicyTable, type SortedPolicy } from './policies';
import { hex, renderRule, type RuleContext } from './rules';
import type { SelectorParser } from './selector-api';
import type { HookRule, RenderedChain, RenderedDataplane, RenderedFamily, RenderedTable, TableName } from './types';

export interface RenderOptions {
  /** Defaults to Tartan's Calico selector parser (src/selector). */
  parseSelector?: SelectorParser;
  config?: Partial<RenderConfig>;
  /** Reused across renders by a long-lived caller to skip unchanged work (output is the same). */
  cache?: RenderCache;
}

const HOOKS: Record<TableName, string[]> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
};

function sameItems(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function renderDataplane(input: PolicyInput, opts: RenderOptions = {}): RenderedDataplane {
  return new PolicyRenderer(opts).render(input);
}

export interface PolicyRendererOptions extends RenderOptions {
  /** Families to render; the others come out empty. Default both. */
  families?: readonly IpVersion[];
}

function emptyFamily(v: IpVersion): RenderedFamily {
  const t = (table: TableName): RenderedTable => ({ table, chains: [], hooks: [] });
  return { ipVersion: v, tables: { raw: t('raw'), mangle: t('mangle'), filter: t('filter') }, ipsets: [] };
}

/**
 * A long-lived, incremental renderer: same output as `renderDataplane`, but
 * it keeps the endpoint index (labels, selector memberships), the policy
 * order and per-endpoint selections, rendered policy/profile chains and
 * ipsets between calls, and redoes only what the change affects:
 * - a changed endpoint is re-evaluated against the known selectors (not
 *   every endpoint against every selector); the sets whose scope it is in
 *   are recomputed, its own chains rebuilt, the dispatch chains re-joined;
 * - policy and profile chains are re-rendered only when that policy or
 *   profile changed; a policy list change re-selects for every endpoint;
 * - namespace labels or a profile's labelsToApply changing, or the local
 *   node changing, start over.
 * A render that throws (invalid input) resets the renderer, so the next one
 * starts from scratch.
 */
export class PolicyRenderer {
  private readonly cfg: RenderConfig;
  private readonly parse: SelectorParser;
  private readonly families: readonly IpVersion[];
  private cache: RenderCache;
  private state: {
    index: EndpointIndex;
    selection: PolicySelection;
    sorted: SortedPolicy[];
    policiesJson: string;
    policies: readonly unknown[];
    tiers: readonly unknown[];
    fams: Map<IpVersion, FamilyRenderer>;
  } | null = null;

  constructor(private readonly opts: PolicyRendererOptions = {}) {
    this.cfg = renderConfig(opts.config);
    this.parse = opts.parseSelector ?? parseSelector;
    this.families = opts.families ?? [4, 6];
    this.cache = opts.cache ?? new RenderCache();
  }

  render(input: PolicyInput): RenderedDataplane {
    try {
      return this.renderInner(input);
    } catch (e) {
      this.state = null;
      this.cache = this.opts.cache ?? new RenderCache();
      throw e;
    }
  }

  private renderInner(input: PolicyInput): RenderedDataplane {
    let st = this.state;
    // The same policy and tier objects as last time (a caller that keeps them) are unchanged without serialising them.
    const policiesJson =
      st !== null && sameItems(input.policies, st.policies) && sameItems(input.tiers ?? [], st.tiers)
        ? st.policiesJson
        : JSON.stringify([input.policies, input.tiers ?? []]);
    if (st === null) {
      const index = new EndpointIndex(input, this.parse);
      const sorted = sortPolicies(input.policies, input.tiers ?? [], index);
      st = {
        index,
        sorted,
        policiesJson,
        policies: input.policies,
        tiers: input.tiers ?? [],
        selection: new PolicySelection(sorted, index),
        fams: new Map(this.families.map((v) => [v, new FamilyRenderer(v, this.cfg, index, this.cache)])),
      };
      this.state = st;
    } else {
      st.index.update(input);
      if (policiesJson !== st.policiesJson) {
        st.sorted = sortPolicies(input.policies, input.tiers ?? [], st.index);
        st.policiesJson = policiesJson;
      }
      st.selection.invalidate(st.sorted, st.index.changedAll ? 'all' : st.index.changed);
      st.policies = input.policies;
      st.tiers = input.tiers ?? [];
    }
    const profiles = new Map<string, Profile>(input.profiles.map((p) => [p.name, p]));
    this.cache.begin();
    const out = {
      v4: st.fams.get(4)?.render(profiles, st.selection) ?? emptyFamily(4),
      v6: st.fams.get(6)?.render(profiles, st.selection) ?? emptyFamily(6),
    };
    // A render in place looks up only what changed: keep the rest of the cache too.
    this.cache.end([...st.fams.values()].every((f) => f.inPlace));
    return out;
  }
}

interface CachedRuleChain {
  /** The policy or profile it was rendered from (same object, or same JSON, means still valid). */
  src: unknown;
  json: string | null;
  chain: RenderedChain;
  /** Ipset ids the rules refer to. */
  sets: string[];
}

/**
 * What a local workload's two filter chains were built from, and the result.
 * While the endpoint object, its two policy lists (the selection keeps the
 * same arrays until the endpoint or the policies change) and the set of
 * profile names are the same, the chains are reused as they are: a render
 * after a one-endpoint change costs O(endpoints) map operations, not
 * O(endpoints) chain keys, cache lookups and name computations.
 */
interface WepMemo {
  e: IndexedEndpoint;
  po: SortedPolicy[];
  pi: SortedPolicy[];
  profileGen: number;
  fw: RenderedChain;
  tw: RenderedChain;
  /** The endpoint's lines in the from-/to-workload dispatch chains. */
  from: string;
  to: string;
  /** The chains the two jump to: policy chains in order, then profile chains. */
  poNames: string[];
  piNames: string[];
}

/** What FamilyRenderer.renderInPlace starts from. */
interface LastRender {
  /** Index generation and layout generation rendered. */
  gen: number;
  layout: number;
  /** The policy list (selection) and profiles rendered. */
  sorted: readonly SortedPolicy[];
  profiles: Map<string, Profile>;
  profilesJson: string | null;
  family: RenderedFamily;
  /** Position of each filter chain in family.tables.filter.chains. */
  filterIndex: Map<string, number>;
  /** Ids of the ipsets the family uses. */
  setIds: string[];
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

class FamilyRenderer {
  private readonly names: ChainNames;
  private readonly sets: IpSetRegistry;
  private chains: Record<TableName, Map<string, string[] | RenderedChain>> = { raw: new Map(), mangle: new Map(), filter: new Map() };
  private profiles = new Map<string, Profile>();
  private selection!: PolicySelection;
  /** Rendered policy and profile chains by name, kept across renders. */
  private ruleChains = new Map<string, CachedRuleChain>();
  private usedRuleChains = new Map<string, CachedRuleChain>();
  private sortedWeps: { gen: number; layout: number; list: IndexedEndpoint[] } = { gen: -1, layout: -1, list: [] };
  private wepMemo = new Map<string, WepMemo>();
  /** Bumped when the set of profile names changes (endpoint chains name the profiles that exist). */
  private profileGen = 0;
  private profileNames = '';
  /** Profile names whose two chains this render registered already. */
  private profilesDone = new Set<string>();
  /** Last sorted chain-name order per table, reused while the set of names is the same. */
  private order: Record<TableName, string[] | null> = { raw: null, mangle: null, filter: null };
  private hooks: Partial<Record<TableName, HookRule[]>> = {};
  /** Local workloads' references to policy and profile chains (from the memo), by chain name. */
  private wepRefs = new Map<string, number>();
  /** The last render, for renderInPlace. */
  private last: LastRender | null = null;
  /** The last render was done in place. */
  inPlace = false;

  constructor(
    private readonly v: IpVersion,
    private readonly cfg: RenderConfig,
    private readonly index: EndpointIndex,
    private readonly cache: RenderCache,
  ) {
    this.names = new ChainNames(cfg);
    this.sets = new IpSetRegistry(index, cfg, v);
  }

  render(profiles: Map<string, Profile>, selection: PolicySelection): RenderedFamily {
    const quick = this.renderInPlace(profiles, selection);
    this.inPlace = quick !== null;
    if (quick !== null) return quick;
    const family = this.renderAll(profiles, selection);
    const filter = family.tables.filter.chains;
    this.last = {
      gen: this.index.generation,
      layout: this.index.layoutGeneration,
      sorted: selection.policies,
      profiles,
      profilesJson: null,
      family,
      filterIndex: new Map(filter.map((c, i) => [c.name, i])),
      setIds: this.sets.usedIds(),
    };
    const refs = new Map<string, number>();
    for (const m of this.wepMemo.values()) {
      for (const n of [...m.poNames, ...m.piNames]) refs.set(n, (refs.get(n) ?? 0) + 1);
    }
    this.wepRefs = refs;
    return family;
  }

  /**
   * The common case of a render after a few endpoints changed and nothing
   * else (no policy, profile, namespace or host endpoint change; none added
   * or removed; no interface renamed), in O(changed): the changed local
   * workloads' chains are rebuilt and put in place of their old ones in the
   * last output, and the ipsets the last render used are brought up to date.
   * It gives exactly what renderAll would, or null (and changes nothing)
   * when the change is not of that kind — for instance when a workload
   * starts or stops being the only one to use a policy chain.
   */
  private renderInPlace(profiles: Map<string, Profile>, selection: PolicySelection): RenderedFamily | null {
    const last = this.last;
    const idx = this.index;
    if (last === null || idx.changedAll || idx.generation !== last.gen + 1 || idx.layoutGeneration !== last.layout) return null;
    if (selection.policies !== last.sorted || idx.localHosts.length > 0) return null;
    if (!this.sameProfiles(profiles, last)) return null;
    this.profiles = profiles;
    this.selection = selection;
    // Plan every change first: nothing is modified unless all of them can be done in place.
    const updates: WepMemo[] = [];
    const refDelta = new Map<string, number>();
    const count = (names: readonly string[], d: number): void => {
      for (const n of names) refDelta.set(n, (refDelta.get(n) ?? 0) + d);
    };
    for (const k of idx.changed) {
      const e = idx.get(k);
      if (e === undefined || e.kind !== 'wep') return null;
      if (!e.local) continue; // a remote endpoint: only ipset members can change
      const m = this.wepMemo.get(k);
      if (m === undefined || !sameStrings(m.e.profiles, e.profiles)) return null;
      const po = this.applicable(e, 'po', 'filter');
      const pi = this.applicable(e, 'pi', 'filter');
      const next = this.buildWepMemo(e, po, pi);
      count([...m.poNames, ...m.piNames], -1);
      count([...next.poNames, ...next.piNames], +1);
      updates.push(next);
    }
    for (const [name, d] of refDelta) {
      const before = this.wepRefs.get(name) ?? 0;
      // A chain no workload used yet (not in the table), or that none uses any more (to delete).
      if (d !== 0 && (before === 0 || before + d <= 0)) return null;
    }
    // Commit.
    const chains = last.family.tables.filter.chains.slice();
    for (const next of updates) {
      this.wepMemo.set(next.e.key, next);
      for (const c of [next.fw, next.tw]) {
        const at = last.filterIndex.get(c.name);
        if (at === undefined) throw new Error(`renderInPlace: no chain ${c.name}`);
        chains[at] = c;
      }
    }
    for (const [name, d] of refDelta) if (d !== 0) this.wepRefs.set(name, (this.wepRefs.get(name) ?? 0) + d);
    const sw = this.sortedWeps;
    this.sortedWeps = { gen: idx.generation, layout: sw.layout, list: sw.list.map((e) => (idx.changed.has(e.key) ? (idx.get(e.key) as IndexedEndpoint) : e)) };
    this.sets.begin();
    for (const id of last.setIds) this.sets.touch(id);
    const family: RenderedFamily = {
      ipVersion: this.v,
      tables: { ...last.family.tables, filter: { ...last.family.tables.filter, chains } },
      ipsets: this.sets.all(),
    };
    this.last = { ...last, gen: idx.generation, profiles, family };
    return family;
  }

  /** Same profiles as the last render: the same objects, else the same JSON (as ruleChain decides). */
  private sameProfiles(profiles: Map<string, Profile>, last: LastRender): boolean {
    if (profiles.size !== last.profiles.size) return false;
    let same = true;
    for (const [n, p] of profiles) if (last.profiles.get(n) !== p) same = false;
    if (same) return true;
    last.profilesJson ??= JSON.stringify([...last.profiles]);
    const json = JSON.stringify([...profiles]);
    if (json !== last.profilesJson) return false;
    last.profilesJson = json;
    return true;
  }

  /** The profile chains a workload's chain for `dir` jumps to (profiles that exist). */
  private profileChainNames(e: IndexedEndpoint, dir: 'pi' | 'po'): string[] {
    const out: string[] = [];
    for (const pn of e.profiles) if (this.profiles.has(pn)) out.push(this.names.profile(dir === 'pi' ? 'pri' : 'pro', pn));
    return out;
  }

  private renderAll(profiles: Map<string, Profile>, selection: PolicySelection): RenderedFamily {
    this.profiles = profiles;
    const profileNames = [...profiles.keys()].join('\u0000');
    if (profileNames !== this.profileNames) {
      this.profileNames = profileNames;
      this.profileGen++;
    }
    this.profilesDone = new Set();
    this.selection = selection;
    this.chains = { raw: new Map(), mangle: new Map(), filter: new Map() };
    this.usedRuleChains = new Map();
    this.sets.begin();
    this.workloads();
    this.hosts();
    this.staticChains();
    const tables = {} as Record<TableName, RenderedTable>;
    for (const t of ['raw', 'mangle', 'filter'] as const) tables[t] = this.finishTable(t);
    this.ruleChains = this.usedRuleChains;
    return { ipVersion: this.v, tables, ipsets: this.sets.all() };
  }

  private get wlMatch(): string {
    return `${this.cfg.workloadIfacePrefix}+`;
  }

  /** Policies of `table` selecting `e` for `dir`, in order. */
  private applicable(e: IndexedEndpoint, dir: 'pi' | 'po', table: PolicyTable, forwardOnly = false): SortedPolicy[] {
    return this.selection.applicable(e, dir, table, forwardOnly);
  }

  private endpointChain(
    table: TableName,
    kind: EndpointChainKind,
    e: IndexedEndpoint,
    dir: 'pi' | 'po',
    mode: EndpointChainMode,
    policies: SortedPolicy[],
  ): string {
    for (const sp of policies) this.policyChain(table, dir, sp);
    const profileChains: string[] = [];
    if (mode === 'filter') {
      for (const pn of e.profiles) {
        const prof = this.profiles.get(pn);
        if (prof === undefined) continue; // Felix waits for it; until it exists it contributes nothing
        profileChains.push(this.profileChain(dir === 'pi' ? 'pri' : 'pro', prof));
      }
    }
    const chain = this.buildEndpointChain(table, kind, e, dir, mode, policies, profileChains);
    this.chains[table].set(chain.name, chain);
    return chain.name;
  }

  /** A local workload's two filter chains and what they were built from (registers nothing). */
  private buildWepMemo(e: IndexedEndpoint, po: SortedPolicy[], pi: SortedPolicy[]): WepMemo {
    const fw = this.buildEndpointChain('filter', 'fw', e, 'po', 'filter', po, this.profileChainNames(e, 'po'));
    const tw = this.buildEndpointChain('filter', 'tw', e, 'pi', 'filter', pi, this.profileChainNames(e, 'pi'));
    return {
      e,
      po,
      pi,
      profileGen: this.profileGen,
      fw,
      tw,
      from: `-i ${e.interfaceName} -g ${fw.name}`,
      to: `-o ${e.interfaceName} -g ${tw.name}`,
      poNames: [...po.map((sp) => this.names.policy('po', sp.id)), ...this.profileChainNames(e, 'po')],
      piNames: [...pi.map((sp) => this.names.policy('pi', sp.id)), ...this.profileChainNames(e, 'pi')],
    };
  }

  /** An endpoint chain (from the cache when what it is made of is unchanged); registers nothing. */
  private buildEndpointChain(
    table: TableName,
    kind: EndpointChainKind,
    e: IndexedEndpoint,
    dir: 'pi' | 'po',
    mode: EndpointChainMode,
    policies: SortedPolicy[],
    profileChains: string[],
  ): RenderedChain {
    const name = this.names.endpoint(kind, e.interfaceName);
    const slot = `${this.v}/${table}/${name}`;
    const key = [mode, dir, kind, policies.map((p) => `${p.tier}:${p.id}`).join(','), profileChains.join(',')].join('|');
    let chain = this.cache.get(slot, key);
    if (chain === undefined) {
      const body = endpointChainBody(
        { mode, dir, tiers: groupByTier(policies), profileChains, fromWorkload: kind === 'fw' },
        this.names,
        this.cfg,
      );
      chain = buildChain(name, body);
      this.cache.put(slot, key, chain);
    }
    return chain;
  }

  private ruleCtx(owner: string, namespace: string | null): RuleContext {
    return { owner, namespace, v: this.v, index: this.index, sets: this.sets, cfg: this.cfg };
  }

  private rulesBody(rules: readonly Rule[], ctx: RuleContext): string[] {
    return rules.flatMap((r, i) => renderRule(r, { ...ctx, owner: `${ctx.owner} rule ${i}` }));
  }

  /** A policy/profile chain from the cache when its source is unchanged, else rendered (recording its sets). */
  private ruleChain(name: string, src: unknown, build: () => string[]): RenderedChain {
    const hit = this.usedRuleChains.get(name) ?? this.ruleChains.get(name);
    if (hit !== undefined) {
      let valid = hit.src === src;
      if (!valid) {
        const json = JSON.stringify(src);
        hit.json ??= JSON.stringify(hit.src);
        valid = json === hit.json;
        if (valid) {
          hit.src = src;
          hit.json = json;
        }
      }
      if (valid) {
        if (!this.usedRuleChains.has(name)) for (const id of hit.sets) this.sets.touch(id);
        this.usedRuleChains.set(name, hit);
        return hit.chain;
      }
    }
    const { value: body, ids } = this.sets.traced(build);
    const entry: CachedRuleChain = { src, json: null, chain: buildChain(name, body), sets: [...new Set(ids)] };
    this.usedRuleChains.set(name, entry);
    return entry.chain;
  }

  private policyChain(table: TableName, dir: 'pi' | 'po', sp: SortedPolicy): void {
    const name = this.names.policy(dir, sp.id);
    if (this.chains[table].has(name)) return;
    const p = sp.policy;
    const chain = this.ruleChain(name, p, () => {
      const ctx = this.ruleCtx(`${p.kind} ${sp.id}`, p.kind === 'NetworkPolicy' ? p.namespace : null);
      return this.rulesBody((dir === 'pi' ? p.spec.ingress : p.spec.egress) ?? [], ctx);
    });
    this.chains[table].set(name, chain);
  }

  private profileChain(dir: 'pri' | 'pro', prof: Profile): string {
    const name = this.names.profile(dir, prof.name);
    if (!this.chains.filter.has(name)) {
      const chain = this.ruleChain(name, prof, () => {
        const ctx = this.ruleCtx(`Profile ${prof.name}`, null);
        return this.rulesBody((dir === 'pri' ? prof.ingress : prof.egress) ?? [], ctx);
      });
      this.chains.filter.set(name, chain);
    }
    return name;
  }

  private workloads(): void {
    const from: string[] = [];
    const to: string[] = [];
    const idx = this.index;
    if (this.sortedWeps.gen !== idx.generation) {
      const list =
        this.sortedWeps.gen === idx.generation - 1 && this.sortedWeps.layout === idx.layoutGeneration && !idx.changedAll
          ? // Same endpoints on the same interfaces: keep the order, take the current objects.
            this.sortedWeps.list.map((e) => (idx.changed.has(e.key) ? (idx.get(e.key) as IndexedEndpoint) : e))
          : [...idx.localWorkloads].sort((a, b) => cmp(a.interfaceName, b.interfaceName));
      this.sortedWeps = { gen: idx.generation, layout: idx.layoutGeneration, list };
    }
    const weps = this.sortedWeps.list;
    const filter = this.chains.filter;
    const memo = new Map<string, WepMemo>();
    for (const e of weps) {
      // Egress policy polices traffic from the workload, ingress policy traffic to it.
      const po = this.applicable(e, 'po', 'filter');
      const pi = this.applicable(e, 'pi', 'filter');
      let m = this.wepMemo.get(e.key);
      if (m !== undefined && m.e === e && m.po === po && m.pi === pi && m.profileGen === this.profileGen) {
        // Unchanged: the same chains; register the policy and profile chains they jump to.
        filter.set(m.fw.name, m.fw);
        filter.set(m.tw.name, m.tw);
        for (let i = 0; i < po.length; i++) if (!filter.has(m.poNames[i] as string)) this.policyChain('filter', 'po', po[i] as SortedPolicy);
        for (let i = 0; i < pi.length; i++) if (!filter.has(m.piNames[i] as string)) this.policyChain('filter', 'pi', pi[i] as SortedPolicy);
        this.workloadProfiles(e);
      } else {
        m = this.buildWepMemo(e, po, pi);
        filter.set(m.fw.name, m.fw);
        filter.set(m.tw.name, m.tw);
        for (const sp of po) this.policyChain('filter', 'po', sp);
        for (const sp of pi) this.policyChain('filter', 'pi', sp);
        this.workloadProfiles(e);
      }
      memo.set(e.key, m);
      from.push(m.from);
      to.push(m.to);
    }
    this.wepMemo = memo;
    from.push(`${comment('Unknown interface')} -j DROP`);
    to.push(`${comment('Unknown interface')} -j DROP`);
    this.chains.filter.set(this.names.static('from-wl-dispatch'), from);
    this.chains.filter.set(this.names.static('to-wl-dispatch'), to);
    const action = this.cfg.endpointToHostAction;
    this.chains.filter.set(this.names.static('wl-to-host'), [
      `-j ${this.names.static('from-wl-dispatch')}`,
      `${comment('Configured DefaultEndpointToHostAction')} -j ${action}`,
    ]);
  }

  private hosts(): void {
    // "*" (all interfaces) has no interface match and goes last, after the named ones.
    const heps = [...this.index.localHosts].sort((a, b) => {
      const sa = a.interfaceName === '*' ? 1 : 0;
      const sb = b.interfaceName === '*' ? 1 : 0;
      return sa - sb || cmp(a.interfaceName, b.interfaceName);
    });
    const disp = { fromHep: [] as string[], toHep: [] as string[], fromFwd: [] as string[], toFwd: [] as string[] };
    const rawPre: string[] = [];
    const rawOut: string[] = [];
    const manglePre: string[] = [];
    for (const e of heps) {
      const all = e.interfaceName === '*';
      const iIn = all ? '' : `-i ${e.interfaceName} `;
      const iOut = all ? '' : `-o ${e.interfaceName} `;
      const fh = this.endpointChain('filter', 'fh', e, 'pi', 'filter', this.applicable(e, 'pi', 'filter'));
      const th = this.endpointChain('filter', 'th', e, 'po', 'filter', this.applicable(e, 'po', 'filter'));
      disp.fromHep.push(`${iIn}-g ${fh}`);
      disp.toHep.push(`${iOut}-g ${th}`);
      if (!all) {
        // applyOnForward: only host endpoints with such policies police forwarded traffic.
        const fIn = this.applicable(e, 'pi', 'filter', true);
        if (fIn.length > 0) disp.fromFwd.push(`${iIn}-g ${this.endpointChain('filter', 'fhfw', e, 'pi', 'forward', fIn)}`);
        const fOut = this.applicable(e, 'po', 'filter', true);
        if (fOut.length > 0) disp.toFwd.push(`${iOut}-g ${this.endpointChain('filter', 'thfw', e, 'po', 'forward', fOut)}`);
      }
      const uIn = this.applicable(e, 'pi', 'raw');
      if (uIn.length > 0) rawPre.push(`${iIn}-g ${this.endpointChain('raw', 'fh', e, 'pi', 'untracked', uIn)}`);
      const uOut = this.applicable(e, 'po', 'raw');
      if (uOut.length > 0) rawOut.push(`${iOut}-g ${this.endpointChain('raw', 'th', e, 'po', 'untracked', uOut)}`);
      const pd = this.applicable(e, 'pi', 'mangle');
      if (pd.length > 0) manglePre.push(`${iIn}-g ${this.endpointChain('mangle', 'fh', e, 'pi', 'preDNAT', pd)}`);
    }
    const clear = `${comment('Clear marks')} -j MARK --set-xmark 0x0/${hex(this.cfg.markAccept | this.cfg.markPass)}`;
    this.chains.raw.set(this.names.top('PREROUTING'), [clear, ...rawPre]);
    this.chains.raw.set(this.names.top('OUTPUT'), [clear, ...rawOut]);
    this.chains.mangle.set(this.names.top('PREROUTING'), [
      '-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      ...manglePre,
    ]);
    const hasHeps = heps.length > 0;
    const f = this.chains.filter;
    if (hasHeps) {
      f.set(this.names.static('from-hep-dispatch'), disp.fromHep);
      f.set(this.names.static('to-hep-dispatch'), disp.toHep);
      f.set(this.names.static('failsafe-in'), this.failsafe(this.cfg.failsafeInbound, '--dports'));
      f.set(this.names.static('failsafe-out'), this.failsafe(this.cfg.failsafeOutbound, '--dports'));
    }
    if (disp.fromFwd.length > 0) f.set(this.names.static('from-hep-forward'), disp.fromFwd);
    if (disp.toFwd.length > 0) f.set(this.names.static('to-hep-forward'), disp.toFwd);
  }

  private failsafe(list: RenderConfig['failsafeInbound'], flag: string): string[] {
    const out: string[] = [];
    for (const proto of ['tcp', 'udp'] as const) {
      const ports = list.filter((p) => p.protocol === proto).map((p) => p.port);
      if (ports.length > 0) out.push(`-p ${proto} -m multiport ${flag} ${[...new Set(ports)].sort((a, b) => a - b).join(',')} -j ACCEPT`);
    }
    return out;
  }

  private staticChains(): void {
    const f = this.chains.filter;
    const n = (s: string): string => this.names.static(s);
    const A = `${hex(this.cfg.markAccept)}/${hex(this.cfg.markAccept)}`;
    const untracked = `-m mark --mark ${A} -m conntrack --ctstate UNTRACKED ${comment('Accept packets allowed by doNotTrack policy')} -j ACCEPT`;
    const acceptMark = `-m mark --mark ${A} ${comment('Host endpoint policy accepted packet')} -j ACCEPT`;
    const wl = this.wlMatch;
    // IPv6 needs neighbour discovery / MLD to and from the host (Felix does the same).
    const nd =
      this.v === 6 ? [130, 131, 132, 133, 135, 136].map((t) => `-p icmpv6 -m icmp6 --icmpv6-type ${t} -j ACCEPT`) : [];
    const hasHeps = f.has(n('from-hep-dispatch'));
    f.set(this.names.top('INPUT'), [
      untracked,
      ...nd,
      `-i ${wl} -g ${n('wl-to-host')}`,
      ...(hasHeps ? [`-j ${n('failsafe-in')}`, `-j ${n('from-hep-dispatch')}`] : []),
      acceptMark,
    ]);
    f.set(this.names.top('OUTPUT'), [
      untracked,
      ...nd,
      `-o ${wl} ${comment('Host to workload traffic allowed')} -j RETURN`,
      ...(hasHeps ? [`-j ${n('failsafe-out')}`, `-j ${n('to-hep-dispatch')}`] : []),
      acceptMark,
    ]);
    f.set(this.names.top('FORWARD'), [
      untracked,
      `${comment('Clear pass mark')} -j MARK --set-xmark 0x0/${hex(this.cfg.markPass)}`,
      ...(f.has(n('from-hep-forward')) ? [`-m mark --mark 0x0/${hex(this.cfg.markAccept)} -j ${n('from-hep-forward')}`] : []),
      `-i ${wl} -j ${n('from-wl-dispatch')}`,
      `-o ${wl} -j ${n('to-wl-dispatch')}`,
      ...(f.has(n('to-hep-forward')) ? [`-j ${n('to-hep-forward')}`] : []),
      `-i ${wl} ${comment('Policy explicitly accepted packet')} -j ACCEPT`,
      `-o ${wl} ${comment('Policy explicitly accepted packet')} -j ACCEPT`,
      acceptMark,
    ]);
  }

  /** A workload's profile chains (both directions: every workload has a from- and a to- chain). */
  private workloadProfiles(e: IndexedEndpoint): void {
    for (const pn of e.profiles) {
      if (this.profilesDone.has(pn)) continue;
      this.profilesDone.add(pn);
      const prof = this.profiles.get(pn);
      if (prof === undefined) continue;
      this.profileChain('pro', prof);
      this.profileChain('pri', prof);
    }
  }

  /** Chain names in order: the last render's order when the set of names is the same, else sorted. */
  private sortedNames(table: TableName): string[] {
    const m = this.chains[table];
    const prev = this.order[table];
    if (prev !== null && prev.length === m.size && prev.every((n) => m.has(n))) return prev;
    const names = [...m.keys()].sort(cmp);
    this.order[table] = names;
    return names;
  }

  private finishTable(table: TableName): RenderedTable {
    const all = this.chains[table];
    const names = this.sortedNames(table);
    const chains: RenderedChain[] = new Array<RenderedChain>(names.length);
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      const c = all.get(name) as string[] | RenderedChain;
      if (!Array.isArray(c)) {
        chains[i] = c;
        continue;
      }
      const slot = `${this.v}/${table}/${name}`;
      const key = c.join('\n');
      let built = this.cache.get(slot, key);
      if (built === undefined) {
        built = buildChain(name, c);
        this.cache.put(slot, key, built);
      }
      chains[i] = built;
    }
    const hooks = (this.hooks[table] ??= HOOKS[table].map((k) => {
      const body = `-j ${this.names.top(k)}`;
      return { kernelChain: k, body, hash: ruleHashes(k, [body])[0] ?? '' };
    }));
    return { table, chains, hooks };
  }
}

export type { RenderedDataplane, RenderedFamily, RenderedTable, RenderedChain, RenderedIpSet, HookRule, TableName } from './types';
