/**
 * OPEN, RFC 4271 §4.2, with optional parameters (RFC 5492) and the RFC 9072
 * extended optional parameters length.
 *
 * Only the wire format is checked here. Version, peer AS, hold time and BGP
 * Identifier acceptability (RFC 4271 §6.2 subcodes 1, 2, 3, 6) depend on
 * configuration and belong to the session.
 */
import { formatIpv4, parseIpv4 } from './address';
import { decodeCapabilities, encodeCapability } from './capabilities';
import { BgpWireError, encodeError, ErrorCode, OpenSubcode } from './errors';
import { WireReader } from './reader';
import { MessageType, type Capability, type OpenMessage } from './types';

/** Optional Parameter Type of Capabilities, RFC 5492 §4. */
const PARAM_CAPABILITIES = 2;
/** RFC 9072 §2: Non-Ext OP Len and Non-Ext OP Type both 255 announce the extended encoding. */
const EXTENDED_PARAMS_MARK = 255;

/** 2/0: the optional parameters do not parse (RFC 4271 §6.2 "recognized, but is malformed"). */
function malformedParams(reason: string): BgpWireError {
  return new BgpWireError(`malformed OPEN optional parameters: ${reason}`, { code: ErrorCode.OPEN_MESSAGE, subcode: 0 });
}

/** Decodes an OPEN body (after the header). The caller has checked the minimum length of 29. */
export function decodeOpen(body: Buffer): OpenMessage {
  const r = new WireReader(body, (what) => malformedParams(`truncated ${what}`));
  const version = r.u8('version');
  const myAs = r.u16('my AS');
  const holdTime = r.u16('hold time');
  const bgpId = formatIpv4(r.bytes(4, 'BGP identifier'));
  let paramsLength = r.u8('optional parameters length');
  let extended = false;
  // RFC 9072 §2: 255 followed by a parameter type of 255 means a 2-byte length follows.
  if (paramsLength === EXTENDED_PARAMS_MARK && r.remaining > 0 && body[r.position] === EXTENDED_PARAMS_MARK) {
    r.u8('extended parameters mark');
    paramsLength = r.u16('extended optional parameters length');
    extended = true;
  }
  if (paramsLength !== r.remaining) {
    throw malformedParams(`optional parameters length ${paramsLength} but ${r.remaining} bytes follow`);
  }
  const capabilities: Capability[] = [];
  while (r.remaining > 0) {
    const type = r.u8('parameter type');
    const length = extended ? r.u16('parameter length') : r.u8('parameter length');
    const value = r.bytes(length, `parameter ${type} value`);
    // RFC 4271 §6.2: an optional parameter we do not recognise is 2/4.
    if (type !== PARAM_CAPABILITIES) {
      throw new BgpWireError(`unsupported optional parameter type ${type}`, {
        code: ErrorCode.OPEN_MESSAGE,
        subcode: OpenSubcode.UNSUPPORTED_OPTIONAL_PARAMETER,
      });
    }
    capabilities.push(...decodeCapabilities(value));
  }
  return { type: MessageType.OPEN, version, myAs, holdTime, bgpId, capabilities };
}

function checkField(value: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) throw encodeError(`OPEN ${what} out of range: ${value}`);
  return value;
}

/**
 * Encodes an OPEN body. Capabilities are packed into as few Capabilities
 * parameters as fit in 255 bytes each (BIRD's layout); only when the
 * parameters would exceed 255 bytes is the RFC 9072 encoding used, with one
 * parameter, since RFC 9072 §2 keeps the classic encoding for everything that fits.
 */
export function encodeOpen(msg: OpenMessage): Buffer {
  const id = parseIpv4(msg.bgpId);
  if (id === undefined) throw encodeError(`OPEN BGP identifier is not an IPv4 address: ${JSON.stringify(msg.bgpId)}`);
  const fixed = Buffer.alloc(9);
  fixed[0] = checkField(msg.version, 0xff, 'version');
  fixed.writeUInt16BE(checkField(msg.myAs, 0xffff, 'my AS'), 1);
  fixed.writeUInt16BE(checkField(msg.holdTime, 0xffff, 'hold time'), 3);
  id.copy(fixed, 5);

  const caps = msg.capabilities.map(encodeCapability);
  const groups: Buffer[][] = [];
  let current: Buffer[] = [];
  let currentLength = 0;
  for (const c of caps) {
    if (currentLength + c.length > 255) {
      groups.push(current);
      current = [];
      currentLength = 0;
    }
    current.push(c);
    currentLength += c.length;
  }
  if (current.length > 0) groups.push(current);
  const params = groups.map((g) => Buffer.concat([Buffer.from([PARAM_CAPABILITIES, g.reduce((n, c) => n + c.length, 0)]), ...g]));
  const paramsLength = params.reduce((n, p) => n + p.length, 0);
  if (paramsLength <= 255) return Buffer.concat([fixed, Buffer.from([paramsLength]), ...params]);

  // RFC 9072 §2: one Capabilities parameter with a 2-byte length.
  const all = Buffer.concat(caps);
  if (3 + all.length > 0xffff) throw encodeError('OPEN capabilities exceed the RFC 9072 maximum');
  const head = Buffer.alloc(7);
  head[0] = EXTENDED_PARAMS_MARK;
  head[1] = EXTENDED_PARAMS_MARK;
  head.writeUInt16BE(3 + all.length, 2);
  head[4] = PARAM_CAPABILITIES;
  head.writeUInt16BE(all.length, 5);
  return Buffer.concat([fixed, head, all]);
}
