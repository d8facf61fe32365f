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
