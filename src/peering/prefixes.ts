/**
 * What this node originates into BGP, and which blackhole routes it puts in
 * its kernel, computed the way Calico's BIRD config does it
 * (`bird_aggr.cfg.template`, `bird_ipam.cfg.template`). Pure.
 *
 * - Each confirmed affine IPAM block of this node is one prefix, with a
 *   blackhole kernel route (skipped for /32 and /128 blocks, as
 *   `bird_aggr.cfg` does) so traffic to unallocated addresses of the block
 *   dies here instead of looping back out of the default route.
 * - Workload addresses of this node's WorkloadEndpoints that fall outside
 *   this node's blocks (borrowed from another node's block) are originated
 *   one by one as /32 (/128). Those inside our blocks are covered by the
 *   block route (`calico_aggr()` rejects them).
 * - Export filter (`calico_export_to_bgp_peers`): anything inside an IPPool
 *   with `disableBGPExport: true` is never exported, blocks included; a block
 *   is exported whatever its pool (`calico_aggr()` accepts it before the pool
 *   checks); a borrowed /32 is exported only if it lies in an IPPool. A
 *   `disabled` pool is still exported, as in Calico: disabled only stops new
 *   allocations, and the workloads already in it must stay reachable.
 * - serviceClusterIPs, serviceExternalIPs and serviceLoadBalancerIPs of the
 *   default BGPConfiguration are originated as their CIDRs (Calico's
 *   `/staticroutes`). They are not put in the kernel here (Calico's
 *   `/rejectcidrs`): the service proxy owns them.
 * - Communities: `prefixAdvertisements[]` whose CIDR contains the prefix
 *   add their communities; a community may be a literal (`aa:nn` standard,
 *   `aa:nn:mm` large) or a name from `communities[]`.
 */
import type { OriginateEntry } from '../config/types';
import { parsePrefix } from '../util/ip';
import { cidrInside, ipInCidr } from '../ipam/blocks';
import type { ClusterSnapshot } from './snapshot';

export interface OriginatedState {
  /** Sorted by prefix. */
  originate: OriginateEntry[];
  /** Prefixes to blackhole in the kernel (this node's blocks), sorted. */
  blackholes: string[];
  notes: string[];
}

export function computeOriginated(s: ClusterSnapshot): OriginatedState {
  const notes: string[] = [];
  const cfg = s.bgpConfigurations.find((c) => c.metadata.name === 'default')?.spec ?? {};
  const perNode = s.bgpConfigurations.find((c) => c.metadata.name === `node.${s.nodeName}`)?.spec ?? {};
  const pools = s.ipPools.map((p) => p.spec).filter((p) => parsePrefix(p.cidr) !== null);
  const noExport = (cidr: string): boolean => pools.some((p) => p.disableBGPExport === true && overlapsInside(cidr, p.cidr));
  const inPool = (cidr: string): boolean => pools.some((p) => overlapsInside(cidr, p.cidr));

  const blocks = [
    ...new Set(
      s.affinities
        .filter((a) => a.node === s.nodeName && a.state === 'confirmed')
        .map((a) => parsePrefix(a.cidr)?.cidr)
        .filter((c): c is string => c !== undefined),
    ),
  ].sort();
  const blackholes = blocks.filter((b) => {
    const p = parsePrefix(b);
    return p !== null && p.length < (p.family === 'ipv4-unicast' ? 32 : 128);
  });

  const prefixes = new Set<string>();
  for (const b of blocks) {
    if (noExport(b)) continue;
    prefixes.add(b);
  }
  for (const wep of s.workloadEndpoints) {
    if (wep.spec.node !== s.nodeName) continue;
    for (const net of wep.spec.ipNetworks ?? []) {
      const p = parsePrefix(net);
      if (!p) {
        notes.push(`WorkloadEndpoint ${wep.metadata.namespace ?? 'default'}/${wep.metadata.name}: ${JSON.stringify(net)} is not an address`);
        continue;
      }
      const host = p.length === (p.family === 'ipv4-unicast' ? 32 : 128);
      if (!host) continue; // only host addresses are workload routes
      if (blocks.some((b) => ipInCidr(p.address, b))) continue; // covered by our block
      if (!inPool(p.cidr) || noExport(p.cidr)) continue;
      prefixes.add(p.cidr);
    }
  }
  const services = [...(cfg.serviceClusterIPs ?? []), ...(cfg.serviceExternalIPs ?? []), ...(cfg.serviceLoadBalancerIPs ?? [])];
  for (const { cidr } of services) {
    const p = parsePrefix(cidr);
    if (p) prefixes.add(p.cidr);
    else notes.push(`BGPConfiguration default: service CIDR ${JSON.stringify(cidr)} is not a prefix`);
  }

  const named = new Map((cfg.communities ?? []).map((c) => [c.name, c.value]));
  const adverts = (perNode.prefixAdvertisements ?? cfg.prefixAdvertisements ?? [])
    .map((a) => ({ cidr: parsePrefix(a.cidr)?.cidr, values: (a.communities ?? []).map((c) => named.get(c) ?? c) }))
    .filter((a): a is { cidr: string; values: string[] } => a.cidr !== undefined);

  const originate: OriginateEntry[] = [...prefixes].sort(comparePrefixes).map((prefix) => {
    const family = parsePrefix(prefix)!.family;
    const communities: string[] = [];
    const largeCommunities: string[] = [];
    for (const a of adverts) {
      if (!overlapsInside(prefix, a.cidr)) continue;
      for (const v of a.values) {
        const parts = v.split(':');
        const target = parts.length === 3 ? largeCommunities : parts.length === 2 ? communities : undefined;
        if (!target) {
          notes.push(`prefixAdvertisements ${a.cidr}: ${JSON.stringify(v)} is neither a community nor a known community name`);
          continue;
        }
        if (!target.includes(v)) target.push(v);
      }
    }
    return { prefix, family, communities, largeCommunities };
  });
  return { originate, blackholes, notes };
}

/** `net ~ cidr` in BIRD: `inner` lies inside `outer` (same family). */
function overlapsInside(inner: string, outer: string): boolean {
  try {
    return cidrInside(inner, outer);
  } catch {
    return false;
  }
}

function comparePrefixes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
