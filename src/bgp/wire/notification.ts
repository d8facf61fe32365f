/**
 * NOTIFICATION, RFC 4271 §4.5, and the Shutdown Communication that RFC 9003
 * (which obsoletes RFC 8203) carries in Cease / Administrative Shutdown and
 * Administrative Reset: one length octet, then that many bytes of UTF-8.
 */
import { CeaseSubcode, encodeError, ErrorCode } from './errors';
import { MessageType, type NotificationMessage } from './types';

/** RFC 9003 §2: the communication is at most 255 bytes. */
export const MAX_SHUTDOWN_COMMUNICATION = 255;

export function decodeNotification(body: Buffer): NotificationMessage {
  // The caller has checked the minimum length (21 with the header, RFC 4271 §4.5).
  return {
    type: MessageType.NOTIFICATION,
    code: body[0] as number,
    subcode: body[1] as number,
    data: Buffer.from(body.subarray(2)),
  };
}

export function encodeNotification(msg: NotificationMessage): Buffer {
  for (const [v, what] of [
    [msg.code, 'code'],
    [msg.subcode, 'subcode'],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 255) throw encodeError(`NOTIFICATION ${what} out of range: ${v}`);
  }
  return Buffer.concat([Buffer.from([msg.code, msg.subcode]), msg.data]);
}

/**
 * The Data of a Cease / Administrative Shutdown or Reset carrying `text`
 * (RFC 9003 §2), cut to 255 bytes at a UTF-8 character boundary so the
 * receiver never sees a broken sequence.
 */
export function encodeShutdownCommunication(text: string): Buffer {
  let bytes = Buffer.from(text, 'utf8');
  if (bytes.length > MAX_SHUTDOWN_COMMUNICATION) {
    let end = MAX_SHUTDOWN_COMMUNICATION;
    // Back up over continuation bytes (10xxxxxx) to the start of the cut character.
    while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
    bytes = bytes.subarray(0, end);
  }
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}

/**
 * The Shutdown Communication text in a NOTIFICATION's data, or undefined if
 * the data is not one (RFC 9003 §2: bad length or invalid UTF-8 is logged, not
 * fatal). Bytes after the communication are ignored, as RFC 9003 §2 allows.
 */
export function decodeShutdownCommunication(data: Buffer): string | undefined {
  if (data.length < 1) return undefined;
  const length = data[0] as number;
  if (length > MAX_SHUTDOWN_COMMUNICATION || 1 + length > data.length) return undefined;
  const bytes = data.subarray(1, 1 + length);
  const text = bytes.toString('utf8');
  // Invalid sequences decode to U+FFFD and do not re-encode to the same bytes.
  return Buffer.from(text, 'utf8').equals(bytes) ? text : undefined;
}

/** True for the Cease subcodes whose data is a Shutdown Communication, RFC 9003 §2. */
export function carriesShutdownCommunication(code: number, subcode: number): boolean {
  return (
    code === ErrorCode.CEASE &&
    (subcode === CeaseSubcode.ADMINISTRATIVE_SHUTDOWN || subcode === CeaseSubcode.ADMINISTRATIVE_RESET)
  );
}
