import { attributeKey, type RouteAttributes } from './route-attributes';
import { summarizeAttributes, type AttrSummary } from './decision';

/**
 * Interned attribute sets by small integer id (BIRD's rta cache, FRR's
 * attrhash): tables store the id, so a route costs 4 bytes of attributes no
 * matter how many communities it carries. Reference counted; ids are reused.
 */
export class AttrStore {
  private readonly byKey = new Map<string, number>();
  private attrs: (RouteAttributes | undefined)[] = [];
  private summaries: (AttrSummary | undefined)[] = [];
  private keys: (string | undefined)[] = [];
  private refs = new Uint32Array(64);
  /** Next-hop resolution per set: 0 not asked yet, 1 resolves, 2 does not. */
  private reachable = new Uint8Array(64);
  private readonly free: number[] = [];

  /** The last set interned, by the caller's object: a peer's table load hands in one object for thousands of UPDATEs (see Speaker.onUpdate). */
  private lastInput: RouteAttributes | undefined;
  private lastId = -1;
  private lastStored: RouteAttributes | undefined;

  /** Id of the shared copy of `attrs`, taking `count` references. `attrs` must not be changed after. */
  intern(attrs: RouteAttributes, count = 1): number {
    // The same object as last time, and its set still alive (not released and its id reused): no key to build.
    if (attrs === this.lastInput && this.attrs[this.lastId] === this.lastStored) {
      this.refs[this.lastId]! += count;
      return this.lastId;
    }
    const id = this.internByKey(attrs, count);
    this.lastInput = attrs;
    this.lastId = id;
    this.lastStored = this.attrs[id];
    return id;
  }

  private internByKey(attrs: RouteAttributes, count: number): number {
    const key = attributeKey(attrs);
    const hit = this.byKey.get(key);
    if (hit !== undefined) {
      this.refs[hit]! += count;
      return hit;
    }
    const id = this.free.pop() ?? this.attrs.length;
    if (id >= this.refs.length) {
      const grown = new Uint32Array(this.refs.length * 2);
      grown.set(this.refs);
      this.refs = grown;
      const reach = new Uint8Array(this.refs.length);
      reach.set(this.reachable);
      this.reachable = reach;
    }
    this.reachable[id] = 0;
    this.attrs[id] = Object.freeze({ ...attrs });
    this.summaries[id] = summarizeAttributes(attrs);
    this.keys[id] = key;
    this.refs[id] = count;
    this.byKey.set(key, id);
    return id;
  }

  retain(id: number, count = 1): void {
    this.refs[id]! += count;
  }

  release(id: number, count = 1): void {
    const left = this.refs[id]! - count;
    this.refs[id] = left > 0 ? left : 0;
    if (left <= 0 && this.attrs[id] !== undefined) {
      this.byKey.delete(this.keys[id]!);
      this.attrs[id] = undefined;
      this.summaries[id] = undefined;
      this.keys[id] = undefined;
      this.free.push(id);
    }
  }

  /** Cached next-hop resolution of a set, or undefined when not asked yet. */
  reach(id: number): boolean | undefined {
    const r = this.reachable[id];
    return r === 1 ? true : r === 2 ? false : undefined;
  }

  setReach(id: number, reachable: boolean): void {
    this.reachable[id] = reachable ? 1 : 2;
  }

  /** Ask again for every live set that was asked before; returns the ids whose answer changed. */
  recheckReach(resolves: (nextHop: string) => boolean): Set<number> {
    const flipped = new Set<number>();
    for (let id = 0; id < this.attrs.length; id++) {
      const a = this.attrs[id];
      if (a === undefined || this.reachable[id] === 0) continue;
      const hop = a.nextHops[0];
      const now = hop === undefined || resolves(hop);
      if (now !== (this.reachable[id] === 1)) flipped.add(id);
      this.reachable[id] = now ? 1 : 2;
    }
    return flipped;
  }

  get(id: number): RouteAttributes {
    const a = this.attrs[id];
    if (a === undefined) throw new Error(`attribute set ${id} is not interned`);
    return a;
  }

  summary(id: number): AttrSummary {
    return this.summaries[id]!;
  }

  /** Canonical key of an interned set (for grouping output). */
  key(id: number): string {
    return this.keys[id]!;
  }

  /** Number of distinct attribute sets alive. */
  get size(): number {
    return this.byKey.size;
  }
}
