/**
 * Words for logs and `tartanctl`: NOTIFICATIONs ("Cease / Administrative
 * Shutdown: \"maintenance\""), capabilities, path attributes. Names follow
 * the IANA "BGP Error (Notification) Codes" and "BGP Error Subcodes" registries.
 */
import { ATTRIBUTE_TABLE, attributeName, ENCODE_ORDER } from './attributes/table';
import { ErrorCode, HeaderSubcode, UpdateSubcode } from './errors';
import { carriesShutdownCommunication, decodeShutdownCommunication } from './notification';
import type { PathAttributes } from './types';

export { describeCapability } from './capabilities';

const CODE_NAMES: Record<number, string> = {
  1: 'Message Header Error',
  2: 'OPEN Message Error',
  3: 'UPDATE Message Error',
  4: 'Hold Timer Expired',
  5: 'Finite State Machine Error',
  6: 'Cease',
  7: 'ROUTE-REFRESH Message Error',
  8: 'Send Hold Timer Expired', // RFC 9687
};

const SUBCODE_NAMES: Record<number, Record<number, string>> = {
  1: { 1: 'Connection Not Synchronized', 2: 'Bad Message Length', 3: 'Bad Message Type' },
  2: {
    1: 'Unsupported Version Number',
    2: 'Bad Peer AS',
    3: 'Bad BGP Identifier',
    4: 'Unsupported Optional Parameter',
    5: 'Authentication Failure', // deprecated, RFC 4271 Appendix A
    6: 'Unacceptable Hold Time',
    7: 'Unsupported Capability', // RFC 5492
    11: 'Role Mismatch', // RFC 9234
  },
  3: {
    1: 'Malformed Attribute List',
    2: 'Unrecognized Well-known Attribute',
    3: 'Missing Well-known Attribute',
    4: 'Attribute Flags Error',
    5: 'Attribute Length Error',
    6: 'Invalid ORIGIN Attribute',
    7: 'AS Routing Loop', // deprecated
    8: 'Invalid NEXT_HOP Attribute',
    9: 'Optional Attribute Error',
    10: 'Invalid Network Field',
    11: 'Malformed AS_PATH',
  },
  5: {
    1: 'Receive Unexpected Message in OpenSent State', // RFC 6608
    2: 'Receive Unexpected Message in OpenConfirm State',
    3: 'Receive Unexpected Message in Established State',
  },
  6: {
    1: 'Maximum Number of Prefixes Reached', // RFC 4486
    2: 'Administrative Shutdown',
    3: 'Peer De-configured',
    4: 'Administrative Reset',
    5: 'Connection Rejected',
    6: 'Other Configuration Change',
    7: 'Connection Collision Resolution',
    8: 'Out of Resources',
    9: 'Hard Reset', // RFC 8538
    10: 'BFD Down', // RFC 9384
  },
  7: { 1: 'Invalid Message Length' }, // RFC 7313
};

/** Hex of at most 32 bytes, for data we have no better words for. */
function hex(data: Buffer): string {
  const shown = data.subarray(0, 32).toString('hex').replace(/(..)(?!$)/g, '$1 ');
  return data.length > 32 ? `${shown} … (${data.length} bytes)` : shown;
}

/** What the Data field means for this code/subcode, or undefined to fall back to hex. */
function describeData(code: number, subcode: number, data: Buffer): string | undefined {
  if (carriesShutdownCommunication(code, subcode)) {
    const text = decodeShutdownCommunication(data);
    return text === undefined ? undefined : JSON.stringify(text);
  }
  if (code === ErrorCode.MESSAGE_HEADER && subcode === HeaderSubcode.BAD_MESSAGE_LENGTH && data.length === 2) {
    return `length ${data.readUInt16BE(0)}`;
  }
  if (code === ErrorCode.MESSAGE_HEADER && subcode === HeaderSubcode.BAD_MESSAGE_TYPE && data.length === 1) {
    return `type ${data[0]}`;
  }
  if (code === ErrorCode.OPEN_MESSAGE && subcode === 1 && data.length === 2) {
    return `supported version ${data.readUInt16BE(0)}`;
  }
  if (code === ErrorCode.UPDATE_MESSAGE && subcode === UpdateSubcode.MISSING_WELL_KNOWN_ATTRIBUTE && data.length === 1) {
    return attributeName(data[0] as number);
  }
  return undefined;
}

/**
 * A NOTIFICATION in words: "Hold Timer Expired", "UPDATE Message Error /
 * Malformed AS_PATH", "Cease / Administrative Shutdown: \"maintenance\"".
 * Subcode 0 is shown as the code alone (RFC 4271 §4.5: Unspecific).
 */
export function describeNotification(code: number, subcode: number, data: Buffer): string {
  const codeName = CODE_NAMES[code] ?? `error code ${code}`;
  let text = codeName;
  if (subcode !== 0) text += ` / ${SUBCODE_NAMES[code]?.[subcode] ?? `subcode ${subcode}`}`;
  if (data.length === 0) return text;
  const words = describeData(code, subcode, data);
  return words === undefined ? `${text} [data ${hex(data)}]` : `${text}: ${words}`;
}

/** The attributes in words, one clause per attribute in wire order, using each table row's format. */
export function describeAttributes(attrs: PathAttributes): string {
  const parts: string[] = [];
  for (const desc of ENCODE_ORDER) {
    const s = desc.format(attrs);
    if (s !== undefined) parts.push(s);
  }
  for (const u of attrs.unknown ?? []) {
    parts.push(`${ATTRIBUTE_TABLE.has(u.typeCode) ? attributeName(u.typeCode) : `attribute ${u.typeCode}`} (flags 0x${u.flags.toString(16)}, len ${u.value.length})`);
  }
  return parts.join(', ');
}
