/**
 * Test-side handle of a DataplaneController child (child.ts) running inside
 * a node namespace, plus the root-namespace half of its etcd relay (a Unix
 * socket → etcd's TCP port). The child's TypeScript is transpiled on the fly
 * (transpileModule, no type check: tsc covers that). Stopped by its own PID /
 * process group only.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createConnection, createServer, type Server } from 'node:net';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import type { DataplaneControllerOptions, DataplaneStatus } from '../../../src/dataplane/controller';

const BOOTSTRAP = `
const ts = require(process.env.TT_TS);
const fs = require('fs');
require.extensions['.ts'] = (m, f) => m._compile(ts.transpileModule(fs.readFileSync(f, 'utf8'), {
  fileName: f,
  compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
}).outputText, f);
require(process.env.TT_CHILD);
`;

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  message?: string;
}

export type ChildOptions = Omit<DataplaneControllerOptions, 'nodeName' | 'feed' | 'log'>;

export class ControllerProc {
  private nextId = 1;
  private readonly waiters = new Map<number, (r: Reply) => void>();
  /** The child's log (JSON lines) and any crash output. */
  log = '';
  private exited = false;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly bridge: Server,
  ) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      let r: Reply;
      try {
        r = JSON.parse(line) as Reply;
      } catch {
        this.log += `${line}\n`;
        return;
      }
      this.waiters.get(r.id)?.(r);
      this.waiters.delete(r.id);
    });
    child.stderr.on('data', (b: Buffer) => (this.log += b.toString()));
    child.on('exit', () => {
      this.exited = true;
      for (const w of this.waiters.values()) w({ id: -1, ok: false, message: `controller exited: ${this.log.slice(-3000)}` });
      this.waiters.clear();
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Start a controller for `nodeName` inside `ns`, talking to etcd on
   * 127.0.0.1:`etcdPort` (root namespace) through a Unix socket in `dir`.
   */
  static async start(opts: { ns: string; nodeName: string; etcdPort: number; dir: string; options: ChildOptions; track?: (child: ChildProcessWithoutNullStreams) => void }): Promise<ControllerProc> {
    const unixPath = join(opts.dir, `etcd-${opts.nodeName}.sock`);
    const bridge = createServer((c) => {
      const t = createConnection(opts.etcdPort, '127.0.0.1');
      c.pipe(t).pipe(c);
      c.on('error', () => t.destroy());
      t.on('error', () => c.destroy());
    });
    await new Promise<void>((r) => bridge.listen(unixPath, () => r()));
    const child = spawn('ip', ['netns', 'exec', opts.ns, process.execPath, '-e', BOOTSTRAP], {
      env: {
        ...process.env,
        TT_TS: require.resolve('typescript'),
        TT_CHILD: join(__dirname, 'child.ts'),
        TT_CONTROLLER: JSON.stringify({ unixPath, nodeName: opts.nodeName, options: opts.options }),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // own process group: stop() reaches node behind `ip netns exec`
    });
    opts.track?.(child);
    const proc = new ControllerProc(child, bridge);
    await new Promise<void>((resolve, reject) => {
      proc.waiters.set(0, (r) => (r.ok ? resolve() : reject(new Error(`controller failed to start: ${r.message}`))));
    });
    return proc;
  }

  async call<T>(cmd: string): Promise<T> {
    if (this.exited) throw new Error(`controller exited: ${this.log.slice(-3000)}`);
    const id = this.nextId++;
    const reply = await new Promise<Reply>((resolve) => {
      this.waiters.set(id, resolve);
      this.child.stdin.write(`${JSON.stringify({ id, cmd })}\n`);
    });
    if (!reply.ok) throw new Error(`controller ${cmd}: ${reply.message}`);
    return reply.result as T;
  }

  status(): Promise<DataplaneStatus> {
    return this.call<DataplaneStatus>('status');
  }

  /** Wait until every datastore change the controller has received is applied. */
  settle(): Promise<DataplaneStatus> {
    return this.call<DataplaneStatus>('settle');
  }

  /** Wait until the controller has received datastore revision `rev` and applied everything it received. */
  async caughtUp(rev: number | string | undefined): Promise<DataplaneStatus> {
    const want = Number(rev ?? 0);
    const deadline = Date.now() + 30_000;
    while ((await this.status()).revision < want) {
      if (Date.now() > deadline) throw new Error(`controller did not reach revision ${want}: ${this.log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.settle();
  }

  async stop(): Promise<void> {
    if (!this.exited) {
      const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
      this.call('exit').catch(() => undefined);
      const timer = setTimeout(() => {
        try {
          if (this.child.pid !== undefined) process.kill(-this.child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 5000);
      await gone;
      clearTimeout(timer);
    }
    await new Promise<void>((r) => this.bridge.close(() => r()));
  }
}
