/**
 * The bulk path: UPDATEs built from NLRI that are already in wire form (one
 * Buffer of concatenated RFC 4271 §4.3 entries, path ids first under
 * ADD-PATH), and UPDATEs whose NLRI are handed back in wire form instead of
 * as strings. A RIB that keeps prefixes as bytes moves a million routes
 * through here without creating a million strings.
 */
import { parseIpv4 } from './address';
import { encodeAttribute, encodeAttributeList } from './attributes/list';
import { encodeMpReachHead, encodeMpUnreachHead } from './attributes/mp';
import { encodeError } from './errors';
import { frame, HEADER_LENGTH, maxLengthFor } from './header';
import { AttributeFlag, AttributeType, MessageType, type CodecOptions, type Family, type PathAttributes } from './types';

const UPDATE_FIXED = 4;

/** Size of the NLRI entry at `off` (its length octet, plus 4 for a path id). */
function entrySize(nlri: Buffer, off: number, addPath: boolean): number {
  const lenAt = addPath ? off + 4 : off;
  return (addPath ? 5 : 1) + ((nlri[lenAt]! + 7) >>> 3);
}

/** Cut `nlri` at entry boundaries into runs of at most `room` bytes. */
function cut(nlri: Buffer, addPath: boolean, room: number): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  let off = 0;
  while (off < nlri.length) {
    const size = entrySize(nlri, off, addPath);
    if (off + size - start > room) {
      if (off === start) throw encodeError('attributes leave no room for a single NLRI');
      out.push(nlri.subarray(start, off));
      start = off;
    }
    off += size;
  }
  if (off > start) out.push(nlri.subarray(start, off));
  return out;
}

function u16(n: number): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(n);
  return b;
}

/**
 * UPDATEs announcing the wire-form `nlri` of `family`: the attributes are
 * encoded once, then copied into as many messages as the NLRI need.
 * `attributes` must not contain MP_REACH/MP_UNREACH or NEXT_HOP.
 */
export function encodePackedAnnouncements(family: Family, attributes: PathAttributes, nextHop: string | readonly string[], nlri: Buffer, opts: CodecOptions): Buffer[] {
  if (nlri.length === 0) return [];
  const hops = typeof nextHop === 'string' ? [nextHop] : [...nextHop];
  const max = maxLengthFor(opts);
  const addPath = opts.addPath.has(family);
  if (family === 'ipv4-unicast' && hops.length === 1 && parseIpv4(hops[0]!) !== undefined) {
    const attrs = encodeAttributeList({ ...attributes, nextHop: hops[0] }, opts);
    const head = Buffer.concat([u16(0), u16(attrs.length), attrs]);
    return cut(nlri, addPath, max - HEADER_LENGTH - head.length).map((run) => frame(MessageType.UPDATE, Buffer.concat([head, run])));
  }
  // MP_REACH_NLRI (RFC 4760 §3); its value can pass 255 bytes, so room for the 4-byte header.
  const attrs = encodeAttributeList(attributes, opts);
  const mpHead = encodeMpReachHead(family, hops);
  const room = max - HEADER_LENGTH - UPDATE_FIXED - attrs.length - 4 - mpHead.length;
  return cut(nlri, addPath, room).map((run) => {
    const mp = encodeAttribute(AttributeFlag.OPTIONAL, AttributeType.MP_REACH_NLRI, Buffer.concat([mpHead, run]));
    return frame(MessageType.UPDATE, Buffer.concat([u16(0), u16(mp.length + attrs.length), mp, attrs]));
  });
}

/** UPDATEs withdrawing the wire-form `nlri` of `family`. */
export function encodePackedWithdrawals(family: Family, nlri: Buffer, opts: CodecOptions): Buffer[] {
  if (nlri.length === 0) return [];
  const max = maxLengthFor(opts);
  const addPath = opts.addPath.has(family);
  if (family === 'ipv4-unicast') {
    return cut(nlri, addPath, max - HEADER_LENGTH - UPDATE_FIXED).map((run) => frame(MessageType.UPDATE, Buffer.concat([u16(run.length), run, u16(0)])));
  }
  const head = encodeMpUnreachHead(family);
  const room = max - HEADER_LENGTH - UPDATE_FIXED - 4 - head.length;
  return cut(nlri, addPath, room).map((run) => {
    const mp = encodeAttribute(AttributeFlag.OPTIONAL, AttributeType.MP_UNREACH_NLRI, Buffer.concat([head, run]));
    return frame(MessageType.UPDATE, Buffer.concat([u16(0), u16(mp.length), mp]));
  });
}
