/**
 * Parser for BIRD 2 `show route all` text (BIRD has no JSON output).
 *
 * Shape (attribute lines are tab-indented; a route for the same prefix as the
 * previous one starts with spaces instead of the prefix):
 *
 *   10.3.0.0/24          unicast [p0 07:59:04.460] * (100) [AS4200000002i]
 *   \tvia 198.18.1.2 on eth0
 *   \tType: BGP univ
 *   \tBGP.as_path: 4200000002
 *   \tBGP.community: (65000,300)
 *   \tBGP.large_community: (4200000003, 5, 6)
 *                        unicast [p1 07:59:05.000] (100) [AS65001i]
 */
import type { RouteEntry } from './daemon-types';
import { canonicalIp } from './daemon-common';

interface RawRoute {
  prefix: string;
  protocol: string;
  attrs: Map<string, string>;
  type: string;
}

function splitBlocks(text: string): RawRoute[] {
  const out: RawRoute[] = [];
  let prefix = '';
  let cur: RawRoute | undefined;
  for (const line of text.split('\n')) {
    if (!line.trim() || /^(BIRD |Table |Network not found)/.test(line)) continue;
    if (line.startsWith('\t')) {
      if (!cur) continue;
      const m = /^\t([\w.]+):\s?(.*)$/.exec(line);
      if (!m || m[1] === undefined) continue;
      if (m[1] === 'Type') cur.type = m[2] ?? '';
      else cur.attrs.set(m[1], m[2] ?? '');
      continue;
    }
    const head = /^(\S+)?\s+\S+\s+\[(\S+)/.exec(line);
    if (!head || head[2] === undefined) continue;
    if (head[1] !== undefined) prefix = head[1];
    cur = { prefix, protocol: head[2], attrs: new Map(), type: '' };
    out.push(cur);
  }
  return out;
}

function pairs(text: string | undefined): string[] {
  if (!text) return [];
  return [...text.matchAll(/\(([^)]*)\)/g)].map((m) => (m[1] ?? '').split(',').map((s) => s.trim()).join(':'));
}

function origin(v: string | undefined): RouteEntry['origin'] {
  const o = (v ?? '').toLowerCase();
  return o === 'egp' ? 'egp' : o === 'incomplete' ? 'incomplete' : 'igp';
}

/**
 * BGP-learned routes only (static/device routes are skipped). `peerOf` maps a
 * BGP protocol name to its neighbor address.
 */
export function parseBirdRoutes(text: string, peerOf: (protocol: string) => string | undefined): RouteEntry[] {
  const routes: RouteEntry[] = [];
  for (const r of splitBlocks(text)) {
    if (!r.type.startsWith('BGP')) continue;
    const a = r.attrs;
    const asPath = (a.get('BGP.as_path') ?? '').match(/\d+/g)?.map(Number) ?? [];
    // IPv6 next hop may be "global link-local"; the global one is the route's next hop.
    const nh = (a.get('BGP.next_hop') ?? '').split(/\s+/)[0] ?? '';
    const e: RouteEntry = {
      prefix: r.prefix,
      nextHop: nh ? canonicalIp(nh) : '',
      asPath,
      origin: origin(a.get('BGP.origin')),
      communities: pairs(a.get('BGP.community')),
      largeCommunities: pairs(a.get('BGP.large_community')),
      fromPeer: peerOf(r.protocol) ?? r.protocol,
    };
    const med = a.get('BGP.med');
    if (med !== undefined) e.med = Number(med);
    const lp = a.get('BGP.local_pref');
    if (lp !== undefined) e.localPref = Number(lp);
    const oid = a.get('BGP.originator_id');
    if (oid !== undefined) e.originatorId = oid.trim();
    const cl = a.get('BGP.cluster_list');
    if (cl !== undefined) e.clusterList = cl.trim().split(/\s+/).filter(Boolean);
    routes.push(e);
  }
  return routes;
}
