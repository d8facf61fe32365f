import type { PathAttributes } from '../wire/types';
import type { BgpFilterOperation } from './bgp-filter';
import { parseCommunity, parseLargeCommunity } from './communities';

/**
 * BGPFilter operations on an exported route (Calico: addCommunity,
 * prependASPath, setPriority). setPriority sets the kernel route priority in
 * Calico's BIRD; it has no BGP attribute, so on export it changes nothing.
 */
export function applyOperations(attrs: PathAttributes, operations: readonly BgpFilterOperation[]): PathAttributes {
  const out: PathAttributes = { ...attrs };
  for (const op of operations) {
    const value = op.addCommunity?.value;
    if (value !== undefined) {
      const std = parseCommunity(value);
      if (std !== null) {
        if (!(out.communities ?? []).includes(std)) out.communities = [...(out.communities ?? []), std];
      } else {
        const large = parseLargeCommunity(value);
        if (large) out.largeCommunities = [...(out.largeCommunities ?? []), large];
      }
    }
    const prefix = op.prependASPath?.prefix;
    if (prefix?.length) {
      const path = out.asPath ?? [];
      const first = path[0];
      out.asPath =
        first?.type === 'sequence'
          ? [{ type: 'sequence', asns: [...prefix, ...first.asns] }, ...path.slice(1)]
          : [{ type: 'sequence', asns: [...prefix] }, ...path];
    }
  }
  return out;
}
