/**
 * A compact hash table from prefix (+ optional ADD-PATH path id) to a 24-bit
 * value and a 32-bit aux word, stored in one typed array: no object, string
 * or boxed number per route.
 *
 * Why: a million routes as JS objects in a Map cost ~100-200 bytes each and
 * a GC walk each. Here a slot is its key words, one tag word (prefix length
 * in the top byte, the value below it) and the aux word, side by side, so a
 * probe touches one cache line — at a million routes the table is far larger
 * than the CPU caches, and a lookup costs what its cache misses cost (the
 * earlier layout, one array per field, paid four misses per probe). At load
 * factor <= 1/2 a route costs 24 bytes (IPv4) or 48 (IPv6).
 *
 * Keys are the prefix address as 32-bit big-endian words (1 for IPv4, 4 for
 * IPv6), the prefix length, and, in ADD-PATH tables, the path identifier as
 * one more word. Open addressing with linear probing and tombstones.
 *
 * Growth in place: tables of IN_PLACE_BYTES or more keep their slots in a
 * growable memory and double without leaving the old array behind (see
 * slot-memory.ts for why and how).
 */
import { IN_PLACE_BYTES, SlotMemory, rehashInPlace } from './slot-memory';

export { IN_PLACE_BYTES };

/** Tag byte of a free slot / a deleted one; live slots hold prefix length + 1. */
const EMPTY = 0;
const DELETED = 0xff;
const MIN_CAPACITY = 16;

/** Largest value a table stores (values share a word with the prefix length). */
export const MAX_VALUE = 0xffffff;

/** Value returned by get/set/delete when there was no entry. */
export const NONE = -1;

export interface PrefixTableOptions {
  /** 32-bit words of address: 1 (IPv4) or 4 (IPv6). */
  addressWords: 1 | 4;
  /** Keys carry a path identifier (RFC 7911). */
  addPath?: boolean;
  initialCapacity?: number;
  /** Slot arrays from this many bytes on grow in place (default IN_PLACE_BYTES; Infinity: never). */
  inPlaceFromBytes?: number;
}

export class PrefixTable {
  /** Words per key: address words, plus one for the path id in ADD-PATH tables. */
  readonly stride: number;
  readonly addressWords: 1 | 4;
  readonly addPath: boolean;
  /** Words per slot: the key, the tag word, the aux word. */
  private readonly width: number;
  private capacity: number;
  private mask: number;
  private data: Uint32Array;
  /** Where `data` lives once the table grows in place (data is then a view of its first bytes). */
  private readonly memory: SlotMemory;
  private used = 0; // live + tombstones
  private live = 0;

  constructor(opts: PrefixTableOptions) {
    this.addressWords = opts.addressWords;
    this.addPath = opts.addPath ?? false;
    this.stride = opts.addressWords + (this.addPath ? 1 : 0);
    this.width = this.stride + 2;
    this.memory = new SlotMemory(opts.inPlaceFromBytes ?? IN_PLACE_BYTES);
    let cap = MIN_CAPACITY;
    while (cap < (opts.initialCapacity ?? 0) * 2) cap *= 2;
    this.capacity = cap;
    this.mask = cap - 1;
    this.data = new Uint32Array(cap * this.width);
  }

  get size(): number {
    return this.live;
  }

  /** Bytes held by the array, for memory accounting. */
  get byteLength(): number {
    return this.data.byteLength;
  }

  /** The slots live in a growable memory: growth and tombstone clean-up leave no old array behind. */
  get growsInPlace(): boolean {
    return this.memory.inUse;
  }

  /** Value for key (`key[0..stride)`), or NONE. */
  get(key: Uint32Array, len: number): number {
    const slot = this.find(key, len);
    return slot < 0 ? NONE : this.valueAt(slot);
  }

  /** The second value stored with the entry (a timestamp, a source id: the caller decides), or NONE. */
  aux(key: Uint32Array, len: number): number {
    const slot = this.find(key, len);
    return slot < 0 ? NONE : this.auxAt(slot);
  }

  /** Insert or replace; returns the previous value or NONE. `value` must be 0..MAX_VALUE. */
  set(key: Uint32Array, len: number, value: number, aux = 0): number {
    const slot = this.findOrInsert(key, len, value, aux);
    if (slot < 0) return NONE;
    const prev = this.valueAt(slot);
    this.setAt(slot, value, aux);
    return prev;
  }

  /**
   * The entry for key: its slot when there is one (left unchanged), else a
   * new entry of `value` and `aux`, returned as ~slot (negative). One probe
   * where findSlot() then set() take two — the import path's common case.
   */
  findOrInsert(key: Uint32Array, len: number, value: number, aux: number): number {
    checkValue(value);
    if ((this.used + 1) * 2 > this.capacity) this.grow();
    const stride = this.stride;
    const width = this.width;
    const d = this.data;
    let i = this.hash(key, len) & this.mask;
    let firstFree = -1;
    for (;;) {
      const base = i * width;
      const tag = d[base + stride]! >>> 24;
      if (tag === EMPTY) break;
      if (tag === DELETED) {
        if (firstFree < 0) firstFree = i;
      } else if (tag === len + 1 && this.keyEquals(base, key)) return i;
      i = (i + 1) & this.mask;
    }
    const slot = firstFree >= 0 ? firstFree : i;
    if (firstFree < 0) this.used++;
    const base = slot * width;
    for (let w = 0; w < stride; w++) d[base + w] = key[w]!;
    d[base + stride] = (((len + 1) << 24) | value) >>> 0;
    d[base + stride + 1] = aux;
    this.live++;
    return ~slot;
  }

  /**
   * Read the word where a probe for key starts, and nothing else. Why: a
   * table of a million routes is far bigger than the CPU caches, and a
   * lookup stalls on its cache miss; touching the home slots of a whole
   * batch first lets the CPU fetch those lines in parallel, so the lookups
   * that follow find them cached. Returns the word so the read is not
   * optimised away.
   */
  touch(key: Uint32Array, len: number): number {
    return this.data[(this.hash(key, len) & this.mask) * this.width + this.stride]!;
  }

  /** Slot of the entry for key, or -1: with valueAt/auxAt/setAt, one probe serves several reads. */
  findSlot(key: Uint32Array, len: number): number {
    return this.find(key, len);
  }

  valueAt(slot: number): number {
    return this.data[slot * this.width + this.stride]! & MAX_VALUE;
  }

  auxAt(slot: number): number {
    return this.data[slot * this.width + this.stride + 1]!;
  }

  /** Overwrite the entry in `slot` (from findSlot, with no insert or delete since). */
  setAt(slot: number, value: number, aux: number): void {
    checkValue(value);
    const at = slot * this.width + this.stride;
    this.data[at] = ((this.data[at]! & 0xff000000) | value) >>> 0;
    this.data[at + 1] = aux;
  }

  /** Remove the entry in `slot` (from findSlot). */
  deleteAt(slot: number): void {
    const at = slot * this.width + this.stride;
    this.data[at] = ((DELETED << 24) | (this.data[at]! & MAX_VALUE)) >>> 0;
    this.live--;
  }

  /** Remove; returns the removed value or NONE. */
  delete(key: Uint32Array, len: number): number {
    const slot = this.find(key, len);
    if (slot < 0) return NONE;
    const value = this.valueAt(slot);
    this.deleteAt(slot);
    return value;
  }

  /** Visit every entry. `key` is a view reused between calls: copy it to keep it. */
  forEach(cb: (key: Uint32Array, len: number, value: number, aux: number) => void): void {
    const key = new Uint32Array(this.stride);
    const { stride, width } = this;
    for (let i = 0; i < this.capacity; i++) {
      const base = i * width;
      const tagWord = this.data[base + stride]!;
      const tag = tagWord >>> 24;
      if (tag === EMPTY || tag === DELETED) continue;
      for (let w = 0; w < stride; w++) key[w] = this.data[base + w]!;
      cb(key, tag - 1, tagWord & MAX_VALUE, this.data[base + stride + 1]!);
    }
  }

  clear(): void {
    this.data.fill(0);
    this.used = 0;
    this.live = 0;
  }

  private find(key: Uint32Array, len: number): number {
    const { stride, width } = this;
    const d = this.data;
    let i = this.hash(key, len) & this.mask;
    for (;;) {
      const base = i * width;
      const tag = d[base + stride]! >>> 24;
      if (tag === EMPTY) return -1;
      if (tag === len + 1 && this.keyEquals(base, key)) return i;
      i = (i + 1) & this.mask;
    }
  }

  private keyEquals(base: number, key: Uint32Array): boolean {
    for (let w = 0; w < this.stride; w++) if (this.data[base + w] !== key[w]) return false;
    return true;
  }

  /** Multiplicative mixing of the key words and length (murmur3 finaliser). */
  private hash(key: Uint32Array, len: number): number {
    let h = Math.imul(len + 1, 0x9e3779b1);
    for (let w = 0; w < this.stride; w++) {
      h ^= key[w]!;
      h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
      h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
      h ^= h >>> 16;
    }
    return h >>> 0;
  }

  /** Make room for `n` entries in all, rebuilding once now instead of doubling repeatedly later. */
  reserve(n: number): void {
    let cap = this.capacity;
    while (n * 2 > cap) cap *= 2;
    if (cap !== this.capacity) this.rebuild(cap);
  }

  private grow(): void {
    // Double only when live entries need it; otherwise rebuild in place to drop tombstones.
    this.rebuild(this.live * 2 + 2 > this.capacity / 2 ? this.capacity * 2 : this.capacity);
  }

  /**
   * Move every live entry into a table of `cap` slots: in place when the
   * table is (or now becomes) big enough for a growable memory, else into a
   * new array.
   */
  private rebuild(cap: number): void {
    const inPlace = this.memory.resize(this.data, cap * this.width);
    if (inPlace) {
      this.data = inPlace;
      rehashInPlace(inPlace, this.capacity, cap, this.width, this.stride, this.stride, (key, len) => this.hash(key, len));
      this.capacity = cap;
      this.mask = cap - 1;
      this.used = this.live;
      return;
    }
    this.rebuildInto(cap);
  }

  /**
   * Move every live entry into a new array of `cap` slots. The keys are known
   * distinct and the new table has no tombstones, so each entry goes to the
   * first empty slot of its probe sequence, copied word by word.
   */
  private rebuildInto(cap: number): void {
    const old = this.data;
    const oldCapacity = this.capacity;
    const { stride, width } = this;
    const mask = cap - 1;
    const d = new Uint32Array(cap * width);
    const key = new Uint32Array(stride);
    for (let i = 0; i < oldCapacity; i++) {
      const base = i * width;
      const tag = old[base + stride]! >>> 24;
      if (tag === EMPTY || tag === DELETED) continue;
      for (let w = 0; w < stride; w++) key[w] = old[base + w]!;
      let j = this.hash(key, tag - 1) & mask;
      while (d[j * width + stride]! >>> 24 !== EMPTY) j = (j + 1) & mask;
      const to = j * width;
      for (let w = 0; w < width; w++) d[to + w] = old[base + w]!;
    }
    this.data = d;
    this.capacity = cap;
    this.mask = mask;
    this.used = this.live;
  }
}

function checkValue(value: number): void {
  if (!(value >= 0 && value <= MAX_VALUE) || !Number.isInteger(value)) throw new RangeError(`PrefixTable value ${value} is outside 0..${MAX_VALUE}`);
}
