/**
 * A throwaway etcd for one test file: the Debian `etcd` 3.4 binary on
 * 127.0.0.1 with free ports and a temp data dir. `stop()` kills it by PID and
 * removes the dir; `pause()`/`resume()` freeze it with SIGSTOP/SIGCONT (a
 * hung server: connections stay open, nothing answers); `restart()` stops
 * and starts it again on the same data dir and ports (a real outage with
 * state kept); `compact(rev)` compacts history.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, openSync, closeSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';

export interface EtcdServer {
  /** e.g. "http://127.0.0.1:40123" */
  endpoint: string;
  dataDir: string;
  stop(): Promise<void>;
  pause(): void;
  resume(): void;
  /** Kill (SIGTERM, wait) and start again on the same data dir and ports. */
  restart(): Promise<void>;
  /** Stop only; `start()` brings it back. */
  kill(): Promise<void>;
  start(): Promise<void>;
  compact(revision: number): Promise<void>;
  /** The current store revision. */
  revision(): Promise<number>;
}

const ETCD = process.env['ETCD_BINARY'] ?? '/usr/bin/etcd';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startEtcd(): Promise<EtcdServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tartan-etcd-'));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const logFile = join(dataDir, 'etcd.log');
  let proc: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const log = openSync(logFile, 'a');
    proc = spawn(
      ETCD,
      [
        '--name', 'tartan-test',
        '--data-dir', join(dataDir, 'data'),
        '--listen-client-urls', endpoint,
        '--advertise-client-urls', endpoint,
        '--listen-peer-urls', `http://127.0.0.1:${peerPort}`,
        '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
        '--initial-cluster', `tartan-test=http://127.0.0.1:${peerPort}`,
        '--log-level', 'warn',
        '--logger', 'zap',
      ],
      { stdio: ['ignore', log, log], env: { ...process.env, ETCD_UNSUPPORTED_ARCH: process.env['ETCD_UNSUPPORTED_ARCH'] ?? '' } },
    );
    closeSync(log);
    await waitHealthy(endpoint, proc, logFile);
  };

  const kill = async (): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill('SIGCONT'); // a paused etcd cannot act on SIGTERM
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  const withClient = async <T>(fn: (c: Etcd3) => Promise<T>): Promise<T> => {
    const c = new Etcd3({ hosts: endpoint });
    try {
      return await fn(c);
    } finally {
      c.close();
    }
  };

  await launch();
  return {
    endpoint,
    dataDir,
    async stop() {
      await kill();
      rmSync(dataDir, { recursive: true, force: true });
    },
    pause() {
      proc?.kill('SIGSTOP');
    },
    resume() {
      proc?.kill('SIGCONT');
    },
    async restart() {
      await kill();
      await launch();
    },
    kill,
    start: launch,
    compact: (revision) => withClient(async (c) => void (await c.kv.compact({ revision: String(revision), physical: true }))),
    revision: () => withClient(async (c) => Number((await c.kv.range({ key: Buffer.from('\0') })).header.revision)),
  };
}

async function waitHealthy(endpoint: string, proc: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`etcd exited with ${proc.exitCode}: ${tail(logFile)}`);
    try {
      const res = await fetch(`${endpoint}/health`);
      if (res.ok && ((await res.json()) as { health?: string }).health === 'true') return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`etcd did not become healthy: ${tail(logFile)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-10).join('\n');
  } catch {
    return '(no log)';
  }
}
