/**
 * Calico's BGPFilter (projectcalico.org/v3), evaluated the way confd's BIRD
 * template does it: each of a peer's filters is a list of rules tried in
 * order; the first rule that matches decides (Accept or Reject, with
 * operations on accepted exports); a filter with no matching rule passes the
 * route to the next filter; when no filter decides, the default applies
 * (import: accept; export: Tartan's normal export rules).
 *
 * Rules are compiled once into numeric prefix matches over RIB keys, so
 * filtering a million routes costs a few comparisons each.
 */
import type { Family } from '../wire/types';
import type { RouteAttributes } from '../rib/route-attributes';
import { keyFromCidr } from '../rib/prefix-key';
import { parseCommunity } from './communities';

export type MatchOperator = 'Equal' | 'NotEqual' | 'In' | 'NotIn';

export interface BgpFilterRule {
  action: 'Accept' | 'Reject';
  cidr?: string;
  matchOperator?: MatchOperator;
  prefixLength?: { min?: number; max?: number };
  /** RemotePeers: only routes learned from BGP peers (not this node's own). */
  source?: 'RemotePeers';
  /** Interface glob: matches routes that came from an interface; BGP routes have none, so such a rule never matches here. */
  interface?: string;
  peerType?: 'eBGP' | 'iBGP';
  communities?: { values?: string[] };
  asPathPrefix?: number[];
  operations?: BgpFilterOperation[];
}

export interface BgpFilterOperation {
  addCommunity?: { value?: string };
  prependASPath?: { prefix?: number[] };
  setPriority?: { value?: number };
}

export interface BgpFilterSpec {
  exportV4?: BgpFilterRule[];
  importV4?: BgpFilterRule[];
  exportV6?: BgpFilterRule[];
  importV6?: BgpFilterRule[];
}

export interface NamedBgpFilter {
  name: string;
  spec: BgpFilterSpec;
}

/** What the filters decided for one route. */
export type FilterVerdict = { decided: false } | { decided: true; accept: boolean; /** Index of the deciding rule, for caching per rule. */ rule: number; operations: readonly BgpFilterOperation[] };

/** Facts about a route that rules can match on, besides its prefix. */
export interface FilterSubject {
  attrs: RouteAttributes;
  /** Learned from a peer (not originated by this node). */
  fromPeer: boolean;
  /** The session the filter belongs to is iBGP. */
  ibgp: boolean;
}

export type CompiledFilter = (family: Family, key: Uint32Array, len: number, subject: FilterSubject) => FilterVerdict;

interface CompiledRule {
  index: number;
  accept: boolean;
  match: (key: Uint32Array, len: number, s: FilterSubject) => boolean;
  operations: readonly BgpFilterOperation[];
}

const UNDECIDED: FilterVerdict = { decided: false };

/** Compile a peer's filters (in order) into one function; rules of filters later in the list get higher indices. */
export function compileFilters(filters: readonly NamedBgpFilter[], direction: 'import' | 'export'): CompiledFilter | undefined {
  const v4: CompiledRule[] = [];
  const v6: CompiledRule[] = [];
  let index = 0;
  for (const f of filters) {
    for (const r of (direction === 'import' ? f.spec.importV4 : f.spec.exportV4) ?? []) v4.push(compileRule(r, index++, 1));
    for (const r of (direction === 'import' ? f.spec.importV6 : f.spec.exportV6) ?? []) v6.push(compileRule(r, index++, 4));
  }
  if (v4.length === 0 && v6.length === 0) return undefined;
  return (family, key, len, subject) => {
    for (const r of family === 'ipv4-unicast' ? v4 : v6) {
      if (r.match(key, len, subject)) return { decided: true, accept: r.accept, rule: r.index, operations: r.operations };
    }
    return UNDECIDED;
  };
}

function compileRule(r: BgpFilterRule, index: number, words: 1 | 4): CompiledRule {
  const tests: ((key: Uint32Array, len: number, s: FilterSubject) => boolean)[] = [];
  if (r.cidr !== undefined) {
    const ck = new Uint32Array(words);
    const clen = keyFromCidr(r.cidr, ck);
    const op = r.matchOperator ?? 'Equal';
    const within = (key: Uint32Array, len: number): boolean => len >= clen && prefixCovers(ck, clen, key);
    const equal = (key: Uint32Array, len: number): boolean => len === clen && prefixCovers(ck, clen, key);
    if (op === 'Equal') tests.push(equal);
    else if (op === 'NotEqual') tests.push((k, l) => !equal(k, l));
    else if (op === 'In') tests.push(within);
    else tests.push((k, l) => !within(k, l));
  }
  if (r.prefixLength) {
    const min = r.prefixLength.min ?? 0;
    const max = r.prefixLength.max ?? words * 32;
    tests.push((_k, len) => len >= min && len <= max);
  }
  if (r.source === 'RemotePeers') tests.push((_k, _l, s) => s.fromPeer);
  if (r.interface !== undefined) tests.push(() => false);
  if (r.peerType !== undefined) {
    const ibgp = r.peerType === 'iBGP';
    tests.push((_k, _l, s) => s.ibgp === ibgp);
  }
  const community = r.communities?.values?.[0];
  if (community !== undefined) {
    const value = parseCommunity(community);
    tests.push((_k, _l, s) => value !== null && (s.attrs.communities ?? []).includes(value));
  }
  if (r.asPathPrefix?.length) {
    const prefix = r.asPathPrefix;
    tests.push((_k, _l, s) => {
      const flat = (s.attrs.asPath ?? []).filter((seg) => seg.type === 'sequence').flatMap((seg) => seg.asns);
      return prefix.every((asn, i) => flat[i] === asn);
    });
  }
  return {
    index,
    accept: r.action === 'Accept',
    match: (k, l, s) => tests.every((t) => t(k, l, s)),
    operations: r.action === 'Accept' ? r.operations ?? [] : [],
  };
}

/** True when `key` lies within `cidrKey/cidrLen` (both as address words). */
function prefixCovers(cidrKey: Uint32Array, cidrLen: number, key: Uint32Array): boolean {
  for (let w = 0; w < cidrKey.length; w++) {
    const bits = cidrLen - w * 32;
    if (bits <= 0) return true;
    const mask = bits >= 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
    if (((key[w]! & mask) >>> 0) !== ((cidrKey[w]! & mask) >>> 0)) return false;
  }
  return true;
}
