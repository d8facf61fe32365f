/**
 * RouteTable: keeps the kernel's routes of ONE protocol number in ONE table
 * equal to a desired state (Felix's routetable, BIRD's kernel protocol).
 *
 * - Ownership: only routes whose rtm_protocol is ours are ever read as
 *   "actual" or deleted; adds use NLM_F_EXCL, so a foreign route with the same
 *   destination and metric is reported (NETLINK_EEXIST), never overwritten.
 * - Changes to the desired state are coalesced (`coalesceMs`, or at once when
 *   `coalesceMax` prefixes are dirty) and applied as one pipelined batch.
 * - Start-up and periodic resync dump our routes and diff everything: correct
 *   routes are not touched; missing or altered ones are repaired; stale ones
 *   removed (after `graceMs` if they sit on a workload interface).
 * - Targets via a missing or down interface are skipped and retried when a
 *   link event says the interface is up (the kernel flushes IPv4 routes of a
 *   link that goes down, so they must be re-added then).
 * - Route events of our protocol keep the view of the kernel current; a
 *   route removed or changed by hand is repaired without waiting for resync.
 */
import { TartanError } from '../../errors';
import { parsePrefix, formatPrefix, type IpFamily } from '../../netlink/addr';
import type { RouteProgrammer } from '../../netlink/route-driver';
import type { KernelRoute, LinkInfo, NetlinkEvent, RouteOp, RouteOpFailure } from '../../netlink/types';
import { applyGrace, diffPrefix, linkUsable, resolveTarget, routesEqual, type GraceResult } from './diff';
import type { RouteTableCounters, RouteTarget, SkipReason } from './types';

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Where events come from (a NetlinkMonitor, or a fake in tests). */
export interface EventSource {
  on(fn: (e: NetlinkEvent) => void): void;
}

export interface RouteTableOptions {
  driver: RouteProgrammer;
  /** Link and route events; without it, link-up retries and drift repair wait for the next resync. */
  events?: EventSource;
  /** Our rtm_protocol (e.g. RTPROT_TARTAN_BGP 201, RTPROT_TARTAN_WORKLOAD 202). */
  protocol: number;
  /** Routing table id; default 254 (main). */
  table?: number;
  /** Families managed; default both. */
  families?: readonly IpFamily[];
  /** Metric for targets that name none; default 1024 (Felix IPv4NormalRoutePriority). */
  defaultMetric?: number;
  /** Wait this long after a change before applying, to batch; default 5 ms. */
  coalesceMs?: number;
  /** Apply at once when this many prefixes are dirty; default 10 000. */
  coalesceMax?: number;
  /** Full resync period; default 90 s (Felix RouteRefreshInterval); 0 = never. */
  resyncIntervalMs?: number;
  /** Keep stale routes on workload interfaces this long; default 10 s (Felix routeCleanupGracePeriod). */
  graceMs?: number;
  /** Which interfaces are workload interfaces (grace applies); default none. */
  isWorkloadInterface?: (ifname: string) => boolean;
  clock?: Clock;
  /** Called with the failures of every apply (for logs). */
  onFailures?: (failures: readonly RouteOpFailure[]) => void;
}

export interface ApplyResult {
  adds: number;
  replaces: number;
  deletes: number;
  /** Desired prefixes waiting for their interface. */
  skipped: number;
  failed: RouteOpFailure[];
}

const emptyResult = (): ApplyResult => ({ adds: 0, replaces: 0, deletes: 0, skipped: 0, failed: [] });

export class RouteTable {
  readonly counters: RouteTableCounters = { adds: 0, replaces: 0, deletes: 0, errors: 0, repairs: 0, resyncs: 0 };
  private readonly o: Required<Omit<RouteTableOptions, 'events' | 'onFailures'>> & Pick<RouteTableOptions, 'events' | 'onFailures'>;
  /** Canonical prefix → target. */
  private desired = new Map<string, RouteTarget>();
  /** Our routes in the kernel, as last seen (dump, events, our own successful ops). */
  private actual = new Map<string, KernelRoute[]>();
  private dirty = new Set<string>();
  /** Dirty because the kernel drifted (not because the desired state changed). */
  private drifted = new Set<string>();
  private readonly skipped = new Map<string, { reason: SkipReason; ifname: string }>();
  private staleSince = new Map<string, number>();
  private readonly links = new Map<string, LinkInfo>();
  private readonly linkNames = new Map<number, string>();
  private flushTimer: unknown;
  private graceTimer: unknown;
  private resyncTimer: unknown;
  private running: Promise<unknown> = Promise.resolve();
  private started = false;
  private stopped = false;
  private earlyApply = false;

  constructor(opts: RouteTableOptions) {
    this.o = {
      table: 254,
      families: [4, 6],
      defaultMetric: 1024,
      coalesceMs: 5,
      coalesceMax: 10_000,
      resyncIntervalMs: 90_000,
      graceMs: 10_000,
      isWorkloadInterface: () => false,
      clock: realClock,
      // An option given as undefined means "default", not "unset".
      ...(Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as RouteTableOptions),
    };
    this.o.events?.on((e) => this.onEvent(e));
  }

  /** Want `prefix` routed to `target`. Throws TartanError ROUTES_INVALID_PREFIX for a bad prefix. */
  setDesired(prefix: string, target: RouteTarget): void {
    const key = this.key(prefix);
    this.desired.set(key, target);
    this.markDirty(key);
  }

  /**
   * setDesired for a prefix already in canonical form (as canonicalPrefix()
   * writes it, e.g. produced by the RIB from its own keys): skips parsing,
   * which is most of the cost when a million routes arrive at once.
   */
  setDesiredCanonical(prefix: string, target: RouteTarget): void {
    this.desired.set(prefix, target);
    this.markDirty(prefix);
  }

  /** Stop wanting `prefix`; our route for it is removed at the next apply. */
  delete(prefix: string): void {
    const key = this.key(prefix);
    if (this.desired.delete(key)) this.markDirty(key);
  }

  /** delete() for a prefix already in canonical form (see setDesiredCanonical). */
  deleteCanonical(prefix: string): void {
    if (this.desired.delete(prefix)) this.markDirty(prefix);
  }

  /** Make `desired` the whole desired state (prefixes not in it are removed). */
  replaceAll(desired: Iterable<readonly [string, RouteTarget]>): void {
    const prev = this.desired;
    const next = new Map<string, RouteTarget>();
    for (const [p, t] of desired) {
      const k = this.key(p);
      next.set(k, t);
      if (prev.get(k) !== t) this.markDirty(k, false);
    }
    for (const k of prev.keys()) if (!next.has(k)) this.markDirty(k, false);
    this.desired = next;
    this.scheduleFlush();
  }

  /** Desired prefixes currently skipped because their interface is missing or down. */
  skippedPrefixes(): ReadonlyMap<string, { reason: SkipReason; ifname: string }> {
    return this.skipped;
  }

  /** Load links, reconcile against the kernel (a full resync), then keep it in sync. */
  async start(): Promise<ApplyResult> {
    this.started = true;
    await this.refreshLinks();
    const r = await this.resync();
    this.scheduleResync();
    return r;
  }

  stop(): void {
    this.stopped = true;
    for (const t of [this.flushTimer, this.graceTimer, this.resyncTimer]) if (t !== undefined) this.o.clock.clearTimeout(t);
    this.flushTimer = this.graceTimer = this.resyncTimer = undefined;
  }

  /** Apply pending changes now. */
  apply(): Promise<ApplyResult> {
    return this.serial(() => this.flush());
  }

  /** Dump our routes, diff everything, repair drift. */
  resync(): Promise<ApplyResult> {
    return this.serial(async () => {
      const fresh = new Map<string, KernelRoute[]>();
      for (const family of this.o.families) {
        await this.o.driver.forEachRoute({ family, table: this.o.table, protocol: this.o.protocol }, (r) => {
          const list = fresh.get(r.dst);
          if (list) list.push(r);
          else fresh.set(r.dst, [r]);
        });
      }
      this.actual = fresh;
      this.counters.resyncs++;
      // Everything not already dirty from a desired change is checked as a possible repair.
      for (const k of this.desired.keys()) if (!this.dirty.has(k)) this.drifted.add(k);
      for (const k of fresh.keys()) if (!this.dirty.has(k)) this.drifted.add(k);
      for (const k of this.desired.keys()) this.dirty.add(k);
      for (const k of fresh.keys()) this.dirty.add(k);
      return this.flush();
    });
  }

  private key(prefix: string): string {
    const p = parsePrefix(prefix);
    if (!p || !this.o.families.includes(p.family)) {
      throw new TartanError('ROUTES_INVALID_PREFIX', `not a prefix this route table manages: ${prefix}`);
    }
    return formatPrefix(p);
  }

  private markDirty(key: string, schedule = true): void {
    this.dirty.add(key);
    this.drifted.delete(key);
    if (schedule) this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (!this.started || this.stopped || this.dirty.size === 0) return;
    if (this.dirty.size >= this.o.coalesceMax) {
      if (this.flushTimer !== undefined) this.o.clock.clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
      // One early apply at a time: until it takes the dirty set, every further change
      // would otherwise queue another (a million queued applies during a full-table load).
      if (this.earlyApply) return;
      this.earlyApply = true;
      void this.apply().finally(() => {
        this.earlyApply = false;
        this.scheduleFlush();
      });
      return;
    }
    if (this.flushTimer !== undefined) return;
    this.flushTimer = this.o.clock.setTimeout(() => {
      this.flushTimer = undefined;
      void this.apply();
    }, this.o.coalesceMs);
  }

  private scheduleResync(): void {
    if (this.stopped || this.o.resyncIntervalMs <= 0) return;
    this.resyncTimer = this.o.clock.setTimeout(() => {
      this.resyncTimer = undefined;
      void this.resync()
        .catch(() => undefined)
        .finally(() => this.scheduleResync());
    }, this.o.resyncIntervalMs);
  }

  /** Run one apply/resync at a time, in call order. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.running.then(fn, fn);
    this.running = p.catch(() => undefined);
    return p;
  }

  private async flush(): Promise<ApplyResult> {
    const keys = this.dirty;
    const drifted = this.drifted;
    this.dirty = new Set();
    this.drifted = new Set();
    const result = emptyResult();
    if (keys.size === 0) return result;
    const ctx = { table: this.o.table, protocol: this.o.protocol, defaultMetric: this.o.defaultMetric, links: this.links };
    const now = this.o.clock.now();
    const grace: GraceResult = { ops: [], deferred: new Map(), nextDeadline: undefined };

    const graceIn = {
      staleSince: this.staleSince,
      now,
      graceMs: this.o.graceMs,
      graced: (r: KernelRoute) => r.nextHops.some((h) => h.ifindex !== undefined && this.isWorkloadIfindex(h.ifindex)),
    };
    const repairKeys = new Set<string>();
    for (const key of keys) {
      const target = this.desired.get(key);
      const actual = this.actual.get(key) ?? [];
      let want: KernelRoute | undefined;
      if (target) {
        const family = key.includes(':') ? 6 : 4;
        const res = resolveTarget(family, key, target, ctx);
        if (!res.ok) {
          // Leave whatever is there alone; retried on link up.
          this.skipped.set(key, { reason: res.reason, ifname: res.ifname });
          continue;
        }
        this.skipped.delete(key);
        want = res.route;
      } else {
        this.skipped.delete(key);
      }
      const ops = diffPrefix(want, actual);
      if (ops.length > 0 && drifted.has(key)) repairKeys.add(key);
      applyGrace(key, want !== undefined, ops, graceIn, grace);
    }
    // Only the prefixes looked at now change their stale status.
    for (const key of keys) {
      const since = grace.deferred.get(key);
      if (since === undefined) this.staleSince.delete(key);
      else this.staleSince.set(key, since);
    }
    this.scheduleGrace();
    result.skipped = this.skipped.size;
    if (grace.ops.length > 0) {
      const batch = await this.o.driver.apply(grace.ops);
      const failedOps = new Set(batch.failed.map((f) => f.op));
      for (const op of grace.ops) {
        if (failedOps.size > 0 && failedOps.has(op)) continue;
        const isRepair = repairKeys.size > 0 && repairKeys.has(op.route.dst);
        this.recordSuccess(op);
        if (op.kind === 'add') result.adds++;
        else if (op.kind === 'replace') result.replaces++;
        else result.deletes++;
        if (isRepair) this.counters.repairs++;
      }
      result.failed = batch.failed;
      this.counters.adds += result.adds;
      this.counters.replaces += result.replaces;
      this.counters.deletes += result.deletes;
      this.counters.errors += batch.failed.length;
      if (batch.failed.length > 0) this.o.onFailures?.(batch.failed);
    }
    return result;
  }

  private recordSuccess(op: RouteOp): void {
    const r = op.route;
    const cur = this.actual.get(r.dst);
    if (cur === undefined) {
      if (op.kind !== 'delete') this.actual.set(r.dst, [r]);
      return;
    }
    const list = cur.filter((a) => a.metric !== r.metric);
    if (op.kind !== 'delete') list.push(r);
    if (list.length > 0) this.actual.set(r.dst, list);
    else this.actual.delete(r.dst);
  }

  private scheduleGrace(): void {
    if (this.graceTimer !== undefined) this.o.clock.clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    if (this.staleSince.size === 0 || this.stopped) return;
    let first = Infinity;
    for (const since of this.staleSince.values()) first = Math.min(first, since);
    const wait = Math.max(0, first + this.o.graceMs - this.o.clock.now());
    this.graceTimer = this.o.clock.setTimeout(() => {
      this.graceTimer = undefined;
      for (const k of this.staleSince.keys()) this.dirty.add(k);
      void this.apply();
    }, wait);
  }

  private isWorkloadIfindex(ifindex: number): boolean {
    const name = this.linkNames.get(ifindex);
    return name !== undefined && this.o.isWorkloadInterface(name);
  }

  private async refreshLinks(): Promise<void> {
    const links = await this.o.driver.listLinks();
    this.links.clear();
    this.linkNames.clear();
    for (const l of links) this.setLink(l);
  }

  private setLink(l: LinkInfo): void {
    const prevName = this.linkNames.get(l.index);
    if (prevName !== undefined && prevName !== l.name) this.links.delete(prevName);
    this.links.set(l.name, l);
    this.linkNames.set(l.index, l.name);
  }

  private onEvent(e: NetlinkEvent): void {
    if (this.stopped) return;
    if (e.kind === 'overrun') {
      // Events were lost: only a dump can tell what the kernel has now.
      if (this.started) void this.resync().catch(() => undefined);
      return;
    }
    if (e.kind === 'link') {
      this.onLink(e.action, e.link);
      return;
    }
    if (e.kind !== 'route') return;
    const r = e.route;
    if (r.protocol !== this.o.protocol || r.table !== this.o.table || !this.o.families.includes(r.family)) return;
    const list = (this.actual.get(r.dst) ?? []).filter((a) => a.metric !== r.metric);
    if (e.action === 'new') list.push(r);
    if (list.length > 0) this.actual.set(r.dst, list);
    else this.actual.delete(r.dst);
    if (!this.started) return;
    // Our own writes come back as events too; only a real difference is drift.
    const target = this.desired.get(r.dst);
    if (!target) return;
    const res = resolveTarget(r.family, r.dst, target, { table: this.o.table, protocol: this.o.protocol, defaultMetric: this.o.defaultMetric, links: this.links });
    if (!res.ok) return;
    const cur = list.find((a) => a.metric === res.route.metric);
    if (cur && routesEqual(res.route, cur) && list.length === 1) return;
    if (!this.dirty.has(r.dst)) {
      this.dirty.add(r.dst);
      this.drifted.add(r.dst);
    }
    this.scheduleFlush();
  }

  private onLink(action: 'new' | 'del', l: LinkInfo): void {
    const before = this.links.get(l.name);
    const wasUsable = linkUsable(before) && before?.index === l.index;
    if (action === 'del') {
      if (this.linkNames.get(l.index) === l.name) this.links.delete(l.name);
      this.linkNames.delete(l.index);
    } else {
      this.setLink(l);
    }
    const usable = action === 'new' && linkUsable(l);
    if (usable === wasUsable) return;
    // Up: retry skipped routes via this interface. Down/gone: the kernel drops
    // (IPv4) routes through it; re-resolve so they are marked skipped.
    for (const [k, s] of this.skipped) if (s.ifname === l.name) this.dirty.add(k);
    if (!usable) {
      for (const [k, t] of this.desired) if (t.nextHops?.some((h) => h.ifname === l.name)) this.dirty.add(k);
    }
    this.scheduleFlush();
  }
}
