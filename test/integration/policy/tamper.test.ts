/**
 * Apply and drift repair against the real kernel, for both iptables
 * backends: idempotent applies write nothing; hand-made damage (a flushed
 * chain, a deleted hook, a deleted dispatch rule, a flushed ipset) is found
 * by the read-back and repaired, periodic resync does the same on its own,
 * and foreign chains and rules stay exactly as they were throughout.
 */
import { waitFor } from '../harness/wait-for';
import type { PolicyInput, WorkloadEndpoint } from '../../../src/dataplane/policy';
import { allow, clusterInput, gnp, np, wep } from './fixtures';
import { PolicyLab, type NodeNs } from './topo';

const TABLES = ['filter', 'raw', 'mangle'] as const;

describe.each(['nft', 'legacy'] as const)('apply and tamper repair (%s backend)', (backend) => {
  let lab: PolicyLab;
  let n1: NodeNs;
  let weps: WorkloadEndpoint[];
  const ipt = backend === 'nft' ? 'iptables-nft' : 'iptables-legacy';
  const save = `${ipt}-save`;

  const stripCounters = (s: string): string =>
    s
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .map((l) => l.replace(/\[\d+:\d+\]/g, ''))
      .join('\n');
  /** Everything not Tartan's (lines mentioning our prefixes removed). */
  const foreign = async (): Promise<string> => {
    let out = '';
    for (const t of TABLES) out += stripCounters(await lab.exec(n1.ns, [save, '-t', t]));
    return out
      .split('\n')
      .filter((l) => !/ttn|tartan-/.test(l))
      .join('\n');
  };
  const ours = async (): Promise<string> => {
    let out = '';
    for (const t of TABLES) out += stripCounters(await lab.exec(n1.ns, [save, '-t', t]));
    return out
      .split('\n')
      .filter((l) => /ttn|tartan-/.test(l))
      .join('\n');
  };

  const input = (): PolicyInput =>
    clusterInput('n1', weps, {
      hostEndpoints: [{ name: 'n1-hx0', node: 'n1', interfaceName: 'hx0', expectedIPs: ['198.19.5.1'], labels: { role: 'node' } }],
      policies: [
        np('prod', 'web', { selector: "app == 'web'", ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "role == 'fe'" } }] }),
        gnp('untracked', {
          selector: "role == 'node'",
          doNotTrack: true,
          applyOnForward: true,
          ingress: [{ action: 'Allow', protocol: 'UDP', destination: { ports: [4000] } }],
        }),
        gnp('prednat', {
          selector: "role == 'node'",
          preDNAT: true,
          applyOnForward: true,
          ingress: [{ action: 'Deny', protocol: 'TCP', source: { nets: ['198.18.97.0/24'] }, destination: { ports: [4001] } }],
        }),
        gnp('node', { selector: "role == 'node'", applyOnForward: true, ingress: [allow], egress: [allow] }),
      ],
    });

  beforeAll(async () => {
    lab = await PolicyLab.create();
    n1 = await lab.addNode('n1');
    await lab.exec(n1.ns, ['ip', 'link', 'add', 'hx0', 'type', 'veth', 'peer', 'name', 'hx1']);
    await lab.exec(n1.ns, ['ip', 'addr', 'add', '198.19.5.1/24', 'dev', 'hx0']);
    await lab.exec(n1.ns, ['ip', 'link', 'set', 'hx0', 'up']);
    const a = await lab.addPod(n1, 'a');
    const b = await lab.addPod(n1, 'b');
    await lab.startEcho(a.ns, [80]);
    weps = [wep(a, { namespace: 'prod', labels: { app: 'web' } }), wep(b, { namespace: 'prod', labels: { role: 'fe' } })];
    // Foreign state that must never be touched.
    for (const argv of [
      ['-N', 'FOREIGN-CHAIN'],
      ['-A', 'FOREIGN-CHAIN', '-s', '198.18.99.0/24', '-j', 'ACCEPT'],
      ['-I', 'FORWARD', '-s', '198.18.98.0/24', '-j', 'FOREIGN-CHAIN'],
      ['-A', 'INPUT', '-p', 'tcp', '--dport', '9999', '-j', 'DROP'],
      ['-t', 'raw', '-A', 'PREROUTING', '-s', '198.18.96.0/24', '-j', 'ACCEPT'],
    ]) {
      await lab.exec(n1.ns, [ipt, ...argv]);
    }
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  test('apply programs all three tables; a second apply writes nothing', async () => {
    const dp = lab.dataplane(n1, { backend: backend === 'nft' ? 'auto' : 'legacy' });
    const before = await foreign();
    const first = await dp.apply(input());
    expect(first.tables['v4/filter']?.created.length).toBeGreaterThan(5);
    expect(first.tables['v4/raw']?.created).toEqual(expect.arrayContaining(['tartan-PREROUTING', 'ttn-fh-hx0']));
    expect(first.tables['v4/mangle']?.created).toEqual(expect.arrayContaining(['ttn-fh-hx0']));
    const again = await dp.apply(input());
    for (const t of Object.values(again.tables)) {
      expect(t).toEqual({ created: [], rewritten: [], deleted: [], hooksInserted: 0, hooksDeleted: 0 });
    }
    expect(again.ipsets).toEqual({ created: [], updated: [], destroyed: [] });
    // A fresh controller (restart) reads back and finds nothing to do either.
    const restarted = lab.dataplane(n1, { backend: backend === 'nft' ? 'auto' : 'legacy' });
    const r = await restarted.apply(input());
    expect(r.repairs).toBe(0);
    expect(await foreign()).toBe(before);
    expect(await lab.probe(lab.pod('b').ns, 'tcp', lab.pod('a').ip, 80)).toBe(true);
    expect(await lab.probe(lab.pod('a').ns, 'tcp', lab.pod('b').ip, 80)).toBe(false); // b has no server: sanity of probe
  });

  test('read-back repairs a flushed chain, a deleted hook, a deleted rule and a flushed ipset; foreign rules untouched', async () => {
    const dp = lab.dataplane(n1, { backend: backend === 'nft' ? 'auto' : 'legacy' });
    await dp.apply(input());
    const foreignBefore = await foreign();
    const oursBefore = await ours();
    const hook = (await lab.exec(n1.ns, [save, '-t', 'filter'])).split('\n').find((l) => /^-A FORWARD .*tartan-FORWARD/.test(l));
    expect(hook).toBeDefined();
    const sets = (await lab.exec(n1.ns, ['ipset', 'list', '-n'])).split('\n').filter((n) => n.startsWith('ttn4-s:'));
    expect(sets.length).toBeGreaterThan(0);

    await lab.exec(n1.ns, [ipt, '-F', 'ttn-tw-tta']);
    await lab.exec(n1.ns, [ipt, ...(hook ?? '').replace(/^-A /, '-D ').split(' ').map((w) => w.replace(/^"|"$/g, ''))]);
    await lab.exec(n1.ns, [ipt, '-D', 'ttn-from-wl-dispatch', '1']);
    await lab.exec(n1.ns, ['ipset', 'flush', sets[0] ?? '']);
    expect(await ours()).not.toBe(oursBefore);

    const report = await dp.resync();
    expect(report.tables['v4/filter']?.rewritten.sort()).toEqual(['ttn-from-wl-dispatch', 'ttn-tw-tta']);
    expect(report.tables['v4/filter']?.hooksInserted).toBe(1);
    expect(report.ipsets.updated).toEqual([sets[0]]);
    expect(dp.repairs).toBe(4);
    expect(await ours()).toBe(oursBefore);
    expect(await foreign()).toBe(foreignBefore);

    const clean = await dp.resync();
    expect(clean.repairs).toBe(0);
    expect(await lab.probe(lab.pod('b').ns, 'tcp', lab.pod('a').ip, 80)).toBe(true);
  });

  test('periodic resync repairs tampering on its own', async () => {
    const dp = lab.dataplane(n1, { backend: backend === 'nft' ? 'auto' : 'legacy', resyncIntervalMs: 200 });
    await dp.apply(input());
    const oursBefore = await ours();
    const foreignBefore = await foreign();
    dp.start();
    try {
      await lab.exec(n1.ns, [ipt, '-F', 'tartan-FORWARD']);
      await lab.exec(n1.ns, [ipt, '-t', 'raw', '-F', 'ttn-fh-hx0']);
      await waitFor(() => dp.repairs >= 2, { what: 'two repairs by periodic resync', timeoutMs: 10_000 });
    } finally {
      dp.stop();
    }
    expect(await ours()).toBe(oursBefore);
    expect(await foreign()).toBe(foreignBefore);
  });

  test('removing policies and endpoints deletes their chains and sets', async () => {
    const dp = lab.dataplane(n1, { backend: backend === 'nft' ? 'auto' : 'legacy' });
    await dp.apply(input());
    const foreignBefore = await foreign();
    const r = await dp.apply(clusterInput('n1', [], {}));
    expect(r.tables['v4/filter']?.deleted).toEqual(expect.arrayContaining(['ttn-tw-tta', 'ttn-fw-ttb']));
    expect(r.ipsets.destroyed.length).toBeGreaterThan(0);
    const list = await lab.exec(n1.ns, ['ipset', 'list', '-n']);
    expect(list.split('\n').filter((n) => n.startsWith('ttn'))).toEqual([]);
    expect(await foreign()).toBe(foreignBefore);
  });
});
