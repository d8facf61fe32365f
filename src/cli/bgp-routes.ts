import type { RouteView } from '../control/types';

/**
 * Routes in the shape of `birdc show route all`: a header line per route,
 * then one indented line per attribute.
 */
export function renderRoutes(routes: RouteView[]): string {
  if (routes.length === 0) return 'No routes.';
  const out: string[] = [];
  let lastGroup = '';
  const sorted = [...routes].sort((a, b) => a.table.localeCompare(b.table) || a.family.localeCompare(b.family) || a.prefix.localeCompare(b.prefix, 'en', { numeric: true }));
  for (const r of sorted) {
    const group = `${r.table === 'in' ? 'Received' : r.table === 'loc' ? 'Best' : 'Advertised'} ${r.family}`;
    if (group !== lastGroup) {
      if (lastGroup) out.push('');
      out.push(`${group}:`);
      lastGroup = group;
    }
    const a = r.attributes;
    const dir = r.table === 'out' ? 'to' : 'from';
    const asn = a.asPath ? ` (AS path ${a.asPath || 'empty'})` : '';
    const pathId = r.pathId !== undefined ? ` path-id ${r.pathId}` : '';
    // BIRD marks the best route of a prefix with '*'.
    out.push(`${r.prefix.padEnd(20)} ${dir} ${r.peer}${pathId} [${r.since}]${r.best ? ' *' : ''}${r.multipath ? ' (multipath)' : ''}${r.stale ? ' (stale: peer restarting)' : ''}${r.nextHopUnreachable ? ' (next hop unreachable)' : ''}${asn}${r.rejected ? `  REJECTED: ${r.rejected}` : ''}`);
    if (a.nextHop) out.push(`\tvia ${a.nextHop.join(', ')}`);
    if (a.origin !== undefined) out.push(`\tBGP.origin: ${a.origin}`);
    if (a.asPath !== undefined) out.push(`\tBGP.as_path: ${a.asPath}`);
    if (a.nextHop) out.push(`\tBGP.next_hop: ${a.nextHop.join(' ')}`);
    if (a.med !== undefined) out.push(`\tBGP.med: ${a.med}`);
    if (a.localPref !== undefined) out.push(`\tBGP.local_pref: ${a.localPref}`);
    if (a.atomicAggregate) out.push('\tBGP.atomic_aggr:');
    if (a.aggregator) out.push(`\tBGP.aggregator: ${a.aggregator}`);
    if (a.communities?.length) out.push(`\tBGP.community: ${a.communities.map((c) => `(${c.replace(':', ',')})`).join(' ')}`);
    if (a.largeCommunities?.length) out.push(`\tBGP.large_community: ${a.largeCommunities.map((c) => `(${c.split(':').join(', ')})`).join(' ')}`);
    if (a.extendedCommunities?.length) out.push(`\tBGP.ext_community: ${a.extendedCommunities.join(' ')}`);
    if (a.originatorId) out.push(`\tBGP.originator_id: ${a.originatorId}`);
    if (a.clusterList?.length) out.push(`\tBGP.cluster_list: ${a.clusterList.join(' ')}`);
    for (const u of a.unknown ?? []) out.push(`\tBGP.${u}`);
  }
  return out.join('\n');
}
