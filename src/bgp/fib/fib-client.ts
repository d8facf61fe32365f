/**
 * Main-thread end of the kernel FIB (see fib-host.ts for the split and the
 * message protocol). update() is what the routing engine calls for every
 * decided prefix, so it does as little as possible: one map lookup for the
 * next-hop text and a few typed-array stores; the batch goes to the host
 * after the current slice of RIB work (or when it is full).
 */
import { TartanError } from '../../errors';
import type { RouteTableCounters } from '../../dataplane/routes/types';
import { RECORD_HEAD, type FibCall, type FibPort, type FromHost, type ToHost, type WireFailure } from './fib-host';
import type { FibSyncResult } from './fib-reconciler';
import type { FamilyIndex } from './nexthop-sets';

export interface FibClientHooks {
  onFailures?: (failures: readonly WireFailure[], total: number) => void;
  onError?: (err: TartanError) => void;
}

/** Records per batch before it is sent without waiting for the end of the slice. */
const BATCH_RECORDS = 16_384;
/** Distinct next-hop texts remembered before the ids start over (bounds both ends' maps). */
const MAX_HOP_IDS = 100_000;

interface Batch {
  data: Uint32Array;
  used: number;
}

export class FibClient {
  readonly counters: RouteTableCounters = { adds: 0, replaces: 0, deletes: 0, errors: 0, repairs: 0, resyncs: 0 };
  private routes = 0;
  private readonly hopIds = new Map<string, number>();
  private nextHopId = 1;
  private newHops: string[][] = [];
  private newHopsFirst = 1;
  private readonly batches: [Batch, Batch];
  private flushScheduled = false;
  private nextCall = 1;
  private readonly calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: TartanError) => void }>();
  private failed: TartanError | undefined;
  private stopped = false;

  constructor(
    private readonly port: FibPort,
    private readonly hooks: FibClientHooks = {},
  ) {
    this.batches = [
      { data: new Uint32Array(BATCH_RECORDS * (RECORD_HEAD + 1)), used: 0 },
      { data: new Uint32Array(BATCH_RECORDS * (RECORD_HEAD + 4)), used: 0 },
    ];
    port.on('message', (m: FromHost) => this.onMessage(m));
  }

  /** The best route for a prefix (`key` words, `len`) of family 0/1 now goes via `nextHops` (none = remove). */
  update(fam: FamilyIndex, key: Uint32Array, len: number, nextHops: readonly string[]): void {
    if (this.stopped) return;
    let id = 0;
    if (nextHops.length > 0) {
      const text = nextHops.length === 1 ? (nextHops[0] as string) : nextHops.join(' ');
      id = this.hopIds.get(text) ?? this.newHopId(text, nextHops);
    }
    const b = this.batches[fam];
    const words = fam === 0 ? 1 : 4;
    const d = b.data;
    let o = b.used;
    d[o++] = len;
    d[o++] = id;
    for (let w = 0; w < words; w++) d[o++] = key[w]!;
    b.used = o;
    if (o + RECORD_HEAD + words > d.length) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Prefixes with a route of ours in the kernel (as last reported by the host). */
  get routeCount(): number {
    return this.routes;
  }

  start(): Promise<FibSyncResult> {
    return this.call('start') as Promise<FibSyncResult>;
  }

  resync(): Promise<FibSyncResult> {
    return this.call('resync') as Promise<FibSyncResult>;
  }

  /** Resolves when everything updated so far is in the kernel (or failed). */
  whenIdle(): Promise<void> {
    return this.call('idle') as Promise<void>;
  }

  countKernelRoutes(): Promise<number> {
    return this.call('count') as Promise<number>;
  }

  stop(): void {
    if (this.stopped) return;
    this.flush();
    this.stopped = true;
    this.post({ t: 'stop' });
    this.fail(new TartanError('FIB_STOPPED', 'kernel FIB stopped'));
  }

  /** The host is gone (worker crashed): fail what waits, and everything after. */
  fail(err: TartanError): void {
    this.failed ??= err;
    for (const c of this.calls.values()) c.reject(err);
    if (this.calls.size > 0) this.port.unref?.();
    this.calls.clear();
  }

  private newHopId(text: string, nextHops: readonly string[]): number {
    if (this.hopIds.size >= MAX_HOP_IDS) {
      // Everything queued so far still uses the old ids: send it first.
      this.flush();
      this.hopIds.clear();
      this.post({ t: 'forget' });
    }
    const id = this.nextHopId++;
    this.hopIds.set(text, id);
    if (this.newHops.length === 0) this.newHopsFirst = id;
    this.newHops.push([...nextHops]);
    return id;
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.stopped) return;
    if (this.newHops.length > 0) {
      this.post({ t: 'hops', first: this.newHopsFirst, list: this.newHops });
      this.newHops = [];
    }
    for (const fam of [0, 1] as const) {
      const b = this.batches[fam];
      if (b.used === 0) continue;
      const data = b.data.slice(0, b.used);
      b.used = 0;
      this.port.postMessage({ t: 'up', fam, data } satisfies ToHost, [data.buffer]);
    }
  }

  private call(op: FibCall): Promise<unknown> {
    if (this.failed) return Promise.reject(this.failed);
    // The host handles messages in order: every update made before this call counts.
    this.flush();
    const id = this.nextCall++;
    return new Promise((resolve, reject) => {
      // An answer is awaited: the port must keep the process alive until it comes.
      if (this.calls.size === 0) this.port.ref?.();
      this.calls.set(id, { resolve, reject });
      this.post({ t: 'call', id, op });
    });
  }

  private post(m: ToHost): void {
    this.port.postMessage(m);
  }

  private onMessage(m: FromHost): void {
    switch (m.t) {
      case 'ret': {
        const c = this.calls.get(m.id);
        this.calls.delete(m.id);
        if (this.calls.size === 0) this.port.unref?.();
        if (!c) return;
        if (m.error) c.reject(new TartanError(m.error.code, m.error.message));
        else c.resolve(m.value);
        break;
      }
      case 'stats':
        Object.assign(this.counters, m.counters);
        this.routes = m.routes;
        break;
      case 'failures':
        this.hooks.onFailures?.(m.list, m.total);
        break;
      case 'error':
        this.hooks.onError?.(new TartanError(m.code, m.message));
        break;
      default:
        break;
    }
  }
}
