/**
 * List + watch syncer (after libcalico-go `backend/watchersyncer`): lists a
 * set of key prefixes at one revision, reports `in-sync`, then watches every
 * prefix from that revision + 1 and turns etcd events into typed
 * added/updated/deleted events.
 *
 * States and what moves between them:
 *
 *   connecting --list ok--> connected --stream breaks--> disconnected
 *   disconnected --backoff, stream re-created--> connected   (resume: each
 *       prefix restarts from the revision after the last one it delivered,
 *       so changes made meanwhile arrive as ordinary events)
 *   any --start revision compacted--> resyncing --relist ok--> connected
 *       (the relist is diffed against the cache: changed keys become
 *       updates, vanished keys become synthetic deletes)
 *   any --stop()--> stopped
 *
 * While etcd is away nothing is retracted: the consumer keeps serving its
 * last known state, as Calico's syncer clients do. A stored value that does
 * not decode is reported as `corrupt` and, if it replaced a good one, the old
 * one is reported deleted (Calico's watcher turns an unparseable value into
 * a deletion too); the syncer itself never stops on bad data.
 */
import { DATASTORE_UNAVAILABLE } from './errors';
import type { KeyValue, Kv, WatchEvent, WatchStream } from './etcd/kv';
import { TartanError, errorMessage } from '../errors';

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface SyncSource<T> {
  /** Key prefix, normally ending in "/". */
  prefix: string;
  decode(kv: KeyValue): DecodeResult<T>;
}

export type SyncState = 'connecting' | 'connected' | 'disconnected' | 'resyncing' | 'stopped';

export interface SyncStatus {
  state: SyncState;
  /** Highest revision delivered (events, progress notifications or a list). */
  revision: number;
  /**
   * Store revision last heard from etcd minus `revision`: how far behind the
   * delivered events are, e.g. while catching up after a reconnect (0 when
   * caught up).
   */
  lag: number;
  reason?: string;
}

export type SyncEvent<T> =
  | { type: 'added'; key: string; value: T; revision: number }
  | { type: 'updated'; key: string; value: T; previous: T; revision: number }
  | { type: 'deleted'; key: string; previous: T; revision: number; synthetic: boolean }
  | { type: 'in-sync'; revision: number }
  | { type: 'status'; status: SyncStatus }
  | { type: 'corrupt'; key: string; reason: string; revision: number };

export type SyncListener<T> = (event: SyncEvent<T>) => void;

export interface SyncerOptions {
  /** First reconnect delay, ms (default 250; Calico confd uses 250ms..5s). */
  minBackoffMs?: number;
  /** Longest reconnect delay, ms (default 5000). */
  maxBackoffMs?: number;
}

interface Entry<T> {
  value: T;
  modRevision: number;
}

export class Syncer<T> {
  private readonly cache = new Map<string, Entry<T>>();
  private readonly listeners = new Set<SyncListener<T>>();
  /** Per source: the next revision its watch must start from. */
  private readonly nextRev: number[];
  private state: SyncState = 'connecting';
  private revision = 0;
  private storeRevision = 0;
  private needList = true;
  private running = false;
  private stream: WatchStream | undefined;
  private wake: (() => void) | undefined;
  private readonly minBackoff: number;
  private readonly maxBackoff: number;
  private backoff: number;
  private inSync: Promise<void>;
  private resolveInSync!: () => void;

  constructor(
    private readonly kv: Kv,
    private readonly sources: ReadonlyArray<SyncSource<T>>,
    opts: SyncerOptions = {},
  ) {
    if (sources.length === 0) throw new Error('a Syncer needs at least one source');
    this.nextRev = sources.map(() => 0);
    this.minBackoff = opts.minBackoffMs ?? 250;
    this.maxBackoff = opts.maxBackoffMs ?? 5000;
    this.backoff = this.minBackoff;
    this.inSync = new Promise((r) => (this.resolveInSync = r));
  }

  /** Subscribe; returns the unsubscribe function. */
  on(listener: SyncListener<T>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Begin listing and watching (idempotent). */
  start(): void {
    if (this.running) return;
    this.running = true;
    void this.run();
  }

  /** Resolves after the first `in-sync`. */
  ready(): Promise<void> {
    return this.inSync;
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.stream?.close();
    this.stream = undefined;
    this.wake?.();
    this.setState('stopped');
  }

  status(): SyncStatus {
    return { state: this.state, revision: this.revision, lag: Math.max(0, this.storeRevision - this.revision) };
  }

  /** The current view: key → value. */
  snapshot(): Map<string, T> {
    return new Map([...this.cache].map(([k, e]) => [k, e.value]));
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        if (this.needList) await this.relist();
        const outcome = await this.watchUntilBroken();
        if (outcome === 'compacted') {
          this.needList = true;
          this.setState('resyncing', 'watch start revision was compacted');
          continue; // relist at once: etcd is up, only history is gone
        }
      } catch (e) {
        if (!this.running) break;
        this.setState('disconnected', errorMessage(e));
        if (!(e instanceof TartanError && e.code === DATASTORE_UNAVAILABLE)) {
          // Not an outage (auth, bad request): still retry, but slowly.
          this.backoff = this.maxBackoff;
        }
      }
      if (!this.running) break;
      await this.sleep(this.backoff);
      this.backoff = Math.min(this.maxBackoff, this.backoff * 2);
    }
  }

  private async relist(): Promise<void> {
    const first = await this.kv.range(this.sources[0]?.prefix ?? '/', undefined);
    const listed: Array<{ index: number; kvs: KeyValue[] }> = [{ index: 0, kvs: first.kvs }];
    for (let i = 1; i < this.sources.length; i++) {
      const r = await this.kv.range((this.sources[i] as SyncSource<T>).prefix, first.revision);
      listed.push({ index: i, kvs: r.kvs });
    }
    const rev = first.revision;
    const seen = new Set<string>();
    for (const { index, kvs } of listed) {
      for (const kv of kvs) {
        seen.add(kv.key);
        this.applyPut(index, kv, rev);
      }
    }
    for (const [key, entry] of [...this.cache]) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.emit({ type: 'deleted', key, previous: entry.value, revision: rev, synthetic: true });
      }
    }
    this.revision = rev;
    this.storeRevision = Math.max(this.storeRevision, rev);
    this.nextRev.fill(rev + 1);
    this.needList = false;
    this.emit({ type: 'in-sync', revision: rev });
    this.resolveInSync();
  }

  /** Resolves when the stream fails ('broken') or history was compacted. */
  private watchUntilBroken(): Promise<'broken' | 'compacted'> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (outcome: 'broken' | 'compacted' | Error): void => {
        if (settled) return;
        settled = true;
        this.stream = undefined;
        this.wake = undefined;
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      this.wake = () => settle('broken');
      this.kv
        .watch(
          this.sources.map((s, i) => ({ prefix: s.prefix, startRevision: this.nextRev[i] as number })),
          {
            onCreated: () => {
              this.backoff = this.minBackoff;
              this.setState('connected');
            },
            onEvents: (index, events, storeRevision) => {
              this.storeRevision = Math.max(this.storeRevision, storeRevision);
              this.applyEvents(index, events);
            },
            onProgress: (index, revision) => {
              this.nextRev[index] = Math.max(this.nextRev[index] as number, revision + 1);
              this.storeRevision = Math.max(this.storeRevision, revision);
              this.revision = Math.max(this.revision, revision);
            },
            onCompacted: () => settle('compacted'),
            onError: (err) => settle(err),
          },
        )
        .then(
          (stream) => {
            if (settled || !this.running) stream.close();
            else this.stream = stream;
          },
          (err: unknown) => settle(err instanceof Error ? err : new Error(String(err))),
        );
    });
  }

  private applyEvents(index: number, events: WatchEvent[]): void {
    let last = 0;
    for (const ev of events) {
      const rev = ev.kv.modRevision;
      last = Math.max(last, rev);
      if (ev.type === 'put') {
        this.applyPut(index, ev.kv, rev);
      } else {
        const entry = this.cache.get(ev.kv.key);
        if (!entry) continue;
        this.cache.delete(ev.kv.key);
        this.emit({ type: 'deleted', key: ev.kv.key, previous: entry.value, revision: rev, synthetic: false });
      }
    }
    // Each prefix resumes from its own position: another prefix's watch may
    // not have delivered up to `last` yet when a stream breaks.
    this.nextRev[index] = Math.max(this.nextRev[index] as number, last + 1);
    this.storeRevision = Math.max(this.storeRevision, last);
    this.revision = Math.max(this.revision, last);
  }

  private applyPut(index: number, kv: KeyValue, revision: number): void {
    const old = this.cache.get(kv.key);
    // A resumed watch can replay what we already have.
    if (old && old.modRevision >= kv.modRevision) return;
    const d = (this.sources[index] as SyncSource<T>).decode(kv);
    if (!d.ok) {
      this.emit({ type: 'corrupt', key: kv.key, reason: d.reason, revision });
      if (old) {
        this.cache.delete(kv.key);
        this.emit({ type: 'deleted', key: kv.key, previous: old.value, revision, synthetic: false });
      }
      return;
    }
    this.cache.set(kv.key, { value: d.value, modRevision: kv.modRevision });
    if (old) this.emit({ type: 'updated', key: kv.key, value: d.value, previous: old.value, revision });
    else this.emit({ type: 'added', key: kv.key, value: d.value, revision });
  }

  private setState(state: SyncState, reason?: string): void {
    // Same state twice is not news: one `disconnected` per outage.
    if (this.state === 'stopped' || this.state === state) return;
    this.state = state;
    this.emit({ type: 'status', status: { ...this.status(), ...(reason ? { reason } : {}) } });
  }

  private emit(event: SyncEvent<T>): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (e) {
        // A consumer bug must not stop the syncer, nor be swallowed.
        setImmediate(() => {
          throw e;
        });
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = undefined;
        resolve();
      };
    });
  }
}
