/**
 * BGP best routes into the kernel FIB, like BIRD's kernel protocol: the
 * routing engine's Loc-RIB changes become the desired state of a RouteTable
 * that owns one rtnetlink protocol number (RTPROT_TARTAN_BGP, 201) in one
 * table, so routes of any other protocol are never touched.
 *
 * Start-up: desired routes accumulate while sessions converge, and only then
 * does the first reconcile run — so routes a previous run installed and the
 * peers still send are left exactly as they are (no flush and re-add).
 */
import type { Family } from '../wire/types';
import { cidrFromKey, type FibSink } from '../rib';
import { RouteDriver, NetlinkMonitor, RTPROT_TARTAN_BGP } from '../../netlink';
import { RouteTable, type ApplyResult, type RouteTarget } from '../../dataplane/routes';
import type { Logger } from '../../util/log';

export interface KernelFibOptions {
  table: number;
  metric: number;
  /** Full read-back and repair period, ms (0 = never). */
  resyncIntervalMs: number;
  log: Logger;
}

export class KernelFib implements FibSink {
  private readonly routes: RouteTable;
  private readonly driver: RouteDriver;
  private readonly monitor: NetlinkMonitor;
  private started = false;
  /** One shared target object per distinct next-hop set: a million routes via one peer share one. */
  private readonly targets = new Map<string, RouteTarget>();

  constructor(private readonly opts: KernelFibOptions) {
    this.driver = RouteDriver.open();
    // Link events only: our own writes of a million routes would flood a route-event socket;
    // drift is repaired by the periodic resync instead.
    this.monitor = NetlinkMonitor.open({ routes: false });
    this.routes = new RouteTable({
      driver: this.driver,
      events: this.monitor,
      protocol: RTPROT_TARTAN_BGP,
      table: opts.table,
      defaultMetric: opts.metric,
      resyncIntervalMs: opts.resyncIntervalMs,
      // Bigger batches than the default: BGP loads come in hundreds of thousands.
      coalesceMax: 50_000,
      onFailures: (failures) => {
        for (const f of failures.slice(0, 5)) opts.log.warn(`kernel route ${f.op.kind} ${f.op.route.dst} failed: ${f.error.message}`);
        if (failures.length > 5) opts.log.warn(`... and ${failures.length - 5} more kernel route failures`);
      },
    });
  }

  update(family: Family, key: Uint32Array, len: number, nextHops: readonly string[]): void {
    // The RIB's keys print in canonical form for IPv4; IPv6 text goes through the parser.
    const v4 = family === 'ipv4-unicast';
    const prefix = cidrFromKey(key, len, v4 ? 1 : 4);
    if (nextHops.length === 0) {
      if (v4) this.routes.deleteCanonical(prefix);
      else this.routes.delete(prefix);
      return;
    }
    const id = nextHops.join(' ');
    let target = this.targets.get(id);
    if (!target) {
      target = Object.freeze({ nextHops: Object.freeze(nextHops.map((gateway) => Object.freeze({ gateway }))) });
      this.targets.set(id, target);
    }
    if (v4) this.routes.setDesiredCanonical(prefix, target);
    else this.routes.setDesired(prefix, target);
  }

  /**
   * How many routes of our protocol the kernel already holds. None means
   * there is nothing to adopt at start-up, so programming can begin at once
   * instead of waiting for the peers to converge.
   */
  async ownRouteCount(): Promise<number> {
    let n = 0;
    for (const family of [4, 6] as const) {
      n += await this.driver.forEachRoute({ family, table: this.opts.table, protocol: RTPROT_TARTAN_BGP }, () => undefined);
    }
    return n;
  }

  /** First reconcile against the kernel; from then on changes are applied as they come. */
  async start(): Promise<ApplyResult> {
    if (this.started) throw new Error('kernel FIB already started');
    this.started = true;
    const r = await this.routes.start();
    this.opts.log.info(
      `kernel FIB in sync (table ${this.opts.table}, protocol ${RTPROT_TARTAN_BGP}): ${r.adds} added, ${r.replaces} replaced, ${r.deletes} removed, ${r.failed.length} failed`,
    );
    return r;
  }

  /** Read back and repair now (also runs periodically). */
  resync(): Promise<ApplyResult> {
    return this.routes.resync();
  }

  get counters(): RouteTable['counters'] {
    return this.routes.counters;
  }

  /** Stop programming. Routes stay in the kernel (like BIRD's `persist`), for a restart to adopt. */
  close(): void {
    this.routes.stop();
    this.monitor.close();
    this.driver.close();
  }
}
