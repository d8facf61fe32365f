/**
 * The lab itself: hosts reach each other over IPv4 and IPv6 at once (no DAD
 * wait), spawned processes die with the lab, teardown leaves no namespace,
 * and cleanupStale reaps only namespaces whose creator is dead.
 */
import { readFileSync } from 'node:fs';
import { Lab, cleanupStale, run, waitFor } from '../harness';
import { addNamespace, listNamespaces } from '../harness/netns';

describe('lab', () => {
  it('connects hosts, tracks processes and tears everything down', async () => {
    const lab = await Lab.create('lab-selftest');
    let pid = 0;
    let names: string[] = [];
    try {
      const r1 = await lab.addHost('r1');
      const r2 = await lab.addHost('r2', { ipv6: true });
      expect(r1.ipv4).toMatch(/^198\.1[89]\./);
      expect(r2.ipv6).toMatch(/^fd00:7a7a:/);
      await r1.exec(['ping', '-c1', '-W2', r2.addr('ipv4')]);
      await r1.exec(['ping', '-6', '-c1', '-W2', r2.addr('ipv6')]);
      const v6 = await r1.routes('ipv6');
      expect(v6.map((r) => r.dst)).toContain(lab.ipv6Prefix);
      await expect(r1.exec(['false'])).rejects.toThrow(/exit 1/);
      const p = r1.spawn(['sleep', '300']);
      pid = p.pid;
      // The process runs in the host's namespace, not the root one.
      const ns = (await run(['ip', 'netns', 'identify', String(pid)])).stdout.trim();
      expect(ns).toBe(r1.ns);
      names = (await listNamespaces()).filter((n) => n.startsWith(`tt${lab.runId}-`));
      expect(names.sort()).toEqual([r1.ns, r2.ns, lab.switchNs].sort());
    } finally {
      await lab.destroy();
      await lab.destroy(); // idempotent
    }
    const left = (await listNamespaces()).filter((n) => names.includes(n));
    expect(left).toEqual([]);
    expect(() => readFileSync(`/proc/${pid}/stat`)).toThrow();
  });

  it('cleanupStale removes namespaces of dead runs only', async () => {
    // A PID above any possible pid_max (2^22) can never be alive.
    const deadPid = (1 << 22) + 12345;
    const stale = `tt${deadPid.toString(36)}_0-x`;
    await addNamespace(stale);
    const lab = await Lab.create('stale-selftest'); // runs cleanupStale itself
    try {
      await lab.addHost('r1');
      await waitFor(async () => !(await listNamespaces()).includes(stale), { what: `stale ${stale} removed`, timeoutMs: 5_000 });
      await cleanupStale();
      // The live lab survives a cleanup.
      expect(await listNamespaces()).toEqual(expect.arrayContaining([lab.switchNs, `tt${lab.runId}-r1`]));
    } finally {
      await lab.destroy();
    }
  });
});
