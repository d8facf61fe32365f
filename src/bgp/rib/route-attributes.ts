import type { PathAttributes } from '../wire/types';

/**
 * The attributes a route is stored with: the UPDATE's path attributes minus
 * the MP_REACH/MP_UNREACH containers, with the next hop(s) of its family
 * folded in (NEXT_HOP for classic IPv4, MP_REACH next hops otherwise).
 */
export type RouteAttributes = Readonly<Omit<PathAttributes, 'mpReach' | 'mpUnreach' | 'nextHop'> & { nextHops: readonly string[] }>;

/** Canonical text of an attribute set; Buffers as hex so equal bytes give equal keys. */
export function attributeKey(attrs: RouteAttributes): string {
  return JSON.stringify(attrs, (_k, v: unknown) => {
    if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
      return Buffer.from((v as { data: number[] }).data).toString('hex');
    }
    return v;
  });
}
