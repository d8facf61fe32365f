/**
 * BGP best routes into the kernel FIB, like BIRD's kernel protocol: the
 * routing engine's Loc-RIB changes become the desired state of a
 * FibReconciler that owns one rtnetlink protocol number
 * (RTPROT_TARTAN_BGP, 201) in one table, so routes of any other protocol are
 * never touched.
 *
 * The reconciler is compact and pipelined (fib-reconciler.ts: desired and
 * kernel state in typed arrays keyed like the RIB, next-hop sets interned,
 * requests encoded from templates straight into netlink datagrams) and runs
 * with its netlink socket in a worker thread (fib-worker.ts); this class is
 * the main thread's side, handing over compact records (fib-client.ts).
 * The dataplane's workload and blackhole routes keep using RouteTable: few
 * routes, named interfaces, grace periods.
 *
 * Start-up: desired routes accumulate while sessions converge, and only then
 * does the first reconcile run — so routes a previous run installed and the
 * peers still send are left exactly as they are (no flush and re-add).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { Family } from '../wire/types';
import type { FibSink } from '../rib';
import { RouteDriver, RTPROT_TARTAN_BGP } from '../../netlink';
import type { RouteTableCounters } from '../../dataplane/routes';
import type { Logger } from '../../util/log';
import { TartanError } from '../../errors';
import { FibClient } from './fib-client';
import { serveFib, type FibHostOptions, type FibPort } from './fib-host';
import type { FibSyncResult } from './fib-reconciler';

export interface KernelFibOptions {
  table: number;
  metric: number;
  /** Full read-back and repair period, ms (0 = never). */
  resyncIntervalMs: number;
  /** Name kernel nexthop objects in route requests where possible (default true). */
  nexthopObjects?: boolean;
  log: Logger;
  /** Run the reconciler in a worker thread (default), or on the caller's thread. */
  thread?: 'worker' | 'main';
}

const WORKER_SCRIPT = join(__dirname, 'fib-worker.js');

export class KernelFib implements FibSink {
  private readonly client: FibClient;
  private readonly worker: Worker | undefined;
  private started = false;
  private closed = false;

  constructor(private readonly opts: KernelFibOptions) {
    const host: FibHostOptions = { protocol: RTPROT_TARTAN_BGP, table: opts.table, metric: opts.metric, resyncIntervalMs: opts.resyncIntervalMs, nexthopObjects: opts.nexthopObjects ?? true };
    const hooks = {
      onFailures: (failures: readonly { kind: string; prefix: string; message: string }[], total: number) => {
        for (const f of failures.slice(0, 5)) opts.log.warn(`kernel route ${f.kind} ${f.prefix} failed: ${f.message}`);
        if (total > 5) opts.log.warn(`... and ${total - 5} more kernel route failures`);
      },
      onError: (err: TartanError) => opts.log.warn(`kernel FIB: ${err.message}`),
    };
    // From the TypeScript sources (tests) there is no compiled worker script: same thread then.
    if ((opts.thread ?? 'worker') === 'worker' && existsSync(WORKER_SCRIPT)) {
      // Its heap holds little (records arrive as transferred typed arrays): a small young generation keeps its RSS down.
      const worker = new Worker(WORKER_SCRIPT, { workerData: host, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
      this.worker = worker;
      this.client = new FibClient(worker as unknown as FibPort, hooks);
      // The daemon's own sockets keep the process alive; the worker must not hold it at exit.
      worker.unref();
      worker.on('error', (err) => {
        opts.log.error(`kernel FIB worker failed: ${err.message}`);
        this.client.fail(new TartanError('FIB_WORKER', `kernel FIB worker failed: ${err.message}`, { cause: err }));
      });
      worker.on('exit', (code) => {
        if (!this.closed) {
          opts.log.error(`kernel FIB worker exited (code ${code})`);
          this.client.fail(new TartanError('FIB_WORKER', `kernel FIB worker exited (code ${code})`));
        }
      });
    } else {
      const { port1, port2 } = new MessageChannel();
      const driver = RouteDriver.open();
      serveFib(port2 as unknown as FibPort, host, driver, () => {
        driver.close();
        port2.close();
      });
      this.client = new FibClient(port1 as unknown as FibPort, hooks);
      port1.unref();
      port2.unref();
    }
  }

  update(family: Family, key: Uint32Array, len: number, nextHops: readonly string[]): void {
    this.client.update(family === 'ipv4-unicast' ? 0 : 1, key, len, nextHops);
  }

  /**
   * How many routes of our protocol the kernel already holds. None means
   * there is nothing to adopt at start-up, so programming can begin at once
   * instead of waiting for the peers to converge.
   */
  ownRouteCount(): Promise<number> {
    return this.client.countKernelRoutes();
  }

  /** First reconcile against the kernel; from then on changes are applied as they come. */
  async start(): Promise<FibSyncResult> {
    if (this.started) throw new Error('kernel FIB already started');
    this.started = true;
    const r = await this.client.start();
    this.opts.log.info(
      `kernel FIB in sync (table ${this.opts.table}, protocol ${RTPROT_TARTAN_BGP}): ${r.adds} added, ${r.replaces} replaced, ${r.deletes} removed, ${r.failed} failed`,
    );
    return r;
  }

  /** Read back and repair now (also runs periodically). */
  resync(): Promise<FibSyncResult> {
    return this.client.resync();
  }

  /**
   * A link or address changed: the kernel drops the routes (and the nexthop
   * objects) of an interface that goes down, so read back and repair now
   * rather than at the next periodic resync. Nothing before the first sync.
   */
  linkChanged(): void {
    if (!this.started || this.closed) return;
    this.client.resync().then(
      (r) => {
        if (r.adds + r.replaces + r.deletes + r.failed > 0) this.opts.log.info(`kernel FIB repaired after a link change: ${r.adds} added, ${r.replaces} replaced, ${r.deletes} removed, ${r.failed} failed`);
      },
      (err: unknown) => this.opts.log.warn(`kernel FIB resync after a link change failed: ${err instanceof Error ? err.message : String(err)}`),
    );
  }

  /** Resolves when every change handed over so far is in the kernel (or failed). */
  whenIdle(): Promise<void> {
    return this.client.whenIdle();
  }

  /** Operation counters, as last reported by the reconciler (a few ms behind at most). */
  get counters(): RouteTableCounters {
    return this.client.counters;
  }

  /** Routes of ours in the kernel, as far as the reconciler knows. */
  get routeCount(): number {
    return this.client.routeCount;
  }

  /** Stop programming. Routes stay in the kernel (like BIRD's `persist`), for a restart to adopt. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.stop();
    // The worker ends itself on 'stop'; make sure of it.
    const worker = this.worker;
    if (worker) setTimeout(() => void worker.terminate(), 1_000).unref();
  }
}
