/**
 * Normalise FRR 8 `show bgp <afi> unicast <prefix> json` output. FRR 8.4 has
 * no "detail json" for a whole table, so the driver lists prefixes first and
 * then asks for each one (in a single vtysh call, which prints one JSON
 * document per command back to back; `splitJsonDocuments` separates them).
 */
import type { RouteEntry } from './daemon-types';
import { canonicalIp } from './daemon-common';

interface FrrPath {
  aspath?: { segments?: Array<{ list?: number[] }> };
  origin?: string;
  metric?: number;
  locPrf?: number;
  community?: { list?: string[] };
  largeCommunity?: { list?: string[]; string?: string };
  originatorId?: string;
  clusterList?: { list?: string[] };
  nexthops?: Array<{ ip?: string; scope?: string }>;
  peer?: { peerId?: string };
}

export interface FrrPrefixDetail {
  prefix?: string;
  paths?: FrrPath[];
}

/** Split back-to-back JSON documents ("{...}\n{...}") without a streaming parser. */
export function splitJsonDocuments(text: string): string[] {
  const docs: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && --depth === 0) docs.push(text.slice(start, i + 1));
  }
  return docs;
}

const LOCAL_PEER_IDS = new Set(['0.0.0.0', '::', '(unspec)', '']);

function origin(o: string | undefined): RouteEntry['origin'] {
  const v = (o ?? '').toLowerCase();
  return v === 'egp' ? 'egp' : v === 'incomplete' ? 'incomplete' : 'igp';
}

export function frrDetailToRoutes(d: FrrPrefixDetail): RouteEntry[] {
  const out: RouteEntry[] = [];
  if (!d.prefix) return out;
  for (const p of d.paths ?? []) {
    const peer = p.peer?.peerId ?? '';
    if (LOCAL_PEER_IDS.has(peer)) continue;
    const nh = (p.nexthops ?? []).find((n) => n.scope !== 'link-local') ?? p.nexthops?.[0];
    const e: RouteEntry = {
      prefix: d.prefix,
      nextHop: nh?.ip ? canonicalIp(nh.ip) : '',
      asPath: (p.aspath?.segments ?? []).flatMap((s) => s.list ?? []),
      origin: origin(p.origin),
      communities: p.community?.list ?? [],
      // FRR 8.4 prints large communities as one string ("a:b:c d:e:f").
      largeCommunities: p.largeCommunity?.list ?? (p.largeCommunity?.string ? p.largeCommunity.string.split(' ') : []),
      fromPeer: canonicalIp(peer),
    };
    if (p.metric !== undefined) e.med = p.metric;
    if (p.locPrf !== undefined) e.localPref = p.locPrf;
    if (p.originatorId !== undefined) e.originatorId = p.originatorId;
    if (p.clusterList?.list) e.clusterList = p.clusterList.list;
    out.push(e);
  }
  return out;
}
