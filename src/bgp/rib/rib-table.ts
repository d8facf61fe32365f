/**
 * What the RIB engine asks of a route table (a Loc-RIB, an Adj-RIB-In, a
 * table of stale routes): prefix key → a 24-bit value (an attribute set id)
 * and a 32-bit aux word. A "slot" names one entry until it is deleted.
 *
 * Implemented by PrefixTable (a table of its own: ADD-PATH Adj-RIB-Ins,
 * keyed by prefix and path id) and by the views over a family's NetTable
 * (LocRib, AdjRibIn), which share one prefix index so a route costs one
 * hash lookup, not one per table.
 */
export interface RibTable {
  /** Words per key: address words, plus one for the path id when `addPath`. */
  readonly stride: number;
  readonly addressWords: 1 | 4;
  readonly addPath: boolean;
  readonly size: number;
  /** Bytes this table holds on its own (memory accounting). */
  readonly byteLength: number;
  /** Value for key, or NONE. */
  get(key: Uint32Array, len: number): number;
  /** Aux word for key, or NONE. */
  aux(key: Uint32Array, len: number): number;
  /** Insert or replace; the previous value or NONE. */
  set(key: Uint32Array, len: number, value: number, aux?: number): number;
  /** Remove; the removed value or NONE. */
  delete(key: Uint32Array, len: number): number;
  /** Slot of the entry for key, or -1. */
  findSlot(key: Uint32Array, len: number): number;
  valueAt(slot: number): number;
  auxAt(slot: number): number;
  setAt(slot: number, value: number, aux: number): void;
  deleteAt(slot: number): void;
  /** The entry's slot if there is one (unchanged), else a new entry, returned as ~slot. */
  findOrInsert(key: Uint32Array, len: number, value: number, aux: number): number;
  /** findOrInsert() with `h` = hashOf(key, len). */
  findOrInsertHashed(key: Uint32Array, len: number, h: number, value: number, aux: number): number;
  hashOf(key: Uint32Array, len: number): number;
  /** Read the index word a probe for hash `h` starts at (prefetching; see nlri-batch.ts). */
  touch(h: number): number;
  /** Visit every entry; `key` is reused between calls. */
  forEach(cb: (key: Uint32Array, len: number, value: number, aux: number) => void): void;
  clear(): void;
}

/** The key-based calls of RibTable, written once over its slot-based ones. */
export abstract class SlotTable implements RibTable {
  abstract readonly stride: number;
  abstract readonly addressWords: 1 | 4;
  abstract readonly addPath: boolean;
  abstract readonly size: number;
  abstract readonly byteLength: number;
  abstract findSlot(key: Uint32Array, len: number): number;
  abstract valueAt(slot: number): number;
  abstract auxAt(slot: number): number;
  abstract setAt(slot: number, value: number, aux: number): void;
  abstract deleteAt(slot: number): void;
  abstract findOrInsert(key: Uint32Array, len: number, value: number, aux: number): number;
  abstract findOrInsertHashed(key: Uint32Array, len: number, h: number, value: number, aux: number): number;
  abstract hashOf(key: Uint32Array, len: number): number;
  abstract touch(h: number): number;
  abstract forEach(cb: (key: Uint32Array, len: number, value: number, aux: number) => void): void;
  abstract clear(): void;

  get(key: Uint32Array, len: number): number {
    const slot = this.findSlot(key, len);
    return slot < 0 ? NONE : this.valueAt(slot);
  }

  aux(key: Uint32Array, len: number): number {
    const slot = this.findSlot(key, len);
    return slot < 0 ? NONE : this.auxAt(slot);
  }

  set(key: Uint32Array, len: number, value: number, aux = 0): number {
    const slot = this.findOrInsert(key, len, value, aux);
    if (slot < 0) return NONE;
    const prev = this.valueAt(slot);
    this.setAt(slot, value, aux);
    return prev;
  }

  delete(key: Uint32Array, len: number): number {
    const slot = this.findSlot(key, len);
    if (slot < 0) return NONE;
    const prev = this.valueAt(slot);
    this.deleteAt(slot);
    return prev;
  }
}

/** Value returned by get/set/delete when there was no entry. */
export const NONE = -1;
