/**
 * Normalise `gobgp global rib -a <afi> -j` output. Shape (GoBGP 3.x):
 *   { "10.1.0.0/24": [ { "nlri": {...}, "best": true, "neighbor-ip": "198.18.1.1",
 *       "attrs": [ { "type": 1, "value": 0 }, { "type": 2, "as_paths": [...] }, ... ] } ] }
 * Attribute objects are keyed by the RFC type code; locally originated paths
 * have no "neighbor-ip".
 */
import type { RouteEntry } from './daemon-types';
import { canonicalIp, communityFromNumber } from './daemon-common';

interface GobgpAttr {
  type: number;
  value?: unknown;
  as_paths?: Array<{ segment_type: number; asns?: number[] }>;
  nexthop?: string;
  metric?: number;
  communities?: number[];
}

interface GobgpPath {
  nlri?: { prefix?: string };
  attrs?: GobgpAttr[];
  'neighbor-ip'?: string;
}

const ORIGINS: RouteEntry['origin'][] = ['igp', 'egp', 'incomplete'];

function toRoute(prefix: string, p: GobgpPath): RouteEntry | null {
  const from = p['neighbor-ip'];
  if (!from) return null;
  const e: RouteEntry = {
    prefix,
    nextHop: '',
    asPath: [],
    origin: 'igp',
    communities: [],
    largeCommunities: [],
    fromPeer: canonicalIp(from),
  };
  for (const a of p.attrs ?? []) {
    switch (a.type) {
      case 1:
        e.origin = ORIGINS[Number(a.value)] ?? 'incomplete';
        break;
      case 2:
        e.asPath = (a.as_paths ?? []).flatMap((s) => s.asns ?? []);
        break;
      case 3:
      case 14:
        if (a.nexthop) e.nextHop = canonicalIp(a.nexthop);
        break;
      case 4:
        e.med = a.metric ?? 0;
        break;
      case 5:
        e.localPref = Number(a.value);
        break;
      case 8:
        e.communities = (a.communities ?? []).map(communityFromNumber);
        break;
      case 9:
        e.originatorId = String(a.value);
        break;
      case 10:
        e.clusterList = Array.isArray(a.value) ? a.value.map(String) : [];
        break;
      case 32:
        e.largeCommunities = (Array.isArray(a.value) ? a.value : []).map((v: { ASN: number; LocalData1: number; LocalData2: number }) =>
          `${v.ASN}:${v.LocalData1}:${v.LocalData2}`,
        );
        break;
      default:
        break;
    }
  }
  return e;
}

export function parseGobgpRib(json: string): RouteEntry[] {
  if (!json.trim()) return [];
  const rib = JSON.parse(json) as Record<string, GobgpPath[]> | null;
  const out: RouteEntry[] = [];
  for (const [prefix, paths] of Object.entries(rib ?? {})) {
    for (const p of paths) {
      const r = toRoute(p.nlri?.prefix ?? prefix, p);
      if (r) out.push(r);
    }
  }
  return out;
}
