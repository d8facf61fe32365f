import type { Family, Nlri } from '../wire/types';
import { AttributeInterner, type RouteAttributes } from './route-attributes';

export interface RibRoute {
  family: Family;
  prefix: string;
  pathId?: number;
  attrs: RouteAttributes;
  /** ms since epoch when this version of the route arrived. */
  since: number;
}

/** What an UPDATE did to the table, for logs and counters. */
export interface RibChange {
  announced: number;
  withdrawn: number;
}

function routeKey(n: Nlri): string {
  return n.pathId === undefined ? n.prefix : `${n.prefix}#${n.pathId}`;
}

/**
 * Adj-RIB-In of one peer (RFC 4271 §3.2): the routes it sent us, per family,
 * keyed by prefix (and ADD-PATH path id). A new announcement of a known
 * prefix replaces the old one (implicit withdraw, RFC 4271 §3.1).
 */
export class AdjRibIn {
  private readonly tables = new Map<Family, Map<string, RibRoute>>();

  constructor(private readonly interner: AttributeInterner) {}

  announce(family: Family, nlri: readonly Nlri[], attrs: RouteAttributes, now: number): number {
    if (nlri.length === 0) return 0;
    const table = this.table(family);
    // One reference per route; the key is computed once for the whole UPDATE.
    const shared = this.interner.intern(attrs, nlri.length);
    for (const n of nlri) {
      const key = routeKey(n);
      const old = table.get(key);
      if (old) this.interner.release(old.attrs);
      const route: RibRoute = { family, prefix: n.prefix, attrs: shared, since: now };
      if (n.pathId !== undefined) route.pathId = n.pathId;
      table.set(key, route);
    }
    return nlri.length;
  }

  withdraw(family: Family, nlri: readonly Nlri[]): number {
    const table = this.tables.get(family);
    if (!table) return 0;
    let removed = 0;
    for (const n of nlri) {
      const key = routeKey(n);
      const old = table.get(key);
      if (old) {
        this.interner.release(old.attrs);
        table.delete(key);
        removed++;
      }
    }
    return removed;
  }

  /** Forget everything (peer went down without graceful restart). Returns how many routes went. */
  clear(): number {
    let n = 0;
    for (const table of this.tables.values()) {
      for (const r of table.values()) this.interner.release(r.attrs);
      n += table.size;
    }
    this.tables.clear();
    return n;
  }

  count(family: Family): number {
    return this.tables.get(family)?.size ?? 0;
  }

  routes(family?: Family): IterableIterator<RibRoute> | RibRoute[] {
    if (family) return this.tables.get(family)?.values() ?? [];
    return [...this.tables.values()].flatMap((t) => [...t.values()]);
  }

  private table(family: Family): Map<string, RibRoute> {
    let t = this.tables.get(family);
    if (!t) {
      t = new Map();
      this.tables.set(family, t);
    }
    return t;
  }
}
