/**
 * The Path Attributes field of an UPDATE as a whole: splitting it into
 * attributes, applying the table, and the list-level rules of RFC 7606.
 *
 * Errors that leave the NLRI locatable are collected and returned with the
 * action the table (or the rule below) assigns; anything that needs a
 * session reset is thrown. List-level rules:
 *  - §4: an attribute overrunning the field, or fewer bytes left than an
 *    attribute header: treat-as-withdraw, stop parsing, and keep relying on
 *    the Total Path Attribute Length to find the NLRI. If the overrunning
 *    attribute is MP_(UN)REACH_NLRI its NLRI is lost: session reset (§3 (j)).
 *  - §3 (g): a repeated MP_(UN)REACH_NLRI resets the session with Malformed
 *    Attribute List; any other repeat is discarded, the first one kept.
 *  - §3 (c): wrong Optional/Transitive bits on a known attribute: the row's
 *    flagsAction. The Partial and Extended Length bits are not checked.
 *  - RFC 4271 §6.3: an unrecognised well-known attribute is 3/2 with the
 *    attribute as data, and a session reset: RFC 7606 revises the handling
 *    of attributes the receiver knows, not this case (FRR and BIRD reset too).
 *  - RFC 4271 §5: unknown optional transitive attributes are kept for
 *    forwarding; unknown optional non-transitive ones are quietly dropped.
 *  - RFC 6793 §4.2.3: on a 2-octet session AS4_PATH / AS4_AGGREGATOR are
 *    merged into asPath / aggregator and do not appear in the result.
 */
import { BgpWireError, encodeError, ErrorCode, UpdateSubcode, type ErrorAction } from '../errors';
import { AttributeFlag, AttributeType, type PathAttributes, type RawAttribute } from '../types';
import { mergeAs4Aggregator, mergeAs4Path } from './as-path';
import { AttributeProblem } from './problem';
import { ATTRIBUTE_TABLE, attributeName, ENCODE_ORDER, sortKey, type AttributeContext, type DecodedAttributes } from './table';

export interface AttributeListResult {
  attributes: PathAttributes;
  /** Errors that did not reset the session (RFC 7606 treat-as-withdraw / attribute-discard). */
  errors: BgpWireError[];
  /** Type codes present on the wire, malformed ones included, for the missing-attribute check (§3 (d)). */
  present: Set<number>;
}

const FLAG_BITS = AttributeFlag.OPTIONAL | AttributeFlag.TRANSITIVE;
/** Flags kept on a RawAttribute: Optional, Transitive, Partial. Extended Length is framing, the low 4 bits are unused. */
const RAW_FLAG_MASK = AttributeFlag.OPTIONAL | AttributeFlag.TRANSITIVE | AttributeFlag.PARTIAL;

function isMp(type: number): boolean {
  return type === AttributeType.MP_REACH_NLRI || type === AttributeType.MP_UNREACH_NLRI;
}

export function attributeError(
  type: number | undefined,
  subcode: number,
  reason: string,
  action: ErrorAction,
  data: Buffer,
): BgpWireError {
  return new BgpWireError(reason, { code: ErrorCode.UPDATE_MESSAGE, subcode, data: Buffer.from(data) }, action, type);
}

export function decodeAttributeList(field: Buffer, ctx: AttributeContext): AttributeListResult {
  const out: DecodedAttributes = { attributes: {} };
  const errors: BgpWireError[] = [];
  const present = new Set<number>();
  const unknown: RawAttribute[] = [];
  const report = (err: BgpWireError): void => {
    if (err.action === 'session-reset') throw err;
    errors.push(err);
  };

  let pos = 0;
  while (pos < field.length) {
    const left = field.length - pos;
    const flags = field[pos] as number;
    const headerLength = flags & AttributeFlag.EXTENDED_LENGTH ? 4 : 3;
    if (left < headerLength) {
      // RFC 7606 §4, second case: too few bytes for an attribute header.
      report(
        attributeError(
          undefined,
          UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
          `${left} byte(s) left at the end of the path attributes, too few for an attribute header`,
          'treat-as-withdraw',
          Buffer.alloc(0),
        ),
      );
      break;
    }
    const type = field[pos + 1] as number;
    const length = headerLength === 4 ? field.readUInt16BE(pos + 2) : (field[pos + 2] as number);
    const end = pos + headerLength + length;
    if (end > field.length) {
      // RFC 7606 §4, first case: the attribute overruns the Total Path Attribute Length.
      report(
        attributeError(
          type,
          UpdateSubcode.ATTRIBUTE_LENGTH_ERROR,
          `${attributeName(type)} length ${length} overruns the path attributes (${left - headerLength} bytes left)`,
          isMp(type) ? 'session-reset' : 'treat-as-withdraw',
          field.subarray(pos),
        ),
      );
      break;
    }
    const raw = field.subarray(pos, end);
    const value = field.subarray(pos + headerLength, end);
    pos = end;

    if (present.has(type)) {
      // RFC 7606 §3 (g).
      if (isMp(type)) {
        throw new BgpWireError(
          `${attributeName(type)} appears more than once`,
          { code: ErrorCode.UPDATE_MESSAGE, subcode: UpdateSubcode.MALFORMED_ATTRIBUTE_LIST },
          'session-reset',
          type,
        );
      }
      report(attributeError(type, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, `duplicate ${attributeName(type)} discarded`, 'attribute-discard', raw));
      continue;
    }
    present.add(type);

    const desc = ATTRIBUTE_TABLE.get(type);
    if (desc === undefined) {
      if ((flags & AttributeFlag.OPTIONAL) === 0) {
        report(attributeError(type, UpdateSubcode.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE, `unrecognized well-known attribute ${type}`, 'session-reset', raw));
      } else if (flags & AttributeFlag.TRANSITIVE) {
        unknown.push({ flags: flags & RAW_FLAG_MASK, typeCode: type, value: Buffer.from(value) });
      }
      continue;
    }
    if (desc.ignoreWhen?.(ctx) === true) continue;
    if ((flags & FLAG_BITS) !== desc.flags) {
      report(
        attributeError(
          type,
          UpdateSubcode.ATTRIBUTE_FLAGS_ERROR,
          `${desc.name}: flags 0x${flags.toString(16).padStart(2, '0')} conflict with the attribute type`,
          desc.flagsAction,
          raw,
        ),
      );
      continue;
    }
    try {
      desc.decode(value, ctx, out);
    } catch (err) {
      if (!(err instanceof AttributeProblem)) throw err;
      report(attributeError(type, err.subcode, err.reason, err.action ?? desc.action, raw));
    }
  }

  const attributes = out.attributes;
  if (unknown.length > 0) attributes.unknown = unknown;
  if (!ctx.fourOctetAs) {
    const merged = mergeAs4Aggregator(attributes.aggregator, out.as4Aggregator);
    if (merged.aggregator !== undefined) attributes.aggregator = merged.aggregator;
    if (!merged.ignoreAs4Path && out.as4Path !== undefined && attributes.asPath !== undefined) {
      attributes.asPath = mergeAs4Path(attributes.asPath, out.as4Path);
    }
  }
  return { attributes, errors, present };
}

/** One attribute: flags, type, 1- or 2-byte length (Extended Length when over 255, RFC 4271 §4.3), value. */
export function encodeAttribute(flags: number, type: number, value: Buffer): Buffer {
  if (value.length > 0xffff) throw encodeError(`attribute ${type} value is ${value.length} bytes, more than 65535`);
  const extended = value.length > 255;
  const head = Buffer.alloc(extended ? 4 : 3);
  head[0] = (flags & ~AttributeFlag.EXTENDED_LENGTH & 0xf0) | (extended ? AttributeFlag.EXTENDED_LENGTH : 0);
  head[1] = type;
  if (extended) head.writeUInt16BE(value.length, 2);
  else head[2] = value.length;
  return Buffer.concat([head, value]);
}

/**
 * The Path Attributes field for `attrs`: MP attributes first, then ascending
 * type code, unknown attributes merged in by type code. Unknown optional
 * transitive attributes go out with Partial set (RFC 4271 §5: we are passing
 * on something we did not understand).
 */
export function encodeAttributeList(attrs: PathAttributes, ctx: AttributeContext): Buffer {
  const parts: { key: number; bytes: Buffer }[] = [];
  for (const desc of ENCODE_ORDER) {
    const value = desc.encode(attrs, ctx);
    if (value !== undefined) parts.push({ key: sortKey(desc.type), bytes: encodeAttribute(desc.flags, desc.type, value) });
  }
  const seen = new Set<number>();
  for (const u of attrs.unknown ?? []) {
    if (!Number.isInteger(u.typeCode) || u.typeCode < 0 || u.typeCode > 255) throw encodeError(`attribute type out of range: ${u.typeCode}`);
    if (ATTRIBUTE_TABLE.has(u.typeCode)) throw encodeError(`${attributeName(u.typeCode)} must not be passed as an unknown attribute`);
    if (seen.has(u.typeCode)) throw encodeError(`unknown attribute ${u.typeCode} given twice`);
    seen.add(u.typeCode);
    let flags = u.flags & RAW_FLAG_MASK;
    if ((flags & FLAG_BITS) === FLAG_BITS) flags |= AttributeFlag.PARTIAL;
    parts.push({ key: sortKey(u.typeCode), bytes: encodeAttribute(flags, u.typeCode, u.value) });
  }
  parts.sort((a, b) => a.key - b.key);
  return Buffer.concat(parts.map((p) => p.bytes));
}
