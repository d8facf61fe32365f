/**
 * A compact hash table from prefix (+ optional ADD-PATH path id) to a 24-bit
 * value and a 32-bit aux word, in typed arrays: no object, string or boxed
 * number per route.
 *
 * Why: a million routes as JS objects in a Map cost ~100-200 bytes each and
 * a GC walk each. Here an entry is a record of its key words, one tag word
 * (prefix length in the top byte, the value below it) and the aux word, side
 * by side in one array, in the order entries were added (freed records are
 * reused). A separate index — one 32-bit word per bucket, open addressing
 * with linear probing and tombstones — maps the key's hash to its record:
 * the record number and 8 more bits of the hash, so a probe reads another
 * record only when those bits match (1 in 256 otherwise).
 *
 * Why records apart from the index (the layout BIRD's fib and Python's dict
 * use): at a million routes the table is far bigger than the CPU caches,
 * and the cost of a load is its random accesses. A new entry costs one
 * random access, into the small index (4 bytes a bucket, not a whole
 * slot), while its record is written where the last one was: a peer's
 * table load appends records one after another. Records never move, so
 * the index is rebuilt from them when it grows (reading them in order),
 * and a record number ("slot" below) stays valid until that entry is
 * deleted. IPv4: 12 bytes a record, 8 to 16 of index per entry.
 *
 * Keys are the prefix address as 32-bit big-endian words (1 for IPv4, 4 for
 * IPv6), the prefix length, and, in ADD-PATH tables, the path identifier as
 * one more word.
 *
 * Growth in place: arrays of IN_PLACE_BYTES or more live in a growable
 * memory and grow without leaving the old array behind (see slot-memory.ts
 * for why and how).
 */
import { NONE, SlotTable } from './rib-table';
import { IN_PLACE_BYTES, SlotMemory } from './slot-memory';

export { IN_PLACE_BYTES };

/** Tag byte of a free record / a deleted one; live records hold prefix length + 1. */
const EMPTY = 0;
const DELETED = 0xff;
/** Index words: 0 = empty bucket, TOMBSTONE = deleted, else hash bits << 24 | (record + 1). */
const TOMBSTONE = 0xffffffff;
const RECORD_MASK = 0xffffff;
const MIN_BUCKETS = 16;
const MIN_RECORDS = 8;

/** Largest value a table stores (values share a word with the prefix length). */
export const MAX_VALUE = 0xffffff;
/** Most entries one table holds (record numbers + 1 share an index word with 8 hash bits). */
export const MAX_ENTRIES = 0xfffffe;

export { NONE };

export interface PrefixTableOptions {
  /** 32-bit words of address: 1 (IPv4) or 4 (IPv6). */
  addressWords: 1 | 4;
  /** Keys carry a path identifier (RFC 7911). */
  addPath?: boolean;
  initialCapacity?: number;
  /** Arrays from this many bytes on grow in place (default IN_PLACE_BYTES; Infinity: never). */
  inPlaceFromBytes?: number;
  /** One more word per entry for the owner (extraAt/setExtraAt), 0 when the entry is made. */
  extraWord?: boolean;
}

export class PrefixTable extends SlotTable {
  /** Words per key: address words, plus one for the path id in ADD-PATH tables. */
  readonly stride: number;
  readonly addressWords: 1 | 4;
  readonly addPath: boolean;
  /** Words per record: the key, the tag word, the aux word (and the extra word). */
  private readonly width: number;
  private buckets: number;
  private mask: number;
  private index: Uint32Array;
  private records: Uint32Array;
  /** Records allocated so far (live, or deleted and on the free list). */
  private top = 0;
  /** First deleted record to reuse (its aux word links to the next), or -1. */
  private freeHead = -1;
  private readonly indexMemory: SlotMemory;
  private readonly recordMemory: SlotMemory;
  private used = 0; // index buckets live + tombstones
  private live = 0;
  private readonly scratchKey: Uint32Array;

  constructor(opts: PrefixTableOptions) {
    super();
    this.addressWords = opts.addressWords;
    this.addPath = opts.addPath ?? false;
    this.stride = opts.addressWords + (this.addPath ? 1 : 0);
    this.width = this.stride + (opts.extraWord ? 3 : 2);
    this.scratchKey = new Uint32Array(this.stride);
    const from = opts.inPlaceFromBytes ?? IN_PLACE_BYTES;
    this.indexMemory = new SlotMemory(from);
    this.recordMemory = new SlotMemory(from);
    const want = opts.initialCapacity ?? 0;
    let buckets = MIN_BUCKETS;
    while (buckets < want * 2) buckets *= 2;
    this.buckets = buckets;
    this.mask = buckets - 1;
    this.index = new Uint32Array(buckets);
    this.records = new Uint32Array(Math.max(MIN_RECORDS, want) * this.width);
  }

  get size(): number {
    return this.live;
  }

  /** Bytes held by the arrays, for memory accounting. */
  get byteLength(): number {
    return this.index.byteLength + this.records.byteLength;
  }

  /** The arrays live in growable memory: growth and tombstone clean-up leave no old array behind. */
  get growsInPlace(): boolean {
    return this.indexMemory.inUse && this.recordMemory.inUse;
  }

  /**
   * The entry for key: its slot when there is one (left unchanged), else a
   * new entry of `value` and `aux`, returned as ~slot (negative). One probe
   * where findSlot() then set() take two — the import path's common case.
   */
  findOrInsert(key: Uint32Array, len: number, value: number, aux: number): number {
    return this.findOrInsertHashed(key, len, this.hashOf(key, len), value, aux);
  }

  /** findOrInsert() with the key's hash already computed (hashOf). */
  findOrInsertHashed(key: Uint32Array, len: number, h: number, value: number, aux: number): number {
    checkValue(value);
    if ((this.used + 1) * 2 > this.buckets) this.growIndex();
    const idx = this.index;
    const hi = h >>> 24;
    let i = h & this.mask;
    let firstFree = -1;
    for (;;) {
      const b = idx[i]!;
      if (b === 0) break;
      if (b === TOMBSTONE) {
        if (firstFree < 0) firstFree = i;
      } else if (b >>> 24 === hi) {
        const slot = (b & RECORD_MASK) - 1;
        if (this.isKey(slot, key, len)) return slot;
      }
      i = (i + 1) & this.mask;
    }
    const slot = this.allocRecord();
    const d = this.records;
    const base = slot * this.width;
    const stride = this.stride;
    for (let w = 0; w < stride; w++) d[base + w] = key[w]!;
    d[base + stride] = (((len + 1) << 24) | value) >>> 0;
    d[base + stride + 1] = aux;
    if (this.width > stride + 2) d[base + stride + 2] = 0;
    if (firstFree >= 0) i = firstFree;
    else this.used++;
    idx[i] = ((hi << 24) | (slot + 1)) >>> 0;
    this.live++;
    return ~slot;
  }

  /**
   * Read the index word where a probe for the key of hash `h` starts, and
   * nothing else. Why: a table of a million routes is far bigger than the
   * CPU caches, and a lookup stalls on its cache miss; touching the home
   * buckets of a whole batch first lets the CPU fetch those lines in
   * parallel, so the lookups that follow find them cached (see
   * nlri-batch.ts). Returns the word so the read is not optimised away.
   */
  touch(h: number): number {
    return this.index[h & this.mask]!;
  }

  /** Slot of the entry for key, or -1: with valueAt/auxAt/setAt, one probe serves several reads. */
  findSlot(key: Uint32Array, len: number): number {
    const i = this.findBucket(key, len);
    return i < 0 ? -1 : (this.index[i]! & RECORD_MASK) - 1;
  }

  valueAt(slot: number): number {
    return this.records[slot * this.width + this.stride]! & MAX_VALUE;
  }

  /** Prefix length of the entry in `slot`. */
  lenAt(slot: number): number {
    return (this.records[slot * this.width + this.stride]! >>> 24) - 1;
  }

  /** Copy the key of the entry in `slot` into `out` (stride words). */
  keyAt(slot: number, out: Uint32Array): void {
    const base = slot * this.width;
    for (let w = 0; w < this.stride; w++) out[w] = this.records[base + w]!;
  }

  auxAt(slot: number): number {
    return this.records[slot * this.width + this.stride + 1]!;
  }

  /** The extra word of the entry in `slot` (tables made with `extraWord`). */
  extraAt(slot: number): number {
    return this.records[slot * this.width + this.stride + 2]!;
  }

  setExtraAt(slot: number, v: number): void {
    this.records[slot * this.width + this.stride + 2] = v;
  }

  /** Overwrite the entry in `slot` (from findSlot or findOrInsert; the entry not deleted since). */
  setAt(slot: number, value: number, aux: number): void {
    checkValue(value);
    const at = slot * this.width + this.stride;
    this.records[at] = ((this.records[at]! & 0xff000000) | value) >>> 0;
    this.records[at + 1] = aux;
  }

  /** Remove the entry in `slot` (from findSlot). */
  deleteAt(slot: number): void {
    const base = slot * this.width;
    const key = this.scratchKey;
    for (let w = 0; w < this.stride; w++) key[w] = this.records[base + w]!;
    // The index word naming this record: probe for its own key.
    this.removeAt(this.findBucket(key, (this.records[base + this.stride]! >>> 24) - 1), slot);
  }

  /** Remove; returns the removed value or NONE. One probe, where findSlot() then deleteAt() take two. */
  override delete(key: Uint32Array, len: number): number {
    const i = this.findBucket(key, len);
    if (i < 0) return NONE;
    const slot = (this.index[i]! & RECORD_MASK) - 1;
    const value = this.valueAt(slot);
    this.removeAt(i, slot);
    return value;
  }

  /**
   * Visit every entry, in the order of their records (the order they were
   * added, but for reused ones). `key` is a view reused between calls: copy
   * it to keep it. Entries added during the walk may or may not be visited.
   */
  forEach(cb: (key: Uint32Array, len: number, value: number, aux: number) => void): void {
    const key = new Uint32Array(this.stride);
    const { stride, width } = this;
    const top = this.top;
    for (let r = 0; r < top; r++) {
      const base = r * width;
      const d = this.records;
      const tagWord = d[base + stride]!;
      const tag = tagWord >>> 24;
      if (tag === EMPTY || tag === DELETED) continue;
      for (let w = 0; w < stride; w++) key[w] = d[base + w]!;
      cb(key, tag - 1, tagWord & MAX_VALUE, d[base + stride + 1]!);
    }
  }

  clear(): void {
    this.index.fill(0);
    this.records.fill(0, 0, this.top * this.width);
    this.top = 0;
    this.freeHead = -1;
    this.used = 0;
    this.live = 0;
  }

  /** The table's hash of a key (its first `stride` words) and length: multiplicative mixing (murmur3 finaliser). */
  hashOf(key: Uint32Array, len: number): number {
    let h = Math.imul(len + 1, 0x9e3779b1);
    for (let w = 0; w < this.stride; w++) {
      h ^= key[w]!;
      h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
      h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
      h ^= h >>> 16;
    }
    return h >>> 0;
  }

  /** Make room for `n` entries in all, growing once now instead of doubling repeatedly later. */
  reserve(n: number): void {
    if (n > MAX_ENTRIES) throw new RangeError(`PrefixTable holds at most ${MAX_ENTRIES} entries`);
    if (n * this.width > this.records.length) this.resizeRecords(n);
    let buckets = this.buckets;
    while (n * 2 > buckets) buckets *= 2;
    if (buckets !== this.buckets) this.rebuildIndex(buckets);
  }

  private findBucket(key: Uint32Array, len: number): number {
    const h = this.hashOf(key, len);
    const idx = this.index;
    const hi = h >>> 24;
    let i = h & this.mask;
    for (;;) {
      const b = idx[i]!;
      if (b === 0) return -1;
      if (b !== TOMBSTONE && b >>> 24 === hi && this.isKey((b & RECORD_MASK) - 1, key, len)) return i;
      i = (i + 1) & this.mask;
    }
  }

  private isKey(slot: number, key: Uint32Array, len: number): boolean {
    const d = this.records;
    const base = slot * this.width;
    if (d[base + this.stride]! >>> 24 !== len + 1) return false;
    for (let w = 0; w < this.stride; w++) if (d[base + w] !== key[w]) return false;
    return true;
  }

  /** Drop index word `i` and its record `slot`; the record joins the free list. */
  private removeAt(i: number, slot: number): void {
    this.index[i] = TOMBSTONE;
    const at = slot * this.width + this.stride;
    this.records[at] = (DELETED << 24) >>> 0;
    this.records[at + 1] = this.freeHead;
    this.freeHead = slot;
    this.live--;
  }

  private allocRecord(): number {
    if (this.freeHead >= 0) {
      const slot = this.freeHead;
      this.freeHead = this.records[slot * this.width + this.stride + 1]! | 0;
      return slot;
    }
    if (this.top >= MAX_ENTRIES) throw new RangeError(`PrefixTable holds at most ${MAX_ENTRIES} entries`);
    if ((this.top + 1) * this.width > this.records.length) this.resizeRecords(Math.min(MAX_ENTRIES, (this.records.length / this.width) * 2));
    return this.top++;
  }

  /** Room for `n` records; records keep their numbers (they are copied or grown in place). */
  private resizeRecords(n: number): void {
    const words = n * this.width;
    const inPlace = this.recordMemory.resize(this.records, words);
    if (inPlace) {
      this.records = inPlace;
      return;
    }
    const d = new Uint32Array(words);
    d.set(this.records.subarray(0, this.top * this.width));
    this.records = d;
  }

  private growIndex(): void {
    // Double only when live entries need it; otherwise rebuild at the same size to drop tombstones.
    this.rebuildIndex(this.live * 2 + 2 > this.buckets / 2 ? this.buckets * 2 : this.buckets);
  }

  /**
   * An index of `buckets` buckets for the live records, built by reading
   * the records in order: in the same memory when it grows in place, else
   * in a new array.
   */
  private rebuildIndex(buckets: number): void {
    const idx = this.indexMemory.resize(this.index, buckets) ?? new Uint32Array(buckets);
    // Also the fresh part: written in order, its pages fault in once each (~2 us apiece here), where the
    // random probes below would fault each one twice (a read maps the zero page, the write copies it).
    idx.fill(0);
    const mask = buckets - 1;
    for (let r = 0; r < this.top; r++) {
      const h = this.recordHash(r);
      if (h < 0) continue;
      let i = h & mask;
      while (idx[i] !== 0) i = (i + 1) & mask;
      idx[i] = (((h >>> 24) << 24) | (r + 1)) >>> 0;
    }
    this.index = idx;
    this.buckets = buckets;
    this.mask = mask;
    this.used = this.live;
  }

  /** The hash of record `r`'s key, or -1 if the record is free. */
  private recordHash(r: number): number {
    const d = this.records;
    const base = r * this.width;
    const tag = d[base + this.stride]! >>> 24;
    if (tag === EMPTY || tag === DELETED) return -1;
    const key = this.scratchKey;
    for (let w = 0; w < this.stride; w++) key[w] = d[base + w]!;
    return this.hashOf(key, tag - 1);
  }
}

/** One compare on the per-route path (an integer 0..MAX_VALUE is its own low 24 bits); the throw out of line. */
function checkValue(value: number): void {
  if ((value & MAX_VALUE) !== value) valueOutOfRange(value);
}

function valueOutOfRange(value: number): never {
  throw new RangeError(`PrefixTable value ${value} is outside 0..${MAX_VALUE}`);
}
