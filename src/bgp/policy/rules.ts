/**
 * Import and export rules of BGP route propagation, as pure functions:
 * loop detection on import (RFC 4271 §9.1.2, RFC 4456 §8), and on export the
 * iBGP split horizon, route reflection (RFC 4456 §6, §8), well-known
 * communities (RFC 1997), and the attribute rewrites of RFC 4271 §5.1
 * (AS_PATH prepend and next-hop self on eBGP, LOCAL_PREF only inside the AS,
 * MED not passed between neighbouring ASes).
 */
import type { AsPathSegment, PathAttributes } from '../wire/types';
import type { RouteAttributes } from '../rib/route-attributes';
import { WELL_KNOWN_COMMUNITIES } from './communities';
import { DEFAULT_LOCAL_PREF } from '../rib/decision';

const NO_EXPORT = WELL_KNOWN_COMMUNITIES['no-export']!;
const NO_ADVERTISE = WELL_KNOWN_COMMUNITIES['no-advertise']!;
const NO_EXPORT_SUBCONFED = WELL_KNOWN_COMMUNITIES['no-export-subconfed']!;

/** RFC 4271 §4.3 attribute flags. */
const FLAG_TRANSITIVE = 0x40;
const FLAG_PARTIAL = 0x20;

/** Facts about this node that import and export need. */
export interface LocalIdentity {
  routerId: string;
  /** RFC 4456 §7: the cluster ID of a route reflector; defaults to the router ID. */
  clusterId: string;
}

/** Where a route came from. */
export interface RouteOrigin {
  /** Originated by this node (config or IPAM), not learned. */
  local: boolean;
  /** Learned over iBGP. */
  ibgp: boolean;
  /** Learned from a route-reflector client of ours. */
  fromRrClient: boolean;
  /** BGP identifier of the peer it was learned from (ORIGINATOR_ID when reflected). */
  peerRouterId: string;
  /** Our AS on the session it was learned on (for the loop check). */
  localAs: number;
}

/** The peer a route is being exported to. */
export interface ExportTarget {
  ibgp: boolean;
  /** The peer is our route-reflector client. */
  rrClient: boolean;
  /** Our AS on this session (localASNumber override, or the node's). */
  localAs: number;
  /** self: always our address; keep: never rewrite; auto: RFC default (self on eBGP and for local routes). */
  nextHopMode: 'auto' | 'self' | 'keep';
  /** Our addresses on this session, by family, for next-hop self. */
  nextHopSelf: { ipv4?: string; ipv6?: string };
}

export type ImportVerdict = { accept: true } | { accept: false; reason: string };

/** Loop checks on a received route. */
export function checkImport(attrs: RouteAttributes, origin: RouteOrigin, me: LocalIdentity): ImportVerdict {
  // RFC 4271 §9.1.2: a route whose AS_PATH contains our own AS is a loop (eBGP).
  if (!origin.ibgp && pathContains(attrs.asPath ?? [], origin.localAs)) return { accept: false, reason: `AS_PATH contains our AS ${origin.localAs}` };
  // RFC 4456 §8: ORIGINATOR_ID equal to our router ID, or our cluster ID in CLUSTER_LIST, is a reflection loop.
  if (attrs.originatorId === me.routerId) return { accept: false, reason: 'ORIGINATOR_ID is our router ID' };
  if (attrs.clusterList?.includes(me.clusterId)) return { accept: false, reason: `CLUSTER_LIST contains our cluster ID ${me.clusterId}` };
  return { accept: true };
}

function pathContains(path: readonly AsPathSegment[], asn: number): boolean {
  return path.some((s) => s.asns.includes(asn));
}

export type ExportVerdict = { send: false; reason: string } | { send: true; attributes: PathAttributes; nextHop: string };

/**
 * Whether and how `attrs` (the best route, from `origin`) goes to `target`,
 * for a prefix of the given family. The caller has already excluded the
 * peer the route was learned from.
 */
export function exportRoute(attrs: RouteAttributes, origin: RouteOrigin, target: ExportTarget, family: 'ipv4-unicast' | 'ipv6-unicast', me: LocalIdentity): ExportVerdict {
  const communities = attrs.communities ?? [];
  // RFC 1997: NO_ADVERTISE goes to no peer; NO_EXPORT(_SUBCONFED) stays inside the AS.
  if (communities.includes(NO_ADVERTISE)) return { send: false, reason: 'NO_ADVERTISE' };
  if (!target.ibgp && (communities.includes(NO_EXPORT) || communities.includes(NO_EXPORT_SUBCONFED))) return { send: false, reason: 'NO_EXPORT' };

  let reflect = false;
  if (target.ibgp && origin.ibgp && !origin.local) {
    // RFC 4456 §6: from a client, reflect to everyone; from a non-client, to clients only.
    // Without reflection, routes learned over iBGP are not sent to iBGP peers (RFC 4271 §9.2.1, split horizon).
    if (!(origin.fromRrClient || target.rrClient)) return { send: false, reason: 'iBGP split horizon' };
    reflect = true;
  }

  const out: PathAttributes = { origin: attrs.origin ?? 2 };
  const self = family === 'ipv4-unicast' ? target.nextHopSelf.ipv4 : target.nextHopSelf.ipv6;
  const learnedHop = attrs.nextHops[0];
  let nextHop: string | undefined;
  if (target.ibgp) {
    out.asPath = attrs.asPath ? attrs.asPath.map((s) => ({ type: s.type, asns: [...s.asns] })) : [];
    out.localPref = attrs.localPref ?? DEFAULT_LOCAL_PREF;
    if (attrs.med !== undefined) out.med = attrs.med;
    // RFC 4271 §5.1.3: on iBGP the next hop of an external route is passed unchanged;
    // a local route without a configured next hop gets ours.
    nextHop = target.nextHopMode === 'self' ? self : learnedHop ?? self;
    if (reflect) {
      // RFC 4456 §8: set ORIGINATOR_ID once, prepend our CLUSTER_ID.
      out.originatorId = attrs.originatorId ?? origin.peerRouterId;
      out.clusterList = [me.clusterId, ...(attrs.clusterList ?? [])];
    }
  } else {
    // RFC 4271 §5.1.2: prepend our AS as a new or leading AS_SEQUENCE.
    const path = attrs.asPath ?? [];
    const first = path[0];
    out.asPath =
      first && first.type === 'sequence' && first.asns.length < 255
        ? [{ type: 'sequence', asns: [target.localAs, ...first.asns] }, ...path.slice(1).map((s) => ({ type: s.type, asns: [...s.asns] }))]
        : [{ type: 'sequence', asns: [target.localAs] }, ...path.map((s) => ({ type: s.type, asns: [...s.asns] }))];
    // RFC 4271 §5.1.4: a MED received from a neighbouring AS is not passed to another; our own MED is sent.
    if (origin.local && attrs.med !== undefined) out.med = attrs.med;
    // RFC 4271 §5.1.3: next hop self on eBGP, unless told to keep it.
    nextHop = target.nextHopMode === 'keep' ? learnedHop ?? self : self;
  }
  if (!nextHop) return { send: false, reason: `no ${family === 'ipv4-unicast' ? 'IPv4' : 'IPv6'} next hop for this peer` };

  if (attrs.atomicAggregate) out.atomicAggregate = true;
  if (attrs.aggregator) out.aggregator = { ...attrs.aggregator };
  if (communities.length) out.communities = [...communities];
  if (attrs.extendedCommunities?.length) out.extendedCommunities = [...attrs.extendedCommunities];
  if (attrs.largeCommunities?.length) out.largeCommunities = attrs.largeCommunities.map((c) => [c[0], c[1], c[2]]);
  // RFC 4271 §5: unrecognised optional transitive attributes go on with the Partial bit set.
  const unknown = (attrs.unknown ?? []).filter((u) => (u.flags & FLAG_TRANSITIVE) !== 0).map((u) => ({ ...u, flags: u.flags | FLAG_PARTIAL }));
  if (unknown.length) out.unknown = unknown;
  return { send: true, attributes: out, nextHop };
}
