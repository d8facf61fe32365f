/**
 * IPAM values exactly as libcalico-go stores them, and the pure operations
 * on an allocation block (after `lib/ipam/ipam_block.go`):
 *
 * - `allocations[o]` is the index into `attributes` of the owner of ordinal
 *   `o`, or null when free; `unallocated` lists free ordinals in the order
 *   they will be handed out (assign takes from the front, release appends);
 * - `attributes[i]` = {handle_id, secondary}; identical ones are shared and
 *   unreferenced ones are dropped with indexes renumbered;
 * - `sequenceNumber` counts block writes; `sequenceNumberForAllocation`
 *   records it per ordinal (Calico uses it to detect IP reuse).
 *
 * Functions return new blocks; inputs are never modified.
 */

export interface AllocationAttribute {
  handle_id: string | null;
  secondary: Record<string, string> | null;
}

export interface AllocationBlock {
  cidr: string;
  /** "host:<node>" for a node's block; null when unowned. */
  affinity: string | null;
  strictAffinity: boolean;
  allocations: Array<number | null>;
  unallocated: number[];
  attributes: AllocationAttribute[];
  deleted: boolean;
  sequenceNumber: number;
  sequenceNumberForAllocation: Record<string, number>;
  [other: string]: unknown;
}

export interface IpamHandle {
  /** Block CIDR → how many addresses of the handle it holds. */
  block: Record<string, number>;
  deleted: boolean;
}

export type AffinityState = 'confirmed' | 'pending' | 'pendingDeletion';
export interface BlockAffinityValue {
  state?: AffinityState;
  deleted?: boolean;
}

export interface IpamConfig {
  strict_affinity: boolean;
  auto_allocate_blocks: boolean;
  /** 0 = unlimited. */
  maxBlocksPerHost: number;
}

export const DEFAULT_IPAM_CONFIG: IpamConfig = { strict_affinity: false, auto_allocate_blocks: true, maxBlocksPerHost: 0 };

export function hostAffinity(node: string): string {
  return `host:${node}`;
}

/** The node of a `host:<node>` affinity, or undefined. */
export function affinityNode(affinity: string | null | undefined): string | undefined {
  return affinity?.startsWith('host:') ? affinity.slice(5) : undefined;
}

export function newBlock(cidr: string, size: number, affinity: string | null): AllocationBlock {
  return {
    cidr,
    affinity,
    strictAffinity: false,
    allocations: new Array<number | null>(size).fill(null),
    unallocated: Array.from({ length: size }, (_, i) => i),
    attributes: [],
    deleted: false,
    sequenceNumber: 0,
    sequenceNumberForAllocation: {},
  };
}

export function freeCount(b: AllocationBlock): number {
  return b.unallocated.length;
}

export function usedCount(b: AllocationBlock): number {
  return b.allocations.length - b.unallocated.length;
}

/**
 * Take up to `num` free ordinals for `handleId`. Returns the new block and
 * the ordinals taken (fewer than `num` when the block runs out).
 */
export function assignOrdinals(
  b: AllocationBlock,
  num: number,
  handleId: string,
  secondary: Record<string, string> | null,
): { block: AllocationBlock; ordinals: number[] } {
  const ordinals = b.unallocated.slice(0, Math.max(0, num));
  if (ordinals.length === 0) return { block: b, ordinals };
  const attributes = [...b.attributes];
  let attrIndex = attributes.findIndex((a) => a.handle_id === handleId && sameSecondary(a.secondary, secondary));
  if (attrIndex < 0) {
    attributes.push({ handle_id: handleId, secondary });
    attrIndex = attributes.length - 1;
  }
  const allocations = [...b.allocations];
  const seq = b.sequenceNumber + 1;
  const sequenceNumberForAllocation = { ...b.sequenceNumberForAllocation };
  for (const o of ordinals) {
    allocations[o] = attrIndex;
    sequenceNumberForAllocation[String(o)] = seq;
  }
  return {
    block: { ...b, allocations, attributes, unallocated: b.unallocated.slice(ordinals.length), sequenceNumber: seq, sequenceNumberForAllocation },
    ordinals,
  };
}

/**
 * Free `ordinals` (already-free ones are ignored). Returns the new block and,
 * per handle, how many addresses it lost.
 */
export function releaseOrdinals(b: AllocationBlock, ordinals: readonly number[]): { block: AllocationBlock; released: number[]; byHandle: Map<string, number> } {
  const allocations = [...b.allocations];
  const released: number[] = [];
  const byHandle = new Map<string, number>();
  const sequenceNumberForAllocation = { ...b.sequenceNumberForAllocation };
  for (const o of ordinals) {
    const idx = allocations[o];
    if (idx === null || idx === undefined) continue;
    const handle = b.attributes[idx]?.handle_id;
    if (handle) byHandle.set(handle, (byHandle.get(handle) ?? 0) + 1);
    allocations[o] = null;
    delete sequenceNumberForAllocation[String(o)];
    released.push(o);
  }
  if (released.length === 0) return { block: b, released, byHandle };
  // Drop attributes nobody points at any more and renumber (Calico `deleteAttributes`).
  const used = new Set(allocations.filter((a): a is number => a !== null));
  const remap = new Map<number, number>();
  const attributes: AllocationAttribute[] = [];
  b.attributes.forEach((a, i) => {
    if (used.has(i)) {
      remap.set(i, attributes.length);
      attributes.push(a);
    }
  });
  const renumbered = allocations.map((a) => (a === null ? null : (remap.get(a) as number)));
  return {
    block: {
      ...b,
      allocations: renumbered,
      attributes,
      unallocated: [...b.unallocated, ...released],
      sequenceNumber: b.sequenceNumber + 1,
      sequenceNumberForAllocation,
    },
    released,
    byHandle,
  };
}

/** Ordinals held by `handleId`. */
export function ordinalsOfHandle(b: AllocationBlock, handleId: string): number[] {
  const out: number[] = [];
  b.allocations.forEach((a, o) => {
    if (a !== null && b.attributes[a]?.handle_id === handleId) out.push(o);
  });
  return out;
}

/** Handle ID → number of addresses in this block. */
export function handleCounts(b: AllocationBlock): Map<string, number> {
  const m = new Map<string, number>();
  for (const a of b.allocations) {
    if (a === null) continue;
    const h = b.attributes[a]?.handle_id;
    if (h) m.set(h, (m.get(h) ?? 0) + 1);
  }
  return m;
}

/** Apply per-block count changes to a handle; undefined means the handle is now empty. */
export function adjustHandle(h: IpamHandle | undefined, blockCidr: string, delta: number): IpamHandle | undefined {
  const block = { ...(h?.block ?? {}) };
  const n = (block[blockCidr] ?? 0) + delta;
  if (n > 0) block[blockCidr] = n;
  else delete block[blockCidr];
  return Object.keys(block).length > 0 ? { block, deleted: false } : undefined;
}

function sameSecondary(a: Record<string, string> | null, b: Record<string, string> | null): boolean {
  const ka = Object.keys(a ?? {}).sort();
  const kb = Object.keys(b ?? {}).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a?.[k] === b?.[k]);
}

/** Structural check of a block read from etcd; the reason when unusable. */
export function blockProblem(v: unknown, cidr: string, size: number): string | undefined {
  if (typeof v !== 'object' || v === null) return 'not a JSON object';
  const b = v as Partial<AllocationBlock>;
  if (b.cidr !== cidr) return `cidr ${JSON.stringify(b.cidr)} does not match the key`;
  if (!Array.isArray(b.allocations) || b.allocations.length !== size) return `allocations must have ${size} entries`;
  if (!Array.isArray(b.unallocated) || !Array.isArray(b.attributes)) return 'unallocated and attributes must be lists';
  const free = b.allocations.filter((a) => a === null).length;
  if (free !== b.unallocated.length) return `unallocated lists ${b.unallocated.length} ordinals but ${free} are free`;
  return undefined;
}

/** Fill fields an older writer may have left out. */
export function normaliseBlock(v: Partial<AllocationBlock> & { cidr: string; allocations: Array<number | null> }): AllocationBlock {
  return {
    ...v,
    cidr: v.cidr,
    affinity: v.affinity ?? null,
    strictAffinity: v.strictAffinity ?? false,
    allocations: v.allocations,
    unallocated: v.unallocated ?? [],
    attributes: v.attributes ?? [],
    deleted: v.deleted ?? false,
    sequenceNumber: v.sequenceNumber ?? 0,
    sequenceNumberForAllocation: v.sequenceNumberForAllocation ?? {},
  };
}
