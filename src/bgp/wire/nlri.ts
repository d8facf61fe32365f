/**
 * The <length, prefix> NLRI encoding shared by Withdrawn Routes, the NLRI
 * field and MP_(UN)REACH_NLRI (RFC 4271 §4.3, RFC 4760 §5), with the 4-byte
 * Path Identifier of ADD-PATH in front of each prefix when negotiated for the
 * family in this direction (RFC 7911 §3).
 *
 * Syntax errors (a prefix length over 32/128, a prefix running past the end
 * of the field) make the whole field unparseable, so RFC 7606 §5.3 and §3 (j)
 * leave only session reset: the caller supplies the error to throw.
 *
 * Host bits set beyond the prefix length are cleared, not rejected: RFC 4271
 * §4.3 says the trailing bits are irrelevant, and BIRD, FRR and GoBGP all
 * canonicalise the same way. The decoded prefix is therefore always canonical.
 */
import { formatPrefix, maskHostBits, parsePrefix } from './address';
import { encodeError } from './errors';
import { addressWidth } from './family';
import { WireReader } from './reader';
import type { Family, Nlri } from './types';

/**
 * Decodes a whole NLRI field.
 * @param malformed builds the error for a syntactically bad field
 */
/**
 * Validates an NLRI field like decodeNlri (same errors) without building
 * objects; returns the number of entries.
 */
export function countNlri(field: Buffer, family: Family, addPath: boolean, malformed: (reason: string) => Error): number {
  const max = addressWidth(family) * 8;
  let off = 0;
  let n = 0;
  while (off < field.length) {
    if (addPath) {
      if (off + 4 > field.length) throw malformed('truncated NLRI: no room for path identifier');
      off += 4;
    }
    if (off + 1 > field.length) throw malformed('truncated NLRI: no room for prefix length');
    const length = field[off]!;
    if (length > max) throw malformed(`prefix length ${length} exceeds ${max}`);
    off += 1 + ((length + 7) >>> 3);
    if (off > field.length) throw malformed(`truncated NLRI: no room for a /${length} prefix`);
    n++;
  }
  return n;
}

export function decodeNlri(field: Buffer, family: Family, addPath: boolean, malformed: (reason: string) => Error): Nlri[] {
  const width = addressWidth(family);
  const r = new WireReader(field, (what) => malformed(`truncated NLRI: no room for ${what}`));
  const out: Nlri[] = [];
  while (r.remaining > 0) {
    const pathId = addPath ? r.u32('path identifier') : undefined;
    const length = r.u8('prefix length');
    if (length > width * 8) throw malformed(`prefix length ${length} exceeds ${width * 8}`);
    const bytes = r.bytes(Math.ceil(length / 8), `a /${length} prefix`);
    const address = Buffer.alloc(width);
    bytes.copy(address);
    maskHostBits(address, length);
    const prefix = formatPrefix(address, length);
    out.push(pathId === undefined ? { prefix } : { prefix, pathId });
  }
  return out;
}

/**
 * Encodes one NLRI entry. With ADD-PATH a missing pathId is sent as 0; without
 * it, pathId is ignored (the peer would misparse it).
 */
export function encodeNlriEntry(entry: Nlri, family: Family, addPath: boolean): Buffer {
  const width = addressWidth(family);
  const parsed = parsePrefix(entry.prefix, width);
  if (parsed === undefined) throw encodeError(`not an ${family} prefix: ${JSON.stringify(entry.prefix)}`);
  const n = Math.ceil(parsed.length / 8);
  const head = addPath ? 5 : 1;
  const out = Buffer.alloc(head + n);
  if (addPath) {
    const id = entry.pathId ?? 0;
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw encodeError(`path identifier out of range: ${id}`);
    out.writeUInt32BE(id, 0);
  }
  out[head - 1] = parsed.length;
  parsed.address.copy(out, head, 0, n);
  return out;
}

export function encodeNlri(entries: readonly Nlri[], family: Family, addPath: boolean): Buffer {
  return Buffer.concat(entries.map((e) => encodeNlriEntry(e, family, addPath)));
}
