/**
 * The path attribute table: one row per type code, like BIRD's
 * bgp_attr_table[]. A row gives the attribute's name, the Optional/Transitive
 * flags it must carry (RFC 4271 §5 and the defining RFC), its RFC 7606 actions,
 * and its decode, encode and format functions. Adding an attribute = adding a row.
 *
 * Decoders read only the value; the list decoder (list.ts) has already split
 * the attribute, checked flags, and will wrap a thrown AttributeProblem into a
 * BgpWireError with the attribute bytes as data and the row's action.
 *
 * RFC 7606 actions, by row (the §7 subsection is in each row's comment):
 *   malformed value/length: treat-as-withdraw unless the row says otherwise;
 *   wrong Optional/Transitive bits: treat-as-withdraw (§3 (c)) unless the row says otherwise.
 */
import { formatIpv4, parseIpv4 } from '../address';
import { encodeError, UpdateSubcode, type ErrorAction } from '../errors';
import { familyName } from '../family';
import {
  AttributeFlag,
  AttributeType,
  Origin,
  type Aggregator,
  type AsPathSegment,
  type Family,
  type PathAttributes,
} from '../types';
import {
  as4PathOf,
  AS_TRANS,
  decodeSegments,
  encodeSegments,
  MAX_TWO_OCTET_AS,
  needsAs4Path,
} from './as-path';
import { decodeMpReach, decodeMpUnreach, encodeMpReach, encodeMpUnreach } from './mp';
import { problem } from './problem';

/** The negotiated facts an attribute codec needs. */
export interface AttributeContext {
  fourOctetAs: boolean;
  addPath: ReadonlySet<Family>;
  packedNlri?: boolean;
}

/** Decoder output: PathAttributes plus the RFC 6793 attributes that list.ts merges away. */
export interface DecodedAttributes {
  attributes: PathAttributes;
  as4Path?: AsPathSegment[];
  as4Aggregator?: Aggregator;
}

export interface AttributeDescriptor {
  type: AttributeType;
  name: string;
  /** The Optional and Transitive bits the attribute must carry. */
  flags: number;
  /** RFC 7606 action when the value is malformed. */
  action: ErrorAction;
  /** RFC 7606 action when the Optional/Transitive bits are wrong. */
  flagsAction: ErrorAction;
  /** When true for this session the attribute is dropped unread (RFC 6793 §4.1: AS4_* between NEW speakers). */
  ignoreWhen?: (ctx: AttributeContext) => boolean;
  /** Parses `value` into `out`; throws AttributeProblem if malformed. */
  decode(value: Buffer, ctx: AttributeContext, out: DecodedAttributes): void;
  /** The value to send, or undefined when the attribute is absent. Throws BGP_ENCODE_ERROR on bad input. */
  encode(attrs: PathAttributes, ctx: AttributeContext): Buffer | undefined;
  /** A short text for logs, or undefined when absent. */
  format(attrs: PathAttributes): string | undefined;
}

const WELL_KNOWN = AttributeFlag.TRANSITIVE;
const OPTIONAL_TRANSITIVE = AttributeFlag.OPTIONAL | AttributeFlag.TRANSITIVE;
const OPTIONAL_NON_TRANSITIVE = AttributeFlag.OPTIONAL;

function exactLength(value: Buffer, n: number, name: string): void {
  if (value.length !== n) throw problem(UpdateSubcode.ATTRIBUTE_LENGTH_ERROR, `${name}: length ${value.length}, expected ${n}`);
}

/** RFC 7606 §7.8, §7.10, §7.14, RFC 8092 §6: a non-zero multiple of `n`. */
function nonZeroMultiple(value: Buffer, n: number, name: string): void {
  if (value.length === 0 || value.length % n !== 0) {
    throw problem(UpdateSubcode.ATTRIBUTE_LENGTH_ERROR, `${name}: length ${value.length} is not a non-zero multiple of ${n}`);
  }
}

function u32(n: number, what: string): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw encodeError(`${what} out of range: ${n}`);
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function u32List(values: readonly number[], what: string): Buffer {
  return Buffer.concat(values.map((v) => u32(v, what)));
}

function readU32List(value: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i < value.length; i += 4) out.push(value.readUInt32BE(i));
  return out;
}

function ipv4(s: string, what: string): Buffer {
  const b = parseIpv4(s);
  if (b === undefined) throw encodeError(`${what} is not an IPv4 address: ${JSON.stringify(s)}`);
  return b;
}

function formatPath(segments: readonly AsPathSegment[]): string {
  return segments
    .map((s) => {
      const list = s.asns.join(' ');
      if (s.type === 'sequence') return list;
      if (s.type === 'set') return `{${list}}`;
      if (s.type === 'confed-sequence') return `(${list})`;
      return `[${list}]`;
    })
    .join(' ');
}

const ORIGIN_NAMES: Record<number, string> = { [Origin.IGP]: 'igp', [Origin.EGP]: 'egp', [Origin.INCOMPLETE]: 'incomplete' };

function decodeAggregator(value: Buffer, width: 2 | 4, name: string): Aggregator {
  exactLength(value, width + 4, name);
  return { asn: width === 4 ? value.readUInt32BE(0) : value.readUInt16BE(0), address: formatIpv4(value, width) };
}

function encodeAggregator(agg: Aggregator, width: 2 | 4, name: string): Buffer {
  const asn = u32(agg.asn, `${name} AS number`);
  const address = ipv4(agg.address, `${name} address`);
  if (width === 4) return Buffer.concat([asn, address]);
  const b = Buffer.alloc(2);
  b.writeUInt16BE(agg.asn > MAX_TWO_OCTET_AS ? AS_TRANS : agg.asn);
  return Buffer.concat([b, address]);
}

const ROWS: AttributeDescriptor[] = [
  {
    // RFC 4271 §5.1.1; RFC 7606 §7.1: bad length or undefined value -> treat-as-withdraw.
    type: AttributeType.ORIGIN,
    name: 'ORIGIN',
    flags: WELL_KNOWN,
    action: 'treat-as-withdraw',
    flagsAction: 'treat-as-withdraw',
    decode(value, _ctx, out) {
      exactLength(value, 1, 'ORIGIN');
      const v = value[0] as number;
      if (ORIGIN_NAMES[v] === undefined) throw problem(UpdateSubcode.INVALID_ORIGIN_ATTRIBUTE, `ORIGIN: undefined value ${v}`);
      out.attributes.origin = v as Origin;
    },
    encode(a) {
      if (a.origin === undefined) return undefined;
      if (ORIGIN_NAMES[a.origin] === undefined) throw encodeError(`ORIGIN value out of range: ${a.origin}`);
      return Buffer.from([a.origin]);
    },
    format: (a) => (a.origin === undefined ? undefined : `origin ${ORIGIN_NAMES[a.origin] ?? a.origin}`),
  },
  {
    // RFC 4271 §5.1.2, RFC 6793 §4 (2 or 4 octets per ASN); RFC 7606 §7.2: malformed -> treat-as-withdraw.
    type: AttributeType.AS_PATH,
    name: 'AS_PATH',
    flags: WELL_KNOWN,
    action: 'treat-as-withdraw',
    flagsAction: 'treat-as-withdraw',
    decode(value, ctx, out) {
      out.attributes.asPath = decodeSegments(value, ctx.fourOctetAs ? 4 : 2, 'AS_PATH');
    },
    encode: (a, ctx) => (a.asPath === undefined ? undefined : encodeSegments(a.asPath, ctx.fourOctetAs ? 4 : 2)),
    format: (a) => (a.asPath === undefined ? undefined : `as-path ${formatPath(a.asPath)}`.trimEnd()),
  },
  {
    // RFC 4271 §5.1.3; RFC 7606 §7.3: length other than 4 -> treat-as-withdraw. Whether the address is
    // usable (not ours, not martian) is the session's check. list.ts demotes errors here to attribute-discard
    // when the UPDATE has no classic NLRI, since RFC 4760 §3 then says NEXT_HOP is to be ignored.
    type: AttributeType.NEXT_HOP,
    name: 'NEXT_HOP',
    flags: WELL_KNOWN,
    action: 'treat-as-withdraw',
    flagsAction: 'treat-as-withdraw',
    decode(value, _ctx, out) {
      exactLength(value, 4, 'NEXT_HOP');
      out.attributes.nextHop = formatIpv4(value);
    },
    encode: (a) => (a.nextHop === undefined ? undefined : ipv4(a.nextHop, 'NEXT_HOP')),
    format: (a) => (a.nextHop === undefined ? undefined : `next-hop ${a.nextHop}`),
  },
  {
    // RFC 4271 §5.1.4; RFC 7606 §7.4: length other than 4 -> treat-as-withdraw.
    type: AttributeType.MULTI_EXIT_DISC,
    name: 'MULTI_EXIT_DISC',
    flags: OPTIONAL_NON_TRANSITIVE,
    action: 'treat-as-withdraw',
    flagsAction: 'treat-as-withdraw',
    decode(value, _ctx, out) {
      exactLength(value, 4, 'MULTI_EXIT_DISC');
      out.attributes.med = value.readUInt32BE(0);
    },
    encode: (a) => (a.med === undefined ? undefined : u32(a.med, 'MULTI_EXIT_DISC')),
    format: (a) => (a.med === undefined ? undefined : `med ${a.med}`),
  },
  {
    // RFC 4271 §5.1.5; RFC 7606 §7.5: length other than 4 -> treat-as-withdraw. LOCAL_PREF from an
    // external peer is attribute-discard (§7.5), but the codec does not know the peer type: the session's job.
    type: AttributeType.LOCAL_PREF,
    name: 'LOCAL_PREF',
    flags: WELL_KNOWN,
    action: 'treat-as-withdraw',
    flagsAction: 'treat-as-withdraw',
    decode(value, _ctx, out) {
      exactLength(value, 4, 'LOCAL_PREF');
      out.attributes.localPref = value.readUInt32BE(0);
    },
    encode: (a) => (a.localPref === undefined ? undefined : u32(a.localPref, 'LOCAL_PREF')),
    format: (a) => (a.localPref === undefined ? undefined : `local-pref ${a.localPref}`),
  },
  {
    // RFC 4271 §5.1.6; RFC 7606 §7.6: length other than 0 -> attribute-discard.
    type: AttributeType.ATOMIC_AGGREGATE,
    name: 'ATOMIC_AGGREGATE',
    flags: WELL_KNOWN,
    action: 'attribute-discard',
    flagsAction: 'treat-as-withdraw',
    decode(value, _ctx, out) {
      exactLength(value, 0, 'ATOMIC_AGGREGATE');
      out.attributes.atomicAggregate = true;
    },
    encode: (a) => (a.atomicAggregate === true ? Buffer.alloc(0) : undefined),
    format: (a) => (a.atomicAggregate === true ? 'atomic-aggregate' : undefined),
  },
  {
    // RFC 4271 §5.1.7, RFC 6793 §4 (6 or 8 bytes); RFC 7606 §7.7: bad length -> attribute-discard.
    type: AttributeType.AGGREGATOR,
    name: 'AGGREGATOR',
    flags: OPTIONAL_TRANSITIVE,
    action: 'attribute-discard',
    flagsAction: 'treat-as-withdraw',
    decode(value, ctx, out) {
      out.attributes.aggregator = decodeAggregator(value, ctx.fourOctetAs ? 4 : 2, 'AGGREGATOR');
    },
    encode: (a, ctx) => (a.aggregator === undefined ? undefined : encodeAggregator(a.aggregator, ctx.fourOctetAs ? 4 : 2, 'AGGREGATOR')),
    format: (a) => (a.aggregator === undefined ? undefined : `aggregator ${a.aggregator.asn} ${a.aggregator.address}`),
  },
  {
    // RFC 1997; RFC 7606 §7.8: length not a non-zero multiple of 4 -> treat-as-withdraw.
    type: AttributeType.COMMUNITIES,
    name: 'COMMUNITIES',
    flags: OPTIONAL_TRANSITIVE,
    action: 'treat-as-withdraw',
    flagsAction: 'treat-as-withdraw',
    decode(value, _ctx, out) {
      nonZeroMultiple(value, 4, 'COMMUNITIES');
      out.attributes.communities = readU32List(value);
    },
    // An empty list is malformed on the wire (RFC 7606 §7.8), so it is simply not sent.
    encode: (a) => (a.communities === undefined || a.communities.length === 0 ? undefined : u32List(a.communities, 'community')),
    format: (a) =>
      a.communities === undefined ? undefined : `communities ${a.communities.map((c) => `${c >>> 16}:${c & 0xffff}`).join(' ')}`,
  },
  {
    // RFC 4456 §8; RFC 7606 §7.9: length other than 4 -> treat-as-withdraw.
    type: AttributeType.ORIGINATOR_ID,
    name: 'ORIGINATOR_ID',
    flags: OPTIONAL_NON_TRANSITIVE,
    action: 'treat-as-withdraw',
    flagsAction: 'treat-as-withdraw',
    decode(value, _ctx, out) {
      exactLength(value, 4, 'ORIGINATOR_ID');
      out.attributes.originatorId = formatIpv4(value);
    },
    encode: (a) => (a.originatorId === undefined ? undefined : ipv4(a.originatorId, 'ORIGINATOR_ID')),
    format: (a) => (a.originatorId === undefined ? undefined : `originator-id ${a.originatorId}`),
  },
  {
    // RFC 4456 §8; RFC 7606 §7.10: length not a non-zero multiple of 4 -> treat-as-withdraw.
    type: AttributeType.CLUSTER_LIST,
    name: 'CLUSTER_LIST',
    flags: OPTIONAL_NON_TRANSITIVE,
    action: 'treat-as-withdraw',
    flagsAction: 'treat-as-withdraw',
    decode(value, _ctx, out) {
      nonZeroMultiple(value, 4, 'CLUSTER_LIST');
      const ids: string[] = [];
      for (let i = 0; i < value.length; i += 4) ids.push(formatIpv4(value, i));
      out.attributes.clusterList = ids;
    },
    encode: (a) =>
      a.clusterList === undefined || a.clusterList.length === 0
        ? undefined
        : Buffer.concat(a.clusterList.map((id) => ipv4(id, 'CLUSTER_LIST id'))),
    format: (a) => (a.clusterList === undefined ? undefined : `cluster-list ${a.clusterList.join(' ')}`),
  },
  {
    // RFC 4760 §3; RFC 7606 §7.11 and §3 (j): malformed hides NLRI -> session reset (Tartan does not
    // implement AFI/SAFI disable). Flags errors too: the attribute cannot be trusted to locate NLRI.
    type: AttributeType.MP_REACH_NLRI,
    name: 'MP_REACH_NLRI',
    flags: OPTIONAL_NON_TRANSITIVE,
    action: 'session-reset',
    flagsAction: 'session-reset',
    decode(value, ctx, out) {
      out.attributes.mpReach = decodeMpReach(value, ctx.addPath, ctx.packedNlri === true);
    },
    encode: (a, ctx) => (a.mpReach === undefined ? undefined : encodeMpReach(a.mpReach, ctx.addPath)),
    format: (a) =>
      a.mpReach === undefined
        ? undefined
        : `mp-reach ${familyName(a.mpReach.afi, a.mpReach.safi)} next-hop ${a.mpReach.nextHops.join(',')} nlri ${a.mpReach.nlri.length}`,
  },
  {
    // RFC 4760 §4; RFC 7606 §7.12 and §3 (j): as MP_REACH_NLRI.
    type: AttributeType.MP_UNREACH_NLRI,
    name: 'MP_UNREACH_NLRI',
    flags: OPTIONAL_NON_TRANSITIVE,
    action: 'session-reset',
    flagsAction: 'session-reset',
    decode(value, ctx, out) {
      out.attributes.mpUnreach = decodeMpUnreach(value, ctx.addPath, ctx.packedNlri === true);
    },
    encode: (a, ctx) => (a.mpUnreach === undefined ? undefined : encodeMpUnreach(a.mpUnreach, ctx.addPath)),
    format: (a) =>
      a.mpUnreach === undefined
        ? undefined
        : `mp-unreach ${familyName(a.mpUnreach.afi, a.mpUnreach.safi)} withdrawn ${a.mpUnreach.withdrawn.length}`,
  },
  {
    // RFC 4360 §2; RFC 7606 §7.14: length not a non-zero multiple of 8 -> treat-as-withdraw.
    type: AttributeType.EXTENDED_COMMUNITIES,
    name: 'EXTENDED_COMMUNITIES',
    flags: OPTIONAL_TRANSITIVE,
    action: 'treat-as-withdraw',
    flagsAction: 'treat-as-withdraw',
    decode(value, _ctx, out) {
      nonZeroMultiple(value, 8, 'EXTENDED_COMMUNITIES');
      const list: Buffer[] = [];
      for (let i = 0; i < value.length; i += 8) list.push(Buffer.from(value.subarray(i, i + 8)));
      out.attributes.extendedCommunities = list;
    },
    encode(a) {
      if (a.extendedCommunities === undefined || a.extendedCommunities.length === 0) return undefined;
      for (const c of a.extendedCommunities) {
        if (c.length !== 8) throw encodeError(`extended community must be 8 bytes, got ${c.length}`);
      }
      return Buffer.concat(a.extendedCommunities);
    },
    format: (a) =>
      a.extendedCommunities === undefined ? undefined : `ext-communities ${a.extendedCommunities.map((c) => c.toString('hex')).join(' ')}`,
  },
  {
    // RFC 6793 §3; §6: a malformed AS4_PATH is discarded, never a reason to withdraw.
    // Between NEW speakers it must not appear and is dropped unread (RFC 6793 §4.1).
    type: AttributeType.AS4_PATH,
    name: 'AS4_PATH',
    flags: OPTIONAL_TRANSITIVE,
    action: 'attribute-discard',
    flagsAction: 'attribute-discard',
    ignoreWhen: (ctx) => ctx.fourOctetAs,
    decode(value, _ctx, out) {
      const segments = decodeSegments(value, 4, 'AS4_PATH');
      if (segments.some((s) => s.type === 'confed-sequence' || s.type === 'confed-set')) {
        throw problem(UpdateSubcode.MALFORMED_AS_PATH, 'AS4_PATH: confederation segments are not allowed (RFC 6793 §6)');
      }
      out.as4Path = segments;
    },
    // RFC 6793 §4.2.2: only towards an OLD speaker, and only when some AS number does not fit 2 octets.
    encode: (a, ctx) =>
      ctx.fourOctetAs || a.asPath === undefined || !needsAs4Path(a.asPath) ? undefined : encodeSegments(as4PathOf(a.asPath), 4),
    format: () => undefined,
  },
  {
    // RFC 6793 §3; §6: bad length -> attribute-discard.
    type: AttributeType.AS4_AGGREGATOR,
    name: 'AS4_AGGREGATOR',
    flags: OPTIONAL_TRANSITIVE,
    action: 'attribute-discard',
    flagsAction: 'attribute-discard',
    ignoreWhen: (ctx) => ctx.fourOctetAs,
    decode(value, _ctx, out) {
      out.as4Aggregator = decodeAggregator(value, 4, 'AS4_AGGREGATOR');
    },
    encode: (a, ctx) =>
      ctx.fourOctetAs || a.aggregator === undefined || a.aggregator.asn <= MAX_TWO_OCTET_AS
        ? undefined
        : encodeAggregator(a.aggregator, 4, 'AS4_AGGREGATOR'),
    format: () => undefined,
  },
  {
    // RFC 8092 §3; §6: length not a non-zero multiple of 12 -> treat-as-withdraw.
    type: AttributeType.LARGE_COMMUNITY,
    name: 'LARGE_COMMUNITY',
    flags: OPTIONAL_TRANSITIVE,
    action: 'treat-as-withdraw',
    flagsAction: 'treat-as-withdraw',
    decode(value, _ctx, out) {
      nonZeroMultiple(value, 12, 'LARGE_COMMUNITY');
      const list: [number, number, number][] = [];
      for (let i = 0; i < value.length; i += 12) {
        list.push([value.readUInt32BE(i), value.readUInt32BE(i + 4), value.readUInt32BE(i + 8)]);
      }
      out.attributes.largeCommunities = list;
    },
    encode: (a) =>
      a.largeCommunities === undefined || a.largeCommunities.length === 0
        ? undefined
        : Buffer.concat(a.largeCommunities.map((c) => u32List(c, 'large community field'))),
    format: (a) =>
      a.largeCommunities === undefined ? undefined : `large-communities ${a.largeCommunities.map((c) => `(${c.join(':')})`).join(' ')}`,
  },
];

/** The table, by type code. */
export const ATTRIBUTE_TABLE: ReadonlyMap<number, AttributeDescriptor> = new Map(ROWS.map((r) => [r.type, r]));

/**
 * Encode order: MP_REACH_NLRI and MP_UNREACH_NLRI first (RFC 7606 §5.1, so a
 * receiver can find the NLRI even if a later attribute is malformed), then
 * ascending type code (RFC 4271 §5).
 */
export const ENCODE_ORDER: readonly AttributeDescriptor[] = [...ROWS].sort((a, b) => sortKey(a.type) - sortKey(b.type));

export function sortKey(type: number): number {
  return type === AttributeType.MP_REACH_NLRI || type === AttributeType.MP_UNREACH_NLRI ? type - 256 : type;
}

export function attributeName(type: number): string {
  return ATTRIBUTE_TABLE.get(type)?.name ?? `attribute ${type}`;
}
