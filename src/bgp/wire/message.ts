/**
 * Whole messages: header checks, per-type length rules, dispatch to the
 * per-type codecs.
 *
 * decodeMessage throws only BgpWireError, and only errors that need a
 * session reset; RFC 7606 errors that do not are returned on the UPDATE.
 */
import { badLength, checkHeader, frame, HEADER_LENGTH, markerPrefixOk, maxLengthFor, notSynchronized } from './header';
import { BgpWireError, encodeError, ErrorCode, HeaderSubcode, RouteRefreshSubcode } from './errors';
import { decodeNotification, encodeNotification } from './notification';
import { decodeOpen, encodeOpen } from './open';
import { decodeRouteRefresh, encodeRouteRefresh, RouteRefreshSubtype } from './route-refresh';
import { decodeUpdate, encodeUpdate } from './update';
import { MAX_MESSAGE_LENGTH, MessageType, type BgpMessage, type CodecOptions } from './types';

/** Minimum lengths (header included), RFC 4271 §4.2-§4.5; ROUTE-REFRESH is fixed, RFC 2918 §3. */
const OPEN_MIN = 29;
const UPDATE_MIN = 23;
const NOTIFICATION_MIN = 21;
const KEEPALIVE_LENGTH = 19;
const ROUTE_REFRESH_LENGTH = 23;

/** Decodes one complete message, header included (as MessageFramer returns them). */
export function decodeMessage(raw: Buffer, opts: CodecOptions): BgpMessage {
  if (raw.length < HEADER_LENGTH) {
    if (!markerPrefixOk(raw)) throw notSynchronized();
    throw badLength(raw.length >= HEADER_LENGTH - 1 ? raw.readUInt16BE(16) : raw.length, 'shorter than the header');
  }
  const length = checkHeader(raw, maxLengthFor(opts));
  if (length !== raw.length) throw badLength(length, `the header says ${length} bytes but ${raw.length} were given`);
  const type = raw[HEADER_LENGTH - 1] as number;
  const body = raw.subarray(HEADER_LENGTH);
  switch (type) {
    case MessageType.OPEN:
      if (length < OPEN_MIN) throw badLength(length, `OPEN is at least ${OPEN_MIN} bytes`);
      // RFC 8654 §4: Extended Message never applies to OPEN.
      if (length > MAX_MESSAGE_LENGTH) throw badLength(length, `OPEN is at most ${MAX_MESSAGE_LENGTH} bytes`);
      return decodeOpen(body);
    case MessageType.UPDATE:
      if (length < UPDATE_MIN) throw badLength(length, `UPDATE is at least ${UPDATE_MIN} bytes`);
      return decodeUpdate(body, opts);
    case MessageType.NOTIFICATION:
      if (length < NOTIFICATION_MIN) throw badLength(length, `NOTIFICATION is at least ${NOTIFICATION_MIN} bytes`);
      return decodeNotification(body);
    case MessageType.KEEPALIVE:
      // RFC 4271 §4.4: a KEEPALIVE is the header alone.
      if (length !== KEEPALIVE_LENGTH) throw badLength(length, `KEEPALIVE is exactly ${KEEPALIVE_LENGTH} bytes`);
      return { type: MessageType.KEEPALIVE };
    case MessageType.ROUTE_REFRESH:
      if (length !== ROUTE_REFRESH_LENGTH) {
        const subtype = body[2];
        // RFC 7313 §5: a BoRR/EoRR of the wrong length is 7/1 with the whole message as data.
        if (subtype === RouteRefreshSubtype.BEGIN_OF_ROUTE_REFRESH || subtype === RouteRefreshSubtype.END_OF_ROUTE_REFRESH) {
          throw new BgpWireError(`ROUTE-REFRESH length ${length}, expected ${ROUTE_REFRESH_LENGTH}`, {
            code: ErrorCode.ROUTE_REFRESH,
            subcode: RouteRefreshSubcode.INVALID_MESSAGE_LENGTH,
            data: Buffer.from(raw),
          });
        }
        throw badLength(length, `ROUTE-REFRESH is exactly ${ROUTE_REFRESH_LENGTH} bytes`);
      }
      return decodeRouteRefresh(body);
    default:
      // RFC 4271 §6.1: the Data field is the erroneous Type field.
      throw new BgpWireError(`bad message type ${type}`, {
        code: ErrorCode.MESSAGE_HEADER,
        subcode: HeaderSubcode.BAD_MESSAGE_TYPE,
        data: Buffer.from([type]),
      });
  }
}

function encodeBody(msg: BgpMessage, opts: CodecOptions): Buffer {
  switch (msg.type) {
    case MessageType.OPEN:
      return encodeOpen(msg);
    case MessageType.UPDATE:
      return encodeUpdate(msg, opts);
    case MessageType.NOTIFICATION:
      return encodeNotification(msg);
    case MessageType.KEEPALIVE:
      return Buffer.alloc(0);
    case MessageType.ROUTE_REFRESH:
      return encodeRouteRefresh(msg);
    default: {
      const unknown: { type: unknown } = msg;
      throw encodeError(`unknown message type ${String(unknown.type)}`);
    }
  }
}

/**
 * Encodes a whole message, header included. Throws BGP_ENCODE_ERROR when the
 * result would exceed 4096 bytes, or 65535 with Extended Message (never for
 * OPEN, RFC 8654 §4).
 */
export function encodeMessage(msg: BgpMessage, opts: CodecOptions): Buffer {
  const body = encodeBody(msg, opts);
  const max = msg.type === MessageType.OPEN ? MAX_MESSAGE_LENGTH : maxLengthFor(opts);
  if (HEADER_LENGTH + body.length > max) {
    throw encodeError(`${MessageType[msg.type] ?? 'message'} of ${HEADER_LENGTH + body.length} bytes exceeds the maximum of ${max}`);
  }
  return frame(msg.type, body);
}
