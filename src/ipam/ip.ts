/**
 * IP addresses and CIDRs as bigints, for block arithmetic. Pure.
 */
import { isIP } from 'node:net';
import { Address4, Address6 } from 'ip-address';

export type IpVersion = 4 | 6;

export interface Cidr {
  version: IpVersion;
  /** Network address (host bits clear). */
  base: bigint;
  prefixLength: number;
}

export function bits(version: IpVersion): number {
  return version === 4 ? 32 : 128;
}

export function ipToBigInt(ip: string): { version: IpVersion; value: bigint } | undefined {
  const v = isIP(ip);
  if (v === 4) return { version: 4, value: new Address4(ip).bigInt() };
  if (v === 6) return { version: 6, value: new Address6(ip).bigInt() };
  return undefined;
}

export function bigIntToIp(version: IpVersion, value: bigint): string {
  return version === 4 ? Address4.fromBigInt(value).correctForm() : Address6.fromBigInt(value).correctForm();
}

/** Parse "a.b.c.d/n" or "x::/n"; host bits are cleared. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = ipToBigInt(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(lenText)) return undefined;
  const prefixLength = Number(lenText);
  if (prefixLength > bits(ip.version)) return undefined;
  const hostBits = BigInt(bits(ip.version) - prefixLength);
  return { version: ip.version, base: (ip.value >> hostBits) << hostBits, prefixLength };
}

export function formatCidr(c: Cidr): string {
  return `${bigIntToIp(c.version, c.base)}/${c.prefixLength}`;
}

export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt(bits(c.version) - c.prefixLength);
}

export function cidrContains(c: Cidr, version: IpVersion, value: bigint): boolean {
  return version === c.version && value >= c.base && value < c.base + cidrSize(c);
}
