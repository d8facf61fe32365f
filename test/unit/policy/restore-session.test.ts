/**
 * The long-lived iptables-nft-restore session, against a fake process that
 * speaks iptables-restore's line protocol: comment lines echoed (--verbose),
 * a table committed at its COMMIT line, "line N failed" and exit 1 on a bad
 * line. The real binary is exercised in test/integration/policy/restore-session.test.ts.
 */
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { RestoreSession, rebaseLines } from '../../../src/dataplane/policy/apply/restore-session';
import { IptablesDriver } from '../../../src/dataplane/policy/apply/iptables';
import type { CommandRunner } from '../../../src/dataplane/policy/apply/exec';
import { PolicyDataplane } from '../../../src/dataplane/policy';
import { baseInput, CFG } from './helpers';

interface FakeOpts {
  /** Do not echo comment lines (an iptables-restore that cannot be driven batch by batch). */
  noEcho?: boolean;
  /** Read input but never answer. */
  hang?: boolean;
}

let nextPid = 1000;

/** iptables-restore's line protocol, enough for the session. */
class FakeRestore extends EventEmitter {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly pid = nextPid++;
  /** Tables committed, each as its lines. */
  readonly committed: string[][] = [];
  /** Every line read. */
  readonly read: string[] = [];
  killedWith: string | null = null;
  private buf = '';
  private line = 0;
  private table: string[] | null = null;
  private dead = false;

  constructor(private readonly opts: FakeOpts = {}) {
    super();
    this.stdin.setEncoding('utf8');
    this.stdin.on('data', (s: string) => {
      this.buf += s;
      let i: number;
      while (!this.dead && (i = this.buf.indexOf('\n')) >= 0) {
        const l = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        this.onLine(l);
      }
    });
    // Like iptables-restore: end of input ends the process.
    this.stdin.on('end', () => this.exit(this.table === null ? 0 : 1, null));
  }

  private onLine(l: string): void {
    this.line++;
    this.read.push(l);
    if (this.opts.hang === true) return;
    if (l.startsWith('#')) {
      if (this.opts.noEcho !== true) this.stdout.write(`${l}\n`);
    } else if (l.startsWith('*')) {
      this.table = [];
    } else if (l === 'COMMIT') {
      if (this.table !== null) this.committed.push(this.table);
      this.table = null;
    } else if (l.includes('BAD')) {
      this.stderr.write(`iptables-nft-restore: line ${this.line} failed: Bad rule (does a matching rule exist in that chain?).\n`);
      this.exit(1, null);
    } else if (l.includes('CRASH')) {
      this.exit(null, 'SIGSEGV');
    } else {
      this.table?.push(l);
    }
  }

  exit(code: number | null, signal: string | null): void {
    if (this.dead) return;
    this.dead = true;
    setImmediate(() => {
      this.stdout.end();
      this.stderr.end();
      this.emit('exit', code, signal);
      this.emit('close', code, signal);
    });
  }

  kill(signal = 'SIGTERM'): boolean {
    this.killedWith = signal;
    this.exit(null, signal);
    return true;
  }
}

function fakeSpawner(opts: FakeOpts | ((n: number) => FakeOpts) = {}): { spawn: (argv: readonly string[]) => ChildProcessWithoutNullStreams; procs: FakeRestore[]; argvs: string[][] } {
  const procs: FakeRestore[] = [];
  const argvs: string[][] = [];
  return {
    procs,
    argvs,
    spawn: (argv) => {
      argvs.push([...argv]);
      const p = new FakeRestore(typeof opts === 'function' ? opts(procs.length) : opts);
      procs.push(p);
      return p as unknown as ChildProcessWithoutNullStreams;
    },
  };
}

const batch = (...lines: string[]): string => ['*filter', ...lines, 'COMMIT', ''].join('\n');

describe('RestoreSession', () => {
  test('runs successive batches on one process, each committed at its COMMIT', async () => {
    const f = fakeSpawner();
    const s = new RestoreSession(f.spawn, ['iptables-nft-restore', '--noflush', '--verbose']);
    expect(await s.run(batch(':a - -', '-A a -j RETURN'))).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(f.procs[0]?.committed).toEqual([[':a - -', '-A a -j RETURN']]);
    expect(await s.run(batch(':b - -'))).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(f.procs).toHaveLength(1);
    expect(s.starts).toBe(1);
    expect(f.procs[0]?.committed).toEqual([[':a - -', '-A a -j RETURN'], [':b - -']]);
    expect(f.argvs).toEqual([['iptables-nft-restore', '--noflush', '--verbose']]);
    // The probe came first, then each batch followed by its sync line.
    expect(f.procs[0]?.read.filter((l) => l.startsWith('#'))).toEqual(['# tartan-sync 1', '# tartan-sync 2', '# tartan-sync 3']);
  });

  test("a rejected batch: iptables' error with the batch's own line number, nothing of it committed, next batch on a new process", async () => {
    const f = fakeSpawner();
    const s = new RestoreSession(f.spawn, ['iptables-nft-restore']);
    await s.run(batch(':a - -', '-A a -j RETURN'));
    const bad = await s.run(batch(':a - -', '-A a -j BAD'));
    expect(bad.code).toBe(1);
    expect(bad.crashed).toBeUndefined();
    // Line 3 of this batch (line 8 of the process: probe, 4 lines + sync, then 3).
    expect(bad.stderr).toBe('iptables-nft-restore: line 3 failed: Bad rule (does a matching rule exist in that chain?).\n');
    expect(f.procs[0]?.committed).toEqual([[':a - -', '-A a -j RETURN']]);
    expect(await s.run(batch(':c - -'))).toMatchObject({ code: 0 });
    expect(f.procs).toHaveLength(2);
    expect(f.procs[1]?.committed).toEqual([[':c - -']]);
  });

  test('a process that dies in the middle of a batch is reported as crashed; the next batch starts another', async () => {
    const f = fakeSpawner();
    const s = new RestoreSession(f.spawn, ['iptables-nft-restore']);
    const r = await s.run(batch(':a - -', 'CRASH'));
    expect(r).toMatchObject({ code: -1, crashed: true });
    expect(r.stderr).toMatch(/iptables-nft-restore: exited \(SIGSEGV\) during the batch/);
    expect(await s.run(batch(':b - -'))).toMatchObject({ code: 0 });
    expect(f.procs).toHaveLength(2);
  });

  test('a process killed between batches is replaced transparently', async () => {
    const f = fakeSpawner();
    const s = new RestoreSession(f.spawn, ['iptables-nft-restore']);
    await s.run(batch(':a - -'));
    f.procs[0]?.kill('SIGKILL');
    await new Promise((r) => setImmediate(r));
    expect(await s.run(batch(':b - -'))).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(f.procs).toHaveLength(2);
    expect(f.procs[1]?.committed).toEqual([[':b - -']]);
  });

  test('no echo of the start-up probe: unsupported, the batch is not written', async () => {
    const f = fakeSpawner({ noEcho: true });
    const s = new RestoreSession(f.spawn, ['iptables-nft-restore'], { probeTimeoutMs: 20 });
    const r = await s.run(batch(':a - -'));
    expect(r).toMatchObject({ unsupported: true });
    expect(f.procs[0]?.read).toEqual(['# tartan-sync 1']);
    expect(f.procs[0]?.killedWith).toBe('SIGKILL');
  });

  test('no answer within the timeout: crashed, and the process is killed', async () => {
    const f = fakeSpawner((n) => (n === 0 ? {} : { hang: true }));
    const s = new RestoreSession(f.spawn, ['iptables-nft-restore'], { timeoutMs: 30, probeTimeoutMs: 30 });
    await s.run(batch(':a - -'));
    f.procs[0]?.kill();
    await new Promise((r) => setImmediate(r));
    // The second process answers nothing, not even its probe: that is "unsupported", not a crash.
    expect(await s.run(batch(':b - -'))).toMatchObject({ unsupported: true });
    const g = fakeSpawner();
    const t = new RestoreSession(g.spawn, ['iptables-nft-restore'], { timeoutMs: 30 });
    await t.run('');
    // Now make the running process stop answering.
    (g.procs[0] as unknown as { opts: FakeOpts }).opts.hang = true;
    const r = await t.run(batch(':c - -'));
    expect(r).toMatchObject({ code: -1, crashed: true });
    expect(r.stderr).toMatch(/no reply within 30 ms/);
    expect(g.procs[0]?.killedWith).toBe('SIGKILL');
  });

  test('batches run one at a time, in order', async () => {
    const f = fakeSpawner();
    const s = new RestoreSession(f.spawn, ['iptables-nft-restore']);
    const all = await Promise.all([s.run(batch(':a - -')), s.run(batch(':b - -')), s.run(batch(':c - -'))]);
    expect(all.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(f.procs[0]?.committed).toEqual([[':a - -'], [':b - -'], [':c - -']]);
  });

  test('a batch must end with COMMIT (else the sync line would be echoed before anything ran)', async () => {
    const f = fakeSpawner();
    const s = new RestoreSession(f.spawn, ['iptables-nft-restore']);
    await expect(s.run('*filter\n:a - -\n')).rejects.toThrow(/COMMIT/);
    expect(f.procs).toHaveLength(0);
  });

  test('a program that cannot be started rejects, as a one-shot run would', async () => {
    const s = new RestoreSession(() => {
      const p = new FakeRestore({ hang: true });
      setImmediate(() => p.emit('error', Object.assign(new Error('spawn nope ENOENT'), { code: 'ENOENT' })));
      return p as unknown as ChildProcessWithoutNullStreams;
    }, ['nope']);
    await expect(s.run(batch(':a - -'))).rejects.toThrow(/ENOENT/);
  });

  test('close() ends the process after pending batches; the next run starts a new one', async () => {
    const f = fakeSpawner();
    const s = new RestoreSession(f.spawn, ['iptables-nft-restore']);
    const p1 = s.run(batch(':a - -'));
    s.close();
    expect(await p1).toMatchObject({ code: 0 });
    await new Promise((r) => setImmediate(r));
    expect(f.procs[0]?.stdin.writableEnded).toBe(true);
    expect(await s.run(batch(':b - -'))).toMatchObject({ code: 0 });
    expect(f.procs).toHaveLength(2);
  });

  test('rebaseLines', () => {
    expect(rebaseLines('x: line 17 failed: y', 10)).toBe('x: line 7 failed: y');
    expect(rebaseLines('Error occurred at line: 12', 10)).toBe('Error occurred at line: 2');
    expect(rebaseLines('line 3 failed', 10)).toBe('line 3 failed');
  });
});

/** A runner whose session is the fake, and whose one-shot runs are recorded. */
function fakeRunner(opts: FakeOpts | ((n: number) => FakeOpts) = {}): { runner: CommandRunner; runs: string[][]; procs: FakeRestore[]; events: string[] } {
  const f = fakeSpawner(opts);
  const runs: string[][] = [];
  const events: string[] = [];
  const runner: CommandRunner = async (argv, input) => {
    runs.push([...argv]);
    events.push(`${argv.join(' ')}${input === undefined ? '' : `: ${input.split('\n')[0] ?? ''}`}`);
    return { code: 0, stdout: argv[0] === 'iptables' ? 'iptables v1.8.9 (nf_tables)' : '', stderr: '' };
  };
  runner.session = (argv) =>
    new RestoreSession(
      (a) => {
        const c = f.spawn(a);
        const n = f.procs.length;
        events.push(`start ${n}`);
        c.on('close', () => events.push(`exit ${n}`));
        return c;
      },
      argv,
      { probeTimeoutMs: 20 },
    );
  return { runner, runs, procs: f.procs, events };
}

const OWN = { owns: (c: string) => c.startsWith('ttn-') || c.startsWith('tartan-'), commentPrefix: 'ttn:' };

describe('IptablesDriver restore modes', () => {
  test('nft with a session-capable runner: batches go to one long-lived process', async () => {
    const { runner, runs, procs } = fakeRunner();
    const d = new IptablesDriver(runner, 'nft', 4, OWN);
    expect(d.restoreMode).toBe('session');
    await d.restore(batch(':ttn-a - -'), 1);
    await d.restore(batch(':ttn-b - -'), 1);
    expect(runs).toEqual([]);
    expect(procs).toHaveLength(1);
    expect(d.counters).toMatchObject({ restoreCalls: 2, restoreErrors: 0, linesExecuted: 2 });
  });

  test('legacy, runners without sessions, and session: false run one process per batch', async () => {
    const { runner, runs } = fakeRunner();
    for (const d of [
      new IptablesDriver(runner, 'legacy', 4, OWN),
      new IptablesDriver(runner, 'nft', 4, OWN, undefined, { session: false }),
      new IptablesDriver(async (argv) => runner(argv), 'nft', 4, OWN),
    ]) {
      expect(d.restoreMode).toBe('per-batch');
      await d.restore(batch(':ttn-a - -'), 1);
    }
    expect(runs.map((a) => a[0])).toEqual(['iptables-legacy-restore', 'iptables-nft-restore', 'iptables-nft-restore']);
    expect(runs[1]).toEqual(['iptables-nft-restore', '--noflush', '--wait', '10']);
  });

  test('a rejected batch raises IPTABLES_RESTORE_FAILED naming the line of the batch', async () => {
    const { runner } = fakeRunner();
    const d = new IptablesDriver(runner, 'nft', 4, OWN);
    await d.restore(batch(':ttn-a - -'), 1);
    await expect(d.restore(batch(':ttn-a - -', '-A ttn-a -j BAD'), 2)).rejects.toMatchObject({
      code: 'IPTABLES_RESTORE_FAILED',
      message: expect.stringMatching(/at line 3: -A ttn-a -j BAD/),
    });
    expect(d.counters).toMatchObject({ restoreCalls: 2, restoreErrors: 1 });
  });

  test('a crash raises IPTABLES_RESTORE_CRASHED', async () => {
    const { runner } = fakeRunner();
    const d = new IptablesDriver(runner, 'nft', 4, OWN);
    await expect(d.restore(batch('CRASH'), 1)).rejects.toMatchObject({ code: 'IPTABLES_RESTORE_CRASHED' });
  });

  test('a process that cannot answer the probe: this batch and all later ones run one-shot', async () => {
    const { runner, runs, procs } = fakeRunner({ noEcho: true });
    const d = new IptablesDriver(runner, 'nft', 4, OWN);
    await d.restore(batch(':ttn-a - -'), 1);
    expect(d.restoreMode).toBe('per-batch');
    await d.restore(batch(':ttn-b - -'), 1);
    expect(runs.map((a) => a[0])).toEqual(['iptables-nft-restore', 'iptables-nft-restore']);
    expect(procs).toHaveLength(1);
    expect(d.counters).toMatchObject({ restoreCalls: 2, restoreErrors: 0 });
  });
});

describe('PolicyDataplane with a long-lived restore process', () => {
  test('ipsets are destroyed only after the restore process that deleted their rules has exited', async () => {
    const { runner, events } = fakeRunner();
    const dp = new PolicyDataplane({ runner, backend: 'nft', families: [4], config: CFG });
    const policies = [
      {
        kind: 'GlobalNetworkPolicy' as const,
        name: 'fe',
        spec: { selector: "app == 'web'", ingress: [{ action: 'Allow' as const, source: { selector: "role == 'fe'" } }] },
      },
    ];
    await dp.apply(baseInput({ policies }));
    events.length = 0;
    const rep = await dp.apply(baseInput());
    expect(rep.ipsets.destroyed.length).toBeGreaterThan(0);
    const exit = events.indexOf('exit 1');
    const destroy = events.findIndex((e) => e.startsWith('ipset -exist restore: destroy'));
    expect(exit).toBeGreaterThanOrEqual(0);
    expect(destroy).toBeGreaterThan(exit);
    // The next batch starts a new process.
    await dp.apply(baseInput({ policies }));
    expect(events).toContain('start 2');
    dp.stop();
  });

  test('a crash in the middle of a batch: reads everything back and programs again with a new process', async () => {
    // The first process crashes on its first batch; later ones work.
    let crashed = false;
    const { runner, runs, procs } = fakeRunner();
    const inner = runner.session;
    runner.session = (argv) => {
      const s = inner?.(argv);
      if (s === undefined) throw new Error('no session');
      return {
        run: (text) => {
          if (!crashed && text.includes('*filter')) {
            crashed = true;
            return s.run(text.replace('COMMIT', 'CRASH\nCOMMIT'));
          }
          return s.run(text);
        },
        close: () => s.close(),
      };
    };
    const dp = new PolicyDataplane({ runner, backend: 'nft', families: [4], config: CFG });
    const rep = await dp.apply(baseInput());
    expect(dp.counters().restoreCrashRetries).toBe(1);
    expect(rep.tables['v4/filter']?.created.length).toBeGreaterThan(3);
    // After the crash it read back (iptables-save of each table, ipset save) before writing again.
    expect(runs.filter((a) => a[0] === 'iptables-nft-save').length).toBe(6);
    expect(procs.length).toBe(2);
    const filter = procs[1]?.committed.find((t) => t.some((l) => l.includes('ttn-tw-ttweb')));
    expect(filter).toBeDefined();
    dp.stop();
  });
});
