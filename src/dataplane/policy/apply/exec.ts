/**
 * The only place commands are run. A CommandRunner never throws for a
 * non-zero exit (drivers translate exit status + stderr into TartanErrors);
 * it rejects only when the program cannot be started at all.
 */
import { spawn } from 'node:child_process';
import { RestoreSession, type BatchSession } from './restore-session';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandRunner {
  (argv: readonly string[], input?: string): Promise<CommandResult>;
  /**
   * Optional: a long-lived `argv` process fed one batch at a time
   * (iptables-nft-restore; see restore-session.ts). Runners without it get
   * one process per batch.
   */
  session?: (argv: readonly string[]) => BatchSession;
}

/** Runs argv directly, or prefixed (e.g. `['ip', 'netns', 'exec', ns]` in tests). */
export function processRunner(prefix: readonly string[] = []): CommandRunner {
  const run: CommandRunner = (argv, input) =>
    new Promise((resolve, reject) => {
      const full = [...prefix, ...argv];
      const [cmd, ...args] = full;
      if (cmd === undefined) {
        reject(new Error('empty argv'));
        return;
      }
      const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', reject);
      child.on('close', (code) =>
        resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
      );
      child.stdin.on('error', () => undefined);
      child.stdin.end(input ?? '');
    });
  run.session = (argv) =>
    new RestoreSession((a) => {
      const [cmd, ...args] = [...prefix, ...a];
      return spawn(cmd ?? '', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    }, argv);
  return run;
}
