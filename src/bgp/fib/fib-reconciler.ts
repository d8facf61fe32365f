/**
 * FibReconciler: keeps the kernel's routes of ONE rtnetlink protocol in ONE
 * table equal to the RIB's best routes — RouteTable's job (see
 * src/dataplane/routes), specialised for BGP's full tables: a million
 * prefixes that all look alike (gateways only, no interfaces to resolve).
 *
 * Compact: desired and kernel state live in typed arrays keyed like the RIB
 * (FibTable: prefix words + length → wanted next-hop set id, kernel's set id,
 * flags); next-hop sets are interned (NextHopSets); a kernel dump is read in
 * place into the same table. No object, string or closure per route.
 *
 * Pipelined: a changed prefix is marked dirty (one bit, however often it
 * changes before it is sent) and the netlink pipeline pulls dirty prefixes
 * whenever its window has room (this class is its RequestStream): each request is
 * encoded straight into the datagram from the set's template, so routes
 * reach the kernel while the RIB is still loading, a few thousand per
 * datagram, and never more than the pipeline's window at a time — the event
 * loop stays free for sessions between datagrams.
 *
 * Correctness rules (as RouteTable's):
 * - Only routes of our protocol are read as "ours"; adds use NLM_F_EXCL so a
 *   foreign route with the same destination and metric is reported
 *   (EEXIST), never overwritten; deletes carry our protocol.
 * - One request per prefix at a time: a prefix changed while its request is
 *   in flight is looked at again when that request's answer is in, against
 *   what the kernel then has (so a failed add can never be followed by a
 *   replace of someone else's route).
 * - Start-up and periodic resync dump our routes into the table and mark
 *   dirty only the prefixes whose kernel route differs: correct routes are not
 *   touched (a restart adopts the previous run's routes without churn);
 *   routes of ours with another metric are deleted; hand-deleted or changed
 *   routes are repaired.
 */
import { constants as osConstants } from 'node:os';
import { TartanError } from '../../errors';
import type { RequestStream, StreamHandle } from '../../netlink/pipeline';
import { netlinkError } from '../../netlink/errors';
import type { RouteTableCounters } from '../../dataplane/routes/types';
import { cidrFromKey } from '../rib/prefix-key';
import { DIRTY, DRIFT, FibTable, INFLIGHT, PENDING, SEEN } from './fib-table';
import { fibOp, newDumpedRoute, readOwnRoute, OP_ADD, OP_DELETE, OP_NAMES, OP_NONE, OP_REPLACE } from './fib-diff';
import { NexthopObjects, type NexthopDriver } from './nexthop-objects';
import { ADD_FLAGS, NextHopSets, NO_ROUTE, OTHER_ROUTE, REPLACE_FLAGS, writeRequest, writeRequestWords, type FamilyIndex } from './nexthop-sets';

/** What the reconciler needs from the netlink driver (RouteDriver; a fake kernel in unit tests). */
export interface FibDriver {
  dumpRoutesRaw(family: 4 | 6, onMessage: (buf: Buffer, off: number, len: number) => void): Promise<{ interrupted: boolean }>;
  openStream(stream: RequestStream): StreamHandle | Promise<StreamHandle>;
}

export interface FibReconcilerOptions {
  driver: FibDriver;
  /** Our rtm_protocol (RTPROT_TARTAN_BGP, 201). */
  protocol: number;
  /** Routing table id (254 = main). */
  table: number;
  /** RTA_PRIORITY of every route we program. */
  metric: number;
  /** Full read-back and repair period, ms (0 = never). */
  resyncIntervalMs: number;
  /** Failed operations since the last report, reported when nothing is left to send: the first few with details, and how many in all. */
  onFailures?: (failures: readonly FibFailure[], total: number) => void;
  /** A periodic resync failed (the next one retries). */
  onError?: (err: unknown) => void;
  /**
   * Program routes through kernel nexthop objects (RTA_NH_ID) made with this
   * driver (see nexthop-objects.ts); without it every route names its gateways.
   */
  nexthops?: NexthopDriver;
  /** Creating or removing a nexthop object failed (the routes stay plain gateway routes). */
  onNexthopError?: (err: unknown) => void;
}

export interface FibFailure {
  kind: 'add' | 'replace' | 'delete';
  /** CIDR text. */
  prefix: string;
  metric: number;
  error: TartanError;
}

/** Operations done (and failed) by a start or resync, until nothing was left to send. */
export interface FibSyncResult {
  adds: number;
  replaces: number;
  deletes: number;
  failed: number;
}

/** Failures kept with details per report. */
const FAILURE_DETAILS = 20;
const MAX_DUMP_ATTEMPTS = 4;
const ESRCH = osConstants.errno.ESRCH;

interface FamilyState {
  readonly idx: FamilyIndex;
  readonly ipFamily: 4 | 6;
  readonly words: 1 | 4;
  readonly table: FibTable;
}

interface Stray {
  fam: FamilyIndex;
  key: Uint32Array;
  len: number;
  metric: number;
  repair: boolean;
}

/** Record kinds: a prefix of family 0/1, or a stray delete of family 0/1. */
const REC_STRAY = 2;

export class FibReconciler implements RequestStream {
  readonly counters: RouteTableCounters = { adds: 0, replaces: 0, deletes: 0, errors: 0, repairs: 0, resyncs: 0 };
  private readonly sets: NextHopSets;
  private readonly fams: readonly [FamilyState, FamilyState];
  private handle: StreamHandle | undefined;
  private started = false;
  private stopped = false;
  /** No requests while a dump is read. */
  private paused = false;
  private wakeScheduled = false;
  private strays: Stray[] = [];
  private resyncTimer: NodeJS.Timeout | undefined;
  private resyncing: Promise<FibSyncResult> | undefined;
  private idleWaiters: (() => void)[] = [];
  private quiesceWaiters: (() => void)[] = [];
  private failureDetails: FibFailure[] = [];
  private failureCount = 0;
  /** A 32-bit view of the last datagram buffer next() wrote into (undefined if it is not 4-byte aligned). */
  private viewOf: Buffer | undefined;
  private view32: Uint32Array | undefined;
  private readonly dumped = newDumpedRoute();
  private readonly objects: NexthopObjects | undefined;
  /**
   * Nexthop object ids our routes named in the last dump (objects in use must
   * not be deleted); undefined when no adopted object waits for a verdict, so
   * a dump of a full table does no per-route bookkeeping for it.
   */
  private dumpedObjectIds: Set<number> | undefined;

  // Requests in flight, by index (the order next() wrote them) in a ring of typed arrays.
  private emitted = 0;
  private tail = 0;
  private outstanding = 0;
  private recCap = 4096;
  private recKind = new Uint8Array(this.recCap);
  private recKey = new Uint32Array(this.recCap * 4);
  private recLen = new Uint8Array(this.recCap);
  private recOp = new Uint8Array(this.recCap);
  /** Set id written (add/replace), or the metric (stray delete). */
  private recSet = new Uint32Array(this.recCap);
  /** Bit 0: the operation repairs drift; bit 1: done. */
  private recBits = new Uint8Array(this.recCap);
  /** The prefix's slot and the table epoch it is valid in (an in-flight prefix is never removed, so only growth moves it). */
  private recSlot = new Int32Array(this.recCap);
  private recEpoch = new Uint32Array(this.recCap);
  private readonly recErrors = new Map<number, number | TartanError>();

  constructor(private readonly o: FibReconcilerOptions) {
    this.objects = o.nexthops
      ? new NexthopObjects({
          driver: o.nexthops,
          protocol: o.protocol,
          onChange: (key) => {
            this.sets.objectChanged(key);
            this.scheduleWake();
          },
          ...(o.onNexthopError ? { onError: o.onNexthopError } : {}),
        })
      : undefined;
    this.sets = new NextHopSets({ table: o.table, protocol: o.protocol, metric: o.metric }, this.objects);
    const fam = (idx: FamilyIndex): FamilyState => {
      const words = idx === 0 ? 1 : 4;
      return { idx, ipFamily: idx === 0 ? 4 : 6, words, table: new FibTable(words) };
    };
    this.fams = [fam(0), fam(1)];
  }

  // --- desired state -----------------------------------------------------------

  /**
   * The best route for a prefix (`key` words from `keyOff`, `len`) of
   * family 0 (IPv4) or 1 (IPv6) now goes via `nextHops` (none = remove).
   * Cheap: a set lookup, a table probe and, if it changed, a dirty bit.
   */
  update(fam: FamilyIndex, key: Uint32Array, len: number, nextHops: readonly string[], keyOff = 0): void {
    if (nextHops.length === 0) {
      this.updateSet(fam, key, len, NO_ROUTE, keyOff);
      return;
    }
    const id = this.sets.acquire(nextHops);
    this.updateSet(fam, key, len, id, keyOff);
    this.sets.release(id);
  }

  /**
   * update() with the next hops as a set id from acquireSet() (NO_ROUTE =
   * remove): what a caller that sees the same next hops for many prefixes
   * (the worker host) uses, skipping the set lookup per prefix.
   */
  updateSet(fam: FamilyIndex, key: Uint32Array, len: number, id: number, keyOff = 0): void {
    const f = this.fams[fam];
    const t = f.table;
    let slot: number;
    if (id === NO_ROUTE) {
      slot = t.find(key, len, keyOff);
      if (slot < 0) return;
    } else slot = t.findOrInsert(key, len, keyOff);
    const was = t.wantAt(slot);
    if (was === id) return;
    this.sets.retain(id);
    t.setWant(slot, id);
    this.sets.release(was);
    if (this.started) this.markDirty(f, slot);
    else if (id === NO_ROUTE && t.haveAt(slot) === NO_ROUTE) t.remove(slot);
  }

  /** A reference to the set of `nextHops` (the RIB's text), for updateSet(); give it back with releaseSet(). */
  acquireSet(nextHops: readonly string[]): number {
    return this.sets.acquire(nextHops);
  }

  releaseSet(id: number): void {
    this.sets.release(id);
  }

  /** Prefixes with a route of ours in the kernel, as far as we know. */
  get routeCount(): number {
    return this.fams[0].table.installed + this.fams[1].table.installed;
  }

  /** Prefixes wanted or known in the kernel, and distinct next-hop sets (for tests and logs). */
  get stats(): { prefixes: number; nextHopSets: number; queued: number; inFlight: number; bytes: number } {
    const [a, b] = this.fams;
    return { prefixes: a.table.size + b.table.size, nextHopSets: this.sets.size, queued: a.table.dirty + b.table.dirty + this.strays.length, inFlight: this.outstanding, bytes: a.table.byteLength + b.table.byteLength };
  }

  // --- lifecycle -----------------------------------------------------------------

  /**
   * First reconcile: read our routes from the kernel, mark dirty only what
   * differs from the desired state, and from then on program changes as
   * they come. Resolves when that first pass is in the kernel.
   */
  async start(): Promise<FibSyncResult> {
    if (this.started) throw new Error('FIB reconciler already started');
    this.started = true;
    const handle = await this.o.driver.openStream(this);
    if (this.stopped) {
      handle.close();
      return { adds: 0, replaces: 0, deletes: 0, failed: 0 };
    }
    this.handle = handle;
    await this.objects?.ready();
    const r = await this.runResync(true);
    if (this.dumpedObjectIds) await this.objects?.dropUnclaimed(this.dumpedObjectIds);
    this.scheduleResync();
    return r;
  }

  /** Read back and repair now (also runs periodically). */
  resync(): Promise<FibSyncResult> {
    return this.runResync(false);
  }

  /** Resolves when nothing is dirty or in flight. */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Routes of our protocol and table in the kernel now (both families). */
  async countKernelRoutes(): Promise<number> {
    let n = 0;
    const d = newDumpedRoute();
    for (const family of [4, 6] as const) {
      for (let attempt = 1; ; attempt++) {
        let count = 0;
        const res = await this.o.driver.dumpRoutesRaw(family, (buf, off, len) => {
          if (readOwnRoute(buf, off, len, this.o.protocol, this.o.table, d)) count++;
        });
        if (!res.interrupted || attempt >= MAX_DUMP_ATTEMPTS) {
          n += count;
          break;
        }
      }
    }
    return n;
  }

  /** Stop programming (routes stay in the kernel). */
  stop(): void {
    this.stopped = true;
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    this.resyncTimer = undefined;
    this.handle?.close();
    this.handle = undefined;
    for (const w of this.idleWaiters.splice(0)) w();
    for (const w of this.quiesceWaiters.splice(0)) w();
  }

  /**
   * Run the per-route paths (update, encode, completion, for both families,
   * adds and deletes) on a scratch reconciler with an in-memory driver, so
   * they are compiled before the first real table arrives: a cold start
   * otherwise spends its first hundred thousand routes in the interpreter.
   * For a thread that does nothing else yet (the FIB worker at start-up).
   */
  static warmUp(rounds = 6, prefixes = 4096): void {
    let stream: RequestStream | undefined;
    const driver: FibDriver = {
      dumpRoutesRaw: () => Promise.resolve({ interrupted: false }),
      openStream: (s) => {
        stream = s;
        return { wake: () => undefined, close: () => undefined };
      },
    };
    const fib = new FibReconciler({ driver, protocol: 0, table: 254, metric: 0, resyncIntervalMs: 0 });
    // start() would wait for a dump; the scratch instance needs none.
    fib.started = true;
    fib.handle = driver.openStream(fib) as StreamHandle;
    const s = stream as RequestStream;
    const buf = Buffer.allocUnsafe(128 * 1024);
    const key = new Uint32Array(4);
    const v4 = fib.acquireSet(['192.0.2.1']);
    const v6 = fib.acquireSet(['2001:db8::1', '2001:db8::2']);
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < prefixes; i++) {
        key[0] = (0xc6120000 + i) >>> 0;
        fib.updateSet(0, key, 32, round % 2 ? NO_ROUTE : v4);
        key[3] = i;
        fib.updateSet(1, key, 128, round % 2 ? NO_ROUTE : v6);
      }
      const first = fib.emitted;
      let off = 0;
      for (let seq = 1; ; seq++) {
        const next = s.next(buf, off, buf.length, seq);
        if (next === off) {
          if (off === 0) break;
          off = 0;
          continue;
        }
        off = next;
      }
      s.onDone(first, fib.emitted - first);
    }
    fib.stop();
  }

  // --- RequestStream (pulled by the netlink pipeline) ----------------------------

  next(buf: Buffer, off: number, end: number, seq: number): number {
    if (this.paused || this.stopped || !this.started) return off;
    // A nexthop object is being made (a millisecond or two): wait, so routes are written in their final form.
    if (this.objects !== undefined && this.objects.pending > 0) return off;
    for (;;) {
      const f = this.fams[0].table.dirty > 0 ? this.fams[0] : this.fams[1].table.dirty > 0 ? this.fams[1] : undefined;
      if (f === undefined) {
        if (this.strays.length > 0) return this.nextStray(buf, off, end, seq);
        this.checkIdle();
        return off;
      }
      const t = f.table;
      const slot = t.nextDirty();
      const flags = t.flagsAt(slot);
      if (flags & INFLIGHT) {
        // Look again once the kernel has answered the request in flight.
        t.clearDirty(slot, DRIFT);
        t.setFlags(slot, t.flagsAt(slot) | PENDING);
        continue;
      }
      const want = t.wantAt(slot);
      const op = fibOp(want, t.haveAt(slot));
      if (op === OP_NONE) {
        t.clearDirty(slot, DRIFT);
        if (want === NO_ROUTE) t.remove(slot);
        continue;
      }
      const len = t.lenAt(slot);
      const keyOff = t.keyOffset(slot);
      let tpl: Buffer | TartanError;
      let reqFlags: number;
      if (op === OP_DELETE) {
        tpl = this.sets.deleteTemplate(f.idx);
        reqFlags = tpl.readUInt16LE(6);
      } else {
        tpl = this.sets.template(want, f.idx);
        reqFlags = op === OP_ADD ? ADD_FLAGS : REPLACE_FLAGS;
      }
      if (!(tpl instanceof TartanError) && off + tpl.length > end) {
        if (off > 0) return off; // next datagram (the slot stays dirty, and is next)
        tpl = new TartanError('NETLINK_BAD_ROUTE', `route request of ${tpl.length} bytes does not fit a netlink datagram`);
      }
      if (tpl instanceof TartanError) {
        // Cannot be encoded: fails alone, the kernel route (if any) stays.
        t.clearDirty(slot, DRIFT);
        this.counters.errors++;
        this.noteFailure(op, f, t.data, len, this.o.metric, tpl, keyOff);
        continue;
      }
      let next: number;
      const buf32 = this.wordsOf(buf);
      if (buf32 !== undefined && (off & 3) === 0) {
        const words = op === OP_DELETE ? this.sets.deleteTemplateAsWords(f.idx) : (this.sets.templateAsWords(want, f.idx) as Uint32Array);
        next = writeRequestWords(buf32, off >>> 2, words, reqFlags, seq, t.data, keyOff, f.words, len) << 2;
      } else next = writeRequest(buf, off, tpl, reqFlags, seq, t.data, keyOff, f.words, len);
      const r = this.record();
      this.recKind[r] = f.idx;
      for (let w = 0; w < f.words; w++) this.recKey[r * 4 + w] = t.data[keyOff + w]!;
      this.recLen[r] = len;
      this.recOp[r] = op;
      this.recSet[r] = op === OP_DELETE ? NO_ROUTE : want;
      this.recBits[r] = flags & DRIFT ? 1 : 0;
      this.recSlot[r] = slot;
      this.recEpoch[r] = t.epoch;
      if (op !== OP_DELETE) this.sets.retain(want);
      t.clearDirty(slot, DRIFT);
      t.setFlags(slot, t.flagsAt(slot) | INFLIGHT);
      return next;
    }
  }

  onError(index: number, error: number | TartanError): void {
    this.recErrors.set(index, error);
  }

  onDone(first: number, count: number): void {
    let requeued = false;
    const errors = this.recErrors.size > 0 ? this.recErrors : undefined;
    for (let i = first; i < first + count; i++) {
      const r = i & (this.recCap - 1);
      const err = errors?.get(i);
      if (err !== undefined) errors!.delete(i);
      requeued = this.complete(r, err) || requeued;
      this.recBits[r]! |= 2;
    }
    this.outstanding -= count;
    while (this.tail < this.emitted && this.recBits[this.tail & (this.recCap - 1)]! & 2) this.tail++;
    if (this.outstanding === 0) for (const w of this.quiesceWaiters.splice(0)) w();
    if (requeued) this.scheduleWake();
    this.checkIdle();
  }

  // --- internals ---------------------------------------------------------------

  private markDirty(f: FamilyState, slot: number): void {
    const t = f.table;
    if (!t.markDirty(slot)) {
      // Dirty from a resync, now a desired change: not a repair any more.
      t.setFlags(slot, t.flagsAt(slot) & ~DRIFT);
      return;
    }
    this.scheduleWake();
  }

  private scheduleWake(): void {
    if (this.wakeScheduled || this.stopped || !this.started) return;
    this.wakeScheduled = true;
    // After the current slice of RIB work: one wake pulls everything it queued.
    setImmediate(() => {
      this.wakeScheduled = false;
      this.handle?.wake();
    });
  }

  private wordsOf(buf: Buffer): Uint32Array | undefined {
    if (buf !== this.viewOf) {
      this.viewOf = buf;
      this.view32 = (buf.byteOffset & 3) === 0 ? new Uint32Array(buf.buffer, buf.byteOffset, buf.length >>> 2) : undefined;
    }
    return this.view32;
  }

  /** A ring slot for request `emitted` (grown if the oldest unfinished one would be overwritten). */
  private record(): number {
    if (this.emitted - this.tail >= this.recCap) this.growRecords();
    const r = this.emitted & (this.recCap - 1);
    this.emitted++;
    this.outstanding++;
    return r;
  }

  private growRecords(): void {
    const cap = this.recCap * 2;
    const kind = new Uint8Array(cap);
    const key = new Uint32Array(cap * 4);
    const len = new Uint8Array(cap);
    const op = new Uint8Array(cap);
    const set = new Uint32Array(cap);
    const bits = new Uint8Array(cap);
    const slots = new Int32Array(cap);
    const epochs = new Uint32Array(cap);
    for (let i = this.tail; i < this.emitted; i++) {
      const a = i & (this.recCap - 1);
      const b = i & (cap - 1);
      kind[b] = this.recKind[a]!;
      for (let w = 0; w < 4; w++) key[b * 4 + w] = this.recKey[a * 4 + w]!;
      len[b] = this.recLen[a]!;
      op[b] = this.recOp[a]!;
      set[b] = this.recSet[a]!;
      bits[b] = this.recBits[a]!;
      slots[b] = this.recSlot[a]!;
      epochs[b] = this.recEpoch[a]!;
    }
    this.recCap = cap;
    this.recKind = kind;
    this.recKey = key;
    this.recLen = len;
    this.recOp = op;
    this.recSet = set;
    this.recBits = bits;
    this.recSlot = slots;
    this.recEpoch = epochs;
  }

  /** The kernel answered request record `r`; returns true if its prefix was queued again. */
  private complete(r: number, err: number | TartanError | undefined): boolean {
    const kind = this.recKind[r]!;
    const op = this.recOp[r]!;
    const repair = (this.recBits[r]! & 1) !== 0;
    const errno = typeof err === 'number' ? err : 0;
    if (kind >= REC_STRAY) {
      const f = this.fams[(kind - REC_STRAY) as FamilyIndex];
      if (err === undefined || errno === ESRCH) {
        if (err === undefined) this.counters.deletes++;
        if (repair) this.counters.repairs++;
      } else {
        this.counters.errors++;
        this.noteFailure(OP_DELETE, f, this.recKey, this.recLen[r]!, this.recSet[r]!, err, r * 4);
      }
      return false;
    }
    const f = this.fams[kind as FamilyIndex];
    const t = f.table;
    const set = this.recSet[r]!;
    const len = this.recLen[r]!;
    const slot = this.recEpoch[r] === t.epoch ? this.recSlot[r]! : t.find(this.recKey, len, r * 4);
    if (slot < 0) {
      this.sets.release(set);
      return false;
    }
    const flags = t.flagsAt(slot) & ~INFLIGHT;
    if (err === undefined) {
      this.setHave(t, slot, op === OP_DELETE ? NO_ROUTE : set);
      if (op === OP_ADD) this.counters.adds++;
      else if (op === OP_REPLACE) this.counters.replaces++;
      else this.counters.deletes++;
      if (repair) this.counters.repairs++;
    } else {
      // A failed add or replace leaves the kernel as it was; a delete of a route that is not there is done.
      if (op === OP_DELETE && errno === ESRCH) this.setHave(t, slot, NO_ROUTE);
      else {
        this.counters.errors++;
        this.noteFailure(op, f, this.recKey, len, this.o.metric, err, r * 4);
      }
    }
    this.sets.release(set);
    let requeued = false;
    t.setFlags(slot, flags & ~PENDING);
    if (flags & PENDING) requeued = t.markDirty(slot);
    if (!(t.flagsAt(slot) & DIRTY) && t.wantAt(slot) === NO_ROUTE && t.haveAt(slot) === NO_ROUTE) t.remove(slot);
    return requeued;
  }

  private setHave(t: FibTable, slot: number, id: number): void {
    const was = t.haveAt(slot);
    if (was === id) return;
    this.sets.retain(id);
    t.setHave(slot, id);
    this.sets.release(was);
  }

  private nextStray(buf: Buffer, off: number, end: number, seq: number): number {
    const s = this.strays[this.strays.length - 1] as Stray;
    const tpl = this.sets.deleteTemplate(s.fam);
    if (off + tpl.length > end) return off;
    const next = writeRequest(buf, off, tpl, tpl.readUInt16LE(6), seq, s.key, 0, s.fam === 0 ? 1 : 4, s.len);
    buf.writeUInt32LE(s.metric >>> 0, off + this.sets.deletePriorityOffset[s.fam]);
    const r = this.record();
    this.recKind[r] = REC_STRAY + s.fam;
    for (let w = 0; w < s.key.length; w++) this.recKey[r * 4 + w] = s.key[w]!;
    this.recLen[r] = s.len;
    this.recOp[r] = OP_DELETE;
    this.recSet[r] = s.metric;
    this.recBits[r] = s.repair ? 1 : 0;
    this.strays.pop();
    return next;
  }

  private noteFailure(op: number, f: FamilyState, key: Uint32Array, len: number, metric: number, err: number | TartanError, keyOff = 0): void {
    this.failureCount++;
    if (this.failureDetails.length >= FAILURE_DETAILS) return;
    const kind = OP_NAMES[op] as FibFailure['kind'];
    const prefix = cidrFromKey(key.subarray(keyOff, keyOff + f.words), len, f.words);
    const error = typeof err === 'number' ? netlinkError(err, `${kind} route ${prefix} metric ${metric}`) : err;
    this.failureDetails.push({ kind, prefix, metric, error });
  }

  private isIdle(): boolean {
    if (this.stopped) return true;
    return this.started && !this.paused && this.outstanding === 0 && this.fams[0].table.dirty === 0 && this.fams[1].table.dirty === 0 && this.strays.length === 0;
  }

  private checkIdle(): void {
    if (!this.isIdle()) return;
    if (this.failureCount > 0) {
      const details = this.failureDetails;
      const total = this.failureCount;
      this.failureDetails = [];
      this.failureCount = 0;
      this.o.onFailures?.(details, total);
    }
    if (this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters.splice(0);
      queueMicrotask(() => {
        for (const w of waiters) w();
      });
    }
  }

  private quiesce(): Promise<void> {
    if (this.outstanding === 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.quiesceWaiters.push(resolve));
  }

  private scheduleResync(): void {
    if (this.stopped || this.o.resyncIntervalMs <= 0) return;
    this.resyncTimer = setTimeout(() => {
      this.resyncTimer = undefined;
      this.runResync(false)
        .catch((err: unknown) => this.o.onError?.(err))
        .finally(() => this.scheduleResync());
    }, this.o.resyncIntervalMs);
    this.resyncTimer.unref();
  }

  private runResync(initial: boolean): Promise<FibSyncResult> {
    if (this.resyncing) return this.resyncing;
    const p = this.doResync(initial);
    this.resyncing = p;
    const clear = (): void => {
      if (this.resyncing === p) this.resyncing = undefined;
    };
    p.then(clear, clear);
    return p;
  }

  private async doResync(initial: boolean): Promise<FibSyncResult> {
    const before = { ...this.counters };
    this.paused = true;
    try {
      await this.quiesce();
      this.strays = [];
      // Objects first: one the kernel dropped (its interface went down) is re-created, its routes plain meanwhile.
      if (!initial) await this.objects?.verify();
      this.dumpedObjectIds = this.objects?.hasUnclaimed ? new Set() : undefined;
      for (const f of this.fams) await this.dumpFamily(f, !initial);
      this.afterDump(initial);
      this.counters.resyncs++;
      if (!initial && this.dumpedObjectIds) void this.objects?.dropUnclaimed(this.dumpedObjectIds);
    } catch (err) {
      for (const f of this.fams) this.clearSeen(f.table);
      this.strays = [];
      throw err;
    } finally {
      this.paused = false;
      this.scheduleWake();
    }
    await this.whenIdle();
    return {
      adds: this.counters.adds - before.adds,
      replaces: this.counters.replaces - before.replaces,
      deletes: this.counters.deletes - before.deletes,
      failed: this.counters.errors - before.errors,
    };
  }

  /** Read our routes of one family into `have` (SEEN marks what the dump had). */
  private async dumpFamily(f: FamilyState, repair: boolean): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const res = await this.o.driver.dumpRoutesRaw(f.ipFamily, (buf, off, len) => this.onDumped(f, buf, off, len, repair));
      if (!res.interrupted) return;
      this.clearSeen(f.table);
      this.strays = this.strays.filter((s) => s.fam !== f.idx);
      if (attempt >= MAX_DUMP_ATTEMPTS) throw new TartanError('NETLINK_DUMP_INTR', `route dump kept being interrupted by changes (${attempt} attempts)`);
    }
  }

  private onDumped(f: FamilyState, buf: Buffer, off: number, len: number, repair: boolean): void {
    const d = this.dumped;
    if (!readOwnRoute(buf, off, len, this.o.protocol, this.o.table, d) || d.family !== f.ipFamily) return;
    if (d.metric !== this.o.metric) {
      this.strays.push({ fam: f.idx, key: d.key.slice(0, f.words), len: d.len, metric: d.metric, repair });
      return;
    }
    if (d.nhId !== 0) {
      this.dumpedObjectIds?.add(d.nhId);
      // nexthop_compat_mode 0: the kernel names the object only; its gateways are the set's.
      const gws = d.gateways.length === 0 ? this.objects?.gatewaysOfObject(d.nhId) : undefined;
      if (gws) {
        d.gateways.push(...gws);
        d.plain = true;
      }
    }
    const t = f.table;
    let slot = t.find(d.key, d.len);
    if (slot < 0) slot = t.insert(d.key, d.len);
    const flags = t.flagsAt(slot);
    const was = t.haveAt(slot);
    let id: number;
    if (!d.plain) id = OTHER_ROUTE;
    else if (flags & SEEN && was !== OTHER_ROUTE) {
      // The same route twice in one dump (IPv6 ECMP siblings reported one by one): one route, all gateways.
      const all = [...new Set([...this.sets.gatewaysOf(was), ...d.gateways])].sort();
      id = this.sets.acquireCanonical(all);
    } else if (flags & SEEN) id = OTHER_ROUTE;
    else id = this.sets.acquireCanonical(d.gateways);
    t.setHave(slot, id);
    this.sets.release(was);
    t.setFlags(slot, flags | SEEN);
  }

  /** After a complete dump: what it did not have is not in the kernel; mark every prefix that differs dirty. */
  private afterDump(initial: boolean): void {
    for (const f of this.fams) {
      const t = f.table;
      for (let s = 0; s < t.slots; s++) {
        if (!t.isLive(s)) continue;
        let flags = t.flagsAt(s);
        if (flags & SEEN) flags &= ~SEEN;
        else if (t.haveAt(s) !== NO_ROUTE) {
          this.sets.release(t.haveAt(s));
          t.setHave(s, NO_ROUTE);
        }
        const want = t.wantAt(s);
        if (want === t.haveAt(s)) {
          if (want === NO_ROUTE && !(flags & (DIRTY | INFLIGHT))) t.remove(s);
          else t.setFlags(s, flags);
          continue;
        }
        t.setFlags(s, flags);
        if (!(flags & DIRTY)) t.markDirty(s, initial ? 0 : DRIFT);
      }
    }
  }

  private clearSeen(t: FibTable): void {
    for (let s = 0; s < t.slots; s++) if (t.isLive(s)) t.setFlags(s, t.flagsAt(s) & ~SEEN);
  }
}
