/**
 * AS_PATH and AS4_PATH segments (RFC 4271 §4.3, RFC 5065 §3, RFC 6793), and
 * the RFC 6793 §4.2 bridge between 2-octet and 4-octet sessions.
 */
import { encodeError, UpdateSubcode } from '../errors';
import { WireReader } from '../reader';
import type { Aggregator, AsPathSegment, AsPathSegmentType } from '../types';
import { problem } from './problem';

/** RFC 6793 §9: the 2-octet stand-in for an AS number that does not fit. */
export const AS_TRANS = 23456;
export const MAX_TWO_OCTET_AS = 0xffff;

const SEGMENT_TYPE_CODES: Record<AsPathSegmentType, number> = {
  set: 1,
  sequence: 2,
  'confed-sequence': 3,
  'confed-set': 4,
};
const SEGMENT_TYPES: Record<number, AsPathSegmentType> = { 1: 'set', 2: 'sequence', 3: 'confed-sequence', 4: 'confed-set' };
/** A segment's length field is one octet. */
const MAX_SEGMENT_ASNS = 255;

export function isConfed(seg: AsPathSegment): boolean {
  return seg.type === 'confed-sequence' || seg.type === 'confed-set';
}

/**
 * Decodes AS_PATH / AS4_PATH segments with `width`-byte AS numbers.
 * RFC 7606 §7.2: malformed if a segment type is unrecognised, a segment's
 * length is zero, a segment overruns the attribute, or a lone octet is left
 * after the last segment (no room for a segment header). All are subcode 11.
 */
export function decodeSegments(value: Buffer, width: 2 | 4, what: string): AsPathSegment[] {
  const r = new WireReader(value, (field) => problem(UpdateSubcode.MALFORMED_AS_PATH, `${what}: ${field} overruns the attribute`));
  const out: AsPathSegment[] = [];
  while (r.remaining > 0) {
    const code = r.u8('segment type');
    const count = r.u8('segment length');
    const type = SEGMENT_TYPES[code];
    if (type === undefined) throw problem(UpdateSubcode.MALFORMED_AS_PATH, `${what}: unknown segment type ${code}`);
    if (count === 0) throw problem(UpdateSubcode.MALFORMED_AS_PATH, `${what}: zero-length ${type} segment`);
    const bytes = r.bytes(count * width, `a ${count}-AS ${type} segment`);
    const asns: number[] = [];
    for (let i = 0; i < count; i++) asns.push(width === 4 ? bytes.readUInt32BE(i * 4) : bytes.readUInt16BE(i * 2));
    out.push({ type, asns });
  }
  return out;
}

function checkAsn(asn: number): number {
  if (!Number.isInteger(asn) || asn < 0 || asn > 0xffffffff) throw encodeError(`AS number out of range: ${asn}`);
  return asn;
}

/**
 * Encodes segments with `width`-byte AS numbers. With width 2, numbers that do
 * not fit become AS_TRANS (RFC 6793 §4.2.2). Segments over 255 ASNs are split;
 * AS_SETs cannot be split without changing their meaning, so a longer set is an error.
 */
export function encodeSegments(segments: readonly AsPathSegment[], width: 2 | 4): Buffer {
  const parts: Buffer[] = [];
  for (const seg of segments) {
    const code = SEGMENT_TYPE_CODES[seg.type];
    if (code === undefined) throw encodeError(`unknown AS_PATH segment type ${JSON.stringify(seg.type)}`);
    if (seg.asns.length === 0) throw encodeError(`empty ${seg.type} segment (RFC 7606 §7.2 makes it malformed)`);
    if (seg.asns.length > MAX_SEGMENT_ASNS && (seg.type === 'set' || seg.type === 'confed-set')) {
      throw encodeError(`${seg.type} of ${seg.asns.length} ASNs exceeds 255`);
    }
    for (let start = 0; start < seg.asns.length; start += MAX_SEGMENT_ASNS) {
      const chunk = seg.asns.slice(start, start + MAX_SEGMENT_ASNS);
      const b = Buffer.alloc(2 + chunk.length * width);
      b[0] = code;
      b[1] = chunk.length;
      chunk.forEach((asn, i) => {
        checkAsn(asn);
        if (width === 4) b.writeUInt32BE(asn, 2 + 4 * i);
        else b.writeUInt16BE(asn > MAX_TWO_OCTET_AS ? AS_TRANS : asn, 2 + 2 * i);
      });
      parts.push(b);
    }
  }
  return Buffer.concat(parts);
}

/** True if a 2-octet session needs AS4_PATH: a non-confederation AS number does not fit (RFC 6793 §4.2.2). */
export function needsAs4Path(segments: readonly AsPathSegment[]): boolean {
  return segments.some((s) => !isConfed(s) && s.asns.some((a) => a > MAX_TWO_OCTET_AS));
}

/**
 * The AS4_PATH to send with a path: the path without confederation segments,
 * which RFC 6793 §6 forbids in AS4_PATH.
 */
export function as4PathOf(segments: readonly AsPathSegment[]): AsPathSegment[] {
  return segments.filter((s) => !isConfed(s));
}

/** Path length as RFC 6793 §4.2.3 counts it: an AS_SET is one, confederation segments are none. */
export function countAsns(segments: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of segments) {
    if (s.type === 'sequence') n += s.asns.length;
    else if (s.type === 'set') n += 1;
  }
  return n;
}

/**
 * RFC 6793 §4.2.3: rebuild the real path from AS_PATH and AS4_PATH received on
 * a 2-octet session. If AS_PATH is shorter than AS4_PATH, AS4_PATH is ignored.
 * Otherwise the result is the leading (n - m) ASes of AS_PATH followed by
 * AS4_PATH. Leading confederation segments of AS_PATH are always kept: AS4_PATH
 * cannot carry them (RFC 6793 §6) and they count zero, so this is the only way
 * they survive; where the RFC's count allows, adjacent AS_SEQUENCEs are joined.
 */
export function mergeAs4Path(asPath: readonly AsPathSegment[], as4Path: readonly AsPathSegment[]): AsPathSegment[] {
  const n = countAsns(asPath);
  const m = countAsns(as4Path);
  if (n < m) return asPath.map((s) => ({ type: s.type, asns: [...s.asns] }));
  let need = n - m;
  let sawPlain = false;
  const head: AsPathSegment[] = [];
  for (const seg of asPath) {
    if (isConfed(seg)) {
      if (need > 0 || !sawPlain) head.push({ type: seg.type, asns: [...seg.asns] });
      continue;
    }
    sawPlain = true;
    if (need === 0) break;
    if (seg.type === 'set') {
      head.push({ type: 'set', asns: [...seg.asns] });
      need -= 1;
    } else {
      const take = Math.min(need, seg.asns.length);
      head.push({ type: 'sequence', asns: seg.asns.slice(0, take) });
      need -= take;
    }
  }
  const tail = as4Path.map((s) => ({ type: s.type, asns: [...s.asns] }));
  const last = head[head.length - 1];
  const first = tail[0];
  if (last !== undefined && first !== undefined && last.type === 'sequence' && first.type === 'sequence' && need === 0 && head.length > 0) {
    if (last.asns.length + first.asns.length <= MAX_SEGMENT_ASNS) {
      last.asns.push(...first.asns);
      tail.shift();
    }
  }
  return [...head, ...tail];
}

/**
 * RFC 6793 §4.2.3 for the aggregator: AS4_AGGREGATOR replaces AGGREGATOR only
 * when AGGREGATOR says AS_TRANS. Returns whether AS4_PATH must then be
 * ignored (AGGREGATOR carried a real AS number, so an OLD speaker aggregated
 * after the AS4 attributes were written and they are stale).
 */
export function mergeAs4Aggregator(
  aggregator: Aggregator | undefined,
  as4Aggregator: Aggregator | undefined,
): { aggregator: Aggregator | undefined; ignoreAs4Path: boolean } {
  if (aggregator === undefined || as4Aggregator === undefined) return { aggregator, ignoreAs4Path: false };
  if (aggregator.asn !== AS_TRANS) return { aggregator, ignoreAs4Path: true };
  return { aggregator: as4Aggregator, ignoreAs4Path: false };
}
