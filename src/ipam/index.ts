/**
 * Calico-compatible IPAM: pools cut into blocks, blocks owned by nodes
 * through affinities, addresses grouped by handles, all in Calico's etcd keys.
 *
 * - ip.ts, blocks.ts  address and block arithmetic (pure)
 * - keys.ts           the /calico/ipam/v2 key layout (pure)
 * - model.ts          stored JSON shapes and block assign/release (pure)
 * - store.ts          typed reads of the keys, corrupt values reported
 * - allocator.ts      `Ipam`: autoAssign, release, claim/borrow, config
 * - show.ts, check.ts `ipam show` data and `ipam check` (pure)
 */
export { Ipam, type AutoAssignArgs, type AutoAssignResult, type IpamOptions } from './allocator';
export type { IpamShow, IpamShowPool, IpamShowBlock } from './show';
export type { IpamCheckReport, IpamProblem } from './check';
export type { AllocationBlock, AllocationAttribute, IpamHandle, IpamConfig, BlockAffinityValue, AffinityState } from './model';
export { DEFAULT_IPAM_CONFIG } from './model';
export { blockCidrFor, ordinalToIp, ipToOrdinal, blocksOfPool, freeBlocks } from './blocks';
export { blockKey, affinityKey, handleKey, blockPrefix, affinityPrefix, IPAM_PREFIX, IPAM_CONFIG_KEY, HANDLE_PREFIX } from './keys';
export { IpamError, IPAM_EXHAUSTED, IPAM_CONFLICT, IPAM_INVALID } from './errors';
export { affinitySource, decodeAffinity, type NodeBlockAffinity } from './sources';
