/**
 * The routing engine: every source's Adj-RIB-In, the Loc-RIB chosen from
 * them by the decision process, and the export of Loc-RIB changes to every
 * established peer — BIRD's nest/ role, with no socket in sight.
 *
 * Data flow:
 *   announce()/withdraw() ── Adj-RIB-In (per source, per family) ── dirty queue
 *   dirty queue ── (batched, event-loop friendly) ── decision ── Loc-RIB
 *        Loc-RIB change ── FIB sink (kernel)  and  ── export rules ── per-peer UPDATEs
 *
 * Storage is typed arrays keyed by prefix words: per family one NetTable
 * numbering its prefixes and holding the Loc-RIB (LocRib), Adj-RIB-Ins as
 * arrays by net id (AdjRibIn; with ADD-PATH a PrefixTable of their own
 * keyed by prefix and path id); attribute sets are interned (AttrStore) and referenced by id. Adj-RIB-Out is not stored
 * (as in BIRD and GoBGP): what a peer was sent is recomputed from the
 * previous best when the best changes, and shown on demand.
 */
import type { CodecOptions, Family, Nlri, PathAttributes } from '../wire/types';
import { encodePackedAnnouncements, encodePackedWithdrawals } from '../wire/packed';
import { encodeEndOfRib } from '../wire';
import { checkImport, exportRoute, type ExportTarget, type LocalIdentity, type RouteOrigin } from '../policy/rules';
import { applyOperations } from '../policy/filter-operations';
import type { CompiledFilter } from '../policy/bgp-filter';
import { AttrStore } from './attr-store';
import { selectBest, type Candidate, type DecisionOptions, type SourceSummary } from './decision';
import { NlriWriter } from './nlri-writer';
import { NlriBatch } from './nlri-batch';
import { cidrFromKey, keyFromCidr } from './prefix-key';
import { NONE, PrefixTable } from './prefix-table';
import type { RibTable } from './rib-table';
import { LocRib, NetTable } from './net-table';
import { AdjRibIn } from './adj-rib-in';
import { PathIndex } from './path-index';
import type { RouteAttributes } from './route-attributes';
import { attributeKey } from './route-attributes';

export const FAMILY_WORDS: Record<Family, 1 | 4> = { 'ipv4-unicast': 1, 'ipv6-unicast': 4 };

/**
 * NLRI as the session delivers them: decoded entries, or wire bytes (the fast
 * path). `addPath`: the entries carry RFC 7911 path identifiers (ADD-PATH
 * receive was negotiated for this family).
 */
export type NlriInput = { list: readonly Nlri[]; addPath?: boolean } | { packed: Buffer; addPath: boolean };

/** A source of routes: a peer, or this node's own originated routes. */
export interface SourceInfo {
  name: string;
  summary: SourceSummary;
  origin: RouteOrigin;
  /** BGPFilter import rules of this peer (Accept / Reject). */
  importFilter?: CompiledFilter;
}

/** An established peer routes are exported to. */
export interface TargetInfo extends ExportTarget {
  families: readonly Family[];
  codec: CodecOptions;
  /** BGPFilter export rules of this peer (Accept with operations / Reject). */
  exportFilter?: CompiledFilter;
  /** Send complete UPDATE messages; resolves when the socket took them (backpressure). */
  send(buffers: Buffer[]): Promise<void>;
}

/**
 * Where the best routes go (the kernel FIB). `key` starts with the prefix's
 * address words (it may hold more; valid during the call only); empty
 * `nextHops` means remove.
 */
export interface FibSink {
  update(family: Family, key: Uint32Array, len: number, nextHops: readonly string[]): void;
}

export interface EngineOptions {
  me: LocalIdentity;
  decision: DecisionOptions;
  fib?: FibSink;
  /** Most prefixes decided per slice before yielding to the event loop. */
  sliceSize?: number;
  /** Bytes a peer may have queued before the decision loop waits for it (default 32 MiB). */
  outputHighWaterBytes?: number;
  /**
   * Whether a NEXT_HOP resolves (RFC 4271 §9.1.2): routes whose next hop does
   * not are kept but are no candidates. Call nextHopsChanged() when answers
   * may have changed. Default: every next hop resolves.
   */
  nextHopReachable?: (address: string) => boolean;
  onError?: (err: unknown) => void;
}

interface Source {
  info: SourceInfo;
  adjIn: Map<Family, RibTable>;
  rejected: Map<Family, number>;
  target: TargetInfo | undefined;
  /** Routes queued for this target, by exported attribute set. */
  pending: Map<string, PendingGroup>;
  /** Bumped whenever `pending` is emptied, so a decision's remembered group is known stale. */
  pendingGeneration: number;
  pendingWithdraw: Map<Family, NlriWriter>;
  /** Prefixes currently advertised to this target, per family (kept as changes are sent; Adj-RIB-Out itself is not stored). */
  advertisedCount: Map<Family, number>;
  /**
   * Routes kept from a session that ended while the peer was restarting
   * (RFC 4724 §4.2): still candidates, replaced as the new session resends
   * them, and the rest purged at End-of-RIB or when the restart time runs out.
   */
  stale: Map<Family, RibTable>;
  /** Prefixes this source withdrew, and withdrawals sent to it as a target (counters, for metrics). */
  withdrawals: { received: number; sent: number };
  /** ADD-PATH: path ids this source sent, numbered in the order first seen (for our own path ids). */
  receivedPathIds?: Map<number, number>;
  /** Bytes handed to this target's session and not yet written to its socket. */
  queuedBytes: number;
}

interface FamilyState {
  words: 1 | 4;
  /** Every prefix of the family, numbered (the Loc-RIB and the Adj-RIB-Ins without ADD-PATH index by it). */
  nets: NetTable;
  loc: LocRib;
  dirtyKeys: Uint32Array;
  dirtyLens: Uint8Array;
  dirtyCount: number;
  /** The targets that get the best path of this family (negotiated, without ADD-PATH): exportChange's loop. */
  bestPathTargets: number[];
}

/** Adj-RIB-In aux: bit 0 rejected on import, bit 1 by a filter (else a loop), the rest seconds since start. */
const REJECTED_BIT = 1;
const FILTERED_BIT = 2;
const AUX_SHIFT = 2;
const MULTIPATH_BIT = 0x80000000;
/** Where announce() leaves what its touch pass read, so the reads are not optimised away. */
let touchSink = 0;

export class RibEngine {
  private readonly attrs = new AttrStore();
  private readonly sources: (Source | undefined)[] = [];
  private readonly families = new Map<Family, FamilyState>();
  private scheduled = false;
  private flushing: Promise<void> | undefined;
  private readonly sliceSize: number;
  private readonly outputHighWater: number;
  /** Sends handed to sessions and not settled yet. */
  private readonly inflight = new Set<Promise<void>>();
  private readonly started = Date.now();
  private idleWaiters: (() => void)[] = [];
  private decidedWaiters: (() => void)[] = [];
  /** The path index of every ADD-PATH Adj-RIB-In (fresh or stale) table. */
  private readonly pathIndexes = new WeakMap<RibTable, PathIndex>();
  /** Families some established target receives with ADD-PATH (RFC 7911 send). */
  private addPathOut = new Set<Family>();
  /** Paths changed since the last export to ADD-PATH targets, with what was exported before. */
  private readonly pathChanges = new Map<Family, Map<string, PathChange>>();
  /** announce()'s and withdraw()'s decoded prefixes and key scratch (reused: no allocation per UPDATE). */
  private readonly batch = new NlriBatch();
  private readonly batchKey = new Uint32Array(5);

  constructor(private readonly opts: EngineOptions) {
    this.sliceSize = opts.sliceSize ?? 20_000;
    this.outputHighWater = opts.outputHighWaterBytes ?? 32 * 1024 * 1024;
    for (const f of ['ipv4-unicast', 'ipv6-unicast'] as Family[]) {
      const words = FAMILY_WORDS[f];
      const nets = new NetTable(words);
      this.families.set(f, {
        words,
        nets,
        loc: new LocRib(nets),
        dirtyKeys: new Uint32Array(1024 * words),
        dirtyLens: new Uint8Array(1024),
        dirtyCount: 0,
        bestPathTargets: [],
      });
    }
  }

  // --- sources and targets ------------------------------------------------

  addSource(info: SourceInfo): number {
    let id = this.sources.indexOf(undefined);
    if (id < 0) id = this.sources.length;
    this.sources[id] = { info, adjIn: new Map(), rejected: new Map(), target: undefined, pending: new Map(), pendingWithdraw: new Map(), advertisedCount: new Map(), stale: new Map(), withdrawals: { received: 0, sent: 0 }, queuedBytes: 0, pendingGeneration: 0 };
    return id;
  }

  /** Forget a source: its routes are withdrawn first. */
  removeSource(id: number): void {
    this.clearSource(id);
    // ADD-PATH targets are told per path, which needs the source: do it before it goes.
    this.exportPathChanges();
    this.setTarget(id, undefined);
    this.sources[id] = undefined;
  }

  updateSourceInfo(id: number, info: SourceInfo): void {
    this.source(id).info = info;
    // Export decisions depend on where a route came from: cached ones are stale now.
    this.exportCache.clear();
  }

  /**
   * The peer behind source `id` became Established (target set) or went
   * down (undefined). A new target gets the whole Loc-RIB, then End-of-RIB.
   */
  setTarget(id: number, target: TargetInfo | undefined): Promise<void> {
    const s = this.source(id);
    // Paths noted so far are diffed against what was exported before this dump.
    this.exportPathChanges();
    s.target = target;
    // The target's export rules may differ from the last session's.
    this.exportCache.clear();
    s.pending.clear();
    s.pendingGeneration++;
    s.pendingWithdraw.clear();
    s.advertisedCount.clear();
    this.addPathOut = new Set(this.sources.flatMap((x) => (x?.target ? x.target.families.filter((f) => x.target!.codec.addPath.has(f)) : [])));
    for (const [f, fam] of this.families) {
      fam.bestPathTargets = [];
      this.sources.forEach((x, t) => {
        if (x?.target?.families.includes(f) && !x.target.codec.addPath.has(f)) fam.bestPathTargets.push(t);
      });
    }
    if (!target) return Promise.resolve();
    return this.dumpTo(id);
  }

  // --- input ----------------------------------------------------------------

  /** Routes from source `id` with `attrs`; returns how many prefixes were stored. */
  announce(id: number, family: Family, attrs: RouteAttributes, nlri: NlriInput): number {
    const s = this.source(id);
    const fam = this.families.get(family)!;
    const table = this.adjIn(id, family, nlri.addPath ?? false);
    const noting = this.addPathOut.has(family);
    const verdict = checkImport(attrs, s.info.origin, this.opts.me);
    const stamp = Math.floor((Date.now() - this.started) / 1000) << AUX_SHIFT;
    const filter = s.info.importFilter;
    const subject = { attrs, fromPeer: !s.info.origin.local, ibgp: s.info.origin.ibgp };
    const stale = s.stale.get(family);
    let rejected = 0;
    let count = 0;
    // Hold a reference across the loop so releasing a replaced route of the same set cannot free it.
    const attrId = this.attrs.intern(attrs, 1);
    const loc = fam.loc;
    const b = this.batch;
    b.load(nlri, fam.words, table.stride);
    const n = b.count;
    const key = this.batchKey;
    // An Adj-RIB-In without ADD-PATH indexes the family's nets, as the Loc-RIB does: one lookup
    // serves both, and its slot is the net id the Loc-RIB takes.
    const sharesNets = table instanceof AdjRibIn;
    // Pass 1: hash every key, for the Adj-RIB-In and (an ADD-PATH one keys on the path id too) the Loc-RIB.
    const hIn = b.hashes;
    const hLoc = sharesNets ? b.hashes : b.hashes2;
    for (let i = 0; i < n; i++) {
      b.keyAt(i, key);
      hIn[i] = table.hashOf(key, b.lens[i]!);
      if (!sharesNets) hLoc[i] = loc.hashOf(key, b.lens[i]!);
    }
    // Pass 2: touch every home slot, so the cache misses overlap (see nlri-batch.ts).
    let acc = 0;
    if (sharesNets) for (let i = 0; i < n; i++) acc += table.touch(hIn[i]!);
    else for (let i = 0; i < n; i++) acc += table.touch(hIn[i]!) + loc.touch(hLoc[i]!);
    touchSink = (touchSink + acc) | 0;
    // A route whose next hop does not resolve is no candidate: it never takes the quick first decision.
    const firstOk = !this.opts.nextHopReachable || s.info.summary.local || this.resolves(attrId);
    // Pass 3: the per-prefix work.
    for (let i = 0; i < n; i++) {
      b.keyAt(i, key);
      const len = b.lens[i]!;
      let bits = verdict.accept ? 0 : REJECTED_BIT;
      if (!bits && filter) {
        const v = filter(family, key, len, subject);
        if (v.decided && !v.accept) bits = REJECTED_BIT | FILTERED_BIT;
      }
      if (noting) this.notePath(family, id, table, key, len);
      if (stale) {
        const old = this.adjDelete(stale, key, len);
        if (old !== NONE) this.attrs.release(old);
      }
      const prevSlot = table.findOrInsertHashed(key, len, hIn[i]!, attrId, stamp | bits);
      if (prevSlot >= 0) {
        if (table.auxAt(prevSlot) & REJECTED_BIT) rejected--;
        this.attrs.release(table.valueAt(prevSlot));
        table.setAt(prevSlot, attrId, stamp | bits);
      } else if (table.addPath) this.pathIndexes.get(table)!.add(key, len, key[table.addressWords]!);
      count++;
      if (bits) rejected++;
      else if (firstOk && this.decideFirst(family, fam, id, key, len, attrId, hLoc[i]!, sharesNets ? (prevSlot >= 0 ? prevSlot : ~prevSlot) : -1)) continue;
      this.markDirty(fam, key, len);
    }
    this.attrs.retain(attrId, count);
    this.attrs.release(attrId);
    if (rejected !== 0) s.rejected.set(family, (s.rejected.get(family) ?? 0) + rejected);
    this.schedule();
    return count;
  }

  /** Withdraw prefixes of source `id`; returns how many were present. */
  withdraw(id: number, family: Family, nlri: NlriInput): number {
    const s = this.source(id);
    const table = s.adjIn.get(family) ?? this.adjIn(id, family, nlri.addPath ?? false);
    const stale = s.stale.get(family);
    const fam = this.families.get(family)!;
    const noting = this.addPathOut.has(family);
    const b = this.batch;
    b.load(nlri, fam.words, table.stride);
    const key = this.batchKey;
    let count = 0;
    for (let i = 0; i < b.count; i++) {
      b.keyAt(i, key);
      const len = b.lens[i]!;
      if (noting) this.notePath(family, id, table, key, len);
      if (stale) {
        const old = this.adjDelete(stale, key, len);
        if (old !== NONE) {
          this.attrs.release(old);
          this.markDirty(fam, key, len);
          count++;
        }
      }
      const aux = table.aux(key, len);
      const prev = this.adjDelete(table, key, len);
      if (prev === NONE) continue;
      if (aux & REJECTED_BIT) s.rejected.set(family, (s.rejected.get(family) ?? 1) - 1);
      this.attrs.release(prev);
      this.markDirty(fam, key, len);
      count++;
    }
    s.withdrawals.received += count;
    this.schedule();
    return count;
  }

  /** Withdrawals received from and sent to the peer behind source `id`. */
  withdrawalCounts(id: number): { received: number; sent: number } {
    return { ...this.source(id).withdrawals };
  }

  /**
   * The session of source `id` ended while its peer restarts (RFC 4724
   * §4.2): keep its routes as stale candidates instead of withdrawing them.
   * Routes it had rejected are dropped. Returns how many were kept.
   */
  markStale(id: number): number {
    const s = this.source(id);
    this.purgeStale(id);
    let kept = 0;
    for (const [family, table] of s.adjIn) {
      const stale = this.newAdjTable(family, table.addPath);
      table.forEach((key, len, attrId, aux) => {
        if (aux & REJECTED_BIT) {
          this.attrs.release(attrId);
          return;
        }
        this.adjInsert(stale, key, len, attrId, aux);
        kept++;
      });
      // Its routes moved (their attribute references with them): only the table's own hold on the nets goes.
      table.clear();
      if (stale.size > 0) s.stale.set(family, stale);
    }
    s.adjIn = new Map();
    s.rejected.clear();
    return kept;
  }

  /** Withdraw the stale routes of source `id` (one family, or all) that were not sent again. Returns how many. */
  purgeStale(id: number, family?: Family): number {
    const s = this.source(id);
    let n = 0;
    for (const [f, table] of [...s.stale]) {
      if (family && f !== family) continue;
      const fam = this.families.get(f)!;
      const noting = this.addPathOut.has(f);
      table.forEach((key, len) => {
        if (noting) this.notePath(f, id, table, key, len);
      });
      table.forEach((key, len, attrId) => {
        this.attrs.release(attrId);
        this.markDirty(fam, key, len);
        n++;
      });
      table.clear();
      s.stale.delete(f);
    }
    if (n > 0) this.schedule();
    return n;
  }

  /** Routes of source `id` kept stale for a restarting peer. */
  staleCount(id: number): number {
    let n = 0;
    for (const t of this.source(id).stale.values()) n += t.size;
    return n;
  }

  /** Withdraw everything source `id` sent (session down). Returns the number of routes. */
  clearSource(id: number): number {
    const s = this.source(id);
    let n = this.purgeStale(id);
    for (const [family, table] of s.adjIn) {
      const fam = this.families.get(family)!;
      if (this.addPathOut.has(family)) table.forEach((key, len) => this.notePath(family, id, table, key, len));
      table.forEach((key, len, attrId) => {
        this.attrs.release(attrId);
        this.markDirty(fam, key, len);
        n++;
      });
      table.clear();
      this.pathIndexes.get(table)?.clear();
    }
    s.rejected.clear();
    this.schedule();
    return n;
  }

  /**
   * Replace a source's import filter and re-evaluate what it already sent
   * (its Adj-RIB-In is kept whole, like BIRD's `import table`), so the new
   * policy applies without a route refresh or a session reset.
   */
  setImportFilter(id: number, filter: CompiledFilter | undefined): void {
    const s = this.source(id);
    s.info = { ...s.info, importFilter: filter };
    const loopCache = new Map<number, boolean>();
    for (const [family, table] of s.adjIn) {
      const fam = this.families.get(family)!;
      let delta = 0;
      table.forEach((key, len, attrId, aux) => {
        const attrs = this.attrs.get(attrId);
        let loopOk = loopCache.get(attrId);
        if (loopOk === undefined) {
          loopOk = checkImport(attrs, s.info.origin, this.opts.me).accept;
          loopCache.set(attrId, loopOk);
        }
        let bits = loopOk ? 0 : REJECTED_BIT;
        if (!bits && filter) {
          const v = filter(family, key, len, { attrs, fromPeer: !s.info.origin.local, ibgp: s.info.origin.ibgp });
          if (v.decided && !v.accept) bits = REJECTED_BIT | FILTERED_BIT;
        }
        if (bits === (aux & (REJECTED_BIT | FILTERED_BIT))) return;
        if (this.addPathOut.has(family)) this.notePath(family, id, table, key, len);
        // Same key: set() overwrites in place, so the walk is not disturbed.
        table.set(key, len, attrId, (aux & ~(REJECTED_BIT | FILTERED_BIT)) | bits);
        delta += (bits & REJECTED_BIT) - (aux & REJECTED_BIT);
        this.markDirty(fam, key, len);
      });
      s.rejected.set(family, (s.rejected.get(family) ?? 0) + delta);
    }
    this.schedule();
  }

  /**
   * Replace the export filter of an established peer: compare what it has
   * been sent under the old filter with what the new one gives, and send only
   * the difference — no session reset.
   */
  setExportFilter(id: number, filter: CompiledFilter | undefined): void {
    const s = this.source(id);
    const target = s.target;
    if (!target) return;
    const old = target.exportFilter;
    for (const family of target.families) {
      const fam = this.families.get(family)!;
      // ADD-PATH targets were sent every path; the others the Loc-RIB's best.
      const each: RouteWalk = target.codec.addPath.has(family)
        ? (cb) => this.forEachPath(family, cb)
        : (cb) => fam.loc.forEach((key, len, attrId, aux) => cb(aux & ~MULTIPATH_BIT, key, len, attrId));
      this.reexport(id, s, family, old ?? null, filter ?? null, each);
    }
    target.exportFilter = filter;
    this.schedule();
  }

  /** setExportFilter for one family: every route's export under the old and the new filter, and the difference queued. */
  private reexport(id: number, s: Source, family: Family, old: CompiledFilter | null, filter: CompiledFilter | null, each: RouteWalk): void {
    const before: (ExportDecision | undefined)[] = [];
    each((from, key, len, attrId) => {
      before.push(from === id || !this.sources[from] ? undefined : this.exportFor(attrId, from, id, family, key, len, old));
    });
    this.exportCache.clear();
    let i = 0;
    each((from, key, len, attrId, pathId) => {
      const was = before[i++];
      if (from === id || !this.sources[from]) return;
      this.queuePathDiff(s, family, was, this.exportFor(attrId, from, id, family, key, len, filter), key, len, pathId);
    });
    this.exportCache.clear();
  }

  // --- queries ----------------------------------------------------------------

  counts(id: number, family: Family): { received: number; accepted: number } {
    const s = this.source(id);
    const stale = s.stale.get(family)?.size ?? 0;
    const received = (s.adjIn.get(family)?.size ?? 0) + stale;
    return { received, accepted: received - (s.rejected.get(family) ?? 0) };
  }

  /** Number of prefixes in the Loc-RIB. */
  locSize(family: Family): number {
    return this.families.get(family)!.loc.size;
  }

  /** Bytes held by the route tables (every Loc-RIB, Adj-RIB-In and stale table), for status and memory checks. */
  tableBytes(): number {
    let n = 0;
    for (const f of this.families.values()) n += f.loc.byteLength;
    for (const s of this.sources) {
      if (!s) continue;
      for (const t of s.adjIn.values()) n += t.byteLength;
      for (const t of s.stale.values()) n += t.byteLength;
    }
    return n;
  }

  /** How many prefixes of `family` the peer behind source `id` has been sent and not withdrawn. */
  advertisedCount(id: number, family: Family): number {
    return this.source(id).advertisedCount.get(family) ?? 0;
  }

  /** Distinct attribute sets alive (interning at work). */
  get attributeSets(): number {
    return this.attrs.size;
  }

  /** Routes source `id` sent us, optionally one prefix. */
  received(id: number, family: Family, prefix?: string): { prefix: string; pathId?: number; attrs: RouteAttributes; since: number; rejected: string | undefined; best: boolean; stale?: boolean; nextHopUnreachable?: boolean }[] {
    const s = this.source(id);
    const fresh = this.receivedFrom(id, s.adjIn.get(family), family, prefix);
    const stale = this.receivedFrom(id, s.stale.get(family), family, prefix);
    for (const r of stale) r.stale = true;
    return [...fresh, ...stale];
  }

  private receivedFrom(id: number, table: RibTable | undefined, family: Family, prefix?: string): ReturnType<RibEngine['received']> {
    if (!table) return [];
    const fam = this.families.get(family)!;
    const out: ReturnType<RibEngine['received']> = [];
    const want = prefix ? new Uint32Array(table.stride) : undefined;
    const wantLen = prefix && want ? keyFromCidr(prefix, want) : -1;
    const locKey = new Uint32Array(fam.words);
    table.forEach((key, len, attrId, aux) => {
      if (want && (len !== wantLen || !sameAddress(key, want, fam.words))) return;
      locKey.set(key.subarray(0, fam.words));
      const bestSource = fam.loc.aux(locKey, len);
      const r = {
        prefix: cidrFromKey(key, len, fam.words),
        attrs: this.attrs.get(attrId),
        since: this.started + (aux >>> AUX_SHIFT) * 1000,
        rejected: (aux & REJECTED_BIT) === 0 ? undefined : aux & FILTERED_BIT ? 'rejected by import filter' : 'loop detected on import',
        best: bestSource !== NONE && (bestSource & ~MULTIPATH_BIT) === id && fam.loc.get(locKey, len) === attrId,
      };
      if (table.addPath) (r as { pathId?: number }).pathId = key[fam.words];
      if (this.opts.nextHopReachable && !this.sources[id]!.info.summary.local && !this.resolves(attrId)) (r as { nextHopUnreachable?: boolean }).nextHopUnreachable = true;
      out.push(r);
    });
    return out;
  }

  /** The Loc-RIB: the best route per prefix, where it came from, and whether it is multipath. */
  best(family: Family, prefix?: string): { prefix: string; attrs: RouteAttributes; source: string; multipath: boolean; since: number }[] {
    const fam = this.families.get(family)!;
    const out: ReturnType<RibEngine['best']> = [];
    fam.loc.forEach((key, len, attrId, aux) => {
      const cidr = cidrFromKey(key, len, fam.words);
      if (prefix && cidr !== prefix) return;
      const src = this.sources[aux & ~MULTIPATH_BIT];
      const table = src?.adjIn.get(family);
      const slot = table ? table.findSlot(key, len) : -1;
      const since = this.started + (slot >= 0 ? (table!.auxAt(slot) >>> AUX_SHIFT) * 1000 : 0);
      out.push({ prefix: cidr, attrs: this.attrs.get(attrId), source: src?.info.name ?? '?', multipath: (aux & MULTIPATH_BIT) !== 0, since });
    });
    return out;
  }

  /** What source `id`'s target would be sent now: the export of every Loc-RIB route (computed, not stored). */
  advertised(id: number, family: Family, prefix?: string): { prefix: string; pathId?: number; attributes: PathAttributes; nextHop: string }[] {
    const s = this.source(id);
    if (!s.target || !s.target.families.includes(family)) return [];
    const fam = this.families.get(family)!;
    const out: { prefix: string; pathId?: number; attributes: PathAttributes; nextHop: string }[] = [];
    if (s.target.codec.addPath.has(family)) {
      this.forEachPath(family, (from, key, len, attrId, pathId) => {
        if (from === id) return;
        const cidr = cidrFromKey(key, len, fam.words);
        if (prefix && cidr !== prefix) return;
        const v = this.exportFor(attrId, from, id, family, key, len);
        if (v.send) out.push({ prefix: cidr, pathId, attributes: v.attributes, nextHop: v.nextHop });
      });
      this.exportCache.clear();
      return out;
    }
    fam.loc.forEach((key, len, attrId, aux) => {
      const cidr = cidrFromKey(key, len, fam.words);
      if (prefix && cidr !== prefix) return;
      const from = aux & ~MULTIPATH_BIT;
      if (from === id) return;
      const src = this.sources[from];
      if (!src) return;
      const v = this.exportFor(attrId, from, id, family, key, len);
      if (v.send) out.push({ prefix: cidr, attributes: v.attributes, nextHop: v.nextHop });
    });
    // A query must not leave decisions behind for a later flush (rules may change before it).
    this.exportCache.clear();
    return out;
  }

  /** Resolves when every queued change has been decided and sent (taken by every peer's socket). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Resolves when every queued change has been decided (and handed to the
   * FIB); UPDATEs to peers may still be queued. What the kernel FIB waits for
   * at start-up: a peer that reads slowly must not hold it back.
   */
  decided(): Promise<void> {
    if (this.isDecided()) return Promise.resolve();
    return new Promise((resolve) => this.decidedWaiters.push(resolve));
  }

  private isDecided(): boolean {
    return this.totalDirty() === 0 && this.pathChanges.size === 0;
  }

  private isIdle(): boolean {
    return !this.scheduled && !this.flushing && this.totalDirty() === 0 && this.pathChanges.size === 0 && !this.hasPendingOutput() && this.inflight.size === 0;
  }

  private wakeIdle(): void {
    if (this.isIdle()) for (const w of this.idleWaiters.splice(0)) w();
  }

  // --- decision ---------------------------------------------------------------

  private source(id: number): Source {
    const s = this.sources[id];
    if (!s) throw new Error(`no route source ${id}`);
    return s;
  }

  /**
   * Source `id`'s Adj-RIB-In for `family`, keyed by (prefix, path id) when
   * the session negotiated ADD-PATH receive (RFC 7911). A new session that
   * negotiated otherwise than the last starts a table of the new kind; stale
   * routes kept in the old kind are withdrawn, as they could not be matched.
   */
  private adjIn(id: number, family: Family, addPath: boolean): RibTable {
    const s = this.source(id);
    let t = s.adjIn.get(family);
    if (t && t.addPath !== addPath) {
      if (t.size > 0) throw new Error(`source ${s.info.name} switched ADD-PATH for ${family} within a session`);
      t = undefined;
    }
    if (!t) {
      if ((s.stale.get(family)?.addPath ?? addPath) !== addPath) this.purgeStale(id, family);
      t = this.newAdjTable(family, addPath);
      s.adjIn.set(family, t);
    }
    return t;
  }

  /** An ADD-PATH table is keyed by prefix and path id, a table of its own; others index the family's nets. */
  private newAdjTable(family: Family, addPath: boolean): RibTable {
    if (!addPath) return new AdjRibIn(this.families.get(family)!.nets);
    const t = new PrefixTable({ addressWords: FAMILY_WORDS[family], addPath });
    this.pathIndexes.set(t, new PathIndex(FAMILY_WORDS[family]));
    return t;
  }

  /** Insert a new entry into an Adj-RIB-In table, keeping its path index. */
  private adjInsert(table: RibTable, key: Uint32Array, len: number, value: number, aux: number): void {
    table.set(key, len, value, aux);
    if (table.addPath) this.pathIndexes.get(table)!.add(key, len, key[table.addressWords]!);
  }

  /** Remove an entry from an Adj-RIB-In table, keeping its path index; returns the value or NONE. */
  private adjDelete(table: RibTable, key: Uint32Array, len: number): number {
    const prev = table.delete(key, len);
    if (prev !== NONE && table.addPath) this.pathIndexes.get(table)!.remove(key, len, key[table.addressWords]!);
    return prev;
  }

  /**
   * Queue a prefix for a decision. Not deduplicated: deciding a prefix twice
   * costs about what a dedupe lookup would, and gives the same result.
   */
  private markDirty(fam: FamilyState, key: Uint32Array, len: number): void {
    const w = fam.words;
    if ((fam.dirtyCount + 1) * w > fam.dirtyKeys.length) {
      const keys = new Uint32Array(fam.dirtyKeys.length * 2);
      keys.set(fam.dirtyKeys);
      fam.dirtyKeys = keys;
      const lens = new Uint8Array(fam.dirtyLens.length * 2);
      lens.set(fam.dirtyLens);
      fam.dirtyLens = lens;
    }
    const base = fam.dirtyCount * w;
    for (let i = 0; i < w; i++) fam.dirtyKeys[base + i] = key[i]!;
    fam.dirtyLens[fam.dirtyCount] = len;
    fam.dirtyCount++;
  }

  private hasPendingOutput(): boolean {
    return this.sources.some((s) => s?.target !== undefined && (s.pending.size > 0 || s.pendingWithdraw.size > 0));
  }

  private totalDirty(): number {
    let n = 0;
    for (const f of this.families.values()) n += f.dirtyCount;
    return n;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.flushing) {
        this.flushing = this.runBatches().catch((err: unknown) => this.opts.onError?.(err)).finally(() => {
          this.flushing = undefined;
          if (this.totalDirty() > 0 || this.pathChanges.size > 0 || this.hasPendingOutput()) this.schedule();
          else this.wakeIdle();
        });
      }
    });
  }

  /** Decide and export the dirty prefixes, a slice at a time, yielding in between. */
  private async runBatches(): Promise<void> {
    for (;;) {
      let did = 0;
      for (const [family, fam] of this.families) {
        if (fam.dirtyCount === 0) continue;
        did += this.decideSlice(family, fam);
      }
      this.exportPathChanges();
      if (this.decidedWaiters.length > 0 && this.isDecided()) for (const w of this.decidedWaiters.splice(0)) w();
      // Also flushes output queued outside a decision (a changed export filter).
      await this.flushOutput();
      if (did === 0) return;
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  // Scratch for gather(): candidates of the prefix being decided (no allocation per prefix).
  private candCount = 0;
  private readonly candSource: number[] = [];
  private readonly candAttr: number[] = [];
  private readonly candPath: number[] = [];
  private static readonly SINGLE: { best: number; multipath: number[] } = { best: 0, multipath: [0] };

  private decideSlice(family: Family, fam: FamilyState): number {
    const w = fam.words;
    const n = Math.min(fam.dirtyCount, this.sliceSize);
    const start = fam.dirtyCount - n;
    // No reserve() for the queue here: after a peer goes down it holds a withdrawal per route,
    // and room for them all would double the Loc-RIB (for good) for nothing. Inserts grow it.
    const key = new Uint32Array(w);
    const dk = fam.dirtyKeys;
    for (let i = start; i < fam.dirtyCount; i++) {
      for (let j = 0; j < w; j++) key[j] = dk[i * w + j]!;
      const len = fam.dirtyLens[i]!;
      this.gather(family, key, len);
      this.decideOne(family, fam, key, len);
    }
    fam.dirtyCount = start;
    return n;
  }

  /**
   * Collect the candidates for one prefix from every source: its route, or
   * with ADD-PATH every path it sent. A route received again after a restart
   * replaced its stale copy (announce), so fresh and stale never overlap.
   */
  private gather(family: Family, key: Uint32Array, len: number): void {
    this.candCount = 0;
    for (let id = 0; id < this.sources.length; id++) {
      const s = this.sources[id];
      if (!s) continue;
      const table = s.adjIn.get(family);
      if (table && table.size > 0) this.gatherFrom(id, table, key, len);
      // A restarting peer's routes it has not sent again yet (RFC 4724 §4.2).
      if (s.stale.size > 0) {
        const stale = s.stale.get(family);
        if (stale) this.gatherFrom(id, stale, key, len);
      }
    }
  }

  private readonly pathKey = new Uint32Array(5);

  /** Next-hop resolution per attribute set, cached until nextHopsChanged(). */
  private resolves(attrId: number): boolean {
    let r = this.attrs.reach(attrId);
    if (r === undefined) {
      const hop = this.attrs.get(attrId).nextHops[0];
      r = hop === undefined || this.opts.nextHopReachable!(hop);
      this.attrs.setReach(attrId, r);
    }
    return r;
  }

  /**
   * Next-hop reachability may have changed (a kernel route came or went):
   * re-ask for every attribute set in use, and re-decide every prefix whose
   * candidates' answer changed. Returns how many prefixes were queued.
   */
  nextHopsChanged(): number {
    if (!this.opts.nextHopReachable) return 0;
    const flipped = this.attrs.recheckReach((hop) => this.opts.nextHopReachable!(hop));
    if (flipped.size === 0) return 0;
    let n = 0;
    this.sources.forEach((s) => {
      if (!s) return;
      for (const [family, table] of [...s.adjIn, ...s.stale]) {
        const fam = this.families.get(family)!;
        table.forEach((key, len, attrId) => {
          if (!flipped.has(attrId)) return;
          this.markDirty(fam, key, len);
          n++;
        });
      }
    });
    if (n > 0) this.schedule();
    return n;
  }

  /** Prefixes whose only candidates have an unresolved next hop are not in the Loc-RIB: how many candidates are excluded so. */
  unresolvedCount(id: number, family: Family): number {
    if (!this.opts.nextHopReachable) return 0;
    const s = this.source(id);
    let n = 0;
    for (const table of [s.adjIn.get(family), s.stale.get(family)]) {
      table?.forEach((_k, _l, attrId, aux) => {
        if (!(aux & REJECTED_BIT) && !this.resolves(attrId)) n++;
      });
    }
    return n;
  }

  private gatherFrom(id: number, table: RibTable, key: Uint32Array, len: number): void {
    if (!table.addPath) {
      const slot = table.findSlot(key, len);
      if (slot >= 0) this.addCandidate(id, table, slot, 0);
      return;
    }
    const words = table.addressWords;
    const k = this.pathKey;
    for (let w = 0; w < words; w++) k[w] = key[w]!;
    for (const pathId of this.pathIndexes.get(table)!.paths(key, len)) {
      k[words] = pathId;
      const slot = table.findSlot(k, len);
      if (slot >= 0) this.addCandidate(id, table, slot, pathId);
    }
  }

  private addCandidate(id: number, table: RibTable, slot: number, pathId: number): void {
    if (table.auxAt(slot) & REJECTED_BIT) return;
    const attrId = table.valueAt(slot);
    if (this.opts.nextHopReachable && !this.sources[id]!.info.summary.local && !this.resolves(attrId)) return;
    const n = this.candCount++;
    this.candSource[n] = id;
    this.candAttr[n] = attrId;
    this.candPath[n] = pathId;
  }

  /** The decision over the gathered candidates; one candidate needs no comparison. */
  private select(): { best: number; multipath: number[] } {
    const n = this.candCount;
    if (n === 0) return { best: -1, multipath: [] };
    if (n === 1) return RibEngine.SINGLE;
    const cands: Candidate[] = [];
    for (let i = 0; i < n; i++) cands.push({ attrs: this.attrs.summary(this.candAttr[i]!), source: this.sources[this.candSource[i]!]!.info.summary });
    return selectBest(cands, this.opts.decision);
  }

  private decideOne(family: Family, fam: FamilyState, key: Uint32Array, len: number): void {
    const slot = fam.loc.findSlot(key, len);
    const prevAttr = slot < 0 ? NONE : fam.loc.valueAt(slot);
    const prevAux = slot < 0 ? NONE : fam.loc.auxAt(slot);
    const prevSource = prevAux === NONE ? -1 : prevAux & ~MULTIPATH_BIT;
    const { best, multipath } = this.select();
    const newAttr = best < 0 ? NONE : this.candAttr[best]!;
    const newSource = best < 0 ? -1 : this.candSource[best]!;
    const newAux = best < 0 ? NONE : (newSource | (multipath.length > 1 ? MULTIPATH_BIT : 0)) >>> 0;

    if (newAttr === prevAttr && newSource === prevSource) {
      // Same best; only the multipath set may have changed (FIB only).
      if (newAux !== prevAux && best >= 0) {
        fam.loc.setAt(slot, newAttr, newAux);
        this.toFib(family, fam, key, len, multipath);
      }
      return;
    }
    if (best < 0) fam.loc.deleteAt(slot);
    else {
      if (slot >= 0) fam.loc.setAt(slot, newAttr, newAux);
      else fam.loc.set(key, len, newAttr, newAux);
      this.attrs.retain(newAttr);
    }
    this.toFib(family, fam, key, len, best < 0 ? [] : multipath);
    this.exportChange(family, key, len, prevAttr === NONE ? -1 : prevAttr, prevSource, newAttr === NONE ? -1 : newAttr, newSource);
    if (prevAttr !== NONE) this.attrs.release(prevAttr);
  }

  /**
   * The common case of a table load, decided at once: a prefix with no valid
   * candidate so far (none in the Loc-RIB) gets its first one, which is then
   * the best and only path — no other source needs looking at, and the
   * Adj-RIB-In entry just written need not be looked up again. Anything
   * else (the prefix has a best already) goes through the dirty queue.
   */
  private decideFirst(family: Family, fam: FamilyState, id: number, key: Uint32Array, len: number, attrId: number, locHash: number, netId: number): boolean {
    // The caller checked that the route's next hop resolves.
    // Inserted only when the prefix has no best yet; otherwise it goes through the queue.
    if (netId >= 0 ? !fam.loc.setBestIfNone(netId, attrId, id) : fam.loc.findOrInsertHashed(key, len, locHash, attrId, id) >= 0) return false;
    this.attrs.retain(attrId);
    this.candCount = 1;
    this.candSource[0] = id;
    this.candAttr[0] = attrId;
    this.candPath[0] = 0;
    this.toFib(family, fam, key, len, RibEngine.SINGLE.multipath);
    // A first route goes to every best-path target but its own source: none when that is the only one.
    const targets = fam.bestPathTargets;
    if (targets.length > 1 || (targets.length === 1 && targets[0] !== id)) this.exportChange(family, key, len, -1, -1, attrId, id);
    return true;
  }

  /** Hand the FIB the next hops of the multipath set (indices into the gathered candidates). */
  private toFib(family: Family, _fam: FamilyState, key: Uint32Array, len: number, multipath: readonly number[]): void {
    if (!this.opts.fib) return;
    if (multipath.length <= 1) {
      // The common case, without allocating: the interned set's own next-hop array.
      const i = multipath[0];
      if (i === undefined || this.sources[this.candSource[i]!]!.info.summary.local) {
        this.opts.fib.update(family, key, len, NO_HOPS);
        return;
      }
      const nh = this.attrs.get(this.candAttr[i]!).nextHops;
      this.opts.fib.update(family, key, len, nh.length <= 1 ? nh : [nh[0]!]);
      return;
    }
    const hops = new Set<string>();
    for (const i of multipath) {
      // Our own originated routes are not kernel routes of ours (they are blackholes or
      // workload routes that other parts of the node own).
      if (this.sources[this.candSource[i]!]!.info.summary.local) continue;
      const hop = this.attrs.get(this.candAttr[i]!).nextHops[0];
      if (hop) hops.add(hop);
    }
    this.opts.fib.update(family, key, len, [...hops]);
  }

  // --- export -------------------------------------------------------------------

  private exportCache = new ExportCache();

  /**
   * How the route (attribute set `attrId` from `sourceId`) goes to target
   * `targetId`: the export rules, then the target's BGPFilter, with its
   * operations. Cached per (attribute set, source, target, deciding rule),
   * so a batch computes each distinct outcome once.
   */
  private exportFor(attrId: number, sourceId: number, targetId: number, family: Family, key: Uint32Array, len: number, filterOverride?: CompiledFilter | null): ExportDecision {
    const src = this.sources[sourceId]!;
    const target = this.sources[targetId]!.target!;
    const filter = filterOverride === undefined ? target.exportFilter : filterOverride ?? undefined;
    let rule = -1;
    let operations: readonly BgpFilterOperationLike[] = [];
    if (filter) {
      const v = filter(family, key, len, { attrs: this.attrs.get(attrId), fromPeer: !src.info.origin.local, ibgp: target.ibgp });
      if (v.decided) {
        if (!v.accept) return NOT_SENT;
        rule = v.rule;
        operations = v.operations;
      }
    }
    // Numbers on the hot path (one lookup per prefix per target); a string only when a filter rule decided.
    const ck = rule < 0 ? (attrId * 65536 + sourceId) * 4 + (family === 'ipv4-unicast' ? 0 : 2) + (filter ? 1 : 0) : `${family}|${attrId}|${sourceId}|${rule}`;
    let d = this.exportCache.get(targetId, ck);
    if (d) return d;
    const r = exportRoute(this.attrs.get(attrId), src.info.origin, target, family, this.opts.me);
    if (r.send) {
      const attributes = operations.length ? applyOperations(r.attributes, operations) : r.attributes;
      d = { send: true, key: `${r.nextHop}|${attributeKey({ ...attributes, nextHops: [] })}`, attributes, nextHop: r.nextHop };
    } else d = NOT_SENT;
    this.exportCache.set(targetId, ck, d);
    return d;
  }

  private exportChange(family: Family, key: Uint32Array, len: number, prevAttr: number, prevSource: number, newAttr: number, newSource: number): void {
    // ADD-PATH targets get every path, per path (exportPathChanges), not the best.
    const targets = this.families.get(family)!.bestPathTargets;
    for (let k = 0; k < targets.length; k++) {
      const t = targets[k]!;
      const s = this.sources[t]!;
      const now = newAttr >= 0 && newSource !== t ? this.exportFor(newAttr, newSource, t, family, key, len) : undefined;
      if (now?.send) {
        this.queueAnnounce(s, family, now, key, len);
        const was = prevAttr >= 0 && prevSource !== t && this.sources[prevSource] ? this.exportFor(prevAttr, prevSource, t, family, key, len) : undefined;
        if (!was?.send) this.countAdvertised(s, family, 1);
        continue;
      }
      const before = prevAttr >= 0 && prevSource !== t && this.sources[prevSource] ? this.exportFor(prevAttr, prevSource, t, family, key, len) : undefined;
      if (before?.send) {
        this.queueWithdraw(s, family, key, len);
        this.countAdvertised(s, family, -1);
      }
    }
  }

  private countAdvertised(s: Source, family: Family, delta: number): void {
    s.advertisedCount.set(family, (s.advertisedCount.get(family) ?? 0) + delta);
  }

  private queueAnnounce(s: Source, family: Family, d: ExportDecision & { send: true }, key: Uint32Array, len: number, pathId?: number): void {
    // The decision remembers its output group (decisions are per target and family), so
    // the group's string key is built once per batch, not once per prefix.
    let g = d.group;
    if (!g || g.generation !== s.pendingGeneration) {
      const gk = `${family}|${d.key}`;
      g = s.pending.get(gk);
      if (!g) {
        g = { family, attributes: d.attributes, nextHop: d.nextHop, nlri: new NlriWriter(), generation: s.pendingGeneration };
        s.pending.set(gk, g);
      }
      d.group = g;
    }
    g.nlri.append(key, len, pathId);
  }

  private queueWithdraw(s: Source, family: Family, key: Uint32Array, len: number, pathId?: number): void {
    s.withdrawals.sent++;
    let wr = s.pendingWithdraw.get(family);
    if (!wr) {
      wr = new NlriWriter();
      s.pendingWithdraw.set(family, wr);
    }
    wr.append(key, len, pathId);
  }

  // --- ADD-PATH export (RFC 7911) -------------------------------------------------
  //
  // A target that negotiated ADD-PATH send for a family gets every path of
  // every prefix that its export rules pass, not only the best (like BIRD's
  // `add paths tx` and FRR's addpath-tx-all-paths), so a route reflector's
  // clients learn all paths. Exports are driven by path changes, not by
  // decisions: each changed path is noted (with what it was before) as it
  // changes, and after the batch its old and new exports are compared.

  /**
   * Note that a path of source `id` is about to change, remembering (once
   * per batch) the attribute set it had: `key` is in `table`'s layout.
   */
  private notePath(family: Family, id: number, table: RibTable, key: Uint32Array, len: number): void {
    let byPath = this.pathChanges.get(family);
    if (!byPath) {
      byPath = new Map();
      this.pathChanges.set(family, byPath);
    }
    let k = `${id}|${len}`;
    for (let w = 0; w < table.stride; w++) k += `|${key[w]!}`;
    if (byPath.has(k)) return;
    const orig = this.effectiveAttr(this.source(id), family, key, len);
    if (orig !== NONE) this.attrs.retain(orig);
    byPath.set(k, { source: id, key: key.slice(0, table.stride), len, addPath: table.addPath, pathId: table.addPath ? key[table.addressWords]! : 0, orig });
  }

  /** The attribute set a path of source `s` is a candidate with now (fresh, else stale), or NONE. */
  private effectiveAttr(s: Source, family: Family, key: Uint32Array, len: number): number {
    for (const table of [s.adjIn.get(family), s.stale.get(family)]) {
      if (!table) continue;
      const slot = table.findSlot(key, len);
      if (slot >= 0) return table.auxAt(slot) & REJECTED_BIT ? NONE : table.valueAt(slot);
    }
    return NONE;
  }

  /** Send ADD-PATH targets the difference each noted path makes. */
  private exportPathChanges(): void {
    if (this.pathChanges.size === 0) return;
    // Taken first, so a failure cannot leave changes behind to be retried forever.
    const changes = [...this.pathChanges];
    this.pathChanges.clear();
    for (const [family, byPath] of changes) {
      const targets: number[] = [];
      this.sources.forEach((x, t) => {
        if (x?.target && x.target.families.includes(family) && x.target.codec.addPath.has(family)) targets.push(t);
      });
      for (const c of byPath.values()) {
        const s = this.sources[c.source];
        const cur = s ? this.effectiveAttr(s, family, c.key, c.len) : NONE;
        if (s && cur !== c.orig) {
          const pathId = this.localPathId(c.source, s, c.pathId, c.addPath);
          for (const t of targets) {
            if (t === c.source) continue;
            const was = c.orig !== NONE ? this.exportFor(c.orig, c.source, t, family, c.key, c.len) : undefined;
            const now = cur !== NONE ? this.exportFor(cur, c.source, t, family, c.key, c.len) : undefined;
            this.queuePathDiff(this.sources[t]!, family, was, now, c.key, c.len, pathId);
          }
        }
        if (c.orig !== NONE) this.attrs.release(c.orig);
      }
    }
  }

  /** Queue what changes for target `ts` when a route's export goes from `was` to `now` (pathId: ADD-PATH targets). */
  private queuePathDiff(ts: Source, family: Family, was: ExportDecision | undefined, now: ExportDecision | undefined, key: Uint32Array, len: number, pathId?: number): void {
    if (now?.send) {
      if (!was?.send || was.key !== now.key) this.queueAnnounce(ts, family, now, key, len, pathId);
      if (!was?.send) this.countAdvertised(ts, family, 1);
    } else if (was?.send) {
      this.queueWithdraw(ts, family, key, len, pathId);
      this.countAdvertised(ts, family, -1);
    }
  }

  /** Every candidate path of `family` (fresh and stale, not rejected), with the path id we send it under. */
  private forEachPath(family: Family, cb: (from: number, key: Uint32Array, len: number, attrId: number, pathId: number) => void): void {
    this.sources.forEach((s, from) => {
      if (!s) return;
      for (const table of [s.adjIn.get(family), s.stale.get(family)]) {
        table?.forEach((key, len, attrId, aux) => {
          if (aux & REJECTED_BIT) return;
          cb(from, key, len, attrId, this.localPathId(from, s, table.addPath ? key[table.addressWords]! : 0, table.addPath));
        });
      }
    });
  }

  /**
   * The path id we send a path under: the source's number for a source
   * without ADD-PATH (one path per prefix), and for an ADD-PATH source its
   * number plus the order in which we first saw the peer's own path id, so
   * ids stay unique across sources and stable while the path lives.
   */
  private localPathId(id: number, s: Source, received: number, addPath: boolean): number {
    if (!addPath) return id + 1;
    const seen = (s.receivedPathIds ??= new Map());
    let n = seen.get(received);
    if (n === undefined) {
      n = seen.size + 1;
      seen.set(received, n);
    }
    return ((n << 16) | ((id + 1) & 0xffff)) >>> 0;
  }

  /** Encode and send what each target has pending. */
  /**
   * Each target has its own output queue (the session's UPDATE queue, which
   * sends in order as the socket drains), so a slow peer does not hold back
   * the decision loop or the other peers: a batch is handed over and not
   * waited for — until a peer has more than `outputHighWaterBytes` queued,
   * then the loop waits for it (back-pressure, so memory stays bounded).
   */
  private async flushOutput(): Promise<void> {
    const waits: Promise<void>[] = [];
    const encoded: { output: PendingOutput; buffers: Buffer[] }[] = [];
    for (const s of this.sources) {
      if (!s?.target || (s.pending.size === 0 && s.pendingWithdraw.size === 0)) continue;
      // Peers that get the same output (same changes, same encoding) share one encoding.
      const output = pendingOutput(s);
      const twin = encoded.find((e) => sameOutput(e.output, output));
      let buffers: Buffer[];
      if (twin) {
        buffers = twin.buffers;
        this.sharedEncodings++;
      } else {
        buffers = [];
        for (const [family, wr] of s.pendingWithdraw) buffers.push(...encodePackedWithdrawals(family, wr.bytes(), s.target.codec));
        for (const g of s.pending.values()) buffers.push(...encodePackedAnnouncements(g.family, g.attributes, g.nextHop, g.nlri.bytes(), s.target.codec));
        encoded.push({ output, buffers });
      }
      s.pending.clear();
      s.pendingGeneration++;
      s.pendingWithdraw.clear();
      const sent = this.track(s, buffers, s.target.send(buffers));
      if (s.queuedBytes > this.outputHighWater) waits.push(sent);
    }
    this.exportCache.clear();
    await Promise.all(waits);
  }

  /** Count `buffers` as queued for `s` until `sending` settles; the returned promise never rejects. */
  private track(s: Source, buffers: readonly Buffer[], sending: Promise<void>): Promise<void> {
    let bytes = 0;
    for (const b of buffers) bytes += b.length;
    s.queuedBytes += bytes;
    const p: Promise<void> = sending
      .catch((err: unknown) => this.opts.onError?.(err))
      .finally(() => {
        s.queuedBytes -= bytes;
        this.inflight.delete(p);
        this.wakeIdle();
      });
    this.inflight.add(p);
    return p;
  }

  /** Flushes whose UPDATEs were not encoded again because another peer got the same output (counter). */
  sharedEncodings = 0;

  /** Bytes of UPDATEs handed to the peer behind source `id` and not yet taken by its socket. */
  queuedBytes(id: number): number {
    return this.source(id).queuedBytes;
  }

  /**
   * Full Loc-RIB to one new target, then End-of-RIB per family. Built in one
   * synchronous pass and handed to the socket in one call, so no later change
   * can be sent before the dump it supersedes.
   */
  private async dumpTo(id: number): Promise<void> {
    const s = this.source(id);
    const target = s.target!;
    const buffers: Buffer[] = [];
    for (const family of target.families) {
      const fam = this.families.get(family)!;
      const groups = new Map<string, { attributes: PathAttributes; nextHop: string; nlri: NlriWriter }>();
      const add = (from: number, key: Uint32Array, len: number, attrId: number, pathId?: number): void => {
        if (from === id || !this.sources[from]) return;
        const v = this.exportFor(attrId, from, id, family, key, len);
        if (!v.send) return;
        let g = groups.get(v.key);
        if (!g) {
          g = { attributes: v.attributes, nextHop: v.nextHop, nlri: new NlriWriter() };
          groups.set(v.key, g);
        }
        g.nlri.append(key, len, pathId);
        this.countAdvertised(s, family, 1);
      };
      if (target.codec.addPath.has(family)) this.forEachPath(family, add);
      else fam.loc.forEach((key, len, attrId, aux) => add(aux & ~MULTIPATH_BIT, key, len, attrId));
      this.exportCache.clear();
      for (const g of groups.values()) buffers.push(...encodePackedAnnouncements(family, g.attributes, g.nextHop, g.nlri.bytes(), target.codec));
      buffers.push(encodeEndOfRib(family, target.codec));
    }
    const sending = target.send(buffers);
    // Counted in the peer's queue like any batch; the caller sees a failure.
    void this.track(s, buffers, sending.catch(() => undefined));
    await sending;
  }
}

/** Visits routes as (source, key, length, attribute set, path id sent under); the same order on every call. */
type RouteWalk = (cb: (from: number, key: Uint32Array, len: number, attrId: number, pathId?: number) => void) => void;

interface PathChange {
  source: number;
  /** The path's key in its Adj-RIB-In layout (with the peer's path id when `addPath`). */
  key: Uint32Array;
  len: number;
  addPath: boolean;
  pathId: number;
  /** The attribute set the path was a candidate with before the batch (retained), or NONE. */
  orig: number;
}

type BgpFilterOperationLike = Parameters<typeof applyOperations>[1][number];
type ExportDecision = { send: false } | { send: true; key: string; attributes: PathAttributes; nextHop: string; group?: PendingGroup };

/** Prefixes queued for one target that share one exported attribute set. */
interface PendingGroup {
  family: Family;
  attributes: PathAttributes;
  nextHop: string;
  nlri: NlriWriter;
  generation: number;
}

/** Export decisions of the current batch, per target. */
class ExportCache {
  private readonly byTarget = new Map<number, Map<number | string, ExportDecision>>();

  get(target: number, key: number | string): ExportDecision | undefined {
    return this.byTarget.get(target)?.get(key);
  }

  set(target: number, key: number | string, d: ExportDecision): void {
    let m = this.byTarget.get(target);
    if (!m) {
      m = new Map();
      this.byTarget.set(target, m);
    }
    m.set(key, d);
  }

  clear(): void {
    this.byTarget.clear();
  }
}
const NOT_SENT: ExportDecision = { send: false };
const NO_HOPS: readonly string[] = Object.freeze([]);

/** What a target is about to be sent, before encoding: enough to tell two targets' UPDATEs would be byte-identical. */
interface PendingOutput {
  codec: CodecOptions;
  /** Withdrawals per family, then announcements per exported attribute set, in queue order. */
  parts: [string, Buffer][];
}

function pendingOutput(s: Source): PendingOutput {
  const parts: [string, Buffer][] = [];
  for (const [family, wr] of s.pendingWithdraw) parts.push([`withdraw|${family}`, wr.bytes()]);
  for (const [key, g] of s.pending) parts.push([key, g.nlri.bytes()]);
  return { codec: s.target!.codec, parts };
}

function sameOutput(a: PendingOutput, b: PendingOutput): boolean {
  const ca = a.codec;
  const cb = b.codec;
  if (ca.fourOctetAs !== cb.fourOctetAs || ca.extendedMessage !== cb.extendedMessage || ca.addPath.size !== cb.addPath.size) return false;
  for (const f of ca.addPath) if (!cb.addPath.has(f)) return false;
  if (a.parts.length !== b.parts.length) return false;
  for (let i = 0; i < a.parts.length; i++) {
    const [ka, ba] = a.parts[i]!;
    const [kb, bb] = b.parts[i]!;
    if (ka !== kb || !ba.equals(bb)) return false;
  }
  return true;
}

function sameAddress(a: Uint32Array, b: Uint32Array, words: number): boolean {
  for (let w = 0; w < words; w++) if (a[w] !== b[w]) return false;
  return true;
}
