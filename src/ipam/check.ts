/**
 * `ipam check` (calicoctl `commands/ipam/check.go`): cross-checks blocks,
 * handles and affinities. Pure: the caller gathers the state.
 */
import type { CorruptValue, IPPool } from '../datastore';
import { cidrInside, ordinalToIp } from './blocks';
import { affinityNode, handleCounts, usedCount, type AllocationBlock, type IpamHandle } from './model';
import type { AffinityRecord } from './store';

export type IpamProblem =
  | { type: 'allocation-without-handle'; ip: string; block: string; handleId: string | null }
  | { type: 'handle-count-mismatch'; handleId: string; block: string; handleSays: number; blockHas: number }
  | { type: 'handle-without-allocations'; handleId: string; block: string }
  | { type: 'block-outside-pools'; block: string }
  | { type: 'block-without-affinity'; block: string; node: string }
  | { type: 'affinity-without-block'; block: string; node: string }
  | { type: 'affinity-mismatch'; block: string; node: string; blockAffinity: string | null }
  | { type: 'block-of-unknown-node'; block: string; node: string }
  | { type: 'corrupt-value'; key: string; reason: string };

export interface IpamCheckReport {
  blocks: number;
  handles: number;
  allocations: number;
  problems: IpamProblem[];
}

export interface IpamState {
  pools: readonly IPPool[];
  nodes: readonly string[];
  blocks: readonly AllocationBlock[];
  handles: ReadonlyMap<string, IpamHandle>;
  affinities: readonly AffinityRecord[];
  corrupt: readonly CorruptValue[];
}

export function checkIpamState(s: IpamState): IpamCheckReport {
  const problems: IpamProblem[] = s.corrupt.map((c) => ({ type: 'corrupt-value', key: c.key, reason: c.reason }));
  const nodes = new Set(s.nodes);
  const affinityByBlock = new Map(s.affinities.map((a) => [a.cidr, a]));
  let allocations = 0;

  for (const b of s.blocks) {
    allocations += usedCount(b);
    // Every allocation must name a handle that exists and counts it.
    const counts = handleCounts(b);
    b.allocations.forEach((a, o) => {
      if (a === null) return;
      const h = b.attributes[a]?.handle_id ?? null;
      if (!h || !s.handles.has(h)) problems.push({ type: 'allocation-without-handle', ip: ordinalToIp(b.cidr, o), block: b.cidr, handleId: h });
    });
    for (const [h, n] of counts) {
      const says = s.handles.get(h)?.block[b.cidr];
      if (says !== undefined && says !== n) problems.push({ type: 'handle-count-mismatch', handleId: h, block: b.cidr, handleSays: says, blockHas: n });
    }
    if (!s.pools.some((p) => cidrInside(b.cidr, p.spec.cidr))) problems.push({ type: 'block-outside-pools', block: b.cidr });
    const owner = affinityNode(b.affinity);
    if (owner) {
      const aff = affinityByBlock.get(b.cidr);
      if (!aff) problems.push({ type: 'block-without-affinity', block: b.cidr, node: owner });
      if (nodes.size > 0 && !nodes.has(owner)) problems.push({ type: 'block-of-unknown-node', block: b.cidr, node: owner });
    }
  }

  // Every handle's blocks must hold its addresses.
  const blockByCidr = new Map(s.blocks.map((b) => [b.cidr, b]));
  for (const [id, h] of s.handles) {
    for (const cidr of Object.keys(h.block)) {
      const b = blockByCidr.get(cidr);
      if (!b || !handleCounts(b).has(id)) problems.push({ type: 'handle-without-allocations', handleId: id, block: cidr });
    }
  }

  for (const a of s.affinities) {
    const b = blockByCidr.get(a.cidr);
    if (!b) {
      // A pending claim is mid-flight, not a leak.
      if (a.state !== 'pending') problems.push({ type: 'affinity-without-block', block: a.cidr, node: a.node });
    } else if (affinityNode(b.affinity) !== a.node) {
      problems.push({ type: 'affinity-mismatch', block: a.cidr, node: a.node, blockAffinity: b.affinity });
    }
  }

  return { blocks: s.blocks.length, handles: s.handles.size, allocations, problems };
}
