/**
 * Tartan's BGP-4 wire codec (no I/O, no state beyond the framer's buffer).
 *
 * RFCs implemented: 4271 (BGP-4 messages), 4760 (multiprotocol), 2545 (IPv6
 * next hops), 8950 (IPv4 NLRI with IPv6 next hop), 6793 (4-octet AS, AS4_PATH),
 * 5492 (capabilities), 9072 (extended optional parameters length), 2918 and
 * 7313 (route refresh, enhanced), 4724 and 8538 (graceful restart), 7911
 * (ADD-PATH), 8654 (extended message), 1997, 4360, 8092 (communities), 4456
 * (route reflection attributes), 5065 (confederation segments), 7606 (revised
 * UPDATE error handling), 8203/9003 (shutdown communication), 4486 (Cease subcodes).
 *
 * Negotiated facts come in through CodecOptions on every call; the decoder
 * throws only BgpWireError, carrying the NOTIFICATION and the RFC 7606 action.
 */
export { MessageFramer } from './framer';
export { decodeMessage, encodeMessage } from './message';
export { encodeAnnouncements, encodeWithdrawals, encodeEndOfRib, endOfRibFamily } from './packing';
export { encodePackedAnnouncements, encodePackedWithdrawals } from './packed';
export { familyOf, afiSafiOf } from './family';
export { describeNotification, describeCapability, describeAttributes } from './describe';
export { encodeCapability } from './capabilities';
export { encodeShutdownCommunication } from './notification';
export { AS_TRANS } from './attributes/as-path';
export * from './types';
export * from './errors';
