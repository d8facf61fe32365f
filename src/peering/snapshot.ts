/**
 * The plain inputs of peer and prefix computation: what the watcher holds
 * from the datastore at one moment, with nothing live in it. Everything in
 * src/peering that decides (peers.ts, prefixes.ts) is a pure function of a
 * `ClusterSnapshot`, so it is tested with literal objects.
 */
import type { BGPConfiguration, BGPFilter, BGPPeer, IPPool, NodeResource, WorkloadEndpoint } from '../datastore';
import type { NodeBlockAffinity } from '../ipam';

export interface ClusterSnapshot {
  /** This node's name (Node metadata.name). */
  nodeName: string;
  nodes: readonly NodeResource[];
  bgpPeers: readonly BGPPeer[];
  bgpConfigurations: readonly BGPConfiguration[];
  bgpFilters: readonly BGPFilter[];
  ipPools: readonly IPPool[];
  /** This node's block affinities (any state; only confirmed ones count). */
  affinities: readonly NodeBlockAffinity[];
  /** WorkloadEndpoints (any node; only this node's count). */
  workloadEndpoints: readonly WorkloadEndpoint[];
}

export function emptySnapshot(nodeName: string): ClusterSnapshot {
  return { nodeName, nodes: [], bgpPeers: [], bgpConfigurations: [], bgpFilters: [], ipPools: [], affinities: [], workloadEndpoints: [] };
}

/**
 * A Go duration ("120s", "1m30s", "500ms", "0") in whole seconds, rounded as
 * Calico does (`math.Round(d.Seconds())`); undefined when absent or unreadable.
 */
export function durationSeconds(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (text === '0') return 0;
  const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (unit[m[2] as string] as number);
    consumed = re.lastIndex;
  }
  if (consumed !== text.length) return undefined;
  return Math.round(total);
}

/** An ASNumber field (number, "64512" or dotted "1.10") as a number; undefined if unusable. */
export function asNumberOf(v: number | string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return Number.isInteger(v) && v > 0 && v <= 4294967295 ? v : undefined;
  const dotted = /^(\d+)\.(\d+)$/.exec(v);
  if (dotted) {
    const hi = Number(dotted[1]);
    const lo = Number(dotted[2]);
    return hi <= 65535 && lo <= 65535 ? hi * 65536 + lo : undefined;
  }
  return /^\d+$/.test(v) ? asNumberOf(Number(v)) : undefined;
}

/** "10.0.0.5/24" or "10.0.0.5" → "10.0.0.5" (Calico strips the mask for ip_addr_v4). */
export function stripMask(cidr: string | undefined): string | undefined {
  if (!cidr) return undefined;
  const i = cidr.indexOf('/');
  return i < 0 ? cidr : cidr.slice(0, i);
}
