/**
 * IPv4/IPv6 addresses and prefixes between wire bytes and the canonical
 * strings of types.ts ("192.0.2.1", "2001:db8::1", "10.0.0.0/24").
 *
 * Output is canonical: IPv6 per RFC 5952 §4 (lower case, longest run of two
 * or more zero groups compressed, leftmost on a tie) with the IPv4-mapped
 * range written in mixed notation (RFC 5952 §5). Parsing accepts any form
 * node:net accepts except zone indexes, which have no meaning on the wire.
 * Parse functions return undefined for bad input; encoders turn that into a
 * BGP_ENCODE_ERROR.
 */
import { isIP } from 'node:net';

const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function formatIpv4(b: Buffer, offset = 0): string {
  return `${b[offset]}.${b[offset + 1]}.${b[offset + 2]}.${b[offset + 3]}`;
}

export function formatIpv6(b: Buffer, offset = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(b.readUInt16BE(offset + 2 * i));
  // RFC 5952 §5: ::ffff:0:0/96 in dotted-quad tail.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${formatIpv4(b, offset + 12)}`;
  }
  // RFC 5952 §4.2: compress the longest run (length >= 2) of zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export function parseIpv4(s: string): Buffer | undefined {
  if (!IPV4_RE.test(s)) return undefined;
  return Buffer.from(s.split('.').map(Number));
}

export function parseIpv6(s: string): Buffer | undefined {
  if (s.includes('%') || isIP(s) !== 6) return undefined;
  let text = s.toLowerCase();
  const out = Buffer.alloc(16);
  // A dotted-quad tail stands for the last two groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  let v4: Buffer | undefined;
  if (tail.includes('.')) {
    v4 = parseIpv4(tail);
    if (v4 === undefined) return undefined;
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split('::');
  const head = halves[0] === '' ? [] : (halves[0] as string).split(':');
  const rest = halves.length > 1 ? (halves[1] === '' ? [] : (halves[1] as string).split(':')) : [];
  const groups = halves.length > 1 ? [...head, ...new Array<string>(8 - head.length - rest.length).fill('0'), ...rest] : head;
  if (groups.length !== 8) return undefined;
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), 2 * i));
  if (v4 !== undefined) v4.copy(out, 12);
  return out;
}

/** Address bytes of either family, or undefined. */
export function parseIp(s: string): Buffer | undefined {
  return s.includes(':') ? parseIpv6(s) : parseIpv4(s);
}

export function formatIp(b: Buffer): string {
  return b.length === 4 ? formatIpv4(b) : formatIpv6(b);
}

/** True for fe80::/10, the only addresses RFC 2545 §3 allows as the second MP_REACH next hop. */
export function isIpv6LinkLocal(b: Buffer): boolean {
  return b.length === 16 && b[0] === 0xfe && ((b[1] as number) & 0xc0) === 0x80;
}

/** A parsed prefix: the full-width address with host bits cleared, and the length. */
export interface ParsedPrefix {
  address: Buffer;
  length: number;
}

/** Parses "a.b.c.d/n" (width 4) or "x::/n" (width 16); host bits are cleared. */
export function parsePrefix(s: string, width: 4 | 16): ParsedPrefix | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const lenText = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) return undefined;
  const length = Number(lenText);
  if (length > width * 8) return undefined;
  const address = width === 4 ? parseIpv4(s.slice(0, slash)) : parseIpv6(s.slice(0, slash));
  if (address === undefined) return undefined;
  maskHostBits(address, length);
  return { address, length };
}

/** Clears every bit after the first `length` bits, in place. */
export function maskHostBits(address: Buffer, length: number): void {
  for (let i = 0; i < address.length; i++) {
    const keep = Math.max(0, Math.min(8, length - 8 * i));
    address[i] = (address[i] as number) & ((0xff << (8 - keep)) & 0xff);
  }
}

export function formatPrefix(address: Buffer, length: number): string {
  return `${formatIp(address)}/${length}`;
}
