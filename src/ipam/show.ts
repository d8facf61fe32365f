/**
 * `ipam show` data (calicoctl `commands/ipam/show.go`): per pool and, for
 * `--show-blocks`, per block, the total / in-use / free counts. Pure.
 */
import type { IPPool } from '../datastore';
import { cidrInside } from './blocks';
import { cidrSize, parseCidr } from './ip';
import { affinityNode, usedCount, type AllocationBlock } from './model';

export interface IpamShowBlock {
  cidr: string;
  /** Owning node (from `host:<node>` affinity), or undefined for an unowned block. */
  node: string | undefined;
  total: number;
  inUse: number;
  free: number;
}

export interface IpamShowPool {
  name: string;
  cidr: string;
  disabled: boolean;
  /** Addresses in the pool (a number: v6 pools beyond 2^53 are shown approximately). */
  total: number;
  inUse: number;
  free: number;
  blocks: IpamShowBlock[];
}

export interface IpamShow {
  pools: IpamShowPool[];
  /** Blocks inside no current pool (their pool was deleted). */
  orphanBlocks: IpamShowBlock[];
}

export function showIpamState(pools: readonly IPPool[], blocks: readonly AllocationBlock[]): IpamShow {
  const rows = (bs: readonly AllocationBlock[]): IpamShowBlock[] =>
    bs
      .map((b) => {
        const total = b.allocations.length;
        const inUse = usedCount(b);
        return { cidr: b.cidr, node: affinityNode(b.affinity), total, inUse, free: total - inUse };
      })
      .sort((a, b) => a.cidr.localeCompare(b.cidr, 'en', { numeric: true }));
  const placed = new Set<string>();
  const out: IpamShowPool[] = pools.map((p) => {
    const mine = blocks.filter((b) => cidrInside(b.cidr, p.spec.cidr));
    mine.forEach((b) => placed.add(b.cidr));
    const c = parseCidr(p.spec.cidr);
    const total = c ? Number(cidrSize(c)) : 0;
    const inUse = mine.reduce((n, b) => n + usedCount(b), 0);
    return { name: p.metadata.name, cidr: p.spec.cidr, disabled: p.spec.disabled ?? false, total, inUse, free: total - inUse, blocks: rows(mine) };
  });
  return { pools: out, orphanBlocks: rows(blocks.filter((b) => !placed.has(b.cidr))) };
}
