/**
 * A compact hash table from prefix (+ optional ADD-PATH path id) to a 32-bit
 * value, stored in typed arrays: no object, string or boxed number per route.
 *
 * Why: a million routes as JS objects in a Map cost ~100-200 bytes each and
 * a GC walk each; here a route costs its key words, a length byte, a value
 * and a second value, in parallel arrays at load factor <= 1/2 (about 26 bytes
 * per IPv4 route, 50 per IPv6 route), and the GC sees six arrays.
 *
 * Keys are the prefix address as 32-bit big-endian words (1 for IPv4, 4 for
 * IPv6), the prefix length, and, in ADD-PATH tables, the path identifier as
 * one more word. Open addressing with linear probing and tombstones.
 */

const EMPTY = 0xff;
const DELETED = 0xfe;
const MIN_CAPACITY = 16;

/** Value returned by get/set/delete when there was no entry. */
export const NONE = -1;

export interface PrefixTableOptions {
  /** 32-bit words of address: 1 (IPv4) or 4 (IPv6). */
  addressWords: 1 | 4;
  /** Keys carry a path identifier (RFC 7911). */
  addPath?: boolean;
  initialCapacity?: number;
}

export class PrefixTable {
  /** Words per key: address words, plus one for the path id in ADD-PATH tables. */
  readonly stride: number;
  readonly addressWords: 1 | 4;
  readonly addPath: boolean;
  private capacity: number;
  private mask: number;
  private keys: Uint32Array;
  private lens: Uint8Array;
  private values: Uint32Array;
  private auxes: Uint32Array;
  private used = 0; // live + tombstones
  private live = 0;

  constructor(opts: PrefixTableOptions) {
    this.addressWords = opts.addressWords;
    this.addPath = opts.addPath ?? false;
    this.stride = opts.addressWords + (this.addPath ? 1 : 0);
    let cap = MIN_CAPACITY;
    while (cap < (opts.initialCapacity ?? 0) * 2) cap *= 2;
    this.capacity = cap;
    this.mask = cap - 1;
    this.keys = new Uint32Array(cap * this.stride);
    this.lens = new Uint8Array(cap).fill(EMPTY);
    this.values = new Uint32Array(cap);
    this.auxes = new Uint32Array(cap);
  }

  get size(): number {
    return this.live;
  }

  /** Bytes held by the arrays, for memory accounting. */
  get byteLength(): number {
    return this.keys.byteLength + this.lens.byteLength + this.values.byteLength + this.auxes.byteLength;
  }

  /** Value for key (`key[0..stride)`), or NONE. */
  get(key: Uint32Array, len: number): number {
    const slot = this.find(key, len);
    return slot < 0 ? NONE : this.values[slot]!;
  }

  /** The second value stored with the entry (a timestamp, a source id: the caller decides), or NONE. */
  aux(key: Uint32Array, len: number): number {
    const slot = this.find(key, len);
    return slot < 0 ? NONE : this.auxes[slot]!;
  }

  /** Insert or replace; returns the previous value or NONE. */
  set(key: Uint32Array, len: number, value: number, aux = 0): number {
    if ((this.used + 1) * 2 > this.capacity) this.grow();
    const stride = this.stride;
    let i = this.hash(key, len) & this.mask;
    let firstFree = -1;
    for (;;) {
      const l = this.lens[i]!;
      if (l === EMPTY) break;
      if (l === DELETED) {
        if (firstFree < 0) firstFree = i;
      } else if (l === len && this.keyEquals(i, key)) {
        const prev = this.values[i]!;
        this.values[i] = value;
        this.auxes[i] = aux;
        return prev;
      }
      i = (i + 1) & this.mask;
    }
    const slot = firstFree >= 0 ? firstFree : i;
    if (firstFree < 0) this.used++;
    const base = slot * stride;
    for (let w = 0; w < stride; w++) this.keys[base + w] = key[w]!;
    this.lens[slot] = len;
    this.values[slot] = value;
    this.auxes[slot] = aux;
    this.live++;
    return NONE;
  }

  /** Slot of the entry for key, or -1: with valueAt/auxAt/setAt, one probe serves several reads. */
  findSlot(key: Uint32Array, len: number): number {
    return this.find(key, len);
  }

  valueAt(slot: number): number {
    return this.values[slot]!;
  }

  auxAt(slot: number): number {
    return this.auxes[slot]!;
  }

  /** Overwrite the entry in `slot` (from findSlot, with no insert or delete since). */
  setAt(slot: number, value: number, aux: number): void {
    this.values[slot] = value;
    this.auxes[slot] = aux;
  }

  /** Remove the entry in `slot` (from findSlot). */
  deleteAt(slot: number): void {
    this.lens[slot] = DELETED;
    this.live--;
  }

  /** Remove; returns the removed value or NONE. */
  delete(key: Uint32Array, len: number): number {
    const slot = this.find(key, len);
    if (slot < 0) return NONE;
    this.lens[slot] = DELETED;
    this.live--;
    return this.values[slot]!;
  }

  /** Visit every entry. `key` is a view reused between calls: copy it to keep it. */
  forEach(cb: (key: Uint32Array, len: number, value: number, aux: number) => void): void {
    const key = new Uint32Array(this.stride);
    for (let i = 0; i < this.capacity; i++) {
      const l = this.lens[i]!;
      if (l === EMPTY || l === DELETED) continue;
      const base = i * this.stride;
      for (let w = 0; w < this.stride; w++) key[w] = this.keys[base + w]!;
      cb(key, l, this.values[i]!, this.auxes[i]!);
    }
  }

  clear(): void {
    this.lens.fill(EMPTY);
    this.used = 0;
    this.live = 0;
  }

  private find(key: Uint32Array, len: number): number {
    let i = this.hash(key, len) & this.mask;
    for (;;) {
      const l = this.lens[i]!;
      if (l === EMPTY) return -1;
      if (l === len && this.keyEquals(i, key)) return i;
      i = (i + 1) & this.mask;
    }
  }

  private keyEquals(slot: number, key: Uint32Array): boolean {
    const base = slot * this.stride;
    for (let w = 0; w < this.stride; w++) if (this.keys[base + w] !== key[w]) return false;
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

  private grow(): void {
    const old = { keys: this.keys, lens: this.lens, values: this.values, auxes: this.auxes, capacity: this.capacity };
    // Double only when live entries need it; otherwise rebuild in place to drop tombstones.
    const cap = this.live * 2 + 2 > this.capacity / 2 ? this.capacity * 2 : this.capacity;
    this.capacity = cap;
    this.mask = cap - 1;
    this.keys = new Uint32Array(cap * this.stride);
    this.lens = new Uint8Array(cap).fill(EMPTY);
    this.values = new Uint32Array(cap);
    this.auxes = new Uint32Array(cap);
    this.used = 0;
    this.live = 0;
    const key = new Uint32Array(this.stride);
    for (let i = 0; i < old.capacity; i++) {
      const l = old.lens[i]!;
      if (l === EMPTY || l === DELETED) continue;
      const base = i * this.stride;
      for (let w = 0; w < this.stride; w++) key[w] = old.keys[base + w]!;
      this.set(key, l, old.values[i]!, old.auxes[i]!);
    }
  }
}
