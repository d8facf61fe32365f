/**
 * iptables driver: `iptables-save -t T` read-back and `iptables-restore
 * --noflush` writes, for one family and backend. Exit status and stderr are
 * translated into TartanErrors here and nowhere else; a restore error names
 * the line of our batch the tool rejected.
 *
 * With the nft backend, batches go to one long-lived iptables-nft-restore
 * (restore-session.ts) when the runner can start one: same input, same
 * per-table atomic commit, without a process start and the kernel's ~10 ms
 * wait on socket close per batch. A process that dies mid-batch raises
 * IPTABLES_RESTORE_CRASHED (the caller reads back: the batch may or may not
 * have been committed); one that cannot answer the start-up probe makes the
 * driver go back to one process per batch for good.
 */
import { TartanError } from '../../../errors';
import type { IpVersion } from '../model';
import type { TableName } from '../render/types';
import { iptablesCommands, type IptablesBackend } from './backend';
import type { CommandRunner } from './exec';
import type { BatchResult, BatchSession } from './restore-session';
import { parseSave, type OwnershipRules, type ProgrammedTable } from './saved';

export interface IptablesCounters {
  saveCalls: number;
  saveErrors: number;
  restoreCalls: number;
  restoreErrors: number;
  linesExecuted: number;
  /** Wall time spent in restores, ms. */
  restoreMs: number;
}

export interface IptablesDriverOptions {
  /** Use a long-lived restore process when possible (nft backend, runner with `session`). Default true. */
  session?: boolean;
}

export class IptablesDriver {
  private readonly cmds: { save: string; restore: string };
  private useSession: boolean;
  private session: BatchSession | null = null;

  constructor(
    private readonly run: CommandRunner,
    backend: IptablesBackend,
    readonly v: IpVersion,
    private readonly own: OwnershipRules,
    readonly counters: IptablesCounters = { saveCalls: 0, saveErrors: 0, restoreCalls: 0, restoreErrors: 0, linesExecuted: 0, restoreMs: 0 },
    opts: IptablesDriverOptions = {},
  ) {
    this.cmds = iptablesCommands(backend, v);
    this.useSession = backend === 'nft' && opts.session !== false && run.session !== undefined;
  }

  /** How batches are written: one long-lived process, or one process per batch. */
  get restoreMode(): 'session' | 'per-batch' {
    return this.useSession ? 'session' : 'per-batch';
  }

  /** End the long-lived process, if any (the next restore starts another). */
  close(): void {
    void this.settle();
  }

  /**
   * Resolves once the kernel has released what earlier batches replaced:
   * a long-lived process is ended and waited for (its socket closing makes
   * nf_tables finish the deferred release, as every one-shot run does).
   */
  async settle(): Promise<void> {
    const s = this.session;
    this.session = null;
    await s?.close();
  }

  async save(table: TableName): Promise<ProgrammedTable> {
    this.counters.saveCalls++;
    const res = await this.exec([this.cmds.save, '-t', table], undefined, 'IPTABLES_SAVE_FAILED');
    if (res.code !== 0) {
      this.counters.saveErrors++;
      throw new TartanError('IPTABLES_SAVE_FAILED', `${this.cmds.save} -t ${table} exited ${res.code}: ${res.stderr.trim()}`);
    }
    return parseSave(res.stdout, this.own);
  }

  async restore(text: string, lines: number): Promise<void> {
    this.counters.restoreCalls++;
    const t0 = performance.now();
    const res = await this.restoreBatch(text).finally(() => {
      this.counters.restoreMs += performance.now() - t0;
    });
    if (res.code !== 0) {
      this.counters.restoreErrors++;
      if (res.crashed === true) throw new TartanError('IPTABLES_RESTORE_CRASHED', res.stderr.trim());
      throw restoreError(this.cmds.restore, res.code, res.stderr, text);
    }
    this.counters.linesExecuted += lines;
  }

  private async restoreBatch(text: string): Promise<BatchResult> {
    if (this.useSession && this.run.session !== undefined) {
      this.session ??= this.run.session([this.cmds.restore, '--noflush', '--verbose']);
      let res: BatchResult;
      try {
        res = await this.session.run(text);
      } catch (e) {
        this.close();
        throw new TartanError('IPTABLES_RESTORE_FAILED', `cannot run ${this.cmds.restore}`, { cause: e });
      }
      if (res.unsupported !== true) return res;
      // This iptables-restore cannot be driven batch by batch: one process per batch from now on.
      this.close();
      this.useSession = false;
    }
    return this.exec([this.cmds.restore, '--noflush', '--wait', '10'], text, 'IPTABLES_RESTORE_FAILED');
  }

  private async exec(argv: string[], input: string | undefined, code: string): ReturnType<CommandRunner> {
    try {
      return await this.run(argv, input);
    } catch (e) {
      throw new TartanError(code, `cannot run ${argv[0] ?? ''}`, { cause: e });
    }
  }
}

/** "Error occurred at line: N" (both backends) → the offending line of our input. */
export function restoreError(cmd: string, code: number, stderr: string, input: string): TartanError {
  const m = /line:? (\d+)/i.exec(stderr);
  const lineNo = m ? Number(m[1]) : NaN;
  const line = Number.isInteger(lineNo) ? input.split('\n')[lineNo - 1] : undefined;
  const where = line !== undefined ? ` at line ${lineNo}: ${line}` : '';
  return new TartanError('IPTABLES_RESTORE_FAILED', `${cmd} exited ${code}${where}: ${stderr.trim().split('\n')[0] ?? ''}`);
}
