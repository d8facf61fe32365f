/**
 * Building UPDATEs from routes: as many NLRI per message as fit (4096 bytes,
 * or 65535 with Extended Message), the path attributes encoded once and
 * copied into every message, and End-of-RIB markers (RFC 4724 §2).
 *
 * IPv4 unicast with an IPv4 next hop uses the classic NLRI field and
 * NEXT_HOP; IPv6 unicast, and IPv4 unicast with an IPv6 next hop (RFC 8950),
 * use MP_REACH_NLRI, placed first (RFC 7606 §5.1). Withdrawals use Withdrawn
 * Routes for IPv4 and MP_UNREACH_NLRI for IPv6.
 */
import { parseIpv4 } from './address';
import { encodeAttribute, encodeAttributeList } from './attributes/list';
import { encodeMpReachHead, encodeMpUnreachHead } from './attributes/mp';
import { encodeError } from './errors';
import { familyOf } from './family';
import { frame, HEADER_LENGTH, maxLengthFor } from './header';
import { encodeNlriEntry } from './nlri';
import {
  AttributeFlag,
  AttributeType,
  MessageType,
  type CodecOptions,
  type Family,
  type Nlri,
  type PathAttributes,
  type UpdateMessage,
} from './types';

/** Withdrawn Routes Length + Total Path Attribute Length. */
const UPDATE_FIXED = 4;
const MP_FLAGS = AttributeFlag.OPTIONAL;

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** Attribute header size for a value of `n` bytes (Extended Length above 255). */
function attrHeaderSize(n: number): number {
  return n > 255 ? 4 : 3;
}

/**
 * Greedy packing: splits encoded entries into groups whose total, plus
 * `overhead(total)`, stays within `room`.
 */
function pack(entries: Buffer[], room: (payload: number) => boolean, what: string): Buffer[][] {
  const groups: Buffer[][] = [];
  let current: Buffer[] = [];
  let size = 0;
  for (const e of entries) {
    if (current.length > 0 && !room(size + e.length)) {
      groups.push(current);
      current = [];
      size = 0;
    }
    if (!room(size + e.length)) throw encodeError(`${what}: attributes leave no room for a single NLRI`);
    current.push(e);
    size += e.length;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

function nextHopList(nextHop: string | readonly string[] | undefined, attributes: PathAttributes): string[] {
  if (nextHop === undefined) return attributes.nextHop === undefined ? [] : [attributes.nextHop];
  return typeof nextHop === 'string' ? [nextHop] : [...nextHop];
}

/**
 * UPDATEs announcing `nlri` of `family` with `attributes`.
 *
 * @param attributes must not contain mpReach / mpUnreach (this function builds them)
 * @param nextHop the next hop; defaults to attributes.nextHop. For MP families an
 *   array gives the IPv6 global address and a link-local one (RFC 2545 §3).
 * @returns complete messages; none for an empty `nlri`
 */
export function encodeAnnouncements(
  family: Family,
  attributes: PathAttributes,
  nlri: Nlri[],
  opts: CodecOptions,
  nextHop?: string | readonly string[],
): Buffer[] {
  if (attributes.mpReach !== undefined || attributes.mpUnreach !== undefined) {
    throw encodeError('encodeAnnouncements builds MP_REACH/MP_UNREACH itself; attributes must not contain them');
  }
  if (nlri.length === 0) return [];
  const hops = nextHopList(nextHop, attributes);
  if (hops.length === 0) throw encodeError(`no next hop for ${family} announcement`);
  const max = maxLengthFor(opts);
  const addPath = opts.addPath.has(family);
  const entries = nlri.map((n) => encodeNlriEntry(n, family, addPath));

  if (family === 'ipv4-unicast' && hops.length === 1 && parseIpv4(hops[0] as string) !== undefined) {
    const attrs = encodeAttributeList({ ...attributes, nextHop: hops[0] }, opts);
    const fixed = HEADER_LENGTH + UPDATE_FIXED + attrs.length;
    const head = Buffer.concat([u16(0), u16(attrs.length), attrs]);
    return pack(entries, (n) => fixed + n <= max, family).map((g) => frame(MessageType.UPDATE, Buffer.concat([head, ...g])));
  }

  // MP_REACH_NLRI: RFC 4760 §3 for IPv6, RFC 8950 §3 for IPv4 with an IPv6 next hop.
  const { nextHop: _dropped, ...rest } = attributes;
  const attrs = encodeAttributeList(rest, opts);
  const mpHead = encodeMpReachHead(family, hops);
  const fixed = HEADER_LENGTH + UPDATE_FIXED + attrs.length;
  const room = (n: number): boolean => fixed + attrHeaderSize(mpHead.length + n) + mpHead.length + n <= max;
  return pack(entries, room, family).map((g) => {
    const mp = encodeAttribute(MP_FLAGS, AttributeType.MP_REACH_NLRI, Buffer.concat([mpHead, ...g]));
    return frame(MessageType.UPDATE, Buffer.concat([u16(0), u16(mp.length + attrs.length), mp, attrs]));
  });
}

/** UPDATEs withdrawing `nlri` of `family`; none for an empty list. */
export function encodeWithdrawals(family: Family, nlri: Nlri[], opts: CodecOptions): Buffer[] {
  if (nlri.length === 0) return [];
  const max = maxLengthFor(opts);
  const entries = nlri.map((n) => encodeNlriEntry(n, family, opts.addPath.has(family)));
  if (family === 'ipv4-unicast') {
    // RFC 4271 §4.3: Withdrawn Routes, no attributes.
    return pack(entries, (n) => HEADER_LENGTH + UPDATE_FIXED + n <= max, family).map((g) => {
      const w = Buffer.concat(g);
      return frame(MessageType.UPDATE, Buffer.concat([u16(w.length), w, u16(0)]));
    });
  }
  // RFC 4760 §4: MP_UNREACH_NLRI needs no other attribute.
  const head = encodeMpUnreachHead(family);
  const room = (n: number): boolean => HEADER_LENGTH + UPDATE_FIXED + attrHeaderSize(head.length + n) + head.length + n <= max;
  return pack(entries, room, family).map((g) => {
    const mp = encodeAttribute(MP_FLAGS, AttributeType.MP_UNREACH_NLRI, Buffer.concat([head, ...g]));
    return frame(MessageType.UPDATE, Buffer.concat([u16(0), u16(mp.length), mp]));
  });
}

/**
 * End-of-RIB, RFC 4724 §2: an UPDATE with nothing in it for IPv4 unicast;
 * for other families an UPDATE whose only content is an empty MP_UNREACH_NLRI.
 */
export function encodeEndOfRib(family: Family, _opts: CodecOptions): Buffer {
  if (family === 'ipv4-unicast') return frame(MessageType.UPDATE, Buffer.alloc(UPDATE_FIXED));
  const mp = encodeAttribute(MP_FLAGS, AttributeType.MP_UNREACH_NLRI, encodeMpUnreachHead(family));
  return frame(MessageType.UPDATE, Buffer.concat([u16(0), u16(mp.length), mp]));
}

/** The family whose End-of-RIB this UPDATE is (RFC 4724 §2), or null if it is not one. */
export function endOfRibFamily(update: UpdateMessage): Family | null {
  if (update.withdrawn.length > 0 || update.nlri.length > 0 || (update.errors?.length ?? 0) > 0) return null;
  if (update.packed && (update.packed.withdrawn.length > 0 || update.packed.nlri.length > 0)) return null;
  const keys = Object.entries(update.attributes).filter(([, v]) => v !== undefined).map(([k]) => k);
  if (keys.length === 0) return 'ipv4-unicast';
  const un = update.attributes.mpUnreach;
  if (keys.length === 1 && un !== undefined && un.withdrawn.length === 0 && !(un.packed?.length)) return familyOf(un.afi, un.safi) ?? null;
  return null;
}


