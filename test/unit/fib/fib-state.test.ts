import { decodeRoute } from '../../../src/netlink/codec';
import { TartanError } from '../../../src/errors';
import { ADD_FLAGS, NextHopSets, REPLACE_FLAGS, writeRequest, writeRequestWords } from '../../../src/bgp/fib/nexthop-sets';
import { DIRTY, DRIFT, FibTable } from '../../../src/bgp/fib/fib-table';

const params = { table: 254, protocol: 201, metric: 32 };

describe('NextHopSets', () => {
  test('the same gateways give the same id, whatever the order or text form; references count', () => {
    const s = new NextHopSets(params);
    const a = s.acquire(['198.18.0.2']);
    expect(s.acquire(['198.18.0.2'])).toBe(a);
    const ecmp = s.acquire(['198.18.0.9', '198.18.0.2']);
    expect(s.acquire(['198.18.0.2', '198.18.0.9'])).toBe(ecmp);
    expect(s.acquireCanonical(['198.18.0.2', '198.18.0.9'])).toBe(ecmp);
    expect(s.acquire(['2001:DB8:0::2'])).toBe(s.acquireCanonical(['2001:db8::2']));
    expect(s.gatewaysOf(ecmp)).toEqual(['198.18.0.2', '198.18.0.9']);
    expect(s.refCount(a)).toBe(2);
    expect(s.refCount(ecmp)).toBe(3);
  });

  test('a set is freed with its last reference, and its id reused', () => {
    const s = new NextHopSets(params);
    const a = s.acquire(['198.18.0.2']);
    s.release(a);
    expect(s.size).toBe(0);
    const b = s.acquire(['198.18.0.3']);
    expect(b).toBe(a);
    expect(s.gatewaysOf(b)).toEqual(['198.18.0.3']);
    // The freed set's inputs no longer map to the reused id.
    expect(s.acquire(['198.18.0.2'])).not.toBe(b);
  });

  test('templates encode the route the codec would, with destination, flags and seq patched in', () => {
    const s = new NextHopSets(params);
    const id = s.acquire(['198.18.0.2', '198.18.0.9']);
    const tpl = s.template(id, 0) as Buffer;
    const buf = Buffer.alloc(256);
    const end = writeRequest(buf, 16, tpl, ADD_FLAGS, 77, Uint32Array.of(0, 0x0a010200), 1, 1, 24);
    expect(end).toBe(16 + tpl.length);
    expect(buf.readUInt16LE(16 + 6)).toBe(ADD_FLAGS);
    expect(buf.readUInt32LE(16 + 8)).toBe(77);
    expect(decodeRoute(buf, 16, end - 16)).toEqual({
      family: 4,
      dst: '10.1.2.0/24',
      table: 254,
      protocol: 201,
      type: 'unicast',
      scope: 'universe',
      metric: 32,
      nextHops: [{ gateway: '198.18.0.2' }, { gateway: '198.18.0.9' }],
    });
  });

  test('the word writer produces the same bytes as the byte writer', () => {
    const s = new NextHopSets(params);
    const cases: [0 | 1, string[], Uint32Array, number][] = [
      [0, ['198.18.0.2'], Uint32Array.of(0xc0a80100), 24],
      [0, ['198.18.0.2', '198.18.0.3'], Uint32Array.of(0x0a000001), 32],
      [1, ['2001:db8::2'], Uint32Array.of(0x20010db8, 0x12345678, 0x9abcdef0, 0x0fedcba9), 128],
    ];
    for (const [fam, hops, key, len] of cases) {
      const id = s.acquire(hops);
      for (const [tpl, words, flags] of [
        [s.template(id, fam) as Buffer, s.templateAsWords(id, fam)!, REPLACE_FLAGS],
        [s.deleteTemplate(fam), s.deleteTemplateAsWords(fam), s.deleteTemplate(fam).readUInt16LE(6)],
      ] as const) {
        const a = Buffer.alloc(256);
        const b = new Uint32Array(64);
        const endA = writeRequest(a, 8, tpl, flags, 0xdeadbeef, key, 0, fam === 0 ? 1 : 4, len);
        const endB = writeRequestWords(b, 2, words, flags, 0xdeadbeef, key, 0, fam === 0 ? 1 : 4, len) << 2;
        expect(endB).toBe(endA);
        expect(Buffer.from(b.buffer).subarray(8, endB)).toEqual(a.subarray(8, endA));
      }
    }
  });

  test('an IPv4 gateway cannot be encoded for an IPv6 prefix: the template is the error', () => {
    const s = new NextHopSets(params);
    const id = s.acquire(['198.18.0.2']);
    expect(s.template(id, 1)).toBeInstanceOf(TartanError);
    expect((s.template(id, 1) as TartanError).code).toBe('NETLINK_BAD_ROUTE');
    expect(s.template(id, 0)).toBeInstanceOf(Buffer);
  });

  test('the delete template carries our protocol and metric; its metric offset is known', () => {
    const s = new NextHopSets(params);
    const tpl = s.deleteTemplate(1);
    const buf = Buffer.alloc(128);
    const end = writeRequest(buf, 0, tpl, tpl.readUInt16LE(6), 5, Uint32Array.of(0x20010db8, 0, 0, 0), 0, 4, 32);
    buf.writeUInt32LE(1024, s.deletePriorityOffset[1]);
    expect(decodeRoute(buf, 0, end)).toMatchObject({ family: 6, dst: '2001:db8::/32', protocol: 201, metric: 1024, nextHops: [] });
  });
});

describe('FibTable', () => {
  test('insert, find, remove and growth keep every key', () => {
    const t = new FibTable(1);
    const key = new Uint32Array(1);
    for (let i = 0; i < 5000; i++) {
      key[0] = (0x0a000000 + i * 256) >>> 0;
      const s = t.insert(key, 24);
      t.setWant(s, 2 + (i % 3));
    }
    expect(t.size).toBe(5000);
    for (let i = 0; i < 5000; i += 2) {
      key[0] = (0x0a000000 + i * 256) >>> 0;
      t.remove(t.find(key, 24));
    }
    expect(t.growsInPlace).toBe(true);
    // Growth over the removed slots' tombstones (in place), then everything is checked below.
    for (let i = 0; i < 6000; i++) {
      key[0] = (0x0b000000 + i * 256) >>> 0;
      t.setWant(t.insert(key, 24), 9);
    }
    for (let i = 0; i < 6000; i++) {
      key[0] = (0x0b000000 + i * 256) >>> 0;
      expect(t.wantAt(t.find(key, 24))).toBe(9);
    }
    for (let i = 0; i < 5000; i++) {
      key[0] = (0x0a000000 + i * 256) >>> 0;
      const s = t.find(key, 24);
      if (i % 2 === 0) expect(s).toBe(-1);
      else expect(t.wantAt(s)).toBe(2 + (i % 3));
      // The same address with another length is another prefix.
      expect(t.find(key, 25)).toBe(-1);
    }
    expect(t.size).toBe(8500);
  });

  test('findOrInsert probes once: finds what is there, adds what is not, reuses removed slots', () => {
    const t = new FibTable(1);
    const key = new Uint32Array(1);
    for (let i = 0; i < 3000; i++) {
      key[0] = i * 7;
      t.findOrInsert(key, 32);
    }
    const epoch = t.epoch;
    expect(epoch).toBeGreaterThan(0); // it grew on the way
    key[0] = 7;
    expect(t.findOrInsert(key, 32)).toBe(t.find(key, 32));
    t.remove(t.find(key, 32));
    expect(t.find(key, 32)).toBe(-1);
    const again = t.findOrInsert(key, 32);
    expect(t.find(key, 32)).toBe(again);
    expect(t.size).toBe(3000);
    expect(t.epoch).toBe(epoch); // no growth, slots stayed put
    for (const v of [0, 14, 20993]) {
      key[0] = v;
      expect(t.findOrInsert(key, 32)).toBe(t.find(key, 32));
    }
    expect(t.size).toBe(3000);
  });

  test('one slot holds key, length, wanted and installed set ids (24 bits) and flags independently', () => {
    const t = new FibTable(4);
    const key = Uint32Array.of(0x20010db8, 0, 0, 1);
    const a = t.insert(key, 128);
    t.setWant(a, 7);
    t.setHave(a, 0xfffffe);
    t.setFlags(a, 0x1d);
    expect([t.lenAt(a), t.wantAt(a), t.haveAt(a), t.flagsAt(a)]).toEqual([128, 7, 0xfffffe, 0x1d]);
    expect(t.installed).toBe(1);
    t.setWant(a, 0);
    t.setHave(a, 0);
    expect([t.lenAt(a), t.wantAt(a), t.haveAt(a), t.flagsAt(a)]).toEqual([128, 0, 0, 0x1d]);
    expect(t.installed).toBe(0);
    const out = new Uint32Array(4);
    t.keyAt(a, out);
    expect([...out]).toEqual([...key]);
    // /0 is a prefix too (length 0 is not an empty slot).
    const d = t.insert(new Uint32Array(4), 0);
    expect(t.find(new Uint32Array(4), 0)).toBe(d);
    expect(t.lenAt(d)).toBe(0);
  });
});

describe('FibTable dirty bitmap', () => {
  test('every dirty slot is handed out until cleared, from a rotating cursor, across growth', () => {
    const t = new FibTable(1);
    const key = new Uint32Array(1);
    for (let i = 0; i < 100; i++) {
      key[0] = i;
      t.markDirty(t.findOrInsert(key, 32));
    }
    expect(t.dirty).toBe(100);
    // Growth moves slots: the dirty marks move with them.
    for (let i = 100; i < 5000; i++) {
      key[0] = i;
      const s = t.findOrInsert(key, 32);
      if (i % 7 === 0) t.markDirty(s);
    }
    const expected = new Set<number>();
    for (let i = 0; i < 5000; i++) if (i < 100 || i % 7 === 0) expected.add(i);
    expect(t.dirty).toBe(expected.size);
    // 5000 prefixes take 16384 slots (192 KiB): the last doublings were in place.
    expect(t.growsInPlace).toBe(true);
    const seen = new Set<number>();
    const out = new Uint32Array(1);
    for (let s = t.nextDirty(); s >= 0; s = t.nextDirty()) {
      expect(t.flagsAt(s) & DIRTY).toBe(DIRTY);
      t.keyAt(s, out);
      expect(seen.has(out[0]!)).toBe(false);
      seen.add(out[0]!);
      t.clearDirty(s);
    }
    expect(seen).toEqual(expected);
    expect(t.dirty).toBe(0);
  });

  test('marking twice counts once; extra flags are added either way; removing a dirty slot unmarks it', () => {
    const t = new FibTable(4);
    const a = t.insert(Uint32Array.of(1, 2, 3, 4), 64);
    expect(t.markDirty(a)).toBe(true);
    expect(t.markDirty(a, DRIFT)).toBe(false);
    expect(t.flagsAt(a)).toBe(DIRTY | DRIFT);
    expect(t.dirty).toBe(1);
    expect(t.nextDirty()).toBe(a);
    // Not cleared yet: still the next one.
    expect(t.nextDirty()).toBe(a);
    t.remove(a);
    expect(t.dirty).toBe(0);
    expect(t.nextDirty()).toBe(-1);
  });

  test('the cursor wraps: slots before it are found too', () => {
    const t = new FibTable(1);
    const key = new Uint32Array(1);
    const slots: number[] = [];
    for (let i = 0; i < 6; i++) {
      key[0] = i * 1000;
      slots.push(t.insert(key, 32));
    }
    const sorted = [...slots].sort((x, y) => x - y);
    t.markDirty(sorted[4]!);
    expect(t.nextDirty()).toBe(sorted[4]);
    t.clearDirty(sorted[4]!);
    t.markDirty(sorted[0]!);
    expect(t.nextDirty()).toBe(sorted[0]);
  });
});
