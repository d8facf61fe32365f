/**
 * Growth in place for the route tables' big arrays (the RIB's PrefixTable
 * index and records and AdjRibIn's arrays by net id, the FIB's FibTable):
 * arrays of IN_PLACE_BYTES or more live in a shared WebAssembly.Memory (no
 * wasm code involved: only memory that grows without moving), and grow by
 * growing that memory; the FIB's open-addressing table then re-places its
 * entries where they are (rehashInPlace).
 *
 * Why: a grown plain typed array leaves the old one behind as garbage that
 * only a full GC frees, and a table load seldom triggers one before it
 * ends — a 100k-route load peaked with every earlier generation of both its
 * RIB tables still resident (5.5 MB beside the 6.3 MB of final tables; at
 * 1M 24 MB more than in-place growth needs). Why this memory: views of it
 * are ordinary typed arrays to V8 (views of a resizable ArrayBuffer are
 * ~25% slower to index), and a *shared* memory grows without detaching its
 * old buffer — the first ArrayBuffer detached in the process turns off a V8
 * protector and makes every typed-array access in optimised code check for
 * detachment (a 1M import measured ~6% slower). The memory reserves address
 * space up front (10 GB on x64, none of it resident until used; V8 does not
 * count it as external memory): hence the threshold, so small tables stay
 * plain arrays. Where WebAssembly is missing (node --jitless) or a memory
 * cannot be had, the tables copy into a new array as before.
 *
 * rehashInPlace's slot layout (FibTable's): `width` words per slot, the key
 * first, the tag word at `tagOffset` whose top byte is 0 (empty), 0xff
 * (deleted) or prefix length + 1.
 */

/** Slot arrays of this many bytes or more live in a growable memory: 64 KiB, one wasm page. */
export const IN_PLACE_BYTES = 64 * 1024;
const WASM_PAGE = 64 * 1024;
/** The largest wasm32 memory, 4 GiB: a shared memory needs a maximum, and this reserves no more than any other. */
const MAX_PAGES = 65536;
const EMPTY = 0;
const DELETED = 0xff;

/** The part of WebAssembly.Memory used here (lib.dom is not in this project's types). */
interface GrowableMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}
type GrowableMemoryConstructor = new (descriptor: { initial: number; maximum: number; shared: boolean }) => GrowableMemory;
const WasmMemory = (globalThis as { WebAssembly?: { Memory?: GrowableMemoryConstructor } }).WebAssembly?.Memory;
/** A memory was refused once (address space limit?): later tables do not ask again (V8 runs full GCs before it gives up). */
let memoryRefused = WasmMemory === undefined;

/** The growable memory behind one table, once it has one. */
export class SlotMemory {
  private memory: GrowableMemory | undefined;

  constructor(readonly fromBytes: number = IN_PLACE_BYTES) {}

  /** The table's slots live in the growable memory. */
  get inUse(): boolean {
    return this.memory !== undefined;
  }

  /**
   * A view of `words` words of the growable memory, holding `data` first and
   * zeros after it; undefined when the size is below the threshold or there
   * is no such memory (no WebAssembly, or it cannot be had or grown): the
   * caller then copies into a new plain array, and this memory is dropped.
   */
  resize(data: Uint32Array, words: number): Uint32Array | undefined {
    if (words * 4 < this.fromBytes) {
      this.memory = undefined;
      return undefined;
    }
    const pages = Math.ceil((words * 4) / WASM_PAGE);
    try {
      if (this.memory === undefined) {
        if (memoryRefused || WasmMemory === undefined) return undefined;
        let memory: GrowableMemory;
        try {
          memory = new WasmMemory({ initial: pages, maximum: MAX_PAGES, shared: true });
        } catch {
          memoryRefused = true;
          return undefined;
        }
        const d = new Uint32Array(memory.buffer, 0, words);
        d.set(data);
        this.memory = memory;
        return d;
      }
      const have = this.memory.buffer.byteLength / WASM_PAGE;
      // New pages are zero, and a table never shrinks, so nothing past the old slots was ever written.
      if (pages > have) this.memory.grow(pages - have);
    } catch {
      this.memory = undefined;
      return undefined;
    }
    return new Uint32Array(this.memory.buffer, 0, words);
  }
}

/**
 * Re-place every live entry of the first `oldCapacity` slots of `d` (which
 * already spans `capacity` slots, zeros past the old ones) for a table of
 * `capacity` slots, in the same array, dropping tombstones: Abseil's
 * in-place rehash (DropDeletesWithoutResize) for linear probing. A slot is
 * "done" once it holds an entry at its final place; an entry goes to the
 * first slot of its probe sequence that is not done. That slot is itself
 * (done), an empty one (moved there), or one whose entry is still to be
 * placed (swapped, and the entry that comes back is placed next). Done slots
 * never change again, so every probe sequence stays unbroken.
 *
 * `keyWords` words from the slot's start are the key; `hash(key, len)` must
 * be the table's own hash.
 */
export function rehashInPlace(
  d: Uint32Array,
  oldCapacity: number,
  capacity: number,
  width: number,
  tagOffset: number,
  keyWords: number,
  hash: (key: Uint32Array, len: number) => number,
): void {
  const mask = capacity - 1;
  const done = new Uint32Array((capacity + 31) >>> 5);
  const key = new Uint32Array(keyWords);
  for (let i = 0; i < oldCapacity; i++) {
    const at = i * width + tagOffset;
    if (d[at]! >>> 24 === DELETED) d[at] = 0;
  }
  for (let i = 0; i < oldCapacity; i++) {
    const base = i * width;
    for (;;) {
      if (done[i >>> 5]! & (1 << (i & 31))) break;
      const tag = d[base + tagOffset]! >>> 24;
      if (tag === EMPTY) break;
      for (let w = 0; w < keyWords; w++) key[w] = d[base + w]!;
      let j = hash(key, tag - 1) & mask;
      while (done[j >>> 5]! & (1 << (j & 31))) j = (j + 1) & mask;
      if (j === i) {
        done[i >>> 5]! |= 1 << (i & 31);
        break;
      }
      done[j >>> 5]! |= 1 << (j & 31);
      const to = j * width;
      if (d[to + tagOffset]! >>> 24 === EMPTY) {
        for (let w = 0; w < width; w++) d[to + w] = d[base + w]!;
        for (let w = 0; w < width; w++) d[base + w] = 0;
        break;
      }
      // Slot j held an entry still to be placed: it comes to i, and goes round again.
      for (let w = 0; w < width; w++) {
        const t = d[to + w]!;
        d[to + w] = d[base + w]!;
        d[base + w] = t;
      }
    }
  }
}
