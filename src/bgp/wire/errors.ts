import { TartanError } from '../../errors';

/** NOTIFICATION error codes, RFC 4271 §4.5 plus RFC 7313 (ROUTE-REFRESH) and RFC 4486 (Cease). */
export enum ErrorCode {
  MESSAGE_HEADER = 1,
  OPEN_MESSAGE = 2,
  UPDATE_MESSAGE = 3,
  HOLD_TIMER_EXPIRED = 4,
  FSM = 5,
  CEASE = 6,
  ROUTE_REFRESH = 7,
}

/** Message Header Error subcodes, RFC 4271 §6.1. */
export enum HeaderSubcode {
  CONNECTION_NOT_SYNCHRONIZED = 1,
  BAD_MESSAGE_LENGTH = 2,
  BAD_MESSAGE_TYPE = 3,
}

/** OPEN Message Error subcodes, RFC 4271 §6.2 and RFC 5492 §5. */
export enum OpenSubcode {
  UNSUPPORTED_VERSION = 1,
  BAD_PEER_AS = 2,
  BAD_BGP_IDENTIFIER = 3,
  UNSUPPORTED_OPTIONAL_PARAMETER = 4,
  UNACCEPTABLE_HOLD_TIME = 6,
  UNSUPPORTED_CAPABILITY = 7,
}

/** UPDATE Message Error subcodes, RFC 4271 §6.3. */
export enum UpdateSubcode {
  MALFORMED_ATTRIBUTE_LIST = 1,
  UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE = 2,
  MISSING_WELL_KNOWN_ATTRIBUTE = 3,
  ATTRIBUTE_FLAGS_ERROR = 4,
  ATTRIBUTE_LENGTH_ERROR = 5,
  INVALID_ORIGIN_ATTRIBUTE = 6,
  INVALID_NEXT_HOP_ATTRIBUTE = 8,
  OPTIONAL_ATTRIBUTE_ERROR = 9,
  INVALID_NETWORK_FIELD = 10,
  MALFORMED_AS_PATH = 11,
}

/** FSM Error subcodes, RFC 6608 §4. */
export enum FsmSubcode {
  UNSPECIFIED = 0,
  UNEXPECTED_MESSAGE_IN_OPENSENT = 1,
  UNEXPECTED_MESSAGE_IN_OPENCONFIRM = 2,
  UNEXPECTED_MESSAGE_IN_ESTABLISHED = 3,
}

/** Cease subcodes, RFC 4486 §4 and RFC 8538. */
export enum CeaseSubcode {
  MAXIMUM_PREFIXES_REACHED = 1,
  ADMINISTRATIVE_SHUTDOWN = 2,
  PEER_DECONFIGURED = 3,
  ADMINISTRATIVE_RESET = 4,
  CONNECTION_REJECTED = 5,
  OTHER_CONFIGURATION_CHANGE = 6,
  CONNECTION_COLLISION_RESOLUTION = 7,
  OUT_OF_RESOURCES = 8,
  HARD_RESET = 9,
}

/** ROUTE-REFRESH Message Error subcodes, RFC 7313 §5. */
export enum RouteRefreshSubcode {
  INVALID_MESSAGE_LENGTH = 1,
}

/**
 * What the receiver must do about a malformed UPDATE, RFC 7606 §2.
 * `session-reset` is also the only action for errors outside UPDATE.
 */
export type ErrorAction = 'session-reset' | 'afisafi-disable' | 'treat-as-withdraw' | 'attribute-discard';

/** The NOTIFICATION triple (code, subcode, data) that an error maps to. */
export interface NotificationTriple {
  code: number;
  subcode: number;
  data: Buffer;
}

/** Stable string codes of BgpWireError, one per NOTIFICATION error code. */
const WIRE_ERROR_CODES: Record<number, string> = {
  [ErrorCode.MESSAGE_HEADER]: 'BGP_MESSAGE_HEADER_ERROR',
  [ErrorCode.OPEN_MESSAGE]: 'BGP_OPEN_MESSAGE_ERROR',
  [ErrorCode.UPDATE_MESSAGE]: 'BGP_UPDATE_MESSAGE_ERROR',
  [ErrorCode.HOLD_TIMER_EXPIRED]: 'BGP_HOLD_TIMER_EXPIRED',
  [ErrorCode.FSM]: 'BGP_FSM_ERROR',
  [ErrorCode.CEASE]: 'BGP_CEASE',
  [ErrorCode.ROUTE_REFRESH]: 'BGP_ROUTE_REFRESH_MESSAGE_ERROR',
};

/**
 * The only error the codec throws. It carries the NOTIFICATION to send
 * (RFC 4271 §6) and the RFC 7606 action to take. With `session-reset`
 * the session sends `notification` and closes; with `treat-as-withdraw` or
 * `attribute-discard` the decoder does not throw at all but reports the error
 * on the decoded UPDATE (see UpdateMessage decoding), and no NOTIFICATION is sent.
 */
export class BgpWireError extends TartanError {
  readonly notification: NotificationTriple;
  readonly action: ErrorAction;
  /** The attribute type code at fault, when one is. */
  readonly attributeType: number | undefined;

  constructor(
    message: string,
    notification: { code: number; subcode: number; data?: Buffer },
    action: ErrorAction = 'session-reset',
    attributeType?: number,
  ) {
    super(WIRE_ERROR_CODES[notification.code] ?? 'BGP_WIRE_ERROR', message);
    this.notification = {
      code: notification.code,
      subcode: notification.subcode,
      data: notification.data ?? Buffer.alloc(0),
    };
    this.action = action;
    this.attributeType = attributeType;
  }
}

/** Code of the TartanError thrown when a message cannot be encoded (too big, bad address, value out of range). */
export const BGP_ENCODE_ERROR = 'BGP_ENCODE_ERROR';

/** The error every encoder throws: a caller bug or an over-long message, never a peer's fault. */
export function encodeError(message: string): TartanError {
  return new TartanError(BGP_ENCODE_ERROR, message);
}
