/**
 * iptables driver: `iptables-save -t T` read-back and `iptables-restore
 * --noflush` writes, for one family and backend. Exit status and stderr are
 * translated into TartanErrors here and nowhere else; a restore error names
 * the line of our batch the tool rejected.
 */
import { TartanError } from '../../../errors';
import type { IpVersion } from '../model';
import type { TableName } from '../render/types';
import { iptablesCommands, type IptablesBackend } from './backend';
import type { CommandRunner } from './exec';
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

export class IptablesDriver {
  private readonly cmds: { save: string; restore: string };

  constructor(
    private readonly run: CommandRunner,
    backend: IptablesBackend,
    readonly v: IpVersion,
    private readonly own: OwnershipRules,
    readonly counters: IptablesCounters = { saveCalls: 0, saveErrors: 0, restoreCalls: 0, restoreErrors: 0, linesExecuted: 0, restoreMs: 0 },
  ) {
    this.cmds = iptablesCommands(backend, v);
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
    const argv = [this.cmds.restore, '--noflush', '--wait', '10'];
    const t0 = performance.now();
    const res = await this.exec(argv, text, 'IPTABLES_RESTORE_FAILED').finally(() => {
      this.counters.restoreMs += performance.now() - t0;
    });
    if (res.code !== 0) {
      this.counters.restoreErrors++;
      throw restoreError(this.cmds.restore, res.code, res.stderr, text);
    }
    this.counters.linesExecuted += lines;
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
