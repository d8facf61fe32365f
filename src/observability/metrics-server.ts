/** Serve a TartanMetrics registry on GET /metrics (default :9091, Felix's PrometheusMetricsPort). */
import { DEFAULT_METRICS_PORT, type TartanMetrics } from './metrics';
import { listen, type RunningServer } from './health';

export function startMetricsServer(metrics: TartanMetrics, opts: { host?: string; port?: number } = {}): Promise<RunningServer> {
  return listen(
    (req, res) => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (path !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
        return;
      }
      metrics.text().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`collecting metrics failed: ${e instanceof Error ? e.message : String(e)}\n`),
      );
    },
    opts.host ?? '0.0.0.0',
    opts.port ?? DEFAULT_METRICS_PORT,
  );
}
