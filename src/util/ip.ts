import { isIP } from 'node:net';
import { Address4, Address6 } from 'ip-address';
import type { Family } from '../bgp/wire/types';

/** A prefix parsed into its canonical CIDR form (host bits cleared). */
export interface ParsedPrefix {
  family: Family;
  /** Canonical network address, e.g. "10.1.0.0" or "2001:db8::". */
  address: string;
  length: number;
  /** Canonical "address/length". */
  cidr: string;
}

/** Canonical text of an IP address ("2001:0db8::0001" → "2001:db8::1"), or null if it is not one. */
export function canonicalIp(text: string): string | null {
  const v = isIP(text);
  if (v === 4) return new Address4(text).correctForm();
  if (v === 6) return new Address6(text).correctForm();
  return null;
}

/** The family an IP address belongs to, or null. */
export function ipFamily(text: string): Family | null {
  const v = isIP(text);
  return v === 4 ? 'ipv4-unicast' : v === 6 ? 'ipv6-unicast' : null;
}

/**
 * Parse "addr/len" (or a bare address, taken as a host route) into canonical
 * form. `strict` rejects set host bits instead of clearing them.
 */
export function parsePrefix(text: string, strict = false): ParsedPrefix | null {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const v = isIP(addr);
  if (v === 0) return null;
  const max = v === 4 ? 32 : 128;
  let length = max;
  if (slash >= 0) {
    const lenText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(lenText)) return null;
    length = Number(lenText);
    if (length > max) return null;
  }
  const parsed = v === 4 ? new Address4(`${addr}/${length}`) : new Address6(`${addr}/${length}`);
  const network = parsed.startAddress().correctForm();
  const given = v === 4 ? new Address4(addr).correctForm() : new Address6(addr).correctForm();
  if (strict && network !== given) return null;
  return {
    family: v === 4 ? 'ipv4-unicast' : 'ipv6-unicast',
    address: network,
    length,
    cidr: `${network}/${length}`,
  };
}
