/**
 * One source's routes for one family (an Adj-RIB-In, or the routes kept
 * stale for a restarting peer), without ADD-PATH: a value and an aux word
 * per net id of the family's NetTable. Slots are net ids.
 *
 * A source that holds a good share of the family's prefixes (a full table
 * from an upstream, a mesh peer in a small cluster) keeps two arrays indexed
 * by net id: storing a route is two writes at the net id, with no hash
 * table of its own. A source with few routes among many nets (one client
 * of a big route reflector) keeps them in a small PrefixTable keyed by net
 * id instead, so it does not pay 8 bytes for every net in the family; it
 * turns dense once it holds a quarter of them.
 */
import { SlotTable } from './rib-table';
import type { NetTable } from './net-table';
import { PrefixTable } from './prefix-table';
import { SlotMemory } from './slot-memory';

/** Routes a sparse table holds before it may turn dense. */
const DENSE_FROM = 1024;

export class AdjRibIn extends SlotTable {
  readonly addPath = false;
  readonly addressWords: 1 | 4;
  readonly stride: number;
  private count = 0;
  /** Whether the routes are in arrays by net id (else in a small table keyed by net id). */
  get dense(): boolean {
    return this.sparse === undefined;
  }

  /** Dense: two words per net id, value + 1 (0: no route) and the aux word. Empty while sparse. */
  private slots: Uint32Array = new Uint32Array(0);
  private readonly memory = new SlotMemory();
  /** Sparse: net id → value, aux. */
  private sparse: PrefixTable | undefined = new PrefixTable({ addressWords: 1 });
  private readonly idKey = new Uint32Array(1);
  private readonly prefixes: PrefixTable;

  /** `denseFrom`: routes held before it may turn dense (tests lower it). */
  constructor(
    private readonly nets: NetTable,
    private readonly denseFrom = DENSE_FROM,
  ) {
    super();
    this.prefixes = nets.prefixes;
    this.addressWords = nets.addressWords;
    this.stride = nets.addressWords;
  }

  get size(): number {
    return this.count;
  }

  get byteLength(): number {
    return this.sparse ? this.sparse.byteLength : this.slots.byteLength;
  }

  findSlot(key: Uint32Array, len: number): number {
    const id = this.prefixes.findSlot(key, len);
    return id >= 0 && this.has(id) ? id : -1;
  }

  valueAt(slot: number): number {
    if (this.sparse) return this.sparse.get(this.keyOf(slot), 0);
    return this.slots[slot * 2]! - 1;
  }

  auxAt(slot: number): number {
    if (this.sparse) return this.sparse.aux(this.keyOf(slot), 0);
    return this.slots[slot * 2 + 1]!;
  }

  setAt(slot: number, value: number, aux: number): void {
    if (this.sparse) {
      this.sparse.set(this.keyOf(slot), 0, value, aux);
      return;
    }
    this.slots[slot * 2] = value + 1;
    this.slots[slot * 2 + 1] = aux;
  }

  deleteAt(slot: number): void {
    if (this.sparse) this.sparse.delete(this.keyOf(slot), 0);
    else this.slots[slot * 2] = 0;
    this.count--;
    this.nets.unref(slot);
  }

  findOrInsert(key: Uint32Array, len: number, value: number, aux: number): number {
    return this.findOrInsertHashed(key, len, this.prefixes.hashOf(key, len), value, aux);
  }

  findOrInsertHashed(key: Uint32Array, len: number, h: number, value: number, aux: number): number {
    const r = this.nets.findOrAdd(key, len, h);
    const id = r < 0 ? ~r : r;
    if (r >= 0 && this.has(id)) return id;
    this.insertAt(id, value, aux);
    return ~id;
  }

  hashOf(key: Uint32Array, len: number): number {
    return this.prefixes.hashOf(key, len);
  }

  touch(h: number): number {
    return this.prefixes.touch(h);
  }

  /** Entries in net id order. The callback may change or delete the entry it is given. */
  forEach(cb: (key: Uint32Array, len: number, value: number, aux: number) => void): void {
    const key = new Uint32Array(this.stride);
    if (this.sparse) {
      const ids: number[] = [];
      this.sparse.forEach((k) => ids.push(k[0]!));
      ids.sort((a, b) => a - b);
      for (const id of ids) {
        if (!this.has(id)) continue;
        this.prefixes.keyAt(id, key);
        cb(key, this.prefixes.lenAt(id), this.valueAt(id), this.auxAt(id));
      }
      return;
    }
    for (let id = 0; id * 2 < this.slots.length; id++) {
      const v = this.slots[id * 2]!;
      if (v === 0) continue;
      this.prefixes.keyAt(id, key);
      cb(key, this.prefixes.lenAt(id), v - 1, this.slots[id * 2 + 1]!);
    }
  }

  /** Remove every entry (releasing the nets they named). */
  clear(): void {
    this.count = 0;
    if (this.sparse) {
      const ids: number[] = [];
      this.sparse.forEach((k) => ids.push(k[0]!));
      this.sparse = new PrefixTable({ addressWords: 1 });
      for (const id of ids) this.nets.unref(id);
      return;
    }
    // A dense table stays dense, its memory zeroed, for the next session's routes.
    for (let id = 0; id * 2 < this.slots.length; id++) {
      if (this.slots[id * 2] === 0) continue;
      this.slots[id * 2] = 0;
      this.slots[id * 2 + 1] = 0;
      this.nets.unref(id);
    }
  }

  private has(id: number): boolean {
    if (this.sparse) return this.sparse.findSlot(this.keyOf(id), 0) >= 0;
    return id * 2 < this.slots.length && this.slots[id * 2] !== 0;
  }

  private insertAt(id: number, value: number, aux: number): void {
    if (this.sparse && this.count >= this.denseFrom && this.count * 4 >= this.prefixes.size) this.toDense();
    if (this.sparse) this.sparse.set(this.keyOf(id), 0, value, aux);
    else {
      if (id * 2 >= this.slots.length) this.growDense(id + 1);
      this.slots[id * 2] = value + 1;
      this.slots[id * 2 + 1] = aux;
    }
    this.count++;
    this.nets.ref(id);
  }

  private toDense(): void {
    const sparse = this.sparse!;
    this.sparse = undefined;
    let top = 0;
    sparse.forEach((k) => {
      top = Math.max(top, k[0]! + 1);
    });
    this.growDense(top);
    sparse.forEach((k, _len, value, aux) => {
      this.slots[k[0]! * 2] = value + 1;
      this.slots[k[0]! * 2 + 1] = aux;
    });
  }

  /** Room for net ids below `n`: doubling (a table load grows it a few times, not per route), in place once big. */
  private growDense(n: number): void {
    let cap = Math.max(1024, this.slots.length / 2);
    while (cap < n) cap *= 2;
    const inPlace = this.memory.resize(this.slots, cap * 2);
    if (inPlace) {
      this.slots = inPlace;
      return;
    }
    const slots = new Uint32Array(cap * 2);
    slots.set(this.slots);
    this.slots = slots;
  }

  private keyOf(id: number): Uint32Array {
    this.idKey[0] = id;
    return this.idKey;
  }
}
