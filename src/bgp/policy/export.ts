import type { OriginateEntry } from '../../config/types';
import type { Family, Nlri, PathAttributes } from '../wire/types';
import { Origin } from '../wire/types';
import { parseCommunity, parseLargeCommunity } from './communities';
import { attributeKey } from '../rib/route-attributes';

/** Facts about one peer that decide what we send it. */
export interface ExportContext {
  localAs: number;
  peerAs: number;
  /** Families negotiated on the session. */
  families: readonly Family[];
  /** Our addresses to use as next hop when a route names none (next-hop self). */
  nextHopSelf: { ipv4?: string; ipv6?: string };
}

/** Routes of one family that share every attribute, so they fit in the same UPDATEs. */
export interface OutboundGroup {
  family: Family;
  attributes: PathAttributes;
  nextHop: string;
  nlri: Nlri[];
}

export interface ExportResult {
  groups: OutboundGroup[];
  /** Routes not sent, and why (e.g. no next hop of that family). */
  skipped: { prefix: string; reason: string }[];
}

/** RFC 4271 §5.1.5: LOCAL_PREF's usual default, sent to internal peers only. */
export const DEFAULT_LOCAL_PREF = 100;

/**
 * The locally originated routes as one peer should receive them (RFC 4271
 * §5.1): on eBGP our AS is prepended and LOCAL_PREF is not sent (§5.1.5); on
 * iBGP the AS_PATH is empty (§5.1.2) and LOCAL_PREF is sent. Routes with the
 * same attributes are grouped so the codec can pack them into few UPDATEs.
 */
export function exportOriginated(entries: readonly OriginateEntry[], ctx: ExportContext): ExportResult {
  const ibgp = ctx.localAs === ctx.peerAs;
  const groups = new Map<string, OutboundGroup>();
  const skipped: ExportResult['skipped'] = [];
  for (const e of entries) {
    if (!ctx.families.includes(e.family)) continue;
    const nextHop = e.nextHop ?? (e.family === 'ipv4-unicast' ? ctx.nextHopSelf.ipv4 ?? ctx.nextHopSelf.ipv6 : ctx.nextHopSelf.ipv6);
    if (!nextHop) {
      skipped.push({ prefix: e.prefix, reason: `no ${e.family === 'ipv4-unicast' ? 'IPv4' : 'IPv6'} next hop: set ipv${e.family === 'ipv4-unicast' ? 4 : 6}Address or originate[].nextHop` });
      continue;
    }
    const attributes: PathAttributes = {
      origin: Origin.IGP,
      asPath: ibgp ? [] : [{ type: 'sequence', asns: [ctx.localAs] }],
    };
    if (e.med !== undefined) attributes.med = e.med;
    if (ibgp) attributes.localPref = e.localPref ?? DEFAULT_LOCAL_PREF;
    const communities = e.communities.map((c) => parseCommunity(c)).filter((c): c is number => c !== null);
    if (communities.length) attributes.communities = communities;
    const large = e.largeCommunities.map((c) => parseLargeCommunity(c)).filter((c) => c !== null);
    if (large.length) attributes.largeCommunities = large;
    const key = `${e.family}|${nextHop}|${attributeKey({ ...attributes, nextHops: [] })}`;
    let g = groups.get(key);
    if (!g) {
      g = { family: e.family, attributes, nextHop, nlri: [] };
      groups.set(key, g);
    }
    g.nlri.push({ prefix: e.prefix });
  }
  return { groups: [...groups.values()], skipped };
}
