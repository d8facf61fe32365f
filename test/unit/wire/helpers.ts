/**
 * Test helpers in the mqtt-packet style: golden fixtures that run four ways,
 * and an error table helper.
 */
import {
  BgpWireError,
  decodeMessage,
  encodeMessage,
  MAX_EXTENDED_MESSAGE_LENGTH,
  MAX_MESSAGE_LENGTH,
  MessageFramer,
  MessageType,
  type BgpMessage,
  type CodecOptions,
  type ErrorAction,
  type Family,
  type UpdateMessage,
} from '../../../src/bgp/wire';
import { checkDecode, checkFramer, mutate, rng } from './fuzz-harness';

export function opts(fourOctetAs: boolean, addPath: Family[] = [], extendedMessage = false): CodecOptions {
  return { fourOctetAs, extendedMessage, addPath: new Set(addPath) };
}

/** 4-octet AS negotiated, nothing else: what every modern peer ends up with. */
export const AS4 = opts(true);
/** An OLD (2-octet) speaker. */
export const AS2 = opts(false);

/** Hex fragments (spaces allowed) to bytes. */
export function hex(...parts: string[]): Buffer {
  const text = parts.join('').replace(/\s+/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(text)) throw new Error(`bad hex fixture: ${text}`);
  return Buffer.from(text, 'hex');
}

export const MARKER = 'ffffffffffffffffffffffffffffffff';

/**
 * A whole message: the marker, the declared length and type (written out in
 * the fixture, and checked here against the real size so a typo in a
 * fixture cannot hide an encoder bug), then the body fragments.
 */
export function message(length: number, type: number, ...body: string[]): Buffer {
  const b = hex(MARKER, length.toString(16).padStart(4, '0'), type.toString(16).padStart(2, '0'), ...body);
  if (b.length !== length) throw new Error(`fixture declares length ${length} but has ${b.length} bytes`);
  return b;
}

/** Feeds bytes to a framer one at a time and returns what it emitted. */
export function frameByteByByte(bytes: Buffer, maxMessageLength = MAX_MESSAGE_LENGTH): Buffer[] {
  const f = new MessageFramer(maxMessageLength);
  const out: Buffer[] = [];
  for (const b of bytes) out.push(...f.push(Buffer.from([b])));
  expect(f.bufferedBytes).toBe(0);
  return out;
}

/** Every golden fixture of the current test file, for fuzzGoldenFixtures(). */
const goldens: { name: string; bytes: Buffer; o: CodecOptions }[] = [];

/** The golden test: decode, encode (hex compare), round trip, framer byte by byte. */
export function testMessage(name: string, object: BgpMessage, bytes: Buffer, o: CodecOptions = AS4): void {
  goldens.push({ name, bytes, o });
  describe(name, () => {
    test('decodes to the object', () => {
      expect(decodeMessage(bytes, o)).toStrictEqual(object);
    });
    test('encodes to the bytes', () => {
      expect(encodeMessage(object, o).toString('hex')).toBe(bytes.toString('hex'));
    });
    test('round trips', () => {
      expect(decodeMessage(encodeMessage(object, o), o)).toStrictEqual(object);
    });
    test('frames one byte at a time', () => {
      const out = frameByteByByte(bytes, o.extendedMessage ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH);
      expect(out).toHaveLength(1);
      expect((out[0] as Buffer).toString('hex')).toBe(bytes.toString('hex'));
    });
  });
}

/**
 * For inputs the encoder would write differently (another but valid layout,
 * non-canonical prefixes, AS4 reconciliation): decode, and check that the
 * canonical re-encoding decodes to the same object (or to `reencoded`, where
 * re-encoding changes meaning on purpose, e.g. setting Partial).
 */
export function testDecodeOnly(name: string, object: BgpMessage, bytes: Buffer, o: CodecOptions = AS4, reencoded: BgpMessage = object): void {
  goldens.push({ name, bytes, o });
  describe(name, () => {
    test('decodes to the object', () => {
      expect(decodeMessage(bytes, o)).toStrictEqual(object);
    });
    test('re-encodes to an equivalent message', () => {
      expect(decodeMessage(encodeMessage(object, o), o)).toStrictEqual(reencoded);
    });
    test('frames one byte at a time', () => {
      expect(frameByteByByte(bytes, o.extendedMessage ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH)).toHaveLength(1);
    });
  });
}

/**
 * Mutation fuzzing of every golden fixture registered so far in this file
 * (call once, at the end): `runs` mutants each, decoded and framed under the
 * fixture's options and under the other AS width.
 */
export function fuzzGoldenFixtures(runs = 1000): void {
  describe('fuzz: mutations of the golden fixtures', () => {
    test.each(goldens.map((g, i) => [g.name, i] as const))('%s', (_name, i) => {
      const g = goldens[i] as (typeof goldens)[number];
      const r = rng(0x5eed + i);
      const other: CodecOptions = { ...g.o, fourOctetAs: !g.o.fourOctetAs };
      // Big fixtures get fewer mutants so the suite stays fast; small ones get `runs`.
      const count = Math.max(100, Math.min(runs, Math.floor(200000 / g.bytes.length)));
      for (let n = 0; n < count; n++) {
        const m = mutate(r, g.bytes);
        checkDecode(m, n % 4 === 3 ? other : g.o);
        if (n % 16 === 0) checkFramer(Buffer.concat([g.bytes, m, g.bytes]), r, g.o.extendedMessage ? 65535 : 4096);
      }
    });
  });
}

/** Runs decodeMessage expecting a throw, and returns the BgpWireError. */
export function decodeThrows(bytes: Buffer, o: CodecOptions = AS4): BgpWireError {
  let thrown: unknown;
  try {
    decodeMessage(bytes, o);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(BgpWireError);
  return thrown as BgpWireError;
}

export interface ExpectedError {
  /** Expected NOTIFICATION data, hex; omitted means empty. */
  data?: string;
  o?: CodecOptions;
  /** For UPDATE errors that do not reset: the prefixes that must still have been decoded. */
  nlri?: string[];
}

/**
 * The error table helper. With `session-reset` the decoder must throw;
 * otherwise it must return the UPDATE with exactly one error of that kind.
 */
export function expectDecodeError(code: number, subcode: number, action: ErrorAction, bytes: Buffer, e: ExpectedError = {}): BgpWireError {
  const o = e.o ?? AS4;
  let err: BgpWireError;
  if (action === 'session-reset') {
    err = decodeThrows(bytes, o);
  } else {
    const msg = decodeMessage(bytes, o);
    expect(msg.type).toBe(MessageType.UPDATE);
    const update = msg as UpdateMessage;
    expect(update.errors).toHaveLength(1);
    err = (update.errors as BgpWireError[])[0] as BgpWireError;
    expect(err).toBeInstanceOf(BgpWireError);
    if (e.nlri !== undefined) {
      expect([...update.nlri, ...(update.attributes.mpReach?.nlri ?? [])].map((n) => n.prefix)).toEqual(e.nlri);
    }
  }
  expect({ code: err.notification.code, subcode: err.notification.subcode, action: err.action }).toEqual({ code, subcode, action });
  expect(err.notification.data.toString('hex')).toBe(hex(e.data ?? '').toString('hex'));
  return err;
}
