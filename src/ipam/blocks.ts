/**
 * Block arithmetic (Calico `lib/ipam/ipam_block.go`, `ipam.go`): a pool is
 * cut into aligned blocks of `blockSize`; an address is an ordinal inside
 * its block. Pure.
 */
import { bigIntToIp, cidrContains, cidrSize, formatCidr, ipToBigInt, parseCidr, type Cidr } from './ip';

/** The block of `blockSize` that holds `ip`. */
export function blockCidrFor(ip: string, blockSize: number): string | undefined {
  const v = ipToBigInt(ip);
  if (!v) return undefined;
  const host = BigInt((v.version === 4 ? 32 : 128) - blockSize);
  return formatCidr({ version: v.version, base: (v.value >> host) << host, prefixLength: blockSize });
}

/** Number of addresses in a block. */
export function blockSizeOf(blockCidr: string): number {
  const c = must(blockCidr);
  return Number(cidrSize(c));
}

export function ordinalToIp(blockCidr: string, ordinal: number): string {
  const c = must(blockCidr);
  if (ordinal < 0 || BigInt(ordinal) >= cidrSize(c)) throw new RangeError(`ordinal ${ordinal} outside ${blockCidr}`);
  return bigIntToIp(c.version, c.base + BigInt(ordinal));
}

/** The ordinal of `ip` in `blockCidr`, or undefined if it is not inside. */
export function ipToOrdinal(blockCidr: string, ip: string): number | undefined {
  const c = must(blockCidr);
  const v = ipToBigInt(ip);
  if (!v || !cidrContains(c, v.version, v.value)) return undefined;
  return Number(v.value - c.base);
}

/** Every block of `blockSize` in `poolCidr`, in address order (lazily: a v6 pool has many). */
export function* blocksOfPool(poolCidr: string, blockSize: number): Generator<string> {
  const pool = must(poolCidr);
  const step = 1n << BigInt((pool.version === 4 ? 32 : 128) - blockSize);
  const end = pool.base + cidrSize(pool);
  for (let b = pool.base; b < end; b += step) yield formatCidr({ version: pool.version, base: b, prefixLength: blockSize });
}

/** The free blocks of a pool: those not in `taken`, in address order, at most `limit`. */
export function freeBlocks(poolCidr: string, blockSize: number, taken: ReadonlySet<string>, limit = Infinity): string[] {
  const out: string[] = [];
  for (const b of blocksOfPool(poolCidr, blockSize)) {
    if (out.length >= limit) break;
    if (!taken.has(b)) out.push(b);
  }
  return out;
}

export function cidrInside(inner: string, outer: string): boolean {
  const i = must(inner);
  const o = must(outer);
  return i.version === o.version && i.prefixLength >= o.prefixLength && cidrContains(o, i.version, i.base);
}

export function ipInCidr(ip: string, cidr: string): boolean {
  const v = ipToBigInt(ip);
  const c = parseCidr(cidr);
  return !!v && !!c && cidrContains(c, v.version, v.value);
}

export function ipVersionOfCidr(cidr: string): 4 | 6 {
  return must(cidr).version;
}

/** Canonical text of an address ("fd00:0::1" → "fd00::1"). */
export function canonicalIp(ip: string): string | undefined {
  const v = ipToBigInt(ip);
  return v ? bigIntToIp(v.version, v.value) : undefined;
}

function must(cidr: string): Cidr {
  const c = parseCidr(cidr);
  if (!c) throw new RangeError(`not a CIDR: ${cidr}`);
  return c;
}
