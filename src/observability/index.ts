/**
 * Operator-facing observability for tartan-node:
 *
 *   const metrics = new TartanMetrics({ bgp: () => speaker.status(), fib: () => ({ table: 254, counters: fib.counters }),
 *                                       policy: () => ({ ...dp.stats(), repairs: dp.repairs, resyncs: dp.resyncs }),
 *                                       datastore: tracked.snapshot });
 *   await startMetricsServer(metrics, { port: 9091 });           // GET /metrics
 *   const health = new HealthAggregator({ bgp: () => speaker.status(), datastore: tracked.snapshot });
 *   await startHealthServer(health, { port: 9099 });             // GET /liveness, /readiness[?detail=true]
 *   const sd = new SystemdNotifier({ onError: (e) => log.warn(e.message) });
 *   await sd.ready('peers: 2/2 established'); sd.startWatchdog(() => health.report().live);
 *   ... on SIGTERM: await sd.stopping();
 */
export * from './types';
export { TartanMetrics, trackSyncer, METRICS_PREFIX, DEFAULT_METRICS_PORT, NOTIFICATION_CODES, type MetricsOptions, type CommandRunner } from './metrics';
export { startMetricsServer } from './metrics-server';
export {
  HealthAggregator, startHealthServer, renderHealthTable, bgpHealth, datastoreHealth, DEFAULT_HEALTH_PORT,
  type ComponentHealth, type HealthReport, type HealthSources, type HealthServerOptions, type RunningServer,
} from './health';
export { SystemdNotifier, defaultNotifyExec, type NotifyExec, type NotifierOptions } from './notify';
