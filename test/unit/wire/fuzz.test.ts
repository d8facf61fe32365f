/**
 * Fuzzing: random bytes, random but well-framed bodies, random attribute and
 * capability TLVs, mutations of random valid messages, and hostile framer
 * streams. The golden fixtures are mutated in their own files
 * (fuzzGoldenFixtures). Seeds are fixed, so failures reproduce.
 */
import fc from 'fast-check';
import { encodeMessage, MessageType, type CodecOptions } from '../../../src/bgp/wire';
import { anyMessage, codecOptions } from './arbitraries';
import { checkDecode, checkFramer, mutate, rng, type OracleStats } from './fuzz-harness';
import { AS2, AS4, hex, MARKER, opts } from './helpers';

const OPTIONS: CodecOptions[] = [AS4, AS2, opts(true, ['ipv4-unicast', 'ipv6-unicast']), opts(false, ['ipv6-unicast'], true)];
const ATTRIBUTE_TYPES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 32, 99, 200];
const FLAGS = [0x40, 0x80, 0xc0, 0xe0, 0x50, 0x90, 0xd0, 0x00, 0x10];

function int(r: () => number, n: number): number {
  return Math.floor(r() * n);
}
function randomBytes(r: () => number, n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, () => int(r, 256)));
}
function frame(type: number, body: Buffer): Buffer {
  const head = hex(MARKER, '0000', type.toString(16).padStart(2, '0'));
  head.writeUInt16BE(Math.min(0xffff, 19 + body.length), 16);
  return Buffer.concat([head, body]);
}
function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n & 0xffff);
  return b;
}

/** A plausible attribute value for a type, sometimes the right size, sometimes not. */
function attributeValue(r: () => number, type: number): Buffer {
  switch (type) {
    case 2:
    case 17: {
      const segs: Buffer[] = [];
      for (let i = 0, n = int(r, 4); i < n; i++) {
        const count = int(r, 5);
        segs.push(Buffer.from([1 + int(r, 5), count]), randomBytes(r, count * (r() < 0.5 ? 2 : 4)));
      }
      return Buffer.concat(segs);
    }
    case 14: {
      const afi = r() < 0.5 ? 1 : 2;
      const nh = [4, 16, 32, int(r, 40)][int(r, 4)] as number;
      const nlri: Buffer[] = [];
      for (let i = 0, n = int(r, 4); i < n; i++) {
        const len = int(r, afi === 1 ? 34 : 130);
        nlri.push(Buffer.from([len]), randomBytes(r, Math.ceil(len / 8)));
      }
      return Buffer.concat([u16(afi), Buffer.from([r() < 0.9 ? 1 : int(r, 256), nh]), randomBytes(r, nh), Buffer.from([0]), ...nlri]);
    }
    case 15: {
      const afi = r() < 0.5 ? 1 : 2;
      const nlri: Buffer[] = [];
      for (let i = 0, n = int(r, 4); i < n; i++) {
        const len = int(r, afi === 1 ? 34 : 130);
        nlri.push(Buffer.from([len]), randomBytes(r, Math.ceil(len / 8)));
      }
      return Buffer.concat([u16(afi), Buffer.from([1]), ...nlri]);
    }
    default:
      return randomBytes(r, [0, 1, 4, 6, 8, 12, int(r, 300)][int(r, 7)] as number);
  }
}

function randomUpdate(r: () => number): Buffer {
  const attrs: Buffer[] = [];
  for (let i = 0, n = int(r, 8); i < n; i++) {
    const type = ATTRIBUTE_TYPES[int(r, ATTRIBUTE_TYPES.length)] as number;
    const value = attributeValue(r, type);
    let flags = FLAGS[int(r, FLAGS.length)] as number;
    if (value.length > 255) flags |= 0x10;
    const ext = (flags & 0x10) !== 0;
    attrs.push(Buffer.from([flags, type]), ext ? u16(value.length) : Buffer.from([value.length & 0xff]), value);
  }
  const a = Buffer.concat(attrs);
  const nlri: Buffer[] = [];
  for (let i = 0, n = int(r, 4); i < n; i++) {
    const len = int(r, 34);
    nlri.push(Buffer.from([len]), randomBytes(r, Math.ceil(len / 8)));
  }
  const w = r() < 0.3 ? Buffer.from([24, 10, 0, 0]) : Buffer.alloc(0);
  return frame(MessageType.UPDATE, Buffer.concat([u16(w.length), w, u16(a.length), a, ...nlri]));
}

function randomOpen(r: () => number): Buffer {
  const params: Buffer[] = [];
  for (let i = 0, n = int(r, 3); i < n; i++) {
    const caps: Buffer[] = [];
    for (let j = 0, m = int(r, 5); j < m; j++) {
      const code = [1, 2, 5, 6, 64, 65, 69, 70, int(r, 256)][int(r, 9)] as number;
      const value = randomBytes(r, [0, 2, 4, 6, 8, int(r, 20)][int(r, 6)] as number);
      caps.push(Buffer.from([code, value.length]), value);
    }
    const c = Buffer.concat(caps);
    params.push(Buffer.from([r() < 0.9 ? 2 : int(r, 256), c.length & 0xff]), c);
  }
  const p = Buffer.concat(params);
  return frame(MessageType.OPEN, Buffer.concat([hex('04 fde9 005a c0000201'), Buffer.from([p.length & 0xff]), p]));
}

describe('fuzz: decodeMessage throws only BgpWireError', () => {
  test('completely random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(...OPTIONS), (b, o) => checkDecode(Buffer.from(b), o)),
      { numRuns: 3000 },
    );
  });

  test('well-framed messages with random bodies (20000)', () => {
    const r = rng(1);
    for (let i = 0; i < 20000; i++) {
      const type = r() < 0.95 ? 1 + int(r, 5) : int(r, 256);
      checkDecode(frame(type, randomBytes(r, int(r, 120))), OPTIONS[i % OPTIONS.length] as CodecOptions);
    }
  });

  test('UPDATEs of random attribute TLVs (20000), reaching both outcomes', () => {
    const r = rng(2);
    const stats: OracleStats = { decoded: 0, rejected: 0 };
    for (let i = 0; i < 20000; i++) checkDecode(randomUpdate(r), OPTIONS[i % OPTIONS.length] as CodecOptions, stats);
    // Not a vacuous run: plenty decode (with or without RFC 7606 errors) and plenty reset.
    expect(stats.decoded).toBeGreaterThan(2000);
    expect(stats.rejected).toBeGreaterThan(2000);
  });

  test('OPENs of random parameters and capabilities (10000), reaching both outcomes', () => {
    const r = rng(3);
    const stats: OracleStats = { decoded: 0, rejected: 0 };
    for (let i = 0; i < 10000; i++) checkDecode(randomOpen(r), AS4, stats);
    expect(stats.decoded).toBeGreaterThan(1000);
    expect(stats.rejected).toBeGreaterThan(1000);
  });

  test('mutations of random valid messages (2000 x 5)', () => {
    const r = rng(4);
    fc.assert(
      fc.property(
        codecOptions.chain((o) => fc.tuple(fc.constant(o), anyMessage(o))),
        ([o, msg]) => {
          const bytes = encodeMessage(msg, o);
          for (let i = 0; i < 5; i++) checkDecode(mutate(r, bytes), o);
        },
      ),
      { numRuns: 2000, seed: 42 },
    );
  });
});

describe('fuzz: MessageFramer throws only BgpWireError and stays poisoned', () => {
  test('valid streams in random chunks come out whole', () => {
    const r = rng(5);
    fc.assert(
      fc.property(codecOptions.chain((o) => fc.array(anyMessage(o), { minLength: 1, maxLength: 6 }).map((m) => [o, m] as const)), ([o, msgs]) => {
        const encoded = msgs.map((m) => encodeMessage(m, o));
        const out = checkFramer(Buffer.concat(encoded), r);
        expect(out.map((b) => b.toString('hex'))).toStrictEqual(encoded.map((b) => b.toString('hex')));
      }),
      { numRuns: 500, seed: 43 },
    );
  });

  test('garbage, and valid messages with garbage spliced in (5000)', () => {
    const r = rng(6);
    const keepalive = frame(MessageType.KEEPALIVE, Buffer.alloc(0));
    for (let i = 0; i < 5000; i++) {
      const parts: Buffer[] = [];
      for (let j = 0, n = 1 + int(r, 4); j < n; j++) parts.push(r() < 0.5 ? keepalive : mutate(r, randomUpdate(r)));
      if (r() < 0.3) parts.push(randomBytes(r, int(r, 40)));
      checkFramer(Buffer.concat(parts), r, r() < 0.5 ? 4096 : 65535);
    }
  });
});
