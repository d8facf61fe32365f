/**
 * Conversions between prefixes in their three forms: CIDR text (for people
 * and the control API), wire NLRI bytes (RFC 4271 §4.3: a length octet then
 * the minimum number of address octets; RFC 7911 §3: a 4-octet path id
 * first when ADD-PATH applies), and the PrefixTable key (32-bit words).
 */
import { isIPv4 } from 'node:net';
import { Address6 } from 'ip-address';

/** Fill `key` with the words of `cidr` (path id in key[words] when given); returns the length, or -1 if unparsable. */
export function keyFromCidr(cidr: string, key: Uint32Array, pathId?: number): number {
  const slash = cidr.indexOf('/');
  const addr = slash < 0 ? cidr : cidr.slice(0, slash);
  if (isIPv4(addr)) {
    const len = slash < 0 ? 32 : Number(cidr.slice(slash + 1));
    const p = addr.split('.');
    key[0] = ((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0;
    if (pathId !== undefined) key[1] = pathId;
    return len;
  }
  if (!Address6.isValid(addr)) return -1;
  const len = slash < 0 ? 128 : Number(cidr.slice(slash + 1));
  const bytes = new Address6(addr).toByteArray();
  while (bytes.length < 16) bytes.unshift(0);
  for (let w = 0; w < 4; w++) {
    key[w] = ((bytes[w * 4]! << 24) | (bytes[w * 4 + 1]! << 16) | (bytes[w * 4 + 2]! << 8) | bytes[w * 4 + 3]!) >>> 0;
  }
  if (pathId !== undefined) key[4] = pathId;
  return len;
}

/** CIDR text of a key. */
export function cidrFromKey(key: Uint32Array, len: number, addressWords: 1 | 4): string {
  if (addressWords === 1) {
    const a = key[0]!;
    return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/${len}`;
  }
  const groups: string[] = [];
  for (let w = 0; w < 4; w++) {
    const v = key[w]!;
    groups.push(((v >>> 16) & 0xffff).toString(16), (v & 0xffff).toString(16));
  }
  return `${new Address6(groups.join(':')).correctForm()}/${len}`;
}

/**
 * Read one NLRI entry at `off` into `key` (address words zero-filled past the
 * prefix, path id after them when `addPath`). Returns the prefix length; the
 * entry's size is nlriSize(len, addPath). The bytes were validated by the codec.
 */
export function readNlri(buf: Buffer, off: number, addressWords: 1 | 4, addPath: boolean, key: Uint32Array): number {
  let pathId = 0;
  if (addPath) {
    pathId = buf.readUInt32BE(off);
    off += 4;
  }
  const len = buf[off]!;
  const nbytes = (len + 7) >>> 3;
  off++;
  for (let w = 0; w < addressWords; w++) {
    let v = 0;
    for (let b = 0; b < 4; b++) {
      const i = w * 4 + b;
      v = (v << 8) | (i < nbytes ? buf[off + i]! : 0);
    }
    key[w] = v >>> 0;
  }
  // RFC 4271 §4.3 allows trailing bits set past the length; clear them so equal prefixes get equal keys.
  maskKey(key, len, addressWords);
  if (addPath) key[addressWords] = pathId;
  return len;
}

/** Bytes one NLRI entry takes on the wire. */
export function nlriSize(len: number, addPath: boolean): number {
  return (addPath ? 5 : 1) + ((len + 7) >>> 3);
}

/** Write one NLRI entry for `key` at `off`; returns the new offset. */
export function writeNlri(buf: Buffer, off: number, key: Uint32Array, len: number, pathId?: number): number {
  if (pathId !== undefined) {
    buf.writeUInt32BE(pathId >>> 0, off);
    off += 4;
  }
  buf[off++] = len;
  const nbytes = (len + 7) >>> 3;
  for (let i = 0; i < nbytes; i++) buf[off++] = (key[i >>> 2]! >>> (24 - 8 * (i & 3))) & 0xff;
  return off;
}

function maskKey(key: Uint32Array, len: number, addressWords: 1 | 4): void {
  for (let w = 0; w < addressWords; w++) {
    const bitsHere = len - w * 32;
    if (bitsHere >= 32) continue;
    key[w] = bitsHere <= 0 ? 0 : (key[w]! & (0xffffffff << (32 - bitsHere))) >>> 0;
  }
}
