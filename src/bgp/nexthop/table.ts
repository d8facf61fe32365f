/**
 * Which BGP next hops are reachable (RFC 4271 §9.1.2: a route whose NEXT_HOP
 * cannot be resolved is excluded from the decision process), judged from the
 * kernel's own routes the way FRR's next-hop tracking does: the longest
 * matching unicast route of the main table that is not a BGP route of ours
 * resolves it. Our own BGP routes (protocol 201) never count, so a BGP route
 * cannot hold up its own next hop; a default route does not count either
 * (FRR's default without `ip nht resolve-via-default`), or every next hop
 * would look reachable. IPv6 link-local next hops are on-link by definition.
 *
 * Pure data: the kernel glue (kernel-nexthops.ts) feeds it routes.
 */
import { isIPv4 } from 'node:net';
import { Address6 } from 'ip-address';

export interface ResolvingRoute {
  family: 4 | 6;
  /** Canonical "addr/len". */
  dst: string;
}

export class NextHopTable {
  /** Per family and prefix length, the networks present (as a bigint/number key), with a count for duplicates (metrics). */
  private readonly v4 = new Map<number, Map<number, number>>();
  private readonly v6 = new Map<number, Map<bigint, number>>();
  /** Bumped on every change that can alter an answer. */
  version = 0;

  add(r: ResolvingRoute): void {
    const parsed = parse(r.dst);
    if (!parsed || parsed.len === 0) return;
    if (parsed.family === 4) bump(this.v4, parsed.len, parsed.key as number, 1);
    else bump(this.v6, parsed.len, parsed.key as bigint, 1);
    this.version++;
  }

  remove(r: ResolvingRoute): void {
    const parsed = parse(r.dst);
    if (!parsed || parsed.len === 0) return;
    const changed = parsed.family === 4 ? bump(this.v4, parsed.len, parsed.key as number, -1) : bump(this.v6, parsed.len, parsed.key as bigint, -1);
    if (changed) this.version++;
  }

  /** Take `other`'s contents; true if any network came or went. */
  replaceWith(other: NextHopTable): boolean {
    const changed = !sameNets(this.v4, other.v4) || !sameNets(this.v6, other.v6);
    this.v4.clear();
    this.v6.clear();
    for (const [len, nets] of other.v4) this.v4.set(len, new Map(nets));
    for (const [len, nets] of other.v6) this.v6.set(len, new Map(nets));
    if (changed) this.version++;
    return changed;
  }

  clear(): void {
    this.v4.clear();
    this.v6.clear();
    this.version++;
  }

  get size(): number {
    let n = 0;
    for (const m of this.v4.values()) n += m.size;
    for (const m of this.v6.values()) n += m.size;
    return n;
  }

  reachable(addr: string): boolean {
    if (isIPv4(addr)) {
      const a = v4Number(addr);
      for (const [len, nets] of this.v4) if (nets.has(maskV4(a, len))) return true;
      return false;
    }
    if (!Address6.isValid(addr)) return false;
    const a = new Address6(addr).bigInt();
    // fe80::/10: on-link, resolved by the interface the session runs on.
    if (a >> 118n === 0x3fan) return true;
    for (const [len, nets] of this.v6) if (nets.has(maskV6(a, len))) return true;
    return false;
  }
}

function sameNets<K>(a: Map<number, Map<K, number>>, b: Map<number, Map<K, number>>): boolean {
  if (a.size !== b.size) return false;
  for (const [len, nets] of a) {
    const other = b.get(len);
    if (!other || other.size !== nets.size) return false;
    for (const key of nets.keys()) if (!other.has(key)) return false;
  }
  return true;
}

function bump<K>(byLen: Map<number, Map<K, number>>, len: number, key: K, delta: 1 | -1): boolean {
  let nets = byLen.get(len);
  if (!nets) {
    if (delta < 0) return false;
    nets = new Map();
    byLen.set(len, nets);
  }
  const n = (nets.get(key) ?? 0) + delta;
  if (n < 0) return false;
  if (n === 0) nets.delete(key);
  else nets.set(key, n);
  if (nets.size === 0) byLen.delete(len);
  return true;
}

function parse(cidr: string): { family: 4 | 6; len: number; key: number | bigint } | undefined {
  const slash = cidr.indexOf('/');
  const addr = slash < 0 ? cidr : cidr.slice(0, slash);
  if (isIPv4(addr)) {
    const len = slash < 0 ? 32 : Number(cidr.slice(slash + 1));
    return { family: 4, len, key: maskV4(v4Number(addr), len) };
  }
  if (!Address6.isValid(addr)) return undefined;
  const len = slash < 0 ? 128 : Number(cidr.slice(slash + 1));
  return { family: 6, len, key: maskV6(new Address6(addr).bigInt(), len) };
}

function v4Number(addr: string): number {
  const p = addr.split('.');
  return ((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0;
}

function maskV4(a: number, len: number): number {
  return len === 0 ? 0 : (a & (0xffffffff << (32 - len))) >>> 0;
}

const ALL128 = (1n << 128n) - 1n;
function maskV6(a: bigint, len: number): bigint {
  return len === 0 ? 0n : a & (ALL128 ^ ((1n << BigInt(128 - len)) - 1n));
}
