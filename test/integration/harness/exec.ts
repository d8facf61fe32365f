/**
 * Process helpers for the integration harness: run a command to completion,
 * or spawn a tracked background process that can always be stopped.
 *
 * Every background process is started `detached`, so it leads its own process
 * group. Stopping signals the whole group (`process.kill(-pgid)`), which also
 * reaches helpers a daemon may fork, and never touches anything we did not start.
 */
import { spawn as nodeSpawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';

export interface ExecOptions {
  /** Data written to the child's stdin, then stdin is closed. */
  input?: string;
  /** Kill the child and reject after this long (default 30 s). */
  timeoutMs?: number;
  /** Resolve instead of throwing on a non-zero exit (the caller checks `code`). */
  allowFailure?: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export class ExecError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly code: number | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`command failed (exit ${code ?? 'signal'}): ${argv.join(' ')}\n${stderr.trim() || stdout.trim()}`);
    this.name = 'ExecError';
  }
}

const DEFAULT_EXEC_TIMEOUT_MS = 30_000;

/** Run argv to completion and resolve its output; throws ExecError on failure. */
export function run(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new Error('run: empty argv');
  return new Promise((resolve, reject) => {
    const child = nodeSpawn(cmd, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`command timed out after ${opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS} ms: ${argv.join(' ')}`));
    }, opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const res = { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), code: code ?? -1 };
      if (code !== 0 && !opts.allowFailure) reject(new ExecError(argv, code, res.stdout, res.stderr));
      else resolve(res);
    });
    child.stdin.on('error', () => undefined); // child may exit before reading stdin
    child.stdin.end(opts.input ?? '');
  });
}

export interface SpawnOptions {
  /** stdout and stderr of the process are appended here (useful when a test fails). */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface ProcessHandle {
  readonly pid: number;
  readonly argv: readonly string[];
  readonly logFile: string;
  /** Resolves with the exit code (or null when killed by a signal); never rejects. */
  readonly exited: Promise<number | null>;
  readonly running: boolean;
  /** SIGTERM the process group, then SIGKILL after `graceMs`. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const DEFAULT_GRACE_MS = 3_000;

class TrackedProcess implements ProcessHandle {
  readonly exited: Promise<number | null>;
  private done = false;

  constructor(
    private readonly child: ChildProcess,
    readonly pid: number,
    readonly argv: readonly string[],
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.on('exit', (code) => {
        this.done = true;
        resolve(code);
      });
    });
  }

  get running(): boolean {
    return !this.done;
  }

  async stop(graceMs = DEFAULT_GRACE_MS): Promise<void> {
    if (this.done) return;
    signalGroup(this.pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), graceMs);
    });
    const exited = await Promise.race([this.exited.then(() => true), graceOver]);
    clearTimeout(timer);
    if (!exited) {
      signalGroup(this.pid, 'SIGKILL');
      await this.exited;
    }
    // The leader is gone; make sure no forked helper of its group survives.
    signalGroup(this.pid, 'SIGKILL');
  }
}

function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** Start a background process in its own process group, logging to `logFile`. */
export function spawnTracked(argv: readonly string[], opts: SpawnOptions): ProcessHandle {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new Error('spawn: empty argv');
  const fd = openSync(opts.logFile, 'a');
  try {
    const child = nodeSpawn(cmd, args, {
      stdio: ['ignore', fd, fd],
      detached: true,
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    if (child.pid === undefined) throw new Error(`spawn failed: ${argv.join(' ')}`);
    // Do not let a forgotten daemon keep jest alive; teardown still kills it.
    child.unref();
    return new TrackedProcess(child, child.pid, argv, opts.logFile);
  } finally {
    closeSync(fd);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
