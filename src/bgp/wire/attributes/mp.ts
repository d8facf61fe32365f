/**
 * MP_REACH_NLRI and MP_UNREACH_NLRI, RFC 4760 §3-§4, for the families Tartan
 * routes: IPv6 unicast with a global and optional link-local next hop (RFC
 * 2545 §3), and IPv4 unicast with an IPv4 next hop or, per RFC 8950 §3, an
 * IPv6 one (16 or 32 bytes).
 *
 * A malformed MP attribute hides the NLRI it carries, so treat-as-withdraw
 * is impossible: RFC 7606 §7.11, §7.12 and §3 (j) leave session reset or AFI/SAFI
 * disable, and Tartan resets (the table row's action), with RFC 4760 §7's
 * subcode 9 Optional Attribute Error. An AFI/SAFI Tartan does not route is
 * not malformed, just not ours: the attribute is discarded (RFC 4760 §7's
 * "ignore that AFI/SAFI" without the session reset).
 */
import { formatIp, isIpv6LinkLocal, parseIpv4, parseIpv6 } from '../address';
import { encodeError, UpdateSubcode } from '../errors';
import { afiSafiOf, familyName, familyOf } from '../family';
import { countNlri, decodeNlri, encodeNlri } from '../nlri';
import { WireReader } from '../reader';
import type { Family, MpReach, MpUnreach } from '../types';
import { problem } from './problem';

/** Next hop lengths RFC 4760 allows per family: RFC 2545 §3 for IPv6, RFC 8950 §3 adds 16/32 for IPv4. */
const NEXT_HOP_LENGTHS: Record<Family, readonly number[]> = {
  'ipv4-unicast': [4, 16, 32],
  'ipv6-unicast': [16, 32],
};

function malformed(reason: string): Error {
  return problem(UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, reason);
}

function familyOrDiscard(afi: number, safi: number, attr: string): Family {
  const family = familyOf(afi, safi);
  if (family === undefined) {
    throw problem(UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, `${attr} for ${familyName(afi, safi)}, which Tartan does not route`, 'attribute-discard');
  }
  return family;
}

export function decodeMpReach(value: Buffer, addPath: ReadonlySet<Family>, packed = false): MpReach {
  const r = new WireReader(value, (what) => malformed(`MP_REACH_NLRI: truncated ${what}`));
  const afi = r.u16('AFI');
  const safi = r.u8('SAFI');
  const family = familyOrDiscard(afi, safi, 'MP_REACH_NLRI');
  const nhLength = r.u8('next hop length');
  const nh = r.bytes(nhLength, 'next hop');
  r.u8('reserved octet'); // RFC 4760 §3: must be zero, ignored on receipt
  if (!NEXT_HOP_LENGTHS[family].includes(nhLength)) {
    throw malformed(`MP_REACH_NLRI: next hop length ${nhLength} is invalid for ${family}`);
  }
  const nextHops =
    nhLength === 32 ? [formatIp(nh.subarray(0, 16)), formatIp(nh.subarray(16))] : [formatIp(nh)];
  const rest = r.rest();
  const bad = (reason: string): Error => malformed(`MP_REACH_NLRI: ${reason}`);
  if (packed) {
    countNlri(rest, family, addPath.has(family), bad);
    return { afi, safi, nextHops, nlri: [], packed: rest };
  }
  return { afi, safi, nextHops, nlri: decodeNlri(rest, family, addPath.has(family), bad) };
}

export function decodeMpUnreach(value: Buffer, addPath: ReadonlySet<Family>, packed = false): MpUnreach {
  const r = new WireReader(value, (what) => malformed(`MP_UNREACH_NLRI: truncated ${what}`));
  const afi = r.u16('AFI');
  const safi = r.u8('SAFI');
  const family = familyOrDiscard(afi, safi, 'MP_UNREACH_NLRI');
  const rest = r.rest();
  const bad = (reason: string): Error => malformed(`MP_UNREACH_NLRI: ${reason}`);
  if (packed) {
    countNlri(rest, family, addPath.has(family), bad);
    return { afi, safi, withdrawn: [], packed: rest };
  }
  return { afi, safi, withdrawn: decodeNlri(rest, family, addPath.has(family), bad) };
}

function familyForEncode(afi: number, safi: number, attr: string): Family {
  const family = familyOf(afi, safi);
  if (family === undefined) throw encodeError(`${attr}: cannot encode NLRI of ${familyName(afi, safi)}`);
  return family;
}

/**
 * Next hop bytes for a family: one IPv4 address (ipv4-unicast only), or an
 * IPv6 global address optionally followed by a link-local one (RFC 2545 §3,
 * RFC 8950 §3).
 */
export function encodeMpNextHop(family: Family, nextHops: readonly string[]): Buffer {
  if (nextHops.length === 1 && family === 'ipv4-unicast') {
    const v4 = parseIpv4(nextHops[0] as string);
    if (v4 !== undefined) return v4;
  }
  if (nextHops.length < 1 || nextHops.length > 2) {
    throw encodeError(`MP_REACH_NLRI: ${family} takes one or two next hops, got ${nextHops.length}`);
  }
  const parsed = nextHops.map((h) => {
    const b = parseIpv6(h);
    if (b === undefined) throw encodeError(`MP_REACH_NLRI: ${JSON.stringify(h)} is not a valid ${family} next hop`);
    return b;
  });
  if (parsed.length === 2 && !isIpv6LinkLocal(parsed[1] as Buffer)) {
    throw encodeError(`MP_REACH_NLRI: second next hop ${nextHops[1]} is not link-local (RFC 2545 §3)`);
  }
  return Buffer.concat(parsed);
}

/** The MP_REACH_NLRI value up to and including the reserved octet, i.e. everything before the NLRI. */
export function encodeMpReachHead(family: Family, nextHops: readonly string[]): Buffer {
  const nh = encodeMpNextHop(family, nextHops);
  const { afi, safi } = afiSafiOf(family);
  const head = Buffer.alloc(5 + nh.length);
  head.writeUInt16BE(afi, 0);
  head[2] = safi;
  head[3] = nh.length;
  nh.copy(head, 4);
  head[4 + nh.length] = 0; // RFC 4760 §3 reserved
  return head;
}

export function encodeMpUnreachHead(family: Family): Buffer {
  const { afi, safi } = afiSafiOf(family);
  const head = Buffer.alloc(3);
  head.writeUInt16BE(afi, 0);
  head[2] = safi;
  return head;
}

export function encodeMpReach(mp: MpReach, addPath: ReadonlySet<Family>): Buffer {
  const family = familyForEncode(mp.afi, mp.safi, 'MP_REACH_NLRI');
  return Buffer.concat([encodeMpReachHead(family, mp.nextHops), encodeNlri(mp.nlri, family, addPath.has(family))]);
}

export function encodeMpUnreach(mp: MpUnreach, addPath: ReadonlySet<Family>): Buffer {
  const family = familyForEncode(mp.afi, mp.safi, 'MP_UNREACH_NLRI');
  return Buffer.concat([encodeMpUnreachHead(family), encodeNlri(mp.withdrawn, family, addPath.has(family))]);
}

