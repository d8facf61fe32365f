import fc from 'fast-check';
import { AdjRibIn } from '../../../src/bgp/rib/adj-rib-in';
import { LocRib, NetTable, NO_BEST } from '../../../src/bgp/rib/net-table';
import { NONE } from '../../../src/bgp/rib/prefix-table';

describe('NetTable with its LocRib and AdjRibIn views', () => {
  it('behaves like one Map per table under random sets and deletes, and forgets a net once nothing names it (model check)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.boolean(), fc.integer({ min: 0, max: 2500 }), fc.nat({ max: 1000 })), { maxLength: 4000 }),
        (ops) => {
          const nets = new NetTable(1);
          const dense = new AdjRibIn(nets, 16);
          const tables = [new LocRib(nets), new AdjRibIn(nets), dense];
          const models = tables.map(() => new Map<number, number>());
          const key = new Uint32Array(1);
          for (const [which, isSet, addr, value] of ops) {
            // Table 2 gets a wider range of prefixes, so it crosses into its dense form.
            const a = which === 2 ? addr : addr % 300;
            key[0] = a * 256;
            const t = tables[which]!;
            const m = models[which]!;
            if (isSet) {
              expect(t.set(key, 24, value, value + 7)).toBe(m.has(a) ? m.get(a) : NONE);
              m.set(a, value);
            } else {
              expect(t.delete(key, 24)).toBe(m.has(a) ? m.get(a) : NONE);
              m.delete(a);
            }
            expect(t.size).toBe(m.size);
          }
          if (models[2]!.size > 200) expect(dense.dense).toBe(true);
          tables.forEach((t, i) => {
            const seen = new Map<number, number>();
            t.forEach((k, len, v, aux) => {
              expect([len, aux]).toEqual([24, v + 7]);
              seen.set(k[0]! / 256, v);
            });
            expect(seen).toEqual(models[i]);
          });
          // Nets live while named: the union of every table's prefixes.
          const union = new Set(models.flatMap((m) => [...m.keys()]));
          expect(nets.prefixes.size).toBe(union.size);
          for (const t of tables) t.clear();
          expect(nets.prefixes.size).toBe(0);
          expect(nets.bests).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('gives the Loc-RIB and an Adj-RIB-In the same slot (the net id) for a prefix, and reuses the number of a forgotten net', () => {
    const nets = new NetTable(1);
    const loc = new LocRib(nets);
    const adj = new AdjRibIn(nets);
    const key = new Uint32Array([0x0a000000]);
    const slot = ~adj.findOrInsert(key, 8, 5, 1);
    expect(slot).toBe(0);
    // The net exists with no best: not in the Loc-RIB.
    expect([loc.findSlot(key, 8), loc.size, nets.prefixes.valueAt(slot)]).toEqual([-1, 0, NO_BEST]);
    expect(loc.setBestIfNone(slot, 5, 3)).toBe(true);
    expect(loc.setBestIfNone(slot, 6, 3)).toBe(false);
    expect([loc.findSlot(key, 8), loc.get(key, 8), loc.aux(key, 8), loc.size]).toEqual([slot, 5, 3, 1]);
    // The route goes; the best keeps the net; then the best goes too, and the number is free.
    expect(adj.delete(key, 8)).toBe(5);
    expect(nets.prefixes.size).toBe(1);
    loc.deleteAt(slot);
    expect(nets.prefixes.size).toBe(0);
    key[0] = 0x0b000000;
    expect(~adj.findOrInsert(key, 8, 9, 9)).toBe(slot);
    expect(() => loc.set(key, 8, NO_BEST)).toThrow(RangeError);
  });

  it('keeps a source with many of the nets in arrays by net id, and its entries through the switch', () => {
    const nets = new NetTable(1);
    const adj = new AdjRibIn(nets);
    const few = new AdjRibIn(nets);
    const key = new Uint32Array(1);
    for (let i = 0; i < 5000; i++) {
      key[0] = 0x0a000000 + i;
      adj.set(key, 32, i % 1000, i);
      if (i % 100 === 0) few.set(key, 32, 1, 2);
    }
    // Dense: two words per net id; the one with 50 routes stays a small table.
    expect([adj.dense, few.dense]).toEqual([true, false]);
    expect(adj.byteLength).toBeGreaterThanOrEqual(5000 * 8);
    expect(few.byteLength).toBeLessThan(5000);
    const wrong: number[] = [];
    for (let i = 0; i < 5000; i++) {
      key[0] = 0x0a000000 + i;
      if (adj.get(key, 32) !== i % 1000 || adj.aux(key, 32) !== i) wrong.push(i);
    }
    expect(wrong).toEqual([]);
    expect(few.size).toBe(50);
    adj.clear();
    // The nets the small table names stay; the rest are gone.
    expect([adj.size, nets.prefixes.size]).toEqual([0, 50]);
  });
});
