/**
 * Liveness and readiness, like calico-node's Felix health endpoint
 * (libcalico-go `lib/health`): GET /liveness and /readiness on :9099 answer
 * 200 when good and 503 when not; `?detail=true` (or `?verbose`) adds a
 * table COMPONENT | TIMEOUT | LIVENESS | READINESS | DETAIL, and
 * `?format=json` gives the same as JSON.
 *
 * Components:
 * - datastore (pull): ready when the watch is in sync;
 * - bgp (pull): ready when every enabled peer is Established or the peer is
 *   in graceful restart (we keep its routes); no peers is ready, as in
 *   calico-node's bird-ready;
 * - reporters (push) registered with a timeout, like Felix's: a component
 *   that stops reporting within its timeout is no longer live/ready (e.g.
 *   a stuck reconcile loop).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BgpSnapshot, DatastoreSnapshot } from './types';

export const DEFAULT_HEALTH_PORT = 9099;

export interface ComponentHealth {
  name: string;
  /** Reporter timeout in seconds, 0 for pulled components. */
  timeoutSeconds: number;
  live: boolean;
  ready: boolean;
  detail: string;
}

export interface HealthReport {
  live: boolean;
  ready: boolean;
  components: ComponentHealth[];
}

export interface HealthSources {
  bgp?: () => BgpSnapshot | undefined;
  datastore?: () => DatastoreSnapshot | undefined;
}

interface Reporter {
  timeoutMs: number;
  live?: boolean;
  ready?: boolean;
  detail: string;
  at: number;
  /** Whether this reporter takes part in liveness / readiness. */
  checks: { live: boolean; ready: boolean };
}

export class HealthAggregator {
  private readonly reporters = new Map<string, Reporter>();

  constructor(
    private readonly sources: HealthSources = {},
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A pushed component. Until its first report it is neither live nor
   * ready; after `timeoutSeconds` (0 = never) without a report it is
   * neither either.
   */
  register(name: string, opts: { timeoutSeconds: number; live?: boolean; ready?: boolean }): (status: { live?: boolean; ready?: boolean; detail?: string }) => void {
    this.reporters.set(name, { timeoutMs: opts.timeoutSeconds * 1000, detail: 'no report yet', at: this.now(), checks: { live: opts.live ?? true, ready: opts.ready ?? true } });
    return (status) => {
      const r = this.reporters.get(name);
      if (!r) return;
      r.at = this.now();
      if (status.live !== undefined) r.live = status.live;
      if (status.ready !== undefined) r.ready = status.ready;
      r.detail = status.detail ?? '';
    };
  }

  report(): HealthReport {
    const components: ComponentHealth[] = [];
    const ds = this.sources.datastore?.();
    if (this.sources.datastore) components.push(datastoreHealth(ds));
    if (this.sources.bgp) components.push(bgpHealth(this.sources.bgp()));
    for (const [name, r] of this.reporters) {
      const stale = r.timeoutMs > 0 && this.now() - r.at > r.timeoutMs;
      const detail = stale ? `no report for more than ${r.timeoutMs / 1000}s` : r.detail;
      components.push({
        name,
        timeoutSeconds: r.timeoutMs / 1000,
        live: r.checks.live ? !stale && r.live === true : true,
        ready: r.checks.ready ? !stale && r.ready === true : true,
        detail,
      });
    }
    return { live: components.every((c) => c.live), ready: components.every((c) => c.ready), components };
  }
}

export function datastoreHealth(s: DatastoreSnapshot | undefined): ComponentHealth {
  if (!s) return { name: 'datastore', timeoutSeconds: 0, live: true, ready: false, detail: 'not started' };
  const synced = s.synced ?? s.state === 'connected';
  const detail = synced ? `in sync at revision ${s.revision}` : `${s.state}${s.reason ? `: ${s.reason}` : ''} (revision ${s.revision}, ${s.lag} behind)`;
  // An etcd outage makes the node unready, never dead: restarting cannot bring etcd back.
  return { name: 'datastore', timeoutSeconds: 0, live: s.state !== 'stopped', ready: synced, detail };
}

export function bgpHealth(s: BgpSnapshot | undefined): ComponentHealth {
  if (!s) return { name: 'bgp', timeoutSeconds: 0, live: true, ready: false, detail: 'speaker not started' };
  const peers = s.peers.filter((p) => p.enabled);
  const bad = peers.filter((p) => p.state !== 'Established' && !p.gracefulRestart);
  const up = peers.filter((p) => p.state === 'Established').length;
  const gr = peers.filter((p) => p.state !== 'Established' && p.gracefulRestart).length;
  let detail = peers.length === 0 ? 'no peers configured' : `${up}/${peers.length} peers established`;
  if (gr > 0) detail += `, ${gr} in graceful restart`;
  if (bad.length > 0) detail += `; BGP not established with ${bad.map((p) => `${p.address} (${p.state})`).join(', ')}`;
  return { name: 'bgp', timeoutSeconds: 0, live: true, ready: bad.length === 0, detail };
}

/** Felix's detail table. */
export function renderHealthTable(report: HealthReport): string {
  const head = ['COMPONENT', 'TIMEOUT', 'LIVENESS', 'READINESS', 'DETAIL'];
  const rows = report.components.map((c) => [c.name, c.timeoutSeconds > 0 ? `${c.timeoutSeconds}s` : '-', c.live ? 'reporting live' : 'reporting non-live', c.ready ? 'reporting ready' : 'reporting non-ready', c.detail]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const border = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const line = (cells: string[]): string => `|${cells.map((c, i) => ` ${c.padEnd(widths[i]!)} `).join('|')}|`;
  return [border, line(head), border, ...rows.map(line), border].join('\n');
}

export interface HealthServerOptions {
  /** Default 0.0.0.0 (probes come from the kubelet / Docker), e.g. "127.0.0.1". */
  host?: string;
  /** Default 9099; 0 picks a free port. */
  port?: number;
}

export interface RunningServer {
  port: number;
  address: string;
  close(): Promise<void>;
}

function respond(kind: 'liveness' | 'readiness', agg: HealthAggregator, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const report = agg.report();
  const ok = kind === 'liveness' ? report.live : report.ready;
  const status = ok ? 200 : 503;
  const detail = url.searchParams.has('verbose') || (url.searchParams.has('detail') && url.searchParams.get('detail') !== 'false');
  if (url.searchParams.get('format') === 'json') {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(`${JSON.stringify({ [kind === 'liveness' ? 'live' : 'ready']: ok, components: report.components }, null, 2)}\n`);
    return;
  }
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  const summary = kind === 'liveness' ? (ok ? 'live' : 'not live') : ok ? 'ready' : 'not ready';
  const why = report.components.filter((c) => !(kind === 'liveness' ? c.live : c.ready)).map((c) => `${c.name}: ${c.detail}`);
  res.end(`${summary}${why.length > 0 ? `: ${why.join('; ')}` : ''}\n${detail ? `${renderHealthTable(report)}\n` : ''}`);
}

/** Serve /liveness and /readiness. */
export function startHealthServer(agg: HealthAggregator, opts: HealthServerOptions = {}): Promise<RunningServer> {
  return listen(
    (req, res) => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
      } else if (path === '/liveness' || path === '/readiness') {
        respond(path === '/liveness' ? 'liveness' : 'readiness', agg, req, res);
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /liveness or /readiness\n');
      }
    },
    opts.host ?? '0.0.0.0',
    opts.port ?? DEFAULT_HEALTH_PORT,
  );
}

/** Start an HTTP server; resolves once it listens (rejects on EADDRINUSE etc.). */
export function listen(handler: (req: IncomingMessage, res: ServerResponse) => void, host: string, port: number): Promise<RunningServer> {
  const server: Server = createServer(handler);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address() as AddressInfo;
      resolve({
        port: addr.port,
        address: addr.address,
        close: () =>
          new Promise<void>((res) => {
            server.closeAllConnections();
            server.close(() => res());
          }),
      });
    });
  });
}
