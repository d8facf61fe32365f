/**
 * The BGP decision process, RFC 4271 §9.1.2.2 with the route-reflection
 * tie-breaks of RFC 4456 §9, as pure functions over precomputed summaries,
 * so the hot path compares numbers and never walks an AS_PATH twice.
 */
import type { AsPathSegment } from '../wire/types';
import type { RouteAttributes } from './route-attributes';

/** RFC 4271 §5.1.5: the LOCAL_PREF assumed when a route carries none (eBGP-learned). */
export const DEFAULT_LOCAL_PREF = 100;

/** What the decision needs from an attribute set, computed once per interned set. */
export interface AttrSummary {
  localPref: number;
  /** RFC 4271 §9.1.2.2 (a): AS_SET counts as one, confederation segments as zero (RFC 5065 §5.3). */
  asPathLength: number;
  origin: number;
  /** Absent MED is the lowest possible value, 0 (RFC 4271 §9.1.2.2 (c)). */
  med: number;
  /** First AS of the path: MEDs compare only between routes from the same neighbour AS. 0 when the path is empty. */
  neighborAs: number;
  /** ORIGINATOR_ID as a number, or 0 when absent (RFC 4456 §9: used instead of the peer's router ID). */
  originatorId: number;
  clusterListLength: number;
}

/** What the decision needs from where a route came from. */
export interface SourceSummary {
  /** Originated by this node: beats anything learned (like a static route's preference in BIRD). */
  local: boolean;
  /** Learned over iBGP. */
  ibgp: boolean;
  /** The peer's BGP identifier as an unsigned 32-bit number. */
  routerId: number;
  /** Sortable form of the peer address (see addressSortKey). */
  addressKey: string;
}

export interface Candidate {
  attrs: AttrSummary;
  source: SourceSummary;
}

export interface DecisionOptions {
  /** Compare MED between routes from different neighbour ASes too (BIRD `med metric`, FRR `always-compare-med`). */
  alwaysCompareMed: boolean;
}

export function summarizeAttributes(a: RouteAttributes): AttrSummary {
  return {
    localPref: a.localPref ?? DEFAULT_LOCAL_PREF,
    asPathLength: asPathLength(a.asPath ?? []),
    origin: a.origin ?? 2,
    med: a.med ?? 0,
    neighborAs: firstAs(a.asPath ?? []),
    originatorId: a.originatorId ? ipv4ToNumber(a.originatorId) : 0,
    clusterListLength: a.clusterList?.length ?? 0,
  };
}

export function asPathLength(path: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of path) {
    if (s.type === 'sequence') n += s.asns.length;
    else if (s.type === 'set') n += 1;
  }
  return n;
}

function firstAs(path: readonly AsPathSegment[]): number {
  for (const s of path) {
    if (s.type === 'sequence' && s.asns.length > 0) return s.asns[0]!;
    if (s.type === 'set') return 0;
  }
  return 0;
}

export function ipv4ToNumber(ip: string): number {
  const p = ip.split('.');
  return ((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0;
}

/** Zero-padded hex of the address bytes, so string order is numeric order and IPv4 sorts before IPv6. */
export function addressSortKey(address: string): string {
  if (!address.includes(':')) return `4${ipv4ToNumber(address).toString(16).padStart(8, '0')}`;
  const [head = '', tail = ''] = address.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return `6${groups.map((g) => g.padStart(4, '0')).join('')}`;
}

/**
 * Steps (a)-(d) of RFC 4271 §9.1.2.2 plus eBGP-over-iBGP (e): the part of
 * the comparison that also decides multipath equality. Negative: `a` wins.
 */
function compareUpToPeerType(a: Candidate, b: Candidate, opts: DecisionOptions): number {
  if (a.source.local !== b.source.local) return a.source.local ? -1 : 1;
  // (a) highest degree of preference: LOCAL_PREF
  if (a.attrs.localPref !== b.attrs.localPref) return b.attrs.localPref - a.attrs.localPref;
  // (a) shortest AS_PATH
  if (a.attrs.asPathLength !== b.attrs.asPathLength) return a.attrs.asPathLength - b.attrs.asPathLength;
  // (b) lowest ORIGIN
  if (a.attrs.origin !== b.attrs.origin) return a.attrs.origin - b.attrs.origin;
  // (c) lowest MED, only between routes from the same neighbouring AS unless told otherwise
  if ((opts.alwaysCompareMed || a.attrs.neighborAs === b.attrs.neighborAs) && a.attrs.med !== b.attrs.med) {
    return a.attrs.med < b.attrs.med ? -1 : 1;
  }
  // (d) routes from external peers over routes from internal peers
  if (a.source.ibgp !== b.source.ibgp) return a.source.ibgp ? 1 : -1;
  return 0;
}

/** Full comparison; negative when `a` is better. Total order: ties end at the peer address. */
export function compareCandidates(a: Candidate, b: Candidate, opts: DecisionOptions): number {
  const c = compareUpToPeerType(a, b, opts);
  if (c !== 0) return c;
  // (e) interior cost to the next hop: all next hops are on connected networks here; skipped.
  // (f) lowest BGP Identifier; RFC 4456 §9: ORIGINATOR_ID stands in for it when present.
  const ida = a.attrs.originatorId || a.source.routerId;
  const idb = b.attrs.originatorId || b.source.routerId;
  if (ida !== idb) return ida < idb ? -1 : 1;
  // RFC 4456 §9: shortest CLUSTER_LIST
  if (a.attrs.clusterListLength !== b.attrs.clusterListLength) return a.attrs.clusterListLength - b.attrs.clusterListLength;
  // (g) lowest peer address
  return a.source.addressKey < b.source.addressKey ? -1 : a.source.addressKey > b.source.addressKey ? 1 : 0;
}

/**
 * Index of the best candidate and the indices of every candidate equal to it
 * for multipath (ECMP): equal through step (d), and for eBGP from the same
 * neighbour AS (FRR's default without `multipath-relax`). Locally
 * originated routes never take part in multipath.
 */
export function selectBest(cands: readonly Candidate[], opts: DecisionOptions): { best: number; multipath: number[] } {
  if (cands.length === 0) return { best: -1, multipath: [] };
  let best = 0;
  for (let i = 1; i < cands.length; i++) if (compareCandidates(cands[i]!, cands[best]!, opts) < 0) best = i;
  const b = cands[best]!;
  const multipath = [best];
  if (!b.source.local) {
    for (let i = 0; i < cands.length; i++) {
      if (i === best) continue;
      const c = cands[i]!;
      if (compareUpToPeerType(c, b, opts) !== 0) continue;
      if (!c.source.ibgp && c.attrs.neighborAs !== b.attrs.neighborAs) continue;
      multipath.push(i);
    }
  }
  return { best, multipath };
}
