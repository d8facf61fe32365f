/**
 * Policy ordering and selection (felix/calc/policy_sorter.go,
 * active_rules_calculator.go).
 *
 * Tiers are ordered by tier order (missing = last, the implicit "default"
 * tier has order 1,000,000), policies within a tier by order (missing =
 * last), ties broken by `name/namespace/kind` as Calico does.
 */
import type { Policy, PolicyType, Tier } from '../model';
import { cmp, type EndpointIndex, type IndexedEndpoint, type Scope } from './endpoints';

export const DEFAULT_TIER = 'default';
const DEFAULT_TIER_ORDER = 1_000_000;

/** Where a policy is enforced: normal filter chains, raw (doNotTrack) or mangle (preDNAT). */
export type PolicyTable = 'filter' | 'raw' | 'mangle';

export interface SortedPolicy {
  policy: Policy;
  /** `GlobalNetworkPolicy/<name>` or `NetworkPolicy/<ns>/<name>`: chain-name hash input. */
  id: string;
  tier: string;
  types: Set<PolicyType>;
  table: PolicyTable;
  scope: Scope;
}

export function policyId(p: Policy): string {
  return p.kind === 'NetworkPolicy' ? `NetworkPolicy/${p.namespace}/${p.name}` : `GlobalNetworkPolicy/${p.name}`;
}

export function policyTypes(p: Policy): Set<PolicyType> {
  if (p.spec.types !== undefined && p.spec.types.length > 0) return new Set(p.spec.types);
  // Calico default: Ingress, plus Egress when egress rules are present.
  const t = new Set<PolicyType>(['Ingress']);
  if ((p.spec.egress ?? []).length > 0) t.add('Egress');
  return t;
}

function tableOf(p: Policy): PolicyTable {
  if (p.kind === 'GlobalNetworkPolicy' && p.spec.doNotTrack === true) return 'raw';
  if (p.kind === 'GlobalNetworkPolicy' && p.spec.preDNAT === true) return 'mangle';
  return 'filter';
}

function orderKey(o: number | undefined): number {
  return o === undefined ? Number.POSITIVE_INFINITY : o;
}

export function sortPolicies(policies: readonly Policy[], tiers: readonly Tier[], index: EndpointIndex): SortedPolicy[] {
  const tierOrder = new Map<string, number>([[DEFAULT_TIER, DEFAULT_TIER_ORDER]]);
  for (const t of tiers) tierOrder.set(t.name, orderKey(t.order));
  const tierOf = (p: Policy): string => p.spec.tier ?? DEFAULT_TIER;
  const tieKey = (p: Policy): string => `${p.name}/${p.kind === 'NetworkPolicy' ? p.namespace : ''}/${p.kind}`;
  const sorted = [...policies].sort((a, b) => {
    const ta = tierOf(a);
    const tb = tierOf(b);
    const to = (tierOrder.get(ta) ?? Infinity) - (tierOrder.get(tb) ?? Infinity);
    if (to !== 0 && !Number.isNaN(to)) return to;
    if (ta !== tb) return cmp(ta, tb);
    const po = orderKey(a.spec.order) - orderKey(b.spec.order);
    if (po !== 0 && !Number.isNaN(po)) return po;
    return cmp(tieKey(a), tieKey(b));
  });
  return sorted.map((p) => {
    const owner = `${p.kind} ${policyId(p)}`;
    const scope: Scope =
      p.kind === 'NetworkPolicy'
        ? { selector: index.selector(p.spec.selector, owner), namespace: p.namespace, namespaceSelector: null }
        : {
            selector: index.selector(p.spec.selector, owner),
            namespace: null,
            namespaceSelector:
              p.spec.namespaceSelector !== undefined && p.spec.namespaceSelector.trim() !== ''
                ? index.selector(p.spec.namespaceSelector, owner)
                : null,
          };
    return { policy: p, id: policyId(p), tier: tierOf(p), types: policyTypes(p), table: tableOf(p), scope };
  });
}

/** Does the policy apply to the endpoint? NetworkPolicies never select host endpoints. */
export function selects(sp: SortedPolicy, e: IndexedEndpoint, index: EndpointIndex): boolean {
  if (sp.policy.kind === 'NetworkPolicy' && e.kind !== 'wep') return false;
  return index.memberKeys(sp.scope).has(e.key);
}

/** Memo keys of PolicySelection.applicable (constant strings: it runs twice per endpoint per render). */
const SELECTION_KEYS = {
  pi: { filter: ['pi|filter|0', 'pi|filter|1'], raw: ['pi|raw|0', 'pi|raw|1'], mangle: ['pi|mangle|0', 'pi|mangle|1'] },
  po: { filter: ['po|filter|0', 'po|filter|1'], raw: ['po|raw|0', 'po|raw|1'], mangle: ['po|mangle|0', 'po|mangle|1'] },
} as const;

/**
 * Policies of `table` selecting `e` for `dir`, in order; memoised per
 * endpoint so both families share one evaluation, and kept across renders:
 * `invalidate` drops the changed endpoints (or everything when the policy
 * list changed).
 */
export class PolicySelection {
  private readonly memo = new Map<string, Map<string, SortedPolicy[]>>();

  constructor(
    private sorted: readonly SortedPolicy[],
    private readonly index: EndpointIndex,
  ) {}

  /** The policy list selections are made from (a new list means every selection was dropped). */
  get policies(): readonly SortedPolicy[] {
    return this.sorted;
  }

  /** New policy list (everything recomputed) or, with `sorted` unchanged, only endpoints in `keys`. */
  invalidate(sorted: readonly SortedPolicy[], keys: Iterable<string> | 'all'): void {
    if (sorted !== this.sorted || keys === 'all') {
      this.sorted = sorted;
      this.memo.clear();
      return;
    }
    for (const k of keys) this.memo.delete(k);
  }

  applicable(e: IndexedEndpoint, dir: 'pi' | 'po', table: PolicyTable, forwardOnly: boolean): SortedPolicy[] {
    let m = this.memo.get(e.key);
    if (m === undefined) {
      m = new Map();
      this.memo.set(e.key, m);
    }
    const k = SELECTION_KEYS[dir][table][forwardOnly ? 1 : 0];
    let r = m.get(k);
    if (r === undefined) {
      const type = dir === 'pi' ? 'Ingress' : 'Egress';
      r = this.sorted.filter(
        (sp) =>
          sp.table === table &&
          sp.types.has(type) &&
          (!forwardOnly || sp.policy.spec.applyOnForward === true) &&
          selects(sp, e, this.index),
      );
      m.set(k, r);
    }
    return r;
  }
}

export interface TierGroup {
  tier: string;
  policies: SortedPolicy[];
}

/** Consecutive policies grouped by tier, keeping the sort order. */
export function groupByTier(list: readonly SortedPolicy[]): TierGroup[] {
  const out: TierGroup[] = [];
  for (const p of list) {
    const last = out[out.length - 1];
    if (last !== undefined && last.tier === p.tier) last.policies.push(p);
    else out.push({ tier: p.tier, policies: [p] });
  }
  return out;
}
