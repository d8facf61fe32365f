/**
 * Turning an accepted TCP connection away politely: RFC 4486 §4 says a
 * speaker that disallows a connection after accepting it SHOULD send
 * NOTIFICATION Cease/5 (Connection Rejected) before closing.
 */

import { CeaseSubcode, DEFAULT_CODEC_OPTIONS, encodeMessage, ErrorCode, MessageType } from '../wire';
import type { Transport } from './transport';

export function rejectConnection(transport: Transport): void {
  const notification = encodeMessage(
    {
      type: MessageType.NOTIFICATION,
      code: ErrorCode.CEASE,
      subcode: CeaseSubcode.CONNECTION_REJECTED,
      data: Buffer.alloc(0),
    },
    DEFAULT_CODEC_OPTIONS,
  );
  transport.write(notification);
  transport.close();
}
