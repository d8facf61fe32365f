/**
 * A long-lived `iptables-nft-restore --noflush --verbose` fed one batch at a
 * time on stdin (issue #5: a one-chain change in < 20 ms).
 *
 * Why: every iptables-nft-restore run pays a process start and, when its
 * netlink socket closes, the kernel waits for the previous transaction's
 * deferred release (an RCU grace period, ~10 ms; nf_tables flushes its
 * destroy work on NETLINK_URELEASE). A process that stays up commits each
 * table at its COMMIT line (one nf_tables transaction: all or nothing) and
 * never closes its socket between batches.
 *
 * Protocol: after each batch a comment line `# tartan-sync <n>` is written;
 * with --verbose iptables-restore echoes comment lines to stdout as it reads
 * them, i.e. after the COMMIT before it has been executed. Seeing the echo
 * therefore means the batch was committed. A batch iptables rejects makes
 * the process exit with its usual "line N failed" message (nothing of that
 * transaction is applied); the line number is rebased to the batch, so the
 * result reads exactly like a one-shot run's, and the next batch starts a
 * new process. A process that dies otherwise (signal, timeout) is reported
 * as `crashed`: whether its last COMMIT took effect is unknown, so the
 * caller must read back before writing again. A new process must first echo
 * a probe line; if it does not (an iptables-restore that cannot do this),
 * the batch is returned `unsupported`, unrun, and the caller runs one
 * process per batch instead.
 *
 * Only for the nft backend: iptables-legacy-restore arms an alarm for its
 * --wait and holds the xtables lock, so it cannot stay up.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import type { CommandResult } from './exec';

export interface BatchResult extends CommandResult {
  /** The process died without an error of its own (signal, timeout): the batch may or may not be committed. */
  crashed?: boolean;
  /** The process never answered its start-up probe; nothing was run. */
  unsupported?: boolean;
}

/** One long-lived process fed successive batches. */
export interface BatchSession {
  /** Run one batch (empty, or ending with a COMMIT line); resolves like a one-shot run of just this batch. */
  run(input: string): Promise<BatchResult>;
  /**
   * End the process once pending batches are done; resolves when it has
   * exited (a later run starts a new one). When its netlink socket closes,
   * the kernel finishes releasing what earlier batches replaced, e.g. the
   * references of deleted rules to ipsets (see PolicyDataplane).
   */
  close(): Promise<void>;
}

export type Spawner = (argv: readonly string[]) => ChildProcessWithoutNullStreams;

export interface RestoreSessionOptions {
  /** A batch that takes longer is treated as a crash (the process is killed). Default 120 s. */
  timeoutMs?: number;
  /** How long a new process may take to echo the probe. Default 10 s. */
  probeTimeoutMs?: number;
}

const MARK = '# tartan-sync ';

interface Proc {
  child: ChildProcessWithoutNullStreams;
  out: string;
  err: string;
  /** Lines written to this process so far (iptables numbers lines from its start). */
  lines: number;
  closed: { code: number | null; signal: NodeJS.Signals | null; error?: Error } | null;
  /** Wakes the batch waiting on this process. */
  wake: (() => void) | null;
}

function countLines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/** "line N" in iptables' messages → the line of the batch (N counts from the process start). */
export function rebaseLines(text: string, offset: number): string {
  return text.replace(/(line:? )(\d+)/gi, (_, w: string, n: string) => `${w}${Number(n) > offset ? Number(n) - offset : Number(n)}`);
}

export class RestoreSession implements BatchSession {
  private proc: Proc | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private seq = 0;
  /** Processes started (tests, diagnostics). */
  starts = 0;
  private readonly timeoutMs: number;
  private readonly probeTimeoutMs: number;

  constructor(
    private readonly spawn: Spawner,
    private readonly argv: readonly string[],
    opts: RestoreSessionOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.probeTimeoutMs = opts.probeTimeoutMs ?? 10_000;
  }

  /** The current process id, if one is running. */
  get pid(): number | undefined {
    return this.proc?.closed === null ? this.proc.child.pid : undefined;
  }

  run(input: string): Promise<BatchResult> {
    const next = this.queue.then(() => this.runNow(input));
    this.queue = next.catch(() => undefined);
    return next;
  }

  close(): Promise<void> {
    const next = this.queue.then(async () => {
      const p = this.proc;
      this.proc = null;
      if (p === null || p.closed !== null) return;
      this.setRef(p, true);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => p.child.kill('SIGKILL'), this.probeTimeoutMs);
        p.wake = () => {
          if (p.closed === null) return;
          clearTimeout(timer);
          resolve();
        };
        p.child.stdin.end();
      });
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runNow(input: string): Promise<BatchResult> {
    if (input !== '' && !/(^|\n)COMMIT\n?$/.test(input.slice(-8))) {
      // Without a closing COMMIT the sync line would be echoed inside an open table, before anything ran.
      throw new Error('a restore batch must end with COMMIT');
    }
    let p = this.proc;
    if (p === null || p.closed !== null) {
      p = this.start();
      const probe = await this.exchange(p, '', this.probeTimeoutMs);
      if (probe !== null) {
        this.kill(p);
        if (p.closed?.error !== undefined) throw p.closed.error; // could not even start: as a one-shot run would
        return { code: -1, stdout: '', stderr: `${this.argv[0] ?? ''}: no reply to the start-up probe${p.err === '' ? '' : `: ${p.err.trim()}`}`, unsupported: true };
      }
    }
    const offset = p.lines;
    const text = input === '' || input.endsWith('\n') ? input : `${input}\n`;
    const failed = await this.exchange(p, text, this.timeoutMs);
    if (failed === null) {
      const res = { code: 0, stdout: p.out, stderr: p.err };
      p.out = '';
      p.err = '';
      return res;
    }
    this.kill(p);
    const stderr = rebaseLines(p.err, offset);
    if (failed === 'exit' && p.closed !== null && p.closed.signal === null && p.closed.code !== null && p.closed.code !== 0) {
      // iptables refused the batch and exited, as a one-shot run would have.
      return { code: p.closed.code, stdout: p.out, stderr };
    }
    const how =
      failed === 'timeout'
        ? `no reply within ${this.timeoutMs} ms`
        : p.closed?.error !== undefined
          ? p.closed.error.message
          : `exited (${p.closed?.signal ?? `code ${p.closed?.code ?? '?'}`}) during the batch`;
    return { code: -1, stdout: p.out, stderr: `${this.argv[0] ?? ''}: ${how}${stderr === '' ? '' : `: ${stderr.trim()}`}`, crashed: true };
  }

  private start(): Proc {
    this.starts++;
    const child = this.spawn(this.argv);
    const p: Proc = { child, out: '', err: '', lines: 0, closed: null, wake: null };
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (s: string) => {
      p.out += s;
      p.wake?.();
    });
    child.stderr.on('data', (s: string) => {
      p.err += s;
    });
    child.stdin.on('error', () => undefined); // EPIPE when it died: reported through 'close'
    child.on('error', (error) => {
      p.closed ??= { code: null, signal: null, error };
      p.wake?.();
    });
    child.on('close', (code, signal) => {
      p.closed ??= { code, signal };
      p.wake?.();
    });
    this.proc = p;
    this.setRef(p, false);
    return p;
  }

  /**
   * Write `text` and the sync line, wait for the echo. null: echoed (done);
   * 'exit': the process ended first; 'timeout'.
   */
  private exchange(p: Proc, text: string, timeoutMs: number): Promise<null | 'exit' | 'timeout'> {
    const n = ++this.seq;
    const line = `${MARK}${n}\n`;
    p.out = '';
    p.err = '';
    p.lines += countLines(text) + 1;
    this.setRef(p, true);
    return new Promise((resolve) => {
      const done = (r: null | 'exit' | 'timeout'): void => {
        clearTimeout(timer);
        p.wake = null;
        this.setRef(p, false);
        // The batch's own output is what came before the echo.
        if (r === null) p.out = p.out.slice(0, p.out.indexOf(line));
        resolve(r);
      };
      const timer = setTimeout(() => done('timeout'), timeoutMs);
      p.wake = () => {
        const at = p.out.indexOf(line);
        if (at >= 0 && (at === 0 || p.out[at - 1] === '\n')) done(null);
        else if (p.closed !== null) done('exit');
      };
      if (p.closed !== null) return done('exit');
      p.child.stdin.write(text + line);
    });
  }

  private kill(p: Proc): void {
    if (this.proc === p) this.proc = null;
    if (p.closed === null) p.child.kill('SIGKILL');
  }

  /** Keep the event loop alive only while a batch is in flight. */
  private setRef(p: Proc, on: boolean): void {
    // Pipes are net.Sockets (ref/unref); fakes in tests may be plain streams.
    const items = [p.child, p.child.stdin, p.child.stdout, p.child.stderr] as unknown as Array<{ ref?: () => unknown; unref?: () => unknown }>;
    for (const it of items) (on ? it.ref : it.unref)?.call(it);
  }
}
