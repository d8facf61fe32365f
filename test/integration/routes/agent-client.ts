/**
 * Test-side handle of a route agent (agent.ts) running in a namespace. The
 * agent's TypeScript (and the src/ modules it imports) is transpiled on the
 * fly in the child with the project's `typescript` (transpileModule, no type
 * check: tsc covers that), through a `.ts` require hook.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';

const BOOTSTRAP = `
const ts = require(process.env.TT_TS);
const fs = require('fs');
require.extensions['.ts'] = (m, f) => m._compile(ts.transpileModule(fs.readFileSync(f, 'utf8'), {
  fileName: f,
  compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
}).outputText, f);
require(process.env.TT_AGENT);
`;

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  code?: string;
  message?: string;
}

export class RouteAgent {
  private nextId = 1;
  private readonly waiters = new Map<number, (r: Reply) => void>();
  private stderr = '';
  private exited = false;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const r = JSON.parse(line) as Reply;
      this.waiters.get(r.id)?.(r);
      this.waiters.delete(r.id);
    });
    child.stderr.on('data', (b: Buffer) => (this.stderr += b.toString()));
    child.on('exit', () => {
      this.exited = true;
      for (const w of this.waiters.values()) w({ id: -1, ok: false, code: 'AGENT_EXITED', message: this.stderr });
      this.waiters.clear();
    });
  }

  /** Start an agent inside namespace `ns`; resolves once it is ready. */
  static async start(ns: string): Promise<RouteAgent> {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', BOOTSTRAP], {
      env: { ...process.env, TT_TS: require.resolve('typescript'), TT_AGENT: join(__dirname, 'agent.ts') },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // own process group, so stop() reaches node behind `ip netns exec`
    });
    const agent = new RouteAgent(child);
    await new Promise<void>((resolve, reject) => {
      agent.waiters.set(0, (r) => (r.ok ? resolve() : reject(new Error(`agent failed to start: ${r.message}`))));
    });
    return agent;
  }

  async call<T>(cmd: string, args?: unknown): Promise<T> {
    if (this.exited) throw new Error(`agent exited: ${this.stderr}`);
    const id = this.nextId++;
    const reply = await new Promise<Reply>((resolve) => {
      this.waiters.set(id, resolve);
      this.child.stdin.write(`${JSON.stringify({ id, cmd, args })}\n`);
    });
    if (!reply.ok) throw new Error(`agent ${cmd}: ${reply.code}: ${reply.message}`);
    return reply.result as T;
  }

  /** Ask the agent to exit; kill its process group (by our child's PID) if it does not. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.call('exit').catch(() => undefined);
    const timer = setTimeout(() => {
      try {
        if (this.child.pid !== undefined) process.kill(-this.child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 3000);
    await gone;
    clearTimeout(timer);
  }
}
