import type { PathAttributes } from '../wire/types';

/**
 * The attributes a route is stored with: the UPDATE's path attributes minus
 * the MP_REACH/MP_UNREACH containers, with the next hop(s) of its family
 * folded in (NEXT_HOP for classic IPv4, MP_REACH next hops otherwise).
 */
export type RouteAttributes = Readonly<Omit<PathAttributes, 'mpReach' | 'mpUnreach' | 'nextHop'> & { nextHops: readonly string[] }>;

/**
 * Hash-consing of attribute sets (BIRD's rta cache, FRR's attrhash): routes
 * that share attributes share one frozen object, so a table of a million
 * routes from one peer holds a handful of attribute objects, and "same
 * object" means "same UPDATE" when packing output.
 */
export class AttributeInterner {
  private readonly byKey = new Map<string, RouteAttributes>();
  private readonly entries = new Map<RouteAttributes, { key: string; refs: number }>();

  /** The shared copy of `attrs`, taking `count` references to it. */
  intern(attrs: RouteAttributes, count = 1): RouteAttributes {
    const known = this.entries.get(attrs);
    if (known) {
      known.refs += count;
      return attrs;
    }
    const key = attributeKey(attrs);
    const hit = this.byKey.get(key);
    if (hit) {
      this.entries.get(hit)!.refs += count;
      return hit;
    }
    const frozen: RouteAttributes = Object.freeze({ ...attrs });
    this.byKey.set(key, frozen);
    this.entries.set(frozen, { key, refs: count });
    return frozen;
  }

  /** Drop `count` references; the entry goes when nobody uses it. */
  release(attrs: RouteAttributes, count = 1): void {
    const e = this.entries.get(attrs);
    if (!e) return;
    e.refs -= count;
    if (e.refs <= 0) {
      this.entries.delete(attrs);
      this.byKey.delete(e.key);
    }
  }

  get size(): number {
    return this.byKey.size;
  }
}

/** Canonical text of an attribute set; Buffers as hex so equal bytes give equal keys. */
export function attributeKey(attrs: RouteAttributes): string {
  return JSON.stringify(attrs, (_k, v: unknown) => {
    if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
      return Buffer.from((v as { data: number[] }).data).toString('hex');
    }
    return v;
  });
}
