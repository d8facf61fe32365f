import fc from 'fast-check';
import { NlriBatch } from '../../../src/bgp/rib/nlri-batch';
import { nlriSize, readNlri } from '../../../src/bgp/rib/prefix-key';

describe('NlriBatch', () => {
  it('decodes packed NLRI into the keys and lengths readNlri gives, trailing bits cleared (RFC 4271 §4.3), with and without path ids', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 32 }), fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), fc.nat()), { maxLength: 300 }),
        (addPath, entries) => {
          const parts: number[] = [];
          for (const [len, bytes, pathId] of entries) {
            if (addPath) parts.push(pathId >>> 24, (pathId >>> 16) & 255, (pathId >>> 8) & 255, pathId & 255);
            parts.push(len, ...bytes.slice(0, (len + 7) >>> 3));
          }
          const buf = Buffer.from(parts);
          const batch = new NlriBatch();
          const stride = addPath ? 2 : 1;
          batch.load({ packed: buf, addPath }, 1, stride);
          expect(batch.count).toBe(entries.length);
          const want = new Uint32Array(stride);
          const got = new Uint32Array(stride);
          let off = 0;
          for (let i = 0; i < entries.length; i++) {
            const len = readNlri(buf, off, 1, addPath, want);
            off += nlriSize(len, addPath);
            batch.keyAt(i, got);
            expect([batch.lens[i], ...got]).toEqual([len, ...want]);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('skips text prefixes it cannot parse, and keys a path id only where the table has one', () => {
    const batch = new NlriBatch();
    batch.load({ list: [{ prefix: '10.1.0.0/16', pathId: 7 }, { prefix: 'nonsense' }, { prefix: '10.2.0.0/16' }] }, 1, 2);
    const key = new Uint32Array(2);
    expect(batch.count).toBe(2);
    batch.keyAt(0, key);
    expect([...key, batch.lens[0]]).toEqual([0x0a010000, 7, 16]);
    batch.keyAt(1, key);
    expect([...key, batch.lens[1]]).toEqual([0x0a020000, 0, 16]);
    // A table without path ids: the id is not written after the key (where the next key goes).
    const plain = new NlriBatch();
    plain.load({ list: [{ prefix: '10.1.0.0/16', pathId: 7 }] }, 1, 1);
    expect([plain.count, plain.keys[0], plain.keys[1]]).toEqual([1, 0x0a010000, 0]);
  });
});
