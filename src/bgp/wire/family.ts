/** Address families: the (AFI, SAFI) pairs Tartan routes, and their short keys. */
import { Afi, Safi, type Family } from './types';

/** The Family of an (AFI, SAFI) pair, or undefined if Tartan does not route it. */
export function familyOf(afi: number, safi: number): Family | undefined {
  if (safi !== Safi.UNICAST) return undefined;
  if (afi === Afi.IPV4) return 'ipv4-unicast';
  if (afi === Afi.IPV6) return 'ipv6-unicast';
  return undefined;
}

export function afiSafiOf(family: Family): { afi: Afi; safi: Safi } {
  return family === 'ipv4-unicast' ? { afi: Afi.IPV4, safi: Safi.UNICAST } : { afi: Afi.IPV6, safi: Safi.UNICAST };
}

/** Bytes in one address of the family. */
export function addressWidth(family: Family): 4 | 16 {
  return family === 'ipv4-unicast' ? 4 : 16;
}

/** "ipv6-unicast", or "afi 25 safi 70" for a pair Tartan does not route; for logs. */
export function familyName(afi: number, safi: number): string {
  return familyOf(afi, safi) ?? `afi ${afi} safi ${safi}`;
}
