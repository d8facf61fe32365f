/**
 * The long-lived iptables-nft-restore (src/dataplane/policy/apply/restore-session.ts)
 * against the real binary and kernel, in a scratch network namespace: each
 * batch is committed at its COMMIT while the process stays up; a batch
 * iptables or the kernel rejects is reported with iptables' error (its line
 * counted within the batch) and leaves the table exactly as it was; a
 * process that dies is replaced, and a dataplane whose process dies in the
 * middle of a batch reads back and converges; changes made by others between
 * batches are seen; and the rules programmed are the same as with one
 * process per batch.
 */
import { spawn } from 'node:child_process';
import { PolicyDataplane, processRunner, type PolicyInput } from '../../../src/dataplane/policy';
import { RestoreSession } from '../../../src/dataplane/policy/apply/restore-session';
import { IptablesDriver } from '../../../src/dataplane/policy/apply/iptables';
import { addNamespace, deleteNamespace, newRunId, nsRun } from '../harness/netns';
import { waitFor } from '../harness/wait-for';

const ARGV = ['iptables-nft-restore', '--noflush', '--verbose'];

describe('long-lived iptables-nft-restore', () => {
  const runId = newRunId();
  const nsA = `tt${runId}-rsa`;
  const nsB = `tt${runId}-rsb`;

  const save = async (ns: string, table = 'filter'): Promise<string> =>
    (await nsRun(ns, ['iptables-nft-save', '-t', table])).stdout
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .map((l) => l.replace(/\[\d+:\d+\]/g, ''))
      .join('\n');
  const chain = async (ns: string, name: string): Promise<string[]> =>
    (await save(ns)).split('\n').filter((l) => l.startsWith(`-A ${name} `));
  const session = (ns: string): RestoreSession => {
    const s = processRunner(['ip', 'netns', 'exec', ns]).session?.(ARGV);
    if (!(s instanceof RestoreSession)) throw new Error('processRunner has no RestoreSession');
    return s;
  };

  beforeAll(async () => {
    await addNamespace(nsA);
    await addNamespace(nsB);
  });
  afterAll(async () => {
    await deleteNamespace(nsA);
    await deleteNamespace(nsB);
  });

  test('commits each batch at its COMMIT, on one process', async () => {
    const s = session(nsA);
    try {
      expect(await s.run('*filter\n:ttn-a - -\n-A ttn-a -m comment --comment "ttn:a1" -j RETURN\nCOMMIT\n')).toEqual({ code: 0, stdout: '', stderr: '' });
      // Visible as soon as run() resolved, while the process is still up and reading.
      expect(await chain(nsA, 'ttn-a')).toEqual(['-A ttn-a -m comment --comment "ttn:a1" -j RETURN']);
      const pid = s.pid;
      expect(pid).toBeDefined();
      expect(await s.run('*raw\n:ttn-r - -\n-A ttn-r -j ACCEPT\nCOMMIT\n*filter\n:ttn-a - -\n-A ttn-a -m comment --comment "ttn:a2" -j ACCEPT\nCOMMIT\n')).toMatchObject({ code: 0 });
      expect(await chain(nsA, 'ttn-a')).toEqual(['-A ttn-a -m comment --comment "ttn:a2" -j ACCEPT']);
      expect((await save(nsA, 'raw')).split('\n')).toContain('-A ttn-r -j ACCEPT');
      expect(s.pid).toBe(pid);
      expect(s.starts).toBe(1);
    } finally {
      s.close();
    }
  });

  test("a rejected batch: iptables' error with the line within the batch, the table untouched, the next batch on a new process", async () => {
    const s = session(nsA);
    try {
      await s.run('*filter\n:ttn-b - -\n-A ttn-b -m comment --comment "ttn:b1" -j RETURN\nCOMMIT\n');
      const pid = s.pid;
      // The same batch run by a one-shot iptables-nft-restore: what the session must report.
      const oneShot = async (text: string): Promise<{ code: number; stderr: string }> => {
        const r = await processRunner(['ip', 'netns', 'exec', nsA])(['iptables-nft-restore', '--noflush'], text);
        return { code: r.code, stderr: r.stderr };
      };
      // Rejected by iptables: a jump to a chain that does not exist (1.8.9 names the COMMIT line).
      const bad = '*filter\n:ttn-b - -\n-A ttn-b -j ACCEPT\n-A ttn-b -j ttn-missing\nCOMMIT\n';
      const parse = await s.run(bad);
      expect(parse.crashed).toBeUndefined();
      expect(parse.stderr).toMatch(/Chain 'ttn-missing' does not exist\nError occurred at line: 5\n/);
      expect({ code: parse.code, stderr: parse.stderr }).toEqual(await oneShot(bad));
      expect(await chain(nsA, 'ttn-b')).toEqual(['-A ttn-b -m comment --comment "ttn:b1" -j RETURN']);
      // Rejected by the kernel at commit: a loop. Nothing of the transaction stays.
      const cycle = '*filter\n:ttn-b - -\n:ttn-c - -\n-A ttn-b -j ttn-c\n-A ttn-c -j ttn-b\n-A FORWARD -j ttn-b\nCOMMIT\n';
      const loop = await s.run(cycle);
      expect(loop.code).not.toBe(0);
      expect({ code: loop.code, stderr: loop.stderr }).toEqual(await oneShot(cycle));
      expect(await chain(nsA, 'ttn-b')).toEqual(['-A ttn-b -m comment --comment "ttn:b1" -j RETURN']);
      expect(await save(nsA)).not.toMatch(/ttn-c|-A FORWARD/);
      // The next batch works, on a new process.
      expect(await s.run('*filter\n:ttn-b - -\nCOMMIT\n')).toMatchObject({ code: 0 });
      expect(s.pid).not.toBe(pid);
      expect(s.starts).toBe(3);
      expect(await chain(nsA, 'ttn-b')).toEqual([]);
    } finally {
      s.close();
    }
    // Through the driver: the error names the offending line of the batch.
    const d = new IptablesDriver(processRunner(['ip', 'netns', 'exec', nsA]), 'nft', 4, { owns: (c) => c.startsWith('ttn-'), commentPrefix: 'ttn:' });
    try {
      expect(d.restoreMode).toBe('session');
      await d.restore('*filter\n:ttn-b - -\nCOMMIT\n', 1);
      await expect(d.restore('*filter\n:ttn-b - -\n-A ttn-b -j ACCEPT\n-A ttn-b -j ttn-missing\nCOMMIT\n', 3)).rejects.toMatchObject({
        code: 'IPTABLES_RESTORE_FAILED',
        message: expect.stringMatching(/^iptables-nft-restore exited \d at line 5: COMMIT: iptables-nft-restore v1\.8\.9 \(nf_tables\): Chain 'ttn-missing' does not exist/),
      });
    } finally {
      d.close();
    }
  });

  test('a process killed between batches is replaced; changes made by others in between are seen', async () => {
    const s = session(nsA);
    try {
      await s.run('*filter\n:ttn-d - -\n-A ttn-d -j RETURN\nCOMMIT\n');
      const pid = s.pid as number;
      // Someone deletes our chain while the process is up (its cache is stale).
      await nsRun(nsA, ['iptables-nft', '-F', 'ttn-d']);
      await nsRun(nsA, ['iptables-nft', '-X', 'ttn-d']);
      expect(await s.run('*filter\n:ttn-d - -\n-A ttn-d -j ACCEPT\nCOMMIT\n')).toMatchObject({ code: 0 });
      expect(await chain(nsA, 'ttn-d')).toEqual(['-A ttn-d -j ACCEPT']);
      expect(s.pid).toBe(pid);
      process.kill(pid, 'SIGKILL');
      // (Had the next batch been written before the death was noticed, it would be reported as crashed.)
      await waitFor(() => s.pid === undefined, { what: 'the session to notice', timeoutMs: 5_000 });
      expect(await s.run('*filter\n:ttn-d - -\n-A ttn-d -j DROP\nCOMMIT\n')).toMatchObject({ code: 0 });
      expect(await chain(nsA, 'ttn-d')).toEqual(['-A ttn-d -j DROP']);
      expect(s.pid).not.toBe(pid);
    } finally {
      s.close();
    }
  });

  const input = (n: number): PolicyInput => ({
    localNode: 'n1',
    policies: [
      {
        kind: 'NetworkPolicy',
        name: 'web',
        namespace: 'prod',
        spec: { selector: "app == 'web'", ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "role == 'fe'" }, destination: { ports: [80] } }] },
      },
    ],
    profiles: [{ name: 'kns.prod', ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] }],
    namespaces: [{ name: 'prod', labels: {} }],
    workloadEndpoints: Array.from({ length: n }, (_, i) => ({
      name: `p${i}`,
      namespace: 'prod',
      node: 'n1',
      interfaceName: `ttp${i}`,
      ipNetworks: [`198.18.0.${i + 2}/32`],
      labels: { app: i % 2 === 0 ? 'web' : 'x', role: 'fe' },
      profiles: ['kns.prod'],
    })),
    hostEndpoints: [],
  });
  const opts = { families: [4 as const], backend: 'nft' as const, config: { workloadIfacePrefix: 'ttp' } };

  test('a restore process that dies in the middle of a batch: the dataplane reads back and converges', async () => {
    let armed = false;
    const base = processRunner(['ip', 'netns', 'exec', nsB]);
    const runner = Object.assign((argv: readonly string[], text?: string) => base(argv, text), {
      session: (argv: readonly string[]) =>
        new RestoreSession((a) => {
          const c = spawn('ip', ['netns', 'exec', nsB, ...a], { stdio: ['pipe', 'pipe', 'pipe'] });
          const write = c.stdin.write.bind(c.stdin) as (chunk: string) => boolean;
          (c.stdin as unknown as { write: (chunk: string) => boolean }).write = (chunk: string) => {
            const at = chunk.indexOf('COMMIT');
            if (!armed || !chunk.includes('*filter') || at < 0) return write(chunk);
            // Killed in the middle of the filter batch: after its first lines, before its COMMIT.
            armed = false;
            write(chunk.slice(0, at));
            c.kill('SIGKILL');
            return write(chunk.slice(at));
          };
          return c;
        }, argv),
    });
    const dp = new PolicyDataplane({ ...opts, runner });
    try {
      await dp.apply(input(4));
      armed = true;
      const rep = await dp.apply(input(6));
      expect(armed).toBe(false);
      expect(dp.counters().restoreCrashRetries).toBe(1);
      expect(rep.tables['v4/filter']?.created).toEqual(expect.arrayContaining(['ttn-fw-ttp5', 'ttn-tw-ttp5']));
      // Converged: a fresh dataplane reading back finds nothing to do.
      const again = await new PolicyDataplane({ ...opts, runner: base }).apply(input(6));
      expect(again.repairs).toBe(0);
    } finally {
      dp.stop();
    }
  });

  test('programs exactly what one process per batch programs', async () => {
    const ns1 = `tt${runId}-rs1`;
    const ns2 = `tt${runId}-rs2`;
    await addNamespace(ns1);
    await addNamespace(ns2);
    const withSession = new PolicyDataplane({ ...opts, runner: processRunner(['ip', 'netns', 'exec', ns1]) });
    const perBatch = new PolicyDataplane({ ...opts, runner: processRunner(['ip', 'netns', 'exec', ns2]), restoreSession: false });
    try {
      for (const n of [5, 8, 3]) {
        const a = await withSession.apply(input(n));
        const b = await perBatch.apply(input(n));
        expect(a.tables).toEqual(b.tables);
        for (const t of ['filter', 'raw', 'mangle']) expect(await save(ns1, t)).toBe(await save(ns2, t));
      }
      expect(withSession.counters().restoreCalls).toBeGreaterThan(3);
    } finally {
      withSession.stop();
      perBatch.stop();
      await deleteNamespace(ns1);
      await deleteNamespace(ns2);
    }
  });
});
