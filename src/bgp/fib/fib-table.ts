/**
 * The BGP FIB's state per address family, in typed arrays (no object per
 * route): one open-addressing hash table keyed like the RIB's PrefixTable
 * (prefix as 32-bit big-endian words + length) holding, per prefix, the
 * next-hop set we want (`want`), the one the kernel has as far as we know
 * (`have`) and a few flag bits; plus a bitmap of the slots to look at
 * (DIRTY), so a backlog of changes costs one bit per slot, not a queue
 * entry per prefix.
 *
 * A slot is interleaved in one Uint32Array — the key words, then
 * `(len + 1) << 24 | want`, then `flags << 24 | have` — so looking a prefix
 * up and reading or changing its state touches one cache line, not one per
 * field (a full table is far bigger than the CPU caches and its slots are
 * hash-random). IPv4: 12 bytes per slot at a load factor <= 1/2, ~25 bytes
 * per route at 1M; IPv6: 24 bytes per slot. Set ids are 24-bit. A big
 * table grows in place (slot-memory.ts), leaving no old copy to a GC.
 */

import { SlotMemory, rehashInPlace } from '../rib/slot-memory';

const MIN_CAPACITY = 16;
/** Top byte of the meta word: 0 = empty slot (so a fresh array is all empty), 0xff = removed, else length + 1. */
const EMPTY = 0;
const DELETED = 0xff;
const ID_MASK = 0xffffff;
/** Largest set id a slot can hold. */
export const MAX_SET_ID = ID_MASK;

/** Flag bits. */
export const DIRTY = 1; // to look at (its bit is set in the dirty bitmap)
export const INFLIGHT = 2; // a request for it is in the kernel's hands
export const PENDING = 4; // dequeued while in flight: look again once it completes
export const DRIFT = 8; // queued by a resync (an operation on it is a repair)
export const SEEN = 16; // seen in the dump being read

export class FibTable {
  readonly words: 1 | 4;
  /** Words per slot: the key, meta (length, want), state (flags, have). */
  readonly stride: number;
  private capacity = MIN_CAPACITY;
  private mask = MIN_CAPACITY - 1;
  /** All slots, interleaved; a slot's key starts at slot * stride (see keyOffset). */
  data: Uint32Array;
  private used = 0;
  private live = 0;
  /** Slots whose `have` is a route (set id > 0). */
  private haveCount = 0;
  /** Bumped whenever slots move (growth): a slot number is valid while the epoch is unchanged and its prefix is not removed. */
  epoch = 0;
  /** Where `data` lives once the table is big (it then grows in place: slot-memory.ts). */
  private readonly memory = new SlotMemory();
  /** One bit per slot: DIRTY is set on it. */
  private dirtyBits: Uint32Array;
  private dirtyCount = 0;
  /** Where the next scan for a dirty slot starts (a rotating cursor, so every slot gets its turn). */
  private cursor = 0;

  constructor(words: 1 | 4) {
    this.words = words;
    this.stride = words + 2;
    this.data = new Uint32Array(MIN_CAPACITY * this.stride);
    this.dirtyBits = new Uint32Array(Math.max(1, MIN_CAPACITY >>> 5));
  }

  /** Slots marked DIRTY. */
  get dirty(): number {
    return this.dirtyCount;
  }

  /** Set DIRTY on `slot` (and `extra` flags); false if it was already dirty (then only `extra` is added). */
  markDirty(slot: number, extra = 0): boolean {
    const f = this.flagsAt(slot);
    if (f & DIRTY) {
      if (extra) this.setFlags(slot, f | extra);
      return false;
    }
    this.setFlags(slot, f | DIRTY | extra);
    this.dirtyBits[slot >>> 5]! |= 1 << (slot & 31);
    this.dirtyCount++;
    return true;
  }

  /** Clear DIRTY (and `also`) on `slot`. */
  clearDirty(slot: number, also = 0): void {
    const f = this.flagsAt(slot);
    if (f & DIRTY) {
      this.dirtyBits[slot >>> 5]! &= ~(1 << (slot & 31));
      this.dirtyCount--;
    }
    this.setFlags(slot, f & ~(DIRTY | also));
  }

  /** A dirty slot (the next one from the cursor on, wrapping), or -1. Stays dirty until clearDirty(). */
  nextDirty(): number {
    if (this.dirtyCount === 0) return -1;
    const bits = this.dirtyBits;
    const n = bits.length;
    let w = this.cursor >>> 5;
    // The cursor's own word: only bits at or after it.
    let v = bits[w]! & (~0 << (this.cursor & 31));
    for (let k = 0; k <= n; k++) {
      if (v !== 0) {
        const slot = (w << 5) | (31 - Math.clz32(v & -v));
        this.cursor = slot;
        return slot;
      }
      w = w + 1 === n ? 0 : w + 1;
      v = bits[w]!;
    }
    return -1;
  }

  /** The slots live in a growable memory (slot-memory.ts): growth leaves no old array behind. */
  get growsInPlace(): boolean {
    return this.memory.inUse;
  }

  /** Prefixes held (wanted, in the kernel, or both). */
  get size(): number {
    return this.live;
  }

  /** Prefixes with a route of ours in the kernel (as far as we know). */
  get installed(): number {
    return this.haveCount;
  }

  /** Slots to scan with isLive() (slot numbers change when the table grows). */
  get slots(): number {
    return this.capacity;
  }

  get byteLength(): number {
    return this.data.byteLength;
  }

  isLive(slot: number): boolean {
    const tag = this.data[slot * this.stride + this.words]! >>> 24;
    return tag !== EMPTY && tag !== DELETED;
  }

  /** Offset of the key words of `slot` in `data`. */
  keyOffset(slot: number): number {
    return slot * this.stride;
  }

  lenAt(slot: number): number {
    return (this.data[slot * this.stride + this.words]! >>> 24) - 1;
  }

  wantAt(slot: number): number {
    return this.data[slot * this.stride + this.words]! & ID_MASK;
  }

  haveAt(slot: number): number {
    return this.data[slot * this.stride + this.words + 1]! & ID_MASK;
  }

  flagsAt(slot: number): number {
    return this.data[slot * this.stride + this.words + 1]! >>> 24;
  }

  setWant(slot: number, id: number): void {
    const i = slot * this.stride + this.words;
    this.data[i] = ((this.data[i]! & ~ID_MASK) | id) >>> 0;
  }

  setHave(slot: number, id: number): void {
    const i = slot * this.stride + this.words + 1;
    const v = this.data[i]!;
    const had = (v & ID_MASK) !== 0;
    this.data[i] = ((v & ~ID_MASK) | id) >>> 0;
    if (had !== (id !== 0)) this.haveCount += had ? -1 : 1;
  }

  setFlags(slot: number, flags: number): void {
    const i = slot * this.stride + this.words + 1;
    this.data[i] = ((flags << 24) | (this.data[i]! & ID_MASK)) >>> 0;
  }

  /** Slot of the prefix `key[keyOff..]`/`len`, or -1. */
  find(key: Uint32Array, len: number, keyOff = 0): number {
    const words = this.words;
    const stride = this.stride;
    const data = this.data;
    const tag = len + 1;
    let i = hash(key, keyOff, words, len) & this.mask;
    for (;;) {
      const base = i * stride;
      const t = data[base + words]! >>> 24;
      if (t === EMPTY) return -1;
      if (t === tag) {
        let w = 0;
        while (w < words && data[base + w] === key[keyOff + w]) w++;
        if (w === words) return i;
      }
      i = (i + 1) & this.mask;
    }
  }

  /** Slot of the prefix, added (want, have, flags 0) if it is not there: one probe. May move every slot. */
  findOrInsert(key: Uint32Array, len: number, keyOff = 0): number {
    if ((this.used + 1) * 2 > this.capacity) this.grow();
    const words = this.words;
    const stride = this.stride;
    const data = this.data;
    const tag = len + 1;
    let free = -1;
    let i = hash(key, keyOff, words, len) & this.mask;
    for (;;) {
      const base = i * stride;
      const t = data[base + words]! >>> 24;
      if (t === EMPTY) break;
      if (t === DELETED) {
        if (free < 0) free = i;
      } else if (t === tag) {
        let w = 0;
        while (w < words && data[base + w] === key[keyOff + w]) w++;
        if (w === words) return i;
      }
      i = (i + 1) & this.mask;
    }
    if (free >= 0) i = free;
    else this.used++;
    const base = i * stride;
    for (let w = 0; w < words; w++) data[base + w] = key[keyOff + w]!;
    data[base + words] = (tag << 24) >>> 0;
    data[base + words + 1] = 0;
    this.live++;
    return i;
  }

  /** Add a prefix that is not there (want, have, flags 0); returns its slot. May move every slot. */
  insert(key: Uint32Array, len: number, keyOff = 0): number {
    if ((this.used + 1) * 2 > this.capacity) this.grow();
    const words = this.words;
    const stride = this.stride;
    let i = hash(key, keyOff, words, len) & this.mask;
    for (;;) {
      const t = this.data[i * stride + words]! >>> 24;
      if (t === EMPTY || t === DELETED) break;
      i = (i + 1) & this.mask;
    }
    const base = i * stride;
    if (this.data[base + words]! >>> 24 === EMPTY) this.used++;
    for (let w = 0; w < words; w++) this.data[base + w] = key[keyOff + w]!;
    this.data[base + words] = ((len + 1) << 24) >>> 0;
    this.data[base + words + 1] = 0;
    this.live++;
    return i;
  }

  /** Remove the prefix in `slot` (its want and have must be 0). */
  remove(slot: number): void {
    if (this.flagsAt(slot) & DIRTY) {
      this.dirtyBits[slot >>> 5]! &= ~(1 << (slot & 31));
      this.dirtyCount--;
    }
    const base = slot * this.stride;
    this.data[base + this.words] = (DELETED << 24) >>> 0;
    this.data[base + this.words + 1] = 0;
    this.live--;
  }

  /** Copy the key of `slot` into `out` at `outOff`. */
  keyAt(slot: number, out: Uint32Array, outOff = 0): void {
    const base = slot * this.stride;
    for (let w = 0; w < this.words; w++) out[outOff + w] = this.data[base + w]!;
  }

  private grow(): void {
    this.epoch++;
    const old = this.data;
    const oldCap = this.capacity;
    // Double only when live entries need it; otherwise rebuild in place to drop tombstones.
    const cap = (this.live + 1) * 2 > this.capacity / 2 ? this.capacity * 2 : this.capacity;
    const words = this.words;
    const stride = this.stride;
    const mask = cap - 1;
    const inPlace = this.memory.resize(old, cap * stride);
    if (inPlace) {
      rehashInPlace(inPlace, oldCap, cap, stride, words, words, (key, len) => hash(key, 0, words, len));
      // Slots moved: the dirty bitmap is rebuilt from the slots' own DIRTY flags.
      const bits = new Uint32Array(Math.max(1, cap >>> 5));
      for (let i = 0; i < cap; i++) {
        const base = i * stride;
        if (inPlace[base + words] !== 0 && (inPlace[base + words + 1]! >>> 24) & DIRTY) bits[i >>> 5]! |= 1 << (i & 31);
      }
      this.capacity = cap;
      this.mask = mask;
      this.data = inPlace;
      this.used = this.live;
      this.dirtyBits = bits;
      this.cursor = 0;
      return;
    }
    const data = new Uint32Array(cap * stride);
    const bits = new Uint32Array(Math.max(1, cap >>> 5));
    let used = 0;
    for (let base = 0, end = oldCap * stride; base < end; base += stride) {
      const meta = old[base + words]!;
      const t = meta >>> 24;
      if (t === EMPTY || t === DELETED) continue;
      let i = hash(old, base, words, t - 1) & mask;
      // A live slot's meta word is never 0 (its tag is a length + 1).
      while (data[i * stride + words] !== 0) i = (i + 1) & mask;
      const to = i * stride;
      for (let w = 0; w < stride; w++) data[to + w] = old[base + w]!;
      if ((old[base + words + 1]! >>> 24) & DIRTY) bits[i >>> 5]! |= 1 << (i & 31);
      used++;
    }
    this.capacity = cap;
    this.mask = mask;
    this.data = data;
    this.used = used;
    this.dirtyBits = bits;
    this.cursor = 0;
  }
}

/** Multiplicative mixing of the key words and length (murmur3 finaliser), as PrefixTable does. */
function hash(key: Uint32Array, off: number, words: number, len: number): number {
  let h = Math.imul(len + 1, 0x9e3779b1);
  for (let w = 0; w < words; w++) {
    h ^= key[off + w]!;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}
