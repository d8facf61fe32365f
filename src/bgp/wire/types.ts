/**
 * Plain-data shapes of BGP messages, as the codec decodes and encodes them.
 *
 * These types are the contract between the codec (src/bgp/wire), the session
 * (src/bgp/session) and the RIB. They are plain objects: no methods, no
 * sockets, safe to log and to pass to a worker thread.
 *
 * Conventions:
 * - AS numbers are always 4-octet values here. When a session did not
 *   negotiate 4-octet AS (RFC 6793), the decoder has already merged AS4_PATH /
 *   AS4_AGGREGATOR into asPath / aggregator, and the encoder writes AS_TRANS
 *   plus AS4_PATH / AS4_AGGREGATOR as needed.
 * - IP addresses are canonical strings ("192.0.2.1", "2001:db8::1"); prefixes
 *   are canonical CIDR strings ("10.0.0.0/24", "2001:db8::/32") with host bits
 *   zero.
 */

import type { BgpWireError } from './errors';

/** Message type codes, RFC 4271 §4.1 and RFC 2918 §3. */
export enum MessageType {
  OPEN = 1,
  UPDATE = 2,
  NOTIFICATION = 3,
  KEEPALIVE = 4,
  ROUTE_REFRESH = 5,
}

/** Address Family Identifiers (IANA) that Tartan routes. */
export enum Afi {
  IPV4 = 1,
  IPV6 = 2,
}

/** Subsequent AFI (IANA). Only unicast is routed. */
export enum Safi {
  UNICAST = 1,
}

/** The families Tartan routes, as a short stable key. */
export type Family = 'ipv4-unicast' | 'ipv6-unicast';

export const FAMILIES: readonly Family[] = ['ipv4-unicast', 'ipv6-unicast'];

/** One NLRI entry. `pathId` is present only where ADD-PATH (RFC 7911) applies. */
export interface Nlri {
  prefix: string;
  pathId?: number;
}

/** ORIGIN values, RFC 4271 §5.1.1. */
export enum Origin {
  IGP = 0,
  EGP = 1,
  INCOMPLETE = 2,
}

/** AS_PATH segment types, RFC 4271 §4.3 and RFC 5065 (confederations). */
export type AsPathSegmentType = 'set' | 'sequence' | 'confed-sequence' | 'confed-set';

export interface AsPathSegment {
  type: AsPathSegmentType;
  asns: number[];
}

export interface Aggregator {
  asn: number;
  address: string;
}

/** RFC 8092 large community: global administrator, local data 1, local data 2. */
export type LargeCommunity = [number, number, number];

/** MP_REACH_NLRI, RFC 4760 §3. `nextHops` holds the global address and, for IPv6, an optional link-local. */
export interface MpReach {
  afi: number;
  safi: number;
  nextHops: string[];
  nlri: Nlri[];
  /** With CodecOptions.packedNlri: the validated NLRI in wire form, and `nlri` is left empty. */
  packed?: Buffer;
}

/** MP_UNREACH_NLRI, RFC 4760 §4. */
export interface MpUnreach {
  afi: number;
  safi: number;
  withdrawn: Nlri[];
  /** With CodecOptions.packedNlri: the validated NLRI in wire form, and `withdrawn` is left empty. */
  packed?: Buffer;
}

/** An attribute the codec does not model, kept as raw bytes (RFC 4271 §5: optional transitive ones are passed on with Partial set). */
export interface RawAttribute {
  flags: number;
  typeCode: number;
  value: Buffer;
}

/**
 * Decoded path attributes of one UPDATE. Absent fields were absent on the wire.
 * MP_REACH / MP_UNREACH live here too, because on the wire they are attributes.
 */
export interface PathAttributes {
  origin?: Origin;
  asPath?: AsPathSegment[];
  nextHop?: string;
  med?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  aggregator?: Aggregator;
  /** RFC 1997 communities as 32-bit unsigned values (high 16 bits = AS). */
  communities?: number[];
  originatorId?: string;
  clusterList?: string[];
  /** RFC 4360 extended communities, each exactly 8 bytes. */
  extendedCommunities?: Buffer[];
  largeCommunities?: LargeCommunity[];
  mpReach?: MpReach;
  mpUnreach?: MpUnreach;
  /** Unrecognised attributes, in wire order. */
  unknown?: RawAttribute[];
}

/** Capability codes (IANA "Capability Codes" registry). */
export enum CapabilityCode {
  MULTIPROTOCOL = 1,
  ROUTE_REFRESH = 2,
  EXTENDED_NEXT_HOP = 5,
  EXTENDED_MESSAGE = 6,
  GRACEFUL_RESTART = 64,
  FOUR_OCTET_AS = 65,
  ADD_PATH = 69,
  ENHANCED_ROUTE_REFRESH = 70,
}

export interface AfiSafi {
  afi: number;
  safi: number;
}

/** ADD-PATH Send/Receive field, RFC 7911 §4. */
export enum AddPathMode {
  RECEIVE = 1,
  SEND = 2,
  BOTH = 3,
}

export type Capability =
  | ({ code: CapabilityCode.MULTIPROTOCOL } & AfiSafi)
  | { code: CapabilityCode.ROUTE_REFRESH }
  | { code: CapabilityCode.EXTENDED_NEXT_HOP; entries: (AfiSafi & { nextHopAfi: number })[] }
  | { code: CapabilityCode.EXTENDED_MESSAGE }
  | {
      code: CapabilityCode.GRACEFUL_RESTART;
      /** R bit (restart state), RFC 4724 §3. */
      restarting: boolean;
      /** N bit (graceful notification), RFC 8538 §2. */
      notification: boolean;
      restartTime: number;
      families: (AfiSafi & { forwarding: boolean })[];
    }
  | { code: CapabilityCode.FOUR_OCTET_AS; asn: number }
  | { code: CapabilityCode.ADD_PATH; families: (AfiSafi & { mode: AddPathMode })[] }
  | { code: CapabilityCode.ENHANCED_ROUTE_REFRESH }
  | { code: 'unknown'; typeCode: number; value: Buffer };

export interface OpenMessage {
  type: MessageType.OPEN;
  version: number;
  /** The 2-octet "My Autonomous System" field as sent (AS_TRANS when the real AS does not fit). */
  myAs: number;
  holdTime: number;
  bgpId: string;
  capabilities: Capability[];
}

export interface UpdateMessage {
  type: MessageType.UPDATE;
  withdrawn: Nlri[];
  attributes: PathAttributes;
  nlri: Nlri[];
  /**
   * Set by the decoder only: RFC 7606 errors that did not reset the session.
   * If any has action `treat-as-withdraw`, every prefix announced by this
   * UPDATE (nlri and mpReach.nlri) must be handled as withdrawn (RFC 7606 §2);
   * `attribute-discard` errors mean the named attribute was dropped.
   */
  errors?: BgpWireError[];
  /**
   * With CodecOptions.packedNlri: the validated Withdrawn Routes and NLRI
   * fields in wire form (RFC 4271 §4.3), and `withdrawn` / `nlri` are empty.
   */
  packed?: { withdrawn: Buffer; nlri: Buffer };
}

export interface NotificationMessage {
  type: MessageType.NOTIFICATION;
  code: number;
  subcode: number;
  data: Buffer;
}

export interface KeepaliveMessage {
  type: MessageType.KEEPALIVE;
}

/** ROUTE-REFRESH, RFC 2918 §3; subtype per RFC 7313 §3.2 (0 normal, 1 BoRR, 2 EoRR). */
export interface RouteRefreshMessage {
  type: MessageType.ROUTE_REFRESH;
  afi: number;
  safi: number;
  subtype: number;
}

export type BgpMessage =
  | OpenMessage
  | UpdateMessage
  | NotificationMessage
  | KeepaliveMessage
  | RouteRefreshMessage;

/**
 * What OPEN negotiated, handed explicitly to every decode and encode call
 * (the GoBGP MarshallingOption idea: no globals, no session state inside the codec).
 *
 * A session keeps two of these: one for decoding what the peer sends, one for
 * encoding what we send; they differ only in `addPath`.
 */
export interface CodecOptions {
  /** RFC 6793: both sides advertised the 4-octet AS capability. */
  fourOctetAs: boolean;
  /** RFC 8654: both sides advertised Extended Message, so messages may be up to 65535 bytes. */
  extendedMessage: boolean;
  /** RFC 7911: families whose NLRI carry a 4-byte path identifier in this direction. */
  addPath: ReadonlySet<Family>;
  /**
   * Decode only: validate NLRI but hand them back as wire bytes (`packed`
   * fields) instead of one object per prefix — the bulk path for the RIB.
   */
  packedNlri?: boolean;
  /**
   * Decode only: where decodeUpdate keeps the last error-free path
   * attributes it decoded (without MP_REACH/MP_UNREACH, which carry NLRI),
   * to hand back the same object when the next UPDATE's attribute bytes
   * are the same — a peer sending its table repeats one attribute set over
   * thousands of UPDATEs. One per session; the result is what decoding
   * would give, shared (read-only) between those UPDATEs.
   */
  attributeMemo?: AttributeMemo;
}

/** See CodecOptions.attributeMemo. */
export interface AttributeMemo {
  bytes?: Buffer;
  attributes?: PathAttributes;
  present?: ReadonlySet<number>;
}

/** Options before OPEN has been exchanged: RFC 4271 defaults. */
export const DEFAULT_CODEC_OPTIONS: CodecOptions = Object.freeze({
  fourOctetAs: false,
  extendedMessage: false,
  addPath: new Set<Family>(),
});

/** Path attribute type codes (IANA "BGP Path Attributes" registry) that the codec models. */
export enum AttributeType {
  ORIGIN = 1,
  AS_PATH = 2,
  NEXT_HOP = 3,
  MULTI_EXIT_DISC = 4,
  LOCAL_PREF = 5,
  ATOMIC_AGGREGATE = 6,
  AGGREGATOR = 7,
  COMMUNITIES = 8,
  ORIGINATOR_ID = 9,
  CLUSTER_LIST = 10,
  MP_REACH_NLRI = 14,
  MP_UNREACH_NLRI = 15,
  EXTENDED_COMMUNITIES = 16,
  AS4_PATH = 17,
  AS4_AGGREGATOR = 18,
  LARGE_COMMUNITY = 32,
}

/** Attribute Flags bits, RFC 4271 §4.3. */
export enum AttributeFlag {
  OPTIONAL = 0x80,
  TRANSITIVE = 0x40,
  PARTIAL = 0x20,
  EXTENDED_LENGTH = 0x10,
}

/** Largest message without Extended Message, RFC 4271 §4.1. */
export const MAX_MESSAGE_LENGTH = 4096;

/** Largest message once Extended Message is negotiated, RFC 8654 §4. */
export const MAX_EXTENDED_MESSAGE_LENGTH = 65535;
