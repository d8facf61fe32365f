/**
 * Fast IP address and prefix text <-> bytes conversion for the rtnetlink
 * codec. Written by hand (not `ip-address`) because a full-table sync
 * formats and parses a million prefixes: this path must stay well under a
 * microsecond per address. Text output is canonical: dotted quad for IPv4,
 * RFC 5952 for IPv6 (lower case, longest zero run of 2+ groups compressed,
 * first one on a tie), so it can be used as a map key.
 */

export type IpFamily = 4 | 6;

/** A parsed prefix: family, network bytes (host bits cleared) and length. */
export interface PrefixBytes {
  family: IpFamily;
  bytes: Uint8Array;
  length: number;
}

/** Write the 4 bytes of a dotted-quad IPv4 address at `off`; false if `text` is not one. */
export function writeIpv4(text: string, out: Uint8Array, off: number): boolean {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || part === 3) return false;
      out[off + part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      if (++digits > 3 || value > 255) return false;
    } else {
      return false;
    }
  }
  if (digits === 0 || part !== 3) return false;
  out[off + 3] = value;
  return true;
}

/** Write the 16 bytes of an IPv6 address at `off` (embedded IPv4 tail allowed); false if invalid. */
export function writeIpv6(text: string, out: Uint8Array, off: number): boolean {
  const groups: number[] = [];
  let gap = -1;
  let i = 0;
  const n = text.length;
  if (n < 2) return false;
  if (text.charCodeAt(0) === 58 /* : */) {
    if (text.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
    if (i === n) {
      out.fill(0, off, off + 16);
      return true;
    }
  }
  while (i < n) {
    let j = i;
    let value = 0;
    while (j < n && j - i < 5) {
      const c = text.charCodeAt(j);
      let d: number;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) d = c - 55;
      else break;
      value = value * 16 + d;
      j++;
    }
    if (j < n && text.charCodeAt(j) === 46 /* . embedded IPv4 */) {
      const tmp = new Uint8Array(4);
      if (!writeIpv4(text.slice(i), tmp, 0)) return false;
      groups.push(((tmp[0] ?? 0) << 8) | (tmp[1] ?? 0), ((tmp[2] ?? 0) << 8) | (tmp[3] ?? 0));
      i = n;
      break;
    }
    if (j === i || j - i > 4) return false;
    groups.push(value);
    i = j;
    if (i === n) break;
    if (text.charCodeAt(i) !== 58) return false;
    i++;
    if (i < n && text.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = groups.length;
      i++;
    } else if (i === n) {
      return false;
    }
  }
  if (groups.length > 8 || (gap < 0 && groups.length !== 8) || (gap >= 0 && groups.length > 7)) return false;
  const fill = 8 - groups.length;
  let g = 0;
  for (let k = 0; k < 8; k++) {
    let v = 0;
    if (gap >= 0 && k >= gap && k < gap + fill) v = 0;
    else v = groups[g++] ?? 0;
    out[off + 2 * k] = v >> 8;
    out[off + 2 * k + 1] = v & 0xff;
  }
  return true;
}

/** Dotted quad of the 4 bytes at `off`. */
export function formatIpv4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** RFC 5952 text of the 16 bytes at `off`. */
export function formatIpv6(b: Uint8Array, off = 0): string {
  const g = new Array<number>(8);
  for (let k = 0; k < 8; k++) g[k] = ((b[off + 2 * k] ?? 0) << 8) | (b[off + 2 * k + 1] ?? 0);
  // Longest run of zero groups, length >= 2 (RFC 5952 §4.2.2), first on a tie (§4.2.3).
  let bestStart = -1;
  let bestLen = 1;
  for (let k = 0; k < 8; ) {
    if (g[k] !== 0) {
      k++;
      continue;
    }
    let e = k;
    while (e < 8 && g[e] === 0) e++;
    if (e - k > bestLen) {
      bestStart = k;
      bestLen = e - k;
    }
    k = e;
  }
  const hex = (k: number): string => (g[k] ?? 0).toString(16);
  if (bestStart < 0) return g.map((_, k) => hex(k)).join(':');
  const head: string[] = [];
  for (let k = 0; k < bestStart; k++) head.push(hex(k));
  const tail: string[] = [];
  for (let k = bestStart + bestLen; k < 8; k++) tail.push(hex(k));
  return `${head.join(':')}::${tail.join(':')}`;
}

/** Family of an address text by its shape (a colon means IPv6). */
export function familyOfAddress(text: string): IpFamily {
  return text.includes(':') ? 6 : 4;
}

/** Parse an address into bytes; null if invalid. */
export function parseAddress(text: string): { family: IpFamily; bytes: Uint8Array } | null {
  const family = familyOfAddress(text);
  const bytes = new Uint8Array(family === 4 ? 4 : 16);
  const ok = family === 4 ? writeIpv4(text, bytes, 0) : writeIpv6(text, bytes, 0);
  return ok ? { family, bytes } : null;
}

/** Canonical text of an address, or null if invalid. */
export function canonicalAddress(text: string): string | null {
  const a = parseAddress(text);
  if (!a) return null;
  return a.family === 4 ? formatIpv4(a.bytes) : formatIpv6(a.bytes);
}

/**
 * Parse "addr/len" (a bare address is a host route). Host bits are cleared,
 * as the kernel requires them to be zero (fib_table_insert: "Invalid prefix
 * for given prefix length" → EINVAL); null if invalid.
 */
export function parsePrefix(text: string): PrefixBytes | null {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const a = parseAddress(addrText);
  if (!a) return null;
  const max = a.family === 4 ? 32 : 128;
  let length = max;
  if (slash >= 0) {
    const lt = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(lt)) return null;
    length = Number(lt);
    if (length > max) return null;
  }
  maskBytes(a.bytes, length);
  return { family: a.family, bytes: a.bytes, length };
}

/** Clear the bits after `length` in place. */
export function maskBytes(bytes: Uint8Array, length: number): void {
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, length - i * 8));
    bytes[i] = (bytes[i] ?? 0) & ((0xff << (8 - keep)) & 0xff);
  }
}

/** Canonical "addr/len" text of a parsed prefix. */
export function formatPrefix(p: PrefixBytes): string {
  return `${p.family === 4 ? formatIpv4(p.bytes) : formatIpv6(p.bytes)}/${p.length}`;
}

/** Canonical "addr/len" for any accepted spelling, or null. */
export function canonicalPrefix(text: string): string | null {
  const p = parsePrefix(text);
  return p ? formatPrefix(p) : null;
}
