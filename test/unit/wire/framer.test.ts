import fc from 'fast-check';
import { BgpWireError, MessageFramer, MAX_EXTENDED_MESSAGE_LENGTH } from '../../../src/bgp/wire';
import { hex, MARKER, message } from './helpers';

const KEEPALIVE = message(19, 4);
const NOTIFICATION = message(23, 3, '0602', '0000');
const OPEN = message(29, 1, '04 fde9 00b4 c0000201 00');

function thrown(fn: () => unknown): BgpWireError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BgpWireError);
    return err as BgpWireError;
  }
  throw new Error('expected a throw');
}

describe('MessageFramer', () => {
  test('returns every complete message of a chunk, in order', () => {
    const f = new MessageFramer();
    const out = f.push(Buffer.concat([OPEN, KEEPALIVE, NOTIFICATION]));
    expect(out.map((b) => b.toString('hex'))).toStrictEqual([OPEN, KEEPALIVE, NOTIFICATION].map((b) => b.toString('hex')));
    expect(f.bufferedBytes).toBe(0);
  });

  test('buffers a partial message across pushes', () => {
    const f = new MessageFramer();
    expect(f.push(OPEN.subarray(0, 10))).toStrictEqual([]);
    expect(f.push(OPEN.subarray(10, 20))).toStrictEqual([]);
    expect(f.bufferedBytes).toBe(20);
    const out = f.push(Buffer.concat([OPEN.subarray(20), KEEPALIVE.subarray(0, 5)]));
    expect(out.map((b) => b.toString('hex'))).toStrictEqual([OPEN.toString('hex')]);
    expect(f.bufferedBytes).toBe(5);
    expect(f.push(KEEPALIVE.subarray(5))[0]?.toString('hex')).toBe(KEEPALIVE.toString('hex'));
  });

  test('an empty push is harmless', () => {
    const f = new MessageFramer();
    expect(f.push(Buffer.alloc(0))).toStrictEqual([]);
    f.push(KEEPALIVE.subarray(0, 3));
    expect(f.push(Buffer.alloc(0))).toStrictEqual([]);
    expect(f.bufferedBytes).toBe(3);
  });

  test('any split of a stream yields the same messages', () => {
    const stream = Buffer.concat([OPEN, KEEPALIVE, NOTIFICATION, KEEPALIVE, OPEN]);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 20 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), stream.length];
        const f = new MessageFramer();
        const out: Buffer[] = [];
        for (let i = 0; i + 1 < points.length; i++) out.push(...f.push(stream.subarray(points[i], points[i + 1])));
        expect(Buffer.concat(out).equals(stream)).toBe(true);
        expect(out).toHaveLength(5);
      }),
      { numRuns: 300 },
    );
  });

  test('a bad marker is rejected as soon as its first bad byte arrives (1/1)', () => {
    const f = new MessageFramer();
    f.push(hex('ffff'));
    const err = thrown(() => f.push(hex('00')));
    expect([err.notification.code, err.notification.subcode, err.notification.data.length]).toStrictEqual([1, 1, 0]);
  });

  test('a bad length is rejected from the header, before the body arrives (1/2, data = length)', () => {
    const f = new MessageFramer();
    const err = thrown(() => f.push(hex(MARKER, '1001')));
    expect([err.notification.code, err.notification.subcode, err.notification.data.toString('hex')]).toStrictEqual([1, 2, '1001']);
    const short = thrown(() => new MessageFramer().push(hex(MARKER, '0012')));
    expect(short.notification.data.toString('hex')).toBe('0012');
  });

  test('is poisoned after an error: every later push throws the same error', () => {
    const f = new MessageFramer();
    const err = thrown(() => f.push(hex('00')));
    expect(thrown(() => f.push(KEEPALIVE))).toBe(err);
    expect(thrown(() => f.push(Buffer.alloc(0)))).toBe(err);
  });

  test('maxMessageLength: 4096 by default, 65535 after Extended Message', () => {
    const big = Buffer.concat([hex(MARKER, 'ffff', '02'), Buffer.alloc(65535 - 19)]);
    const f = new MessageFramer();
    expect(f.maxMessageLength).toBe(4096);
    f.maxMessageLength = MAX_EXTENDED_MESSAGE_LENGTH;
    const out = f.push(big);
    expect(out).toHaveLength(1);
    expect(out[0]?.length).toBe(65535);
    expect(() => new MessageFramer().push(big)).toThrow(BgpWireError);
  });

  test('rejects a nonsensical maximum', () => {
    expect(() => new MessageFramer(18)).toThrow(/maxMessageLength/);
    expect(() => new MessageFramer(65536)).toThrow(/maxMessageLength/);
    const f = new MessageFramer();
    expect(() => {
      f.maxMessageLength = 1.5;
    }).toThrow(/maxMessageLength/);
  });

  test('a message inside one chunk is returned without copying', () => {
    const chunk = Buffer.concat([KEEPALIVE, KEEPALIVE]);
    const [first] = new MessageFramer().push(chunk);
    expect(first?.buffer).toBe(chunk.buffer);
  });
});
