/**
 * Kernel glue for next-hop resolution: fills a NextHopTable from the main
 * routing table and says when answers may have changed. Only unicast routes
 * of the main table that are not our own BGP routes count (see table.ts).
 *
 * The table is read by dumps, not by route events: a node programming a
 * million BGP routes would otherwise receive a million notifications of its
 * own routes. A dump follows every link or address event (what makes a
 * connected route come or go: an interface down, an address removed),
 * debounced, and one runs every `scanIntervalMs` for everything else (a
 * static route added by hand), like BIRD's kernel `scan time`. A dump skips
 * our own routes before decoding them.
 */
import type { Logger } from '../../util/log';
import { errorMessage } from '../../errors';
import { NetlinkMonitor, RouteDriver, RTPROT_TARTAN_BGP, RT_TABLE_MAIN, type KernelRoute, type NetlinkEvent } from '../../netlink';
import { NextHopTable } from './table';

export interface KernelNextHopsOptions {
  log: Logger;
  /** Called after a dump changed the table. */
  onChange: () => void;
  /**
   * Period of the full scan, ms (default 60 s, BIRD's default kernel `scan time`): a scan reads
   * the whole main table, our own BGP routes included (the kernel sends them all; they are
   * skipped before decoding), so on a full-table node it is not cheap.
   */
  scanIntervalMs?: number;
  /** Wait after a link or address event before dumping, ms (default 300): a burst becomes one dump. */
  debounceMs?: number;
  /** Called (debounced like the dump) after link or address events: e.g. to repair the kernel FIB now. */
  onLinkChange?: () => void;
}

export class KernelNextHops {
  readonly table = new NextHopTable();
  private driver: RouteDriver | undefined;
  private monitor: NetlinkMonitor | undefined;
  private eventTimer: NodeJS.Timeout | undefined;
  private scanTimer: NodeJS.Timeout | undefined;
  private dumping: Promise<void> | undefined;
  private dumpAgain = false;
  private stopped = false;
  /** Dumps done (diagnostics, tests). */
  scans = 0;

  constructor(private readonly opts: KernelNextHopsOptions) {}

  async start(): Promise<void> {
    this.driver = RouteDriver.open({ recvBufferBytes: 1 << 20, sendBufferBytes: 1 << 16 });
    // Subscribed before the first dump, so a change during it is not lost.
    this.monitor = NetlinkMonitor.open({ routes: false, addresses: true });
    this.monitor.on((e) => this.onEvent(e));
    await this.scan();
    this.opts.log.info(`next-hop tracking: ${this.table.size} resolving route(s) in the main table`);
    this.scanTimer = setInterval(() => void this.scan(), this.opts.scanIntervalMs ?? 60_000);
    this.scanTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.eventTimer) clearTimeout(this.eventTimer);
    if (this.scanTimer) clearInterval(this.scanTimer);
    this.monitor?.close();
    this.driver?.close();
  }

  private onEvent(e: NetlinkEvent): void {
    if (this.stopped || e.kind === 'route') return;
    if (this.eventTimer) return;
    this.eventTimer = setTimeout(() => {
      this.eventTimer = undefined;
      void this.scan();
      this.opts.onLinkChange?.();
    }, this.opts.debounceMs ?? 300);
    this.eventTimer.unref();
  }

  /** One dump at a time; a request during a dump makes one more after it. */
  private scan(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.dumping) {
      this.dumpAgain = true;
      return this.dumping;
    }
    const dumping = this.dump()
      .catch((err: unknown) => {
        this.opts.log.warn(`next-hop tracking: route dump failed: ${errorMessage(err)}`);
      })
      .finally(() => {
        this.dumping = undefined;
        if (this.dumpAgain) {
          this.dumpAgain = false;
          void this.scan();
        }
      });
    this.dumping = dumping;
    return dumping;
  }

  private async dump(): Promise<void> {
    const driver = this.driver;
    if (!driver) return;
    const next = new NextHopTable();
    for (const family of [4, 6] as const) {
      await driver.forEachRoute({ family, table: RT_TABLE_MAIN, excludeProtocol: RTPROT_TARTAN_BGP }, (r) => {
        if (counts(r)) next.add(r);
      });
    }
    this.scans++;
    if (this.table.replaceWith(next)) this.opts.onChange();
  }
}

/** A route that can resolve a next hop: unicast, main table, not ours, not a default route. */
function counts(r: KernelRoute): boolean {
  return r.table === RT_TABLE_MAIN && r.type === 'unicast' && r.protocol !== RTPROT_TARTAN_BGP && !r.dst.endsWith('/0');
}
