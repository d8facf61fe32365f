/** Property-based round trips: arbitrary valid messages encode, decode back to themselves, and re-encode to the same bytes. */
import fc from 'fast-check';
import { decodeMessage, encodeMessage, MessageFramer, type BgpMessage, type CodecOptions } from '../../../src/bgp/wire';
import { anyMessage, codecOptions, openMessage, updateMessage } from './arbitraries';

function roundTrip(o: CodecOptions, msg: BgpMessage): void {
  const bytes = encodeMessage(msg, o);
  expect(bytes.length).toBeLessThanOrEqual(4096);
  const decoded = decodeMessage(bytes, o);
  expect(decoded).toStrictEqual(msg);
  expect(encodeMessage(decoded, o).equals(bytes)).toBe(true);
}

describe('encode -> decode is the identity', () => {
  test('UPDATE, any options (2/4-octet AS, ADD-PATH per family)', () => {
    fc.assert(
      fc.property(codecOptions.chain((o) => fc.tuple(fc.constant(o), updateMessage(o))), ([o, msg]) => roundTrip(o, msg)),
      { numRuns: 1500 },
    );
  });

  test('OPEN with any capabilities', () => {
    fc.assert(fc.property(openMessage, (msg) => roundTrip({ fourOctetAs: true, extendedMessage: false, addPath: new Set() }, msg)), {
      numRuns: 700,
    });
  });

  test('any message, fed through the framer in random chunks', () => {
    fc.assert(
      fc.property(
        codecOptions.chain((o) => fc.tuple(fc.constant(o), fc.array(anyMessage(o), { minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 64 }))),
        ([o, msgs, chunk]) => {
          const stream = Buffer.concat(msgs.map((m) => encodeMessage(m, o)));
          const framer = new MessageFramer();
          const out: Buffer[] = [];
          for (let i = 0; i < stream.length; i += chunk) out.push(...framer.push(stream.subarray(i, i + chunk)));
          expect(out.map((raw) => decodeMessage(raw, o))).toStrictEqual(msgs);
        },
      ),
      { numRuns: 500 },
    );
  });
});
