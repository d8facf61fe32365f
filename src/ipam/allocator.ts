/**
 * Calico-style IP address management over etcd (after libcalico-go
 * `lib/ipam/ipam.go`, with the same keys and values, so Calico's own tools
 * can read what Tartan allocates and the other way round).
 *
 * Allocation order for a node (`autoAssign`):
 *   1. the node's affine blocks, in pools that still select the node;
 *   2. a newly claimed free block (affinity written `pending`, then the
 *      block created and the affinity made `confirmed`, as Calico's
 *      `claimAffineBlock` does, so Calico readers never see a block whose
 *      owner is unsure);
 *   3. unless `strict_affinity`, addresses borrowed from other nodes' blocks.
 *
 * Concurrency: every change to a block is one etcd transaction that also
 * updates the affected handles, guarded on the mod revisions of all of them.
 * Two allocators racing on one block therefore cannot hand out one address
 * twice; the loser re-reads and retries. Block and handle never disagree,
 * even if a process dies between calls (Calico writes them separately and
 * needs `ipam check` to clean up after crashes; here it only finds damage
 * done from outside).
 */
import { createHash } from 'node:crypto';
import type { CorruptValue, Datastore, IPPool, TxnOp, ModRevisionGuard } from '../datastore';
import { isTartanError } from '../errors';
import { parseSelector, type Labels } from '../selector';
import { blocksOfPool, blockSizeOf, canonicalIp, cidrInside, ipInCidr, ipToOrdinal, ipVersionOfCidr, ordinalToIp } from './blocks';
import { IPAM_CONFLICT, IPAM_EXHAUSTED, IPAM_INVALID, IpamError } from './errors';
import { affinityKey, blockKey, handleKey, IPAM_CONFIG_KEY } from './keys';
import {
  adjustHandle, affinityNode, assignOrdinals, freeCount, hostAffinity, newBlock, ordinalsOfHandle, releaseOrdinals, usedCount,
  type AllocationBlock, type IpamConfig, type IpamHandle,
} from './model';
import { IpamStore } from './store';
import { checkIpamState, type IpamCheckReport } from './check';
import { showIpamState, type IpamShow } from './show';

export interface AutoAssignArgs {
  node: string;
  /** Groups the addresses for release (Calico: `k8s-pod-network.<containerID>`). */
  handleId: string;
  num4?: number;
  num6?: number;
  /** Stored as the allocation's `secondary` attributes (node, namespace, pod…). */
  attrs?: Record<string, string>;
  /** The node's labels for pool nodeSelectors; read from its Node resource when omitted. */
  nodeLabels?: Labels;
  /** Only these IPv4 pools (names or CIDRs; Calico CNI `ipv4_pools`); default every pool that applies. */
  ipv4Pools?: readonly string[];
  /** The same for IPv6 (`ipv6_pools`). */
  ipv6Pools?: readonly string[];
}

export interface AutoAssignResult {
  ipv4: string[];
  ipv6: string[];
}

export interface IpamOptions {
  onCorrupt?: (c: CorruptValue) => void;
  /** Attempts per block/handle write before IPAM_CONFLICT (default 100). */
  maxRetries?: number;
}

interface PoolInfo {
  name: string;
  cidr: string;
  blockSize: number;
}

export class Ipam {
  private readonly store: IpamStore;
  private readonly maxRetries: number;

  constructor(
    private readonly ds: Datastore,
    opts: IpamOptions = {},
  ) {
    this.store = new IpamStore(ds.kv, opts.onCorrupt ?? (() => undefined));
    this.maxRetries = opts.maxRetries ?? 100;
  }

  // ---- allocation -------------------------------------------------------

  async autoAssign(args: AutoAssignArgs): Promise<AutoAssignResult> {
    const num4 = args.num4 ?? 0;
    const num6 = args.num6 ?? 0;
    if (!Number.isInteger(num4) || !Number.isInteger(num6) || num4 < 0 || num6 < 0) {
      throw new IpamError(IPAM_INVALID, `num4 and num6 must be non-negative integers, got ${num4} and ${num6}`);
    }
    if (!args.handleId) throw new IpamError(IPAM_INVALID, 'handleId is required');
    const labels = args.nodeLabels ?? (await this.nodeLabels(args.node));
    const config = (await this.store.config()).value;
    const result: AutoAssignResult = { ipv4: [], ipv6: [] };
    try {
      if (num4 > 0) result.ipv4 = await this.assignFamily(4, num4, args, labels, config, result.ipv4);
      if (num6 > 0) result.ipv6 = await this.assignFamily(6, num6, args, labels, config, result.ipv6);
    } catch (e) {
      // All or nothing: give back what this call took before failing.
      const taken = [...result.ipv4, ...result.ipv6, ...((e as { partial?: string[] }).partial ?? [])];
      if (taken.length > 0) await this.releaseIPs(taken).catch(() => undefined);
      throw e;
    }
    return result;
  }

  private async assignFamily(
    version: 4 | 6,
    num: number,
    args: AutoAssignArgs,
    labels: Labels,
    config: IpamConfig,
    out: string[],
  ): Promise<string[]> {
    const only = version === 4 ? args.ipv4Pools : args.ipv6Pools;
    const applicable = await this.poolsFor(version, labels);
    const pools = only && only.length > 0 ? applicable.filter((p) => only.includes(p.name) || only.includes(p.cidr)) : applicable;
    const got: string[] = [...out];
    const fail = (msg: string): never => {
      const err = new IpamError(IPAM_EXHAUSTED, msg);
      (err as unknown as { partial: string[] }).partial = got;
      throw err;
    };
    if (pools.length === 0) {
      fail(`no enabled IPv${version} pool ${only && only.length > 0 ? `among ${only.join(', ')} ` : ''}selects node ${args.node}`);
    }
    const inPools = (cidr: string): boolean => pools.some((p) => cidrInside(cidr, p.cidr));

    // 1. Blocks this node already owns.
    const affine = (await this.store.affinities(args.node)).filter((a) => ipVersionOfCidr(a.cidr) === version && inPools(a.cidr));
    for (const a of affine) {
      if (got.length >= num) break;
      if (a.state === 'pendingDeletion') continue;
      got.push(...(await this.assignFromBlock(a.cidr, num - got.length, args, args.node)));
    }

    // 2. Claim new blocks.
    if (got.length < num && config.auto_allocate_blocks) {
      for (const pool of pools) {
        while (got.length < num) {
          if (config.maxBlocksPerHost > 0) {
            const owned = (await this.store.affinities(args.node)).filter((a) => ipVersionOfCidr(a.cidr) === version).length;
            if (owned >= config.maxBlocksPerHost) break;
          }
          const claimed = await this.claimFreeBlock(pool, args.node);
          if (!claimed) break;
          got.push(...(await this.assignFromBlock(claimed, num - got.length, args, args.node)));
        }
        if (got.length >= num) break;
      }
    }

    // 3. Borrow from other nodes' blocks.
    if (got.length < num && !config.strict_affinity) {
      for (const b of await this.store.blocks(version)) {
        if (got.length >= num) break;
        if (!inPools(b.value.cidr) || b.value.strictAffinity || freeCount(b.value) === 0) continue;
        if (affinityNode(b.value.affinity) === args.node) continue; // already tried in step 1
        got.push(...(await this.assignFromBlock(b.value.cidr, num - got.length, args, undefined)));
      }
    }
    if (got.length < num) {
      fail(`IPv${version} pools for node ${args.node} are exhausted: wanted ${num}, found ${got.length}`);
    }
    return got;
  }

  /**
   * Take up to `num` addresses from one block for the handle. `owner`, when
   * given, is the node the block must still belong to (its affinity may have
   * been released meanwhile).
   */
  private async assignFromBlock(cidr: string, num: number, args: AutoAssignArgs, owner: string | undefined): Promise<string[]> {
    return this.retry<string[]>(`assign from ${cidr}`, async () => {
      const block = await this.store.block(cidr);
      if (!block) return { done: true, value: [] };
      if (owner !== undefined && affinityNode(block.value.affinity) !== owner) return { done: true, value: [] };
      const { block: next, ordinals } = assignOrdinals(block.value, num, args.handleId, secondaryOf(args));
      if (ordinals.length === 0) return { done: true, value: [] };
      const handle = await this.store.handle(args.handleId);
      const newHandle = adjustHandle(handle?.value, cidr, ordinals.length);
      const ok = await this.commit(
        [
          { key: blockKey(cidr), modRevision: block.modRevision },
          { key: handleKey(args.handleId), modRevision: handle?.modRevision ?? 0 },
        ],
        [putJson(blockKey(cidr), next), newHandle ? putJson(handleKey(args.handleId), newHandle) : { op: 'delete', key: handleKey(args.handleId) }],
      );
      return ok ? { done: true, value: ordinals.map((o) => ordinalToIp(cidr, o)) } : { done: false };
    });
  }

  /** Claim one free block of `pool` for `node`; its CIDR, or undefined if the pool is full. */
  private async claimFreeBlock(pool: PoolInfo, node: string): Promise<string | undefined> {
    const version = ipVersionOfCidr(pool.cidr);
    for (let attempt = 0; attempt < this.maxRetries; attempt++) {
      const taken = await this.store.blockCidrs(version);
      const candidate = firstFreeBlock(pool, taken, node);
      if (!candidate) return undefined;
      const aKey = affinityKey(node, candidate);
      const bKey = blockKey(candidate);
      // Phase 1: announce the claim (pending), only if no affinity exists yet.
      const pending = await this.ds.kv.txn([{ key: aKey, modRevision: 0 }], [putJson(aKey, { state: 'pending', deleted: false })]);
      if (!pending.succeeded) continue; // someone (a stale claim of ours?) holds it; look again
      // Phase 2: create the block if it is still free, and confirm.
      const created = await this.ds.kv.txn(
        [
          { key: bKey, modRevision: 0 },
          { key: aKey, modRevision: pending.revision },
        ],
        [putJson(bKey, newBlock(candidate, blockSizeOf(candidate), hostAffinity(node))), putJson(aKey, { state: 'confirmed', deleted: false })],
      );
      if (created.succeeded) return candidate;
      // Lost the race for the block: withdraw our pending affinity.
      await this.ds.kv.txn([{ key: aKey, modRevision: pending.revision }], [{ op: 'delete', key: aKey }]);
    }
    throw new IpamError(IPAM_CONFLICT, `could not claim a block in pool ${pool.name} for ${node} after ${this.maxRetries} attempts`);
  }

  // ---- release ----------------------------------------------------------

  /** Release every address of `handleId`; returns them (empty if the handle is unknown). */
  async releaseByHandle(handleId: string): Promise<string[]> {
    const handle = await this.store.handle(handleId);
    if (!handle) return [];
    const released: string[] = [];
    for (const cidr of Object.keys(handle.value.block)) {
      released.push(...(await this.releaseInBlock(cidr, (b) => ordinalsOfHandle(b, handleId), handleId)));
    }
    return released;
  }

  /** The addresses `handleId` holds (Calico's IPsByHandle); empty if the handle is unknown. */
  async ipsByHandle(handleId: string): Promise<string[]> {
    const handle = await this.store.handle(handleId);
    if (!handle) return [];
    const out: string[] = [];
    for (const cidr of Object.keys(handle.value.block)) {
      const block = await this.store.block(cidr);
      if (block) out.push(...ordinalsOfHandle(block.value, handleId).map((o) => ordinalToIp(cidr, o)));
    }
    return out;
  }

  /** Release specific addresses; returns those that were allocated (and are now free). */
  async releaseIPs(ips: readonly string[]): Promise<string[]> {
    const byBlock = new Map<string, Set<number>>();
    const cache = new Map<4 | 6, Set<string>>();
    for (const raw of ips) {
      const ip = canonicalIp(raw);
      if (!ip) throw new IpamError(IPAM_INVALID, `${JSON.stringify(raw)} is not an IP address`);
      const version: 4 | 6 = ip.includes(':') ? 6 : 4;
      if (!cache.has(version)) cache.set(version, await this.store.blockCidrs(version));
      const cidr = [...(cache.get(version) as Set<string>)].find((c) => ipInCidr(ip, c));
      if (!cidr) continue; // not in any block: nothing to release
      const set = byBlock.get(cidr) ?? new Set<number>();
      set.add(ipToOrdinal(cidr, ip) as number);
      byBlock.set(cidr, set);
    }
    const released: string[] = [];
    for (const [cidr, ordinals] of byBlock) released.push(...(await this.releaseInBlock(cidr, () => [...ordinals])));
    return released;
  }

  private async releaseInBlock(cidr: string, pick: (b: AllocationBlock) => number[], alsoHandle?: string): Promise<string[]> {
    return this.retry<string[]>(`release in ${cidr}`, async () => {
      const block = await this.store.block(cidr);
      if (!block) {
        // The block is gone; a handle that still points at it is stale.
        if (alsoHandle) await this.dropHandleBlock(alsoHandle, cidr);
        return { done: true, value: [] };
      }
      const { block: next, released, byHandle } = releaseOrdinals(block.value, pick(block.value));
      if (alsoHandle && !byHandle.has(alsoHandle)) byHandle.set(alsoHandle, 0);
      if (released.length === 0 && !alsoHandle) return { done: true, value: [] };
      const guards: ModRevisionGuard[] = [{ key: blockKey(cidr), modRevision: block.modRevision }];
      const ops: TxnOp[] = released.length > 0 ? [putJson(blockKey(cidr), next)] : [];
      for (const [id, n] of byHandle) {
        const h = await this.store.handle(id);
        guards.push({ key: handleKey(id), modRevision: h?.modRevision ?? 0 });
        // When the handle was the one released by, drop the whole block entry
        // (it may have been counted wrong by an outside writer).
        const nextHandle = id === alsoHandle ? withoutBlock(h?.value, cidr) : adjustHandle(h?.value, cidr, -n);
        if (nextHandle) ops.push(putJson(handleKey(id), nextHandle));
        else if (h) ops.push({ op: 'delete', key: handleKey(id) });
      }
      if (ops.length === 0) return { done: true, value: [] };
      const ok = await this.commit(guards, ops);
      return ok ? { done: true, value: released.map((o) => ordinalToIp(cidr, o)) } : { done: false };
    });
  }

  private async dropHandleBlock(handleId: string, cidr: string): Promise<void> {
    await this.retry<undefined>(`update handle ${handleId}`, async () => {
      const h = await this.store.handle(handleId);
      if (!h) return { done: true, value: undefined };
      const next = withoutBlock(h.value, cidr);
      const ok = await this.commit([{ key: handleKey(handleId), modRevision: h.modRevision }], [next ? putJson(handleKey(handleId), next) : { op: 'delete', key: handleKey(handleId) }]);
      return ok ? { done: true, value: undefined } : { done: false };
    });
  }

  /**
   * Give up the node's blocks that hold no addresses (block and affinity
   * deleted together). Returns the released block CIDRs.
   */
  async releaseEmptyAffineBlocks(node: string): Promise<string[]> {
    const out: string[] = [];
    for (const a of await this.store.affinities(node)) {
      const block = await this.store.block(a.cidr);
      const aKey = affinityKey(node, a.cidr);
      if (!block) {
        // A dangling affinity (an interrupted claim): just remove it.
        if ((await this.ds.kv.txn([{ key: aKey, modRevision: a.modRevision }], [{ op: 'delete', key: aKey }])).succeeded) out.push(a.cidr);
        continue;
      }
      if (usedCount(block.value) > 0 || affinityNode(block.value.affinity) !== node) continue;
      const res = await this.ds.kv.txn(
        [
          { key: blockKey(a.cidr), modRevision: block.modRevision },
          { key: aKey, modRevision: a.modRevision },
        ],
        [
          { op: 'delete', key: blockKey(a.cidr) },
          { op: 'delete', key: aKey },
        ],
      );
      // If it changed meanwhile (someone allocated), it is no longer empty: keep it.
      if (res.succeeded) out.push(a.cidr);
    }
    return out;
  }

  // ---- configuration, show, check ---------------------------------------

  async getConfig(): Promise<IpamConfig> {
    return (await this.store.config()).value;
  }

  async setConfig(change: Partial<IpamConfig>): Promise<IpamConfig> {
    return this.retry<IpamConfig>('update IPAM config', async () => {
      const cur = await this.store.config();
      const next = { ...cur.value, ...change };
      const ok = await this.commit([{ key: IPAM_CONFIG_KEY, modRevision: cur.modRevision }], [putJson(IPAM_CONFIG_KEY, next)]);
      return ok ? { done: true, value: next } : { done: false };
    });
  }

  /** Data for `tartanctl ipam show [--show-blocks]`. */
  async ipamShow(): Promise<IpamShow> {
    const { items: pools } = await this.ds.list('IPPool');
    const blocks = [...(await this.store.blocks(4)), ...(await this.store.blocks(6))].map((b) => b.value);
    return showIpamState(pools, blocks);
  }

  /** `ipam check`: every inconsistency between blocks, handles, affinities, pools and nodes. */
  async checkIpam(): Promise<IpamCheckReport> {
    const corrupt: CorruptValue[] = [];
    const store = new IpamStore(this.ds.kv, (c) => corrupt.push(c));
    const [{ items: pools }, { items: nodes }] = [await this.ds.list('IPPool'), await this.ds.list('Node')];
    const blocks = [...(await store.blocks(4)), ...(await store.blocks(6))].map((b) => b.value);
    const handles = new Map([...(await store.handles())].map(([k, v]) => [k, v.value]));
    const affinities = await store.affinities();
    return checkIpamState({ pools, nodes: nodes.map((n) => n.metadata.name), blocks, handles, affinities, corrupt });
  }

  // ---- helpers ----------------------------------------------------------

  private async nodeLabels(node: string): Promise<Labels> {
    try {
      return (await this.ds.get('Node', node)).metadata.labels ?? {};
    } catch (e) {
      // A node without a Node resource (yet) gets only pools with selectors that need no labels.
      if (isTartanError(e, 'RESOURCE_NOT_FOUND')) return {};
      throw e;
    }
  }

  /** Enabled, automatic, workload pools of `version` whose nodeSelector matches. */
  private async poolsFor(version: 4 | 6, labels: Labels): Promise<PoolInfo[]> {
    const { items } = await this.ds.list('IPPool');
    return items
      .filter((p: IPPool) => {
        const s = p.spec;
        if (s.disabled || s.assignmentMode === 'Manual') return false;
        if (s.allowedUses && !s.allowedUses.includes('Workload')) return false;
        if (ipVersionOfCidr(s.cidr) !== version) return false;
        return parseSelector(s.nodeSelector ?? 'all()').matches(labels);
      })
      .map((p) => ({ name: p.metadata.name, cidr: p.spec.cidr, blockSize: p.spec.blockSize ?? (version === 4 ? 26 : 122) }));
  }

  private async commit(guards: ModRevisionGuard[], ops: TxnOp[]): Promise<boolean> {
    return (await this.ds.kv.txn(guards, ops)).succeeded;
  }

  /** Optimistic-concurrency loop: re-read and retry while a guard fails. */
  private async retry<T>(what: string, step: () => Promise<{ done: true; value: T } | { done: false }>): Promise<T> {
    for (let attempt = 0; attempt < this.maxRetries; attempt++) {
      const r = await step();
      if (r.done) return r.value;
      // Back off a little, randomised, so racing writers stop colliding in lockstep.
      if (attempt > 2) await new Promise((res) => setTimeout(res, Math.random() * Math.min(50, attempt * 2)));
    }
    throw new IpamError(IPAM_CONFLICT, `${what}: still conflicting after ${this.maxRetries} attempts`);
  }
}

function secondaryOf(args: AutoAssignArgs): Record<string, string> | null {
  return args.attrs && Object.keys(args.attrs).length > 0 ? { ...args.attrs } : null;
}

function putJson(key: string, value: unknown): TxnOp {
  return { op: 'put', key, value: JSON.stringify(value) };
}

function withoutBlock(h: IpamHandle | undefined, cidr: string): IpamHandle | undefined {
  if (!h) return undefined;
  const block = { ...h.block };
  delete block[cidr];
  return Object.keys(block).length > 0 ? { block, deleted: false } : undefined;
}

/** Blocks looked at per claim; a v6 pool can hold astronomically many. */
const CLAIM_SCAN_LIMIT = 1 << 16;

/**
 * A free block, scanning from an offset hashed from the node name (Calico
 * starts at a random block for the same reason: nodes claiming at once
 * should not all fight over the first free block).
 */
function firstFreeBlock(pool: PoolInfo, taken: ReadonlySet<string>, node: string): string | undefined {
  const all: string[] = [];
  for (const b of blocksOfPool(pool.cidr, pool.blockSize)) {
    if (all.length >= CLAIM_SCAN_LIMIT) break;
    all.push(b);
  }
  if (all.length === 0) return undefined;
  const offset = createHash('sha256').update(node).digest().readUInt32BE(0) % all.length;
  for (let k = 0; k < all.length; k++) {
    const b = all[(offset + k) % all.length] as string;
    if (!taken.has(b)) return b;
  }
  return undefined;
}
