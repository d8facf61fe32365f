import { PrefixTable } from './prefix-table';

/**
 * Which path identifiers a prefix currently has in one ADD-PATH Adj-RIB-In
 * (RFC 7911 §3): that table is keyed by (prefix, path id), and the decision
 * process needs every path of one prefix without scanning the table.
 *
 * A prefix maps (through a PrefixTable keyed by the prefix alone) to a small
 * list of path ids; lists are pooled and reused. Peers rarely send more than
 * a handful of paths per prefix, so a list scan is cheaper than a second hash.
 */
export class PathIndex {
  private readonly byPrefix: PrefixTable;
  private lists: number[][] = [];
  private readonly free: number[] = [];

  constructor(addressWords: 1 | 4) {
    this.byPrefix = new PrefixTable({ addressWords });
  }

  /** Record `pathId` for the prefix in `key[0..addressWords)` (no-op if present). */
  add(key: Uint32Array, len: number, pathId: number): void {
    let slot = this.byPrefix.get(key, len);
    if (slot < 0) {
      slot = this.free.pop() ?? this.lists.length;
      this.lists[slot] = [pathId];
      this.byPrefix.set(key, len, slot);
      return;
    }
    const list = this.lists[slot]!;
    if (!list.includes(pathId)) list.push(pathId);
  }

  remove(key: Uint32Array, len: number, pathId: number): void {
    const slot = this.byPrefix.get(key, len);
    if (slot < 0) return;
    const list = this.lists[slot]!;
    const i = list.indexOf(pathId);
    if (i < 0) return;
    list.splice(i, 1);
    if (list.length === 0) {
      this.byPrefix.delete(key, len);
      this.lists[slot] = [];
      this.free.push(slot);
    }
  }

  /** The path ids of a prefix, in arrival order (a live view: copy before mutating the table). */
  paths(key: Uint32Array, len: number): readonly number[] {
    const slot = this.byPrefix.get(key, len);
    return slot < 0 ? EMPTY : this.lists[slot]!;
  }

  clear(): void {
    this.byPrefix.clear();
    this.lists = [];
    this.free.length = 0;
  }
}

const EMPTY: readonly number[] = Object.freeze([]);
