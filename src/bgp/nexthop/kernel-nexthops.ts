/**
 * Kernel glue for next-hop resolution: fills a NextHopTable from the main
 * routing table (a dump at start, then route events) and says when answers
 * may have changed. Only unicast routes of the main table that are not our
 * own BGP routes count (see table.ts).
 *
 * Route events are best-effort: while a full table is being programmed the
 * event socket overflows (our own routes' notifications are dropped unread,
 * but they still fill the buffer). After an overrun the table is rebuilt from
 * a dump, at most once per `redumpAfterOverrunMs`, so a million-route load
 * does not turn into a dump loop; until then answers may be stale.
 */
import type { Logger } from '../../util/log';
import { errorMessage } from '../../errors';
import { NetlinkMonitor, RouteDriver, RTPROT_TARTAN_BGP, RT_TABLE_MAIN, type KernelRoute, type NetlinkEvent } from '../../netlink';
import { NextHopTable } from './table';

export interface KernelNextHopsOptions {
  log: Logger;
  /** Called (debounced) after the table changed. */
  onChange: () => void;
  /** Default 30 s. */
  redumpAfterOverrunMs?: number;
  /** Default 200 ms: coalesce a burst of route events into one onChange. */
  debounceMs?: number;
}

export class KernelNextHops {
  readonly table = new NextHopTable();
  private driver: RouteDriver | undefined;
  private monitor: NetlinkMonitor | undefined;
  private changeTimer: NodeJS.Timeout | undefined;
  private redumpTimer: NodeJS.Timeout | undefined;
  private lastDump = 0;
  private stopped = false;

  constructor(private readonly opts: KernelNextHopsOptions) {}

  async start(): Promise<void> {
    this.driver = RouteDriver.open({ recvBufferBytes: 1 << 20, sendBufferBytes: 1 << 16 });
    // Subscribe before dumping, so a change during the dump is not lost.
    this.monitor = NetlinkMonitor.open({ ignoreProtocol: RTPROT_TARTAN_BGP });
    this.monitor.on((e) => this.onEvent(e));
    await this.dump();
    this.opts.log.info(`next-hop tracking: ${this.table.size} resolving route(s) in the main table`);
  }

  stop(): void {
    this.stopped = true;
    if (this.changeTimer) clearTimeout(this.changeTimer);
    if (this.redumpTimer) clearTimeout(this.redumpTimer);
    this.monitor?.close();
    this.driver?.close();
  }

  private async dump(): Promise<void> {
    const driver = this.driver;
    if (!driver) return;
    this.lastDump = Date.now();
    const routes: KernelRoute[] = [];
    for (const family of [4, 6] as const) {
      await driver.forEachRoute({ family, table: RT_TABLE_MAIN, excludeProtocol: RTPROT_TARTAN_BGP }, (r) => {
        if (counts(r)) routes.push(r);
      });
    }
    const before = this.table.version;
    this.table.clear();
    for (const r of routes) this.table.add(r);
    if (this.table.version !== before) this.changed();
  }

  private onEvent(e: NetlinkEvent): void {
    if (this.stopped) return;
    if (e.kind === 'overrun') {
      this.scheduleRedump();
      return;
    }
    if (e.kind !== 'route' || !counts(e.route)) return;
    if (e.action === 'new') this.table.add(e.route);
    else this.table.remove(e.route);
    this.changed();
  }

  private scheduleRedump(): void {
    if (this.redumpTimer) return;
    const wait = Math.max(0, this.lastDump + (this.opts.redumpAfterOverrunMs ?? 30_000) - Date.now());
    this.redumpTimer = setTimeout(() => {
      this.redumpTimer = undefined;
      if (this.stopped) return;
      this.dump().catch((err: unknown) => this.opts.log.warn(`next-hop tracking: route dump failed: ${errorMessage(err)}`));
    }, wait);
    this.redumpTimer.unref();
  }

  private changed(): void {
    if (this.changeTimer) return;
    this.changeTimer = setTimeout(() => {
      this.changeTimer = undefined;
      if (!this.stopped) this.opts.onChange();
    }, this.opts.debounceMs ?? 200);
    this.changeTimer.unref();
  }
}

/** A route that can resolve a next hop: unicast, main table, not ours, not a default route. */
function counts(r: KernelRoute): boolean {
  return r.table === RT_TABLE_MAIN && r.type === 'unicast' && r.protocol !== RTPROT_TARTAN_BGP && !r.dst.endsWith('/0');
}
