/**
 * Connection collision resolution, RFC 4271 §6.8 (pure).
 *
 * When we and the peer both open a TCP connection, exactly one survives:
 * the one initiated by the speaker with the higher BGP Identifier, compared
 * as 32-bit unsigned integers. The loser gets NOTIFICATION Cease/7
 * (Connection Collision Resolution, RFC 4486).
 */

import type { ConnectionDirection } from './events';

/** A dotted quad as the unsigned 32-bit integer RFC 4271 §6.8 compares. */
export function bgpIdToUint32(id: string): number {
  const parts = id.split('.').map((p) => Number(p));
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new RangeError(`not a BGP identifier: ${id}`);
  }
  // Multiplication, not <<, so 128.0.0.0 and above stay positive.
  return ((parts[0] as number) * 256 ** 3 + (parts[1] as number) * 256 ** 2 + (parts[2] as number) * 256 + (parts[3] as number));
}

/**
 * Which connection to keep when both directions reached OpenSent or later.
 *
 * RFC 4271 §6.8: if our identifier is higher, our (outgoing) connection
 * survives; if lower, the peer's (incoming) one does. RFC 6286 §2.3: when
 * the identifiers are equal (possible between ASes), the speaker with the
 * larger AS number wins instead.
 */
export function resolveCollision(local: { bgpId: string; asn: number }, remote: { bgpId: string; asn: number }): ConnectionDirection {
  const l = bgpIdToUint32(local.bgpId);
  const r = bgpIdToUint32(remote.bgpId);
  if (l !== r) return l > r ? 'outgoing' : 'incoming';
  return local.asn > remote.asn ? 'outgoing' : 'incoming';
}
