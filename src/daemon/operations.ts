/**
 * The operator-facing side of a running node: Prometheus metrics, the
 * liveness/readiness endpoints and systemd notifications, all fed pull-style
 * from snapshots of the parts the daemon owns (src/observability does the
 * rendering; this file only connects it to the daemon).
 */
import type { NodeConfig } from '../config';
import type { Logger } from '../util/log';
import { errorMessage } from '../errors';
import {
  HealthAggregator,
  SystemdNotifier,
  TartanMetrics,
  startHealthServer,
  startMetricsServer,
  type BgpSnapshot,
  type DatastoreSnapshot,
  type FibSnapshot,
  type PolicySnapshot,
  type RunningServer,
} from '../observability';

export interface OperationsSources {
  bgp: () => BgpSnapshot | undefined;
  fib: () => FibSnapshot[] | undefined;
  policy: () => PolicySnapshot | undefined;
  /** Only in cluster mode: a standalone node has no datastore to be in sync with. */
  datastore?: () => DatastoreSnapshot | undefined;
}

export class Operations {
  readonly metrics: TartanMetrics;
  readonly health: HealthAggregator;
  private readonly notifier: SystemdNotifier;
  private servers: RunningServer[] = [];

  constructor(
    private readonly config: NodeConfig,
    sources: OperationsSources,
    private readonly log: Logger,
  ) {
    this.metrics = new TartanMetrics({ bgp: sources.bgp, fib: sources.fib, policy: sources.policy, ...(sources.datastore ? { datastore: sources.datastore } : {}) });
    this.health = new HealthAggregator({ bgp: sources.bgp, ...(sources.datastore ? { datastore: sources.datastore } : {}) });
    this.notifier = new SystemdNotifier({ onError: (e) => log.warn(`systemd notify: ${e.message}`) });
  }

  /** Open the metrics and health listeners (failure to bind is logged, not fatal). */
  async start(): Promise<void> {
    const open = async (what: string, cfg: NodeConfig['metrics'], start: () => Promise<RunningServer>): Promise<void> => {
      if (!cfg.enabled) return;
      try {
        const s = await start();
        this.servers.push(s);
        this.log.info(`${what} on ${cfg.host}:${s.port}`);
      } catch (err) {
        this.log.error(`cannot serve ${what} on ${cfg.host}:${cfg.port}: ${errorMessage(err)}`);
      }
    };
    await open('Prometheus metrics (/metrics)', this.config.metrics, () => startMetricsServer(this.metrics, { host: this.config.metrics.host, port: this.config.metrics.port }));
    await open('health probes (/liveness, /readiness)', this.config.health, () => startHealthServer(this.health, { host: this.config.health.host, port: this.config.health.port }));
  }

  /** systemd: READY=1 (Type=notify) and watchdog pings while the node is live. */
  async ready(status: string): Promise<void> {
    await this.notifier.ready(status);
    this.notifier.startWatchdog(() => this.health.report().live);
  }

  async stopping(): Promise<void> {
    await this.notifier.stopping('stopping: sending Cease to peers');
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.close().catch(() => undefined)));
    this.servers = [];
  }
}
