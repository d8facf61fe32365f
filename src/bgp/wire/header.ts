/**
 * The 19-byte message header, RFC 4271 §4.1: 16-byte all-ones marker,
 * 2-byte length (header included), 1-byte type. Shared by the framer and
 * decodeMessage so both apply the same checks (RFC 4271 §6.1).
 */
import { BgpWireError, ErrorCode, HeaderSubcode } from './errors';
import { MAX_EXTENDED_MESSAGE_LENGTH, MAX_MESSAGE_LENGTH, type CodecOptions, type MessageType } from './types';

export const MARKER_LENGTH = 16;
export const HEADER_LENGTH = 19;

/** 1/1 Connection Not Synchronized (RFC 4271 §6.1: the marker is not all ones). No data. */
export function notSynchronized(): BgpWireError {
  return new BgpWireError('message header marker is not all ones', {
    code: ErrorCode.MESSAGE_HEADER,
    subcode: HeaderSubcode.CONNECTION_NOT_SYNCHRONIZED,
  });
}

/** 1/2 Bad Message Length; RFC 4271 §6.1: the Data field is the erroneous Length field. */
export function badLength(length: number, why: string): BgpWireError {
  const data = Buffer.alloc(2);
  data.writeUInt16BE(length & 0xffff);
  return new BgpWireError(`bad message length ${length}: ${why}`, {
    code: ErrorCode.MESSAGE_HEADER,
    subcode: HeaderSubcode.BAD_MESSAGE_LENGTH,
    data,
  });
}

/** True if the first min(n, 16) bytes that are present are all 0xff. */
export function markerPrefixOk(buf: Buffer, available = buf.length): boolean {
  const n = Math.min(available, MARKER_LENGTH, buf.length);
  for (let i = 0; i < n; i++) if (buf[i] !== 0xff) return false;
  return true;
}

/**
 * Validates marker and length of a header (at least 18 bytes present) and
 * returns the length. RFC 4271 §6.1: length below 19 or above the maximum
 * (4096, or 65535 under RFC 8654) is a Bad Message Length.
 */
export function checkHeader(buf: Buffer, maxLength: number): number {
  if (!markerPrefixOk(buf, MARKER_LENGTH)) throw notSynchronized();
  const length = buf.readUInt16BE(MARKER_LENGTH);
  if (length < HEADER_LENGTH) throw badLength(length, `below the ${HEADER_LENGTH}-byte header`);
  if (length > maxLength) throw badLength(length, `above the maximum of ${maxLength}`);
  return length;
}

/** The maximum message length the options allow, RFC 8654 §4. */
export function maxLengthFor(opts: CodecOptions): number {
  return opts.extendedMessage ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH;
}

/** Prepends a header to a message body. The caller checks the maximum length. */
export function frame(type: MessageType, body: Buffer): Buffer {
  const out = Buffer.alloc(HEADER_LENGTH + body.length, 0xff);
  out.writeUInt16BE(HEADER_LENGTH + body.length, MARKER_LENGTH);
  out[MARKER_LENGTH + 2] = type;
  body.copy(out, HEADER_LENGTH);
  return out;
}
