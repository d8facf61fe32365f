import fc from 'fast-check';
import { PrefixTable, NONE, MAX_VALUE, IN_PLACE_BYTES } from '../../../src/bgp/rib/prefix-table';
import { keyFromCidr, cidrFromKey, readNlri, writeNlri, nlriSize } from '../../../src/bgp/rib/prefix-key';

describe('PrefixTable', () => {
  it('behaves like a Map under random set/delete sequences (model check)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 32 }), fc.nat({ max: MAX_VALUE })), { maxLength: 2000 }),
        (ops) => {
          const t = new PrefixTable({ addressWords: 1 });
          const model = new Map<string, number>();
          const key = new Uint32Array(1);
          for (const [isSet, addr, len, value] of ops) {
            key[0] = addr * 7919;
            const id = `${key[0]}/${len}`;
            if (isSet) {
              expect(t.set(key, len, value)).toBe(model.has(id) ? model.get(id) : NONE);
              model.set(id, value);
            } else {
              expect(t.delete(key, len)).toBe(model.has(id) ? model.get(id) : NONE);
              model.delete(id);
            }
            expect(t.size).toBe(model.size);
          }
          const seen = new Map<string, number>();
          t.forEach((k, len, v) => seen.set(`${k[0]}/${len}`, v));
          expect(seen).toEqual(model);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps ADD-PATH paths of one prefix apart and grows past its initial capacity', () => {
    const t = new PrefixTable({ addressWords: 1, addPath: true });
    const key = new Uint32Array(2);
    for (let i = 0; i < 100_000; i++) {
      key[0] = 0x0a000000 + (i >>> 1);
      key[1] = i & 1;
      t.set(key, 32, i, 7);
    }
    expect(t.size).toBe(100_000);
    key[0] = 0x0a000000 + 1234;
    key[1] = 1;
    expect(t.get(key, 32)).toBe(2469);
    expect(t.aux(key, 32)).toBe(7);
    key[1] = 0;
    expect(t.get(key, 32)).toBe(2468);
    expect(t.get(key, 31)).toBe(NONE);
    // IPv4 with path ids: a 16-byte record (4+4 key, 1 len, 3 value, 4 stamp) and 8-16 bytes of index, plus room to grow.
    expect(t.byteLength / t.size).toBeLessThan(60);
  });

  it('grows in place, like a Map, under random set/delete sequences (model check)', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 32 }), fc.nat({ max: MAX_VALUE })), { maxLength: 3000 }),
        (addPath, ops) => {
          // Every table grows in place from its first rebuild on: doublings, tombstone clean-ups, reserve().
          const t = new PrefixTable({ addressWords: 1, addPath, inPlaceFromBytes: 0 });
          const model = new Map<string, number>();
          const key = new Uint32Array(2);
          for (const [op, addr, len, value] of ops) {
            key[0] = addr * 7919;
            key[1] = addr & 3;
            const id = `${key[0]}/${len}`;
            if (op === 9) {
              t.reserve(t.size + addr);
            } else if (op < 6) {
              expect(t.set(key, len, value, value ^ 0x5a5a)).toBe(model.has(id) ? model.get(id) : NONE);
              model.set(id, value);
            } else {
              expect(t.delete(key, len)).toBe(model.has(id) ? model.get(id) : NONE);
              model.delete(id);
            }
            expect(t.size).toBe(model.size);
          }
          if (t.byteLength >= 16 * 4 * (addPath ? 4 : 3) * 2) expect(t.growsInPlace).toBe(true);
          const seen = new Map<string, number>();
          t.forEach((k, len, v, aux) => {
            expect(aux).toBe(v ^ 0x5a5a);
            seen.set(`${k[0]}/${len}`, v);
          });
          expect(seen).toEqual(model);
          for (const [id, v] of model) {
            const [addr, len] = id.split('/').map(Number) as [number, number];
            key[0] = addr;
            key[1] = (addr / 7919) & 3;
            expect(t.get(key, len)).toBe(v);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('moves a big table into growable memory and keeps every entry through its doublings', () => {
    const t = new PrefixTable({ addressWords: 1 });
    const key = new Uint32Array(1);
    const n = 60_000;
    const sizes: [number, boolean][] = [];
    for (let i = 0; i < n; i++) {
      key[0] = 0x0a000000 + i * 256;
      t.set(key, 24, i & 0xffff, i);
      if (sizes.at(-1)?.[0] !== t.byteLength) sizes.push([t.byteLength, t.growsInPlace]);
    }
    // Small tables stay plain arrays; once both arrays reach IN_PLACE_BYTES, growth is in place.
    expect(sizes.length).toBeGreaterThan(5);
    for (const [bytes, inPlace] of sizes) if (bytes < IN_PLACE_BYTES) expect(inPlace).toBe(false);
    expect(sizes.at(-1)![1]).toBe(true);
    // Delete three quarters, then add new prefixes: the tombstones fill the table up, and it is rebuilt at the same size.
    let deleted = 0;
    for (let i = 0; i < n; i++) {
      key[0] = 0x0a000000 + i * 256;
      if (i % 4 && t.delete(key, 24) === (i & 0xffff)) deleted++;
    }
    expect(deleted).toBe((n * 3) / 4);
    const bytes = t.byteLength;
    for (let i = 0; i < n; i += 4) {
      key[0] = 0x0b000000 + i * 256;
      t.set(key, 24, 7, 8);
    }
    expect(t.byteLength).toBe(bytes);
    expect(t.size).toBe(n / 2);
    const wrong: number[] = [];
    for (let i = 0; i < n; i++) {
      key[0] = 0x0a000000 + i * 256;
      const a = t.get(key, 24) === (i % 4 ? NONE : i & 0xffff) && t.aux(key, 24) === (i % 4 ? NONE : i);
      key[0] = 0x0b000000 + i * 256;
      if (!a || t.get(key, 24) !== (i % 4 ? NONE : 7)) wrong.push(i);
    }
    expect(wrong).toEqual([]);
  });

  it('grows by copying when asked never to grow in place', () => {
    const t = new PrefixTable({ addressWords: 4, inPlaceFromBytes: Infinity });
    const key = new Uint32Array(4);
    for (let i = 0; i < 20_000; i++) {
      key[3] = i;
      t.set(key, 128, i);
    }
    expect(t.growsInPlace).toBe(false);
    expect(t.byteLength).toBeGreaterThan(IN_PLACE_BYTES);
    const wrong: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      key[3] = i;
      if (t.get(key, 128) !== i) wrong.push(i);
    }
    expect(wrong).toEqual([]);
  });

  it('refuses values that do not fit beside the prefix length', () => {
    const t = new PrefixTable({ addressWords: 1 });
    const key = new Uint32Array([0x0a000000]);
    expect(() => t.set(key, 8, MAX_VALUE + 1)).toThrow(RangeError);
    expect(() => t.set(key, 8, -2)).toThrow(RangeError);
    expect(t.set(key, 8, MAX_VALUE, 0xffffffff)).toBe(NONE);
    expect(t.get(key, 8)).toBe(MAX_VALUE);
    expect(t.aux(key, 8)).toBe(0xffffffff);
    // /0 and /128-long lengths share the tag byte with the value.
    expect(t.set(key, 0, 1)).toBe(NONE);
    expect(t.get(key, 0)).toBe(1);
    expect(t.size).toBe(2);
  });

  it('touch() reads the index word where a probe for the key starts, and changes nothing', () => {
    const t = new PrefixTable({ addressWords: 1 });
    const key = new Uint32Array([0x0a000001]);
    const h = t.hashOf(key, 32);
    expect(t.touch(h)).toBe(0); // an empty bucket
    t.set(key, 32, 1234, 9);
    // Alone in the table, the entry's bucket is its home: the hash's top byte, then record 0 (+1).
    expect(t.touch(h)).toBe((((h >>> 24) << 24) | 1) >>> 0);
    expect(t.size).toBe(1);
    expect(t.get(key, 32)).toBe(1234);
    expect(t.aux(key, 32)).toBe(9);
  });

  it('keeps a slot (record) number for an entry through growth, reuses freed records, and visits entries in the order added', () => {
    const t = new PrefixTable({ addressWords: 1 });
    const key = new Uint32Array(1);
    const slots: number[] = [];
    for (let i = 0; i < 50_000; i++) {
      key[0] = 0x0a000000 + i;
      slots.push(~t.findOrInsert(key, 32, i & 0xffff, i));
    }
    expect(slots.slice(0, 3)).toEqual([0, 1, 2]);
    const moved = slots.filter((slot, i) => t.auxAt(slot) !== i || t.valueAt(slot) !== (i & 0xffff));
    expect(moved).toEqual([]);
    const order: number[] = [];
    t.forEach((_k, _len, _v, aux) => order.push(aux));
    expect(order).toEqual(slots.map((_s, i) => i));
    // deleteAt() removes the entry the slot names; its record is the next one handed out.
    key[0] = 0x0a000000 + 777;
    const slot = t.findSlot(key, 32);
    expect(slot).toBe(slots[777]);
    t.deleteAt(slot);
    expect([t.get(key, 32), t.size]).toEqual([NONE, 49_999]);
    key[0] = 0x0b000000;
    expect(t.findOrInsert(key, 8, 1, 2)).toBe(~slots[777]!);
    expect(t.get(key, 8)).toBe(1);
  });

  it('findOrInsert() inserts once (~slot), then finds the entry unchanged (slot), also over a tombstone', () => {
    const t = new PrefixTable({ addressWords: 1 });
    const key = new Uint32Array([0x0a000100]);
    const first = t.findOrInsert(key, 24, 5, 6);
    expect(first).toBeLessThan(0);
    expect(t.findOrInsert(key, 24, 9, 9)).toBe(~first);
    expect([t.get(key, 24), t.aux(key, 24), t.size]).toEqual([5, 6, 1]);
    expect(t.delete(key, 24)).toBe(5);
    const again = t.findOrInsert(key, 24, 7, 8);
    expect(again).toBeLessThan(0);
    expect([t.valueAt(~again), t.auxAt(~again), t.size]).toEqual([7, 8, 1]);
    // Many keys: each inserted once, found after (through growth).
    for (let i = 0; i < 5000; i++) {
      key[0] = i * 256;
      expect(t.findOrInsert(key, 24, i % 1000, i)).toBeLessThan(0);
    }
    for (let i = 0; i < 5000; i++) {
      key[0] = i * 256;
      const slot = t.findOrInsert(key, 24, 0, 0);
      expect(slot).toBeGreaterThanOrEqual(0);
      expect(t.auxAt(slot)).toBe(i);
    }
  });

  it('stores IPv6 keys', () => {
    const t = new PrefixTable({ addressWords: 4 });
    const key = new Uint32Array(4);
    const len = keyFromCidr('2001:db8:1::/48', key);
    t.set(key, len, 42);
    const again = new Uint32Array(4);
    expect(t.get(again, keyFromCidr('2001:db8:1::/48', again))).toBe(42);
    expect(t.get(again, keyFromCidr('2001:db8:2::/48', again))).toBe(NONE);
  });
});

describe('prefix keys', () => {
  it.each(['10.1.2.0/24', '0.0.0.0/0', '255.255.255.255/32', '2001:db8::/32', '::/0', 'fd00:7a7a:1::1/128'])('round-trips %s through key and wire bytes', (cidr) => {
    const words = cidr.includes(':') ? 4 : 1;
    const key = new Uint32Array(words);
    const len = keyFromCidr(cidr, key);
    expect(cidrFromKey(key, len, words)).toBe(cidr);
    const buf = Buffer.alloc(32);
    const end = writeNlri(buf, 0, key, len);
    expect(end).toBe(nlriSize(len, false));
    const back = new Uint32Array(words);
    expect(readNlri(buf, 0, words, false, back)).toBe(len);
    expect(back).toEqual(key);
  });

  it('clears bits past the prefix length when reading NLRI (RFC 4271 §4.3 trailing bits)', () => {
    const key = new Uint32Array(1);
    expect(readNlri(Buffer.from([20, 10, 1, 0xff]), 0, 1, false, key)).toBe(20);
    expect(cidrFromKey(key, 20, 1)).toBe('10.1.240.0/20');
  });

  it('reads and writes path identifiers', () => {
    const key = new Uint32Array([0x0a000000, 77]);
    const buf = Buffer.alloc(16);
    const end = writeNlri(buf, 0, key, 8, 77);
    expect(buf.subarray(0, end)).toEqual(Buffer.from([0, 0, 0, 77, 8, 10]));
    const back = new Uint32Array(2);
    expect(readNlri(buf, 0, 1, true, back)).toBe(8);
    expect([...back]).toEqual([0x0a000000, 77]);
  });
});
