import { request } from 'node:http';
import { TartanError } from '../errors';
import { API_PREFIX, type NodeStatus, type RouteQuery, type RouteView } from './types';

/** Reads the daemon's control API over its unix socket. */
export class ControlClient {
  constructor(
    private readonly socketPath: string,
    private readonly timeoutMs = 5000,
  ) {}

  status(): Promise<NodeStatus> {
    return this.get<NodeStatus>('/status');
  }

  routes(query: RouteQuery = {}): Promise<RouteView[]> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    return this.get<RouteView[]>(`/routes${qs ? `?${qs}` : ''}`);
  }

  private get<T>(path: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const req = request({ socketPath: this.socketPath, path: `${API_PREFIX}${path}`, method: 'GET', timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            return reject(new TartanError('CONTROL_BAD_RESPONSE', `the daemon sent a non-JSON reply: ${text.slice(0, 200)}`));
          }
          if ((res.statusCode ?? 500) >= 400) {
            const e = (body as { error?: { code?: string; message?: string } }).error;
            return reject(new TartanError(e?.code ?? 'CONTROL_ERROR', e?.message ?? `HTTP ${res.statusCode}`));
          }
          resolve(body as T);
        });
      });
      req.on('timeout', () => req.destroy(new TartanError('CONTROL_TIMEOUT', `no reply from ${this.socketPath} within ${this.timeoutMs} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err instanceof TartanError) return reject(err);
        if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
          return reject(new TartanError('DAEMON_NOT_RUNNING', `Tartan process is not running (no daemon at ${this.socketPath})`, { cause: err }));
        }
        if (err.code === 'EACCES') {
          return reject(new TartanError('CONTROL_PERMISSION', `permission denied on ${this.socketPath}: run as root`, { cause: err }));
        }
        reject(new TartanError('CONTROL_ERROR', `cannot reach ${this.socketPath}: ${err.code ?? err.message}`, { cause: err }));
      });
      req.end();
    });
  }
}
