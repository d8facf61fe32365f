import { createServer, type Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdirSync, unlinkSync, chmodSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { connect } from 'node:net';
import { TartanError, errorMessage } from '../errors';
import { API_PREFIX, type NodeStatus, type RouteQuery, type RouteView } from './types';

/** What the daemon exposes over the control socket. */
export interface ControlProvider {
  status(): NodeStatus;
  routes(query: RouteQuery): RouteView[];
}

/**
 * HTTP/1.1 over a unix socket. Read-only for now; the socket is 0660 so
 * only root (and the socket's group) can talk to the daemon.
 */
export class ControlServer {
  private server: Server | undefined;

  constructor(
    private readonly socketPath: string,
    private readonly provider: ControlProvider,
  ) {}

  async listen(): Promise<void> {
    mkdirSync(dirname(this.socketPath), { recursive: true, mode: 0o750 });
    await removeStaleSocket(this.socketPath);
    const server = createServer((req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new TartanError('CONTROL_SOCKET', `cannot listen on ${this.socketPath}: ${err.code ?? err.message}`, { cause: err })),
      );
      server.listen(this.socketPath, () => resolve());
    });
    chmodSync(this.socketPath, 0o660);
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    try {
      unlinkSync(this.socketPath);
    } catch {
      // Already gone: nothing to clean.
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://tartan');
    try {
      if (req.method !== 'GET') return send(res, 405, apiError('METHOD_NOT_ALLOWED', `${req.method} is not supported`));
      switch (url.pathname) {
        case `${API_PREFIX}/status`:
          return send(res, 200, this.provider.status());
        case `${API_PREFIX}/routes`: {
          const table = url.searchParams.get('table');
          if (table !== null && table !== 'in' && table !== 'loc' && table !== 'out') {
            return send(res, 400, apiError('BAD_REQUEST', `table must be "in", "loc" or "out", got "${table}"`));
          }
          const query: RouteQuery = {
            table: table ?? undefined,
            peer: url.searchParams.get('peer') ?? undefined,
            prefix: url.searchParams.get('prefix') ?? undefined,
          };
          return send(res, 200, this.provider.routes(query));
        }
        default:
          return send(res, 404, apiError('NOT_FOUND', `no such endpoint ${url.pathname}`));
      }
    } catch (err) {
      const code = err instanceof TartanError ? err.code : 'INTERNAL';
      return send(res, err instanceof TartanError ? 400 : 500, apiError(code, errorMessage(err)));
    }
  }
}

function apiError(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * A socket file left by a crashed daemon blocks listen(); remove it, but
 * only when nothing answers on it (never steal a live daemon's socket).
 */
async function removeStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  const alive = await new Promise<boolean>((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (alive) throw new TartanError('CONTROL_SOCKET_IN_USE', `another tartan-node is already serving ${path}`);
  unlinkSync(path);
}
