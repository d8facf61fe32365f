/**
 * UPDATE, RFC 4271 §4.3: Withdrawn Routes, Path Attributes, NLRI, with the
 * RFC 7606 error handling that decides, per error, between session reset
 * (thrown) and treat-as-withdraw / attribute-discard (returned in `errors`).
 *
 * The classic Withdrawn Routes and NLRI fields are IPv4 unicast (RFC 4271
 * §4.3); other families travel in MP_(UN)REACH_NLRI (attributes/mp.ts).
 */
import { decodeAttributeList, encodeAttributeList } from './attributes/list';
import { BgpWireError, encodeError, ErrorCode, UpdateSubcode } from './errors';
import { countNlri, decodeNlri, encodeNlri } from './nlri';
import { AttributeType, MessageType, type CodecOptions, type PathAttributes, type UpdateMessage } from './types';

/**
 * RFC 4271 §6.3: Withdrawn Routes Length or Total Path Attribute Length that do not fit the message
 * are 3/1 Malformed Attribute List. Nothing after them can be located, so RFC 7606 keeps the session reset.
 */
function malformedList(reason: string): BgpWireError {
  return new BgpWireError(reason, { code: ErrorCode.UPDATE_MESSAGE, subcode: UpdateSubcode.MALFORMED_ATTRIBUTE_LIST });
}

/** RFC 4271 §6.3 Invalid Network Field; RFC 7606 §5.3 / §3 (i),(j): an unparseable prefix field resets the session. */
function invalidNetwork(field: string): (reason: string) => BgpWireError {
  return (reason) =>
    new BgpWireError(`${field}: ${reason}`, { code: ErrorCode.UPDATE_MESSAGE, subcode: UpdateSubcode.INVALID_NETWORK_FIELD });
}

/** 3/3 Missing Well-known Attribute; RFC 4271 §6.3: the data is the missing attribute's type code. */
function missing(type: AttributeType, name: string): BgpWireError {
  return new BgpWireError(
    `missing well-known attribute ${name}`,
    { code: ErrorCode.UPDATE_MESSAGE, subcode: UpdateSubcode.MISSING_WELL_KNOWN_ATTRIBUTE, data: Buffer.from([type]) },
    'treat-as-withdraw', // RFC 7606 §3 (d)
    type,
  );
}

/** decodeAttributeList, or the memo's result when the bytes are the memo's (CodecOptions.attributeMemo). */
function decodeAttributes(field: Buffer, opts: CodecOptions): { attributes: PathAttributes; errors: BgpWireError[]; present: ReadonlySet<number> } {
  const memo = opts.attributeMemo;
  if (memo?.bytes !== undefined && memo.bytes.equals(field)) return { attributes: memo.attributes!, errors: [], present: memo.present! };
  const list = decodeAttributeList(field, opts);
  if (memo !== undefined && list.errors.length === 0 && list.attributes.mpReach === undefined && list.attributes.mpUnreach === undefined) {
    // A copy: the field is a view of a socket chunk.
    memo.bytes = Buffer.from(field);
    memo.attributes = list.attributes;
    memo.present = list.present;
  }
  return list;
}

/** Decodes an UPDATE body (after the header); the caller checked the minimum length of 23. */
export function decodeUpdate(body: Buffer, opts: CodecOptions): UpdateMessage {
  const withdrawnLength = body.readUInt16BE(0);
  if (4 + withdrawnLength > body.length) {
    throw malformedList(`Withdrawn Routes Length ${withdrawnLength} exceeds the message (${body.length - 4} bytes available)`);
  }
  const attrLengthAt = 2 + withdrawnLength;
  const attrLength = body.readUInt16BE(attrLengthAt);
  const attrStart = attrLengthAt + 2;
  if (attrStart + attrLength > body.length) {
    throw malformedList(`Total Path Attribute Length ${attrLength} exceeds the message (${body.length - attrStart} bytes available)`);
  }
  const v4AddPath = opts.addPath.has('ipv4-unicast');
  const withdrawnField = body.subarray(2, attrLengthAt);
  const nlriField = body.subarray(attrStart + attrLength);
  const packed = opts.packedNlri === true;
  const withdrawn = packed ? [] : decodeNlri(withdrawnField, 'ipv4-unicast', v4AddPath, invalidNetwork('Withdrawn Routes'));
  if (packed) countNlri(withdrawnField, 'ipv4-unicast', v4AddPath, invalidNetwork('Withdrawn Routes'));
  const { attributes, errors, present } = decodeAttributes(body.subarray(attrStart, attrStart + attrLength), opts);
  const nlri = packed ? [] : decodeNlri(nlriField, 'ipv4-unicast', v4AddPath, invalidNetwork('NLRI'));
  const nlriCount = packed ? countNlri(nlriField, 'ipv4-unicast', v4AddPath, invalidNetwork('NLRI')) : nlri.length;
  const mpAnnounces = attributes.mpReach !== undefined && (attributes.mpReach.nlri.length > 0 || (attributes.mpReach.packed?.length ?? 0) > 0);

  // RFC 4271 §5 / RFC 7606 §3 (d): ORIGIN and AS_PATH are mandatory when routes are announced, NEXT_HOP
  // only with classic NLRI (RFC 4760 §3 makes MP_REACH_NLRI carry its own). LOCAL_PREF for iBGP is the session's.
  const announces = nlriCount > 0 || mpAnnounces;
  if (announces) {
    if (!present.has(AttributeType.ORIGIN)) errors.push(missing(AttributeType.ORIGIN, 'ORIGIN'));
    if (!present.has(AttributeType.AS_PATH)) errors.push(missing(AttributeType.AS_PATH, 'AS_PATH'));
    if (nlriCount > 0 && !present.has(AttributeType.NEXT_HOP)) errors.push(missing(AttributeType.NEXT_HOP, 'NEXT_HOP'));
  }
  // RFC 4760 §3: without classic NLRI, NEXT_HOP is to be ignored, so a broken one cannot withdraw MP routes.
  const finalErrors =
    nlriCount > 0
      ? errors
      : errors.map((e) =>
          e.attributeType === AttributeType.NEXT_HOP && e.action === 'treat-as-withdraw'
            ? new BgpWireError(e.message, e.notification, 'attribute-discard', e.attributeType)
            : e,
        );

  const msg: UpdateMessage = { type: MessageType.UPDATE, withdrawn, attributes, nlri };
  if (packed) msg.packed = { withdrawn: withdrawnField, nlri: nlriField };
  if (finalErrors.length > 0) msg.errors = finalErrors;
  return msg;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** Encodes an UPDATE body. `errors` is ignored (it is decoder output). */
export function encodeUpdate(msg: UpdateMessage, opts: CodecOptions): Buffer {
  const v4AddPath = opts.addPath.has('ipv4-unicast');
  const withdrawn = encodeNlri(msg.withdrawn, 'ipv4-unicast', v4AddPath);
  const attrs = encodeAttributeList(msg.attributes, opts);
  const nlri = encodeNlri(msg.nlri, 'ipv4-unicast', v4AddPath);
  if (withdrawn.length > 0xffff || attrs.length > 0xffff) throw encodeError('UPDATE fields exceed 65535 bytes');
  return Buffer.concat([u16(withdrawn.length), withdrawn, u16(attrs.length), attrs, nlri]);
}
