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
    const policiesJson = JSON.stringify([input.policies, input.tiers ?? []]);
    let st = this.state;
    if (st === null) {
      const index = new EndpointIndex(input, this.parse);
      const sorted = sortPolicies(input.policies, input.tiers ?? [], index);
      st = {
        index,
        sorted,
        policiesJson,
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
    }
    const profiles = new Map<string, Profile>(input.profiles.map((p) => [p.name, p]));
    this.cache.begin();
    const out = {
      v4: st.fams.get(4)?.render(profiles, st.selection) ?? emptyFamily(4),
      v6: st.fams.get(6)?.render(profiles, st.selection) ?? emptyFamily(6),
    };
    this.cache.end();
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

class FamilyRenderer {
  private readonly names: ChainNames;
  private readonly sets: IpSetRegistry;
  private chains: Record<TableName, Map<string, string[] | RenderedChain>> = { raw: new Map(), mangle: new Map(), filter: new Map() };
  private profiles = new Map<string, Profile>();
  private selection!: PolicySelection;
  /** Rendered policy and profile chains by name, kept across renders. */
  private ruleChains = new Map<string, CachedRuleChain>();
  private usedRuleChains = new Map<string, CachedRuleChain>();
  private sortedWeps: { gen: number; list: IndexedEndpoint[] } = { gen: -1, list: [] };

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
    this.profiles = profiles;
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
    const name = this.names.endpoint(kind, e.interfaceName);
    for (const sp of policies) this.policyChain(table, dir, sp);
    const profileChains: string[] = [];
    if (mode === 'filter') {
      for (const pn of e.profiles) {
        const prof = this.profiles.get(pn);
        if (prof === undefined) continue; // Felix waits for it; until it exists it contributes nothing
        profileChains.push(this.profileChain(dir === 'pi' ? 'pri' : 'pro', prof));
      }
    }
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
    this.chains[table].set(name, chain);
    return name;
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
    if (this.sortedWeps.gen !== this.index.generation) {
      this.sortedWeps = { gen: this.index.generation, list: [...this.index.localWorkloads].sort((a, b) => cmp(a.interfaceName, b.interfaceName)) };
    }
    const weps = this.sortedWeps.list;
    for (const e of weps) {
      // Egress policy polices traffic from the workload, ingress policy traffic to it.
      const fw = this.endpointChain('filter', 'fw', e, 'po', 'filter', this.applicable(e, 'po', 'filter'));
      const tw = this.endpointChain('filter', 'tw', e, 'pi', 'filter', this.applicable(e, 'pi', 'filter'));
      from.push(`-i ${e.interfaceName} -g ${fw}`);
      to.push(`-o ${e.interfaceName} -g ${tw}`);
    }
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

  private finishTable(table: TableName): RenderedTable {
    const chains: RenderedChain[] = [...this.chains[table].entries()]
      .sort(([a], [b]) => cmp(a, b))
      .map(([name, c]) => {
        if (!Array.isArray(c)) return c;
        const slot = `${this.v}/${table}/${name}`;
        const key = c.join('\n');
        const hit = this.cache.get(slot, key);
        if (hit !== undefined) return hit;
        const built = buildChain(name, c);
        this.cache.put(slot, key, built);
        return built;
      });
    const hooks: HookRule[] = HOOKS[table].map((k) => {
      const body = `-j ${this.names.top(k)}`;
      return { kernelChain: k, body, hash: ruleHashes(k, [body])[0] ?? '' };
    });
    return { table, chains, hooks };
  }
}

export type { RenderedDataplane, RenderedFamily, RenderedTable, RenderedChain, RenderedIpSet, HookRule, TableName } from './types';
