import type { Family } from '../wire/types';

/** AFI/SAFI numbers → the family key the RIB uses (IANA: AFI 1 IPv4, 2 IPv6; SAFI 1 unicast). */
export function familyOfAfiSafi(afi: number, safi: number): Family | undefined {
  if (safi !== 1) return undefined;
  return afi === 1 ? 'ipv4-unicast' : afi === 2 ? 'ipv6-unicast' : undefined;
}
