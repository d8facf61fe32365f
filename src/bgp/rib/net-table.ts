/**
 * Every prefix one address family's RIB holds, numbered: one PrefixTable
 * whose record number is the prefix's "net id", and whose entry carries the
 * Loc-RIB's best route (LocRib). Adj-RIB-Ins without ADD-PATH (AdjRibIn)
 * keep their routes in arrays indexed by net id instead of hash tables of
 * their own.
 *
 * Why (BIRD's layout: one table of nets, the routes hung off each net): at
 * a million routes the cost of a table load is its random memory accesses.
 * With a hash table per Adj-RIB-In and one for the Loc-RIB, a new route
 * paid two random lookups and two index rebuilds as the tables grew; here
 * it pays one lookup, and the Adj-RIB-In and Loc-RIB writes land at the net
 * id — in the order the prefixes arrived, one after another.
 *
 * A net lives while an Adj-RIB-In entry names it (its reference count) or
 * it has a best route; then its number is free for another prefix.
 */
import { SlotTable } from './rib-table';
import { MAX_VALUE, PrefixTable } from './prefix-table';

/** The value of a net without a best route. */
export const NO_BEST = MAX_VALUE;

export class NetTable {
  /**
   * Prefix → net id (the record number); value = best route's attribute
   * set or NO_BEST, aux = the LocRib's aux, extra word = how many
   * Adj-RIB-In entries (fresh or stale) name the net: in the record, whose
   * line a new route writes anyway.
   */
  readonly prefixes: PrefixTable;
  /** Nets with a best route. */
  bests = 0;

  constructor(readonly addressWords: 1 | 4) {
    this.prefixes = new PrefixTable({ addressWords, extraWord: true });
  }

  /** The net id of a prefix, added (no best, no references) when new; as findOrInsert: ~id when added. */
  findOrAdd(key: Uint32Array, len: number, h: number): number {
    return this.prefixes.findOrInsertHashed(key, len, h, NO_BEST, 0);
  }

  ref(id: number): void {
    this.prefixes.setExtraAt(id, this.prefixes.extraAt(id) + 1);
  }

  /** One reference fewer; the net goes when none is left and it has no best route. */
  unref(id: number): void {
    this.prefixes.setExtraAt(id, this.prefixes.extraAt(id) - 1);
    this.dropIfUnused(id);
  }

  /** Forget net `id` if nothing names it: no reference and no best route. */
  dropIfUnused(id: number): void {
    if (this.prefixes.extraAt(id) === 0 && this.prefixes.valueAt(id) === NO_BEST) this.prefixes.deleteAt(id);
  }

  get byteLength(): number {
    return this.prefixes.byteLength;
  }
}

/** The Loc-RIB of one family: the nets that have a best route. Slots are net ids. */
export class LocRib extends SlotTable {
  readonly addPath = false;
  readonly addressWords: 1 | 4;
  readonly stride: number;
  private readonly prefixes: PrefixTable;

  constructor(readonly nets: NetTable) {
    super();
    this.prefixes = nets.prefixes;
    this.addressWords = nets.addressWords;
    this.stride = nets.addressWords;
  }

  get size(): number {
    return this.nets.bests;
  }

  /** The net table is counted here (the Adj-RIB-Ins hold only their own arrays). */
  get byteLength(): number {
    return this.nets.byteLength;
  }

  findSlot(key: Uint32Array, len: number): number {
    const id = this.prefixes.findSlot(key, len);
    return id >= 0 && this.prefixes.valueAt(id) !== NO_BEST ? id : -1;
  }

  valueAt(slot: number): number {
    return this.prefixes.valueAt(slot);
  }

  auxAt(slot: number): number {
    return this.prefixes.auxAt(slot);
  }

  setAt(slot: number, value: number, aux: number): void {
    checkBest(value);
    this.prefixes.setAt(slot, value, aux);
  }

  deleteAt(slot: number): void {
    this.prefixes.setAt(slot, NO_BEST, 0);
    this.nets.bests--;
    this.nets.dropIfUnused(slot);
  }

  findOrInsert(key: Uint32Array, len: number, value: number, aux: number): number {
    return this.findOrInsertHashed(key, len, this.prefixes.hashOf(key, len), value, aux);
  }

  findOrInsertHashed(key: Uint32Array, len: number, h: number, value: number, aux: number): number {
    checkBest(value);
    const r = this.prefixes.findOrInsertHashed(key, len, h, value, aux);
    if (r < 0) {
      this.nets.bests++;
      return r;
    }
    return this.setBestIfNone(r, value, aux) ? ~r : r;
  }

  /** Give net `id` (known to exist) the best route `value`/`aux` if it has none; true if it had none. */
  setBestIfNone(id: number, value: number, aux: number): boolean {
    if (this.prefixes.valueAt(id) !== NO_BEST) return false;
    checkBest(value);
    this.prefixes.setAt(id, value, aux);
    this.nets.bests++;
    return true;
  }

  hashOf(key: Uint32Array, len: number): number {
    return this.prefixes.hashOf(key, len);
  }

  touch(h: number): number {
    return this.prefixes.touch(h);
  }

  forEach(cb: (key: Uint32Array, len: number, value: number, aux: number) => void): void {
    this.prefixes.forEach((key, len, value, aux) => {
      if (value !== NO_BEST) cb(key, len, value, aux);
    });
  }

  clear(): void {
    this.prefixes.forEach((key, len, value) => {
      if (value !== NO_BEST) this.delete(key, len);
    });
  }
}

function checkBest(value: number): void {
  if (value === NO_BEST) throw new RangeError(`Loc-RIB value ${value} is reserved (no best route)`);
}
