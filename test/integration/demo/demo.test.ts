/**
 * The README's first command, run non-interactively: the cluster demo
 * (scripts/demo.sh) must bring up etcd, three nodes and a route reflector,
 * pass every one of its own checks (sessions, kernel routes, pod-to-pod
 * traffic, a blocking and an allowing policy), show its state again when run
 * a second time, and its `down` must leave no namespace or process behind.
 */
import { run } from '../harness';
import { REPO } from '../tartan/tartan-node';

const PREFIX = 'ttclt';
const STATE = '/run/tartan-cluster-demo-test';
const env = {
  ...process.env,
  TARTAN_DEMO_PREFIX: PREFIX,
  TARTAN_DEMO_STATE: STATE,
  TARTAN_DEMO_CHECK: '1',
  // The test command already ran setup.sh and built dist/.
  TARTAN_DEMO_SKIP_SETUP: '1',
};

async function namespaces(): Promise<string[]> {
  return (await run(['ip', 'netns', 'list'])).stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(`${PREFIX}-`))
    .sort();
}

async function demoProcesses(): Promise<string[]> {
  return (await run(['ps', '-eo', 'args'])).stdout.split('\n').filter((l) => l.includes(`${STATE}/`));
}

describe('scripts/demo.sh (cluster demo)', () => {
  afterAll(async () => {
    await run(['bash', 'scripts/demo.sh', 'down'], { cwd: REPO, env, allowFailure: true, timeoutMs: 60_000 });
  });

  it('brings the cluster up, passes its own checks, and tears down completely', async () => {
    expect(await namespaces()).toEqual([]);
    const up = await run(['bash', 'scripts/demo.sh', 'up'], { cwd: REPO, env, allowFailure: true, timeoutMs: 90_000 });
    const out = up.stdout + up.stderr;
    const failures = out.split('\n').filter((l) => l.includes('[FAIL]'));
    // On failure, the end of the demo's output (it prints the nodes' log tails) explains why.
    expect({ code: up.code, failures, ...(up.code === 0 && failures.length === 0 ? {} : { output: out.slice(-6000) }) }).toEqual({ code: 0, failures: [] });
    const ok = out.split('\n').filter((l) => l.startsWith('[ok] '));
    const expected = [
      /^\[ok\] etcd healthy/,
      /^\[ok\] every node registered its Node resource$/,
      /^\[ok\] node-to-node mesh: all 6 sessions Established$/,
      /^\[ok\] rr-1 is a route reflector: its 3 sessions, now node specific, stayed Established$/,
      /^\[ok\] node-1: its one session, to rr-1, is Established$/,
      /^\[ok\] node-2: its one session, to rr-1, is Established$/,
      /^\[ok\] node-3: its one session, to rr-1, is Established$/,
      /^\[ok\] rr-1: three sessions Established/,
      /^\[ok\] node-1 kernel: own block blackholed \(203\), its 2 pods \(202\), the 2 other blocks via their nodes \(201\)$/,
      /^\[ok\] node-2 kernel: /,
      /^\[ok\] node-3 kernel: /,
      /^\[ok\] rr-1 kernel: the 3 node blocks via their nodes \(201\)$/,
      /^\[ok\] web-1 → db-3 \(198\.19\.[0-9.]+\) works: 3 packets transmitted, 3 received, 0% packet loss — node-1 → node-3$/,
      /^\[ok\] db-2 → web-1 \(198\.19\.[0-9.]+\) works: 3 packets transmitted, 3 received/,
      /^\[ok\] web-1 → db-3 \(198\.19\.[0-9.]+\) blocked: 3 packets transmitted, 0 received, 100% packet loss — denied by deny-web-to-db$/,
      /^\[ok\] db-1 → db-3 \(198\.19\.[0-9.]+\) works: 3 packets transmitted, 3 received/,
      /^\[ok\] web-1 → web-3 \(198\.19\.[0-9.]+\) works: 3 packets transmitted, 3 received/,
      /^\[ok\] web-1 → db-3 \(198\.19\.[0-9.]+\) works: 3 packets transmitted, 3 received, 0% packet loss — allowed by allow-web-to-db-icmp/,
    ];
    expect(ok).toHaveLength(expected.length);
    ok.forEach((line, i) => expect(line).toMatch(expected[i]!));
    // tartanctl node status as shown: each node has rr-1, rr-1 has the three nodes.
    expect(out.match(/\| 198\.18\.210\.20 \| node specific \| up +\| [0-9:]+ \| Established \|/g)).toHaveLength(3);
    for (const n of [1, 2, 3]) expect(out).toMatch(new RegExp(`\\| 198\\.18\\.210\\.${n} +\\| node specific \\| up +\\| [0-9:]+ \\| Established \\|`));
    expect(out).toContain('bash scripts/demo.sh down');
    // etcd, node-1..3, rr-1, the bridge, six pods.
    expect(await namespaces()).toHaveLength(12);
    expect(await demoProcesses()).toHaveLength(5);

    // The wrapper the demo prints reaches etcd in its namespace.
    const nodes = await run(['scripts/demo/tartanctl', 'get', 'nodes'], { cwd: REPO, env });
    expect(nodes.stdout.split('\n').filter((l) => /^(node-[123]|rr-1)\b/.test(l))).toHaveLength(4);

    // A second `up` only shows the state.
    const again = await run(['bash', 'scripts/demo.sh', 'up'], { cwd: REPO, env, timeoutMs: 60_000 });
    expect(again.stdout).toContain('The demo is already running');
    expect(again.stdout).toMatch(/web-1 → db-3 \(198\.19\.[0-9.]+\): works/);
    expect(await namespaces()).toHaveLength(12);

    const down = await run(['bash', 'scripts/demo.sh', 'down'], { cwd: REPO, env, timeoutMs: 60_000 });
    expect(down.code).toBe(0);
    expect(await namespaces()).toEqual([]);
    expect(await demoProcesses()).toEqual([]);
  });

  it('also comes up with the route reflector from the start (simultaneous connects resolve cleanly)', async () => {
    const rrEnv = { ...env, TARTAN_DEMO_MESH_FIRST: '0' };
    const up = await run(['bash', 'scripts/demo.sh', 'up'], { cwd: REPO, env: rrEnv, allowFailure: true, timeoutMs: 90_000 });
    const out = up.stdout + up.stderr;
    const failures = out.split('\n').filter((l) => l.includes('[FAIL]'));
    expect({ code: up.code, failures, ...(up.code === 0 && failures.length === 0 ? {} : { output: out.slice(-6000) }) }).toEqual({ code: 0, failures: [] });
    expect(out).toMatch(/\[ok\] rr-1: three sessions Established/);
    expect(out).toMatch(/\[ok\] web-1 → db-3 \(198\.19\.[0-9.]+\) blocked/);
    const down = await run(['bash', 'scripts/demo.sh', 'down'], { cwd: REPO, env: rrEnv, timeoutMs: 60_000 });
    expect(down.code).toBe(0);
    expect(await namespaces()).toEqual([]);
    expect(await demoProcesses()).toEqual([]);
  });
});
