/**
 * scripts/demo-interop.sh (the BGP interop demo), run non-interactively: it must bring up
 * every session, see every expected route, and its `down` must leave no
 * namespace or process behind.
 */
import { run } from '../harness';
import { REPO } from '../tartan/tartan-node';

const env = {
  ...process.env,
  TARTAN_DEMO_PREFIX: 'ttdemot',
  TARTAN_DEMO_STATE: '/run/tartan-demo-test',
  TARTAN_DEMO_CHECK: '1',
  // The test command already ran setup.sh and built dist/.
  TARTAN_DEMO_SKIP_SETUP: '1',
};

async function namespaces(): Promise<string[]> {
  return (await run(['ip', 'netns', 'list'])).stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith('ttdemot-'));
}

describe('scripts/demo-interop.sh', () => {
  afterAll(async () => {
    await run(['bash', 'scripts/demo-interop.sh', 'down'], { cwd: REPO, env, allowFailure: true, timeoutMs: 60_000 });
  });

  it('comes up with every session Established and every route seen, then tears down completely', async () => {
    expect(await namespaces()).toEqual([]);
    const up = await run(['bash', 'scripts/demo-interop.sh', 'up'], { cwd: REPO, env, allowFailure: true, timeoutMs: 180_000 });
    const out = up.stdout + up.stderr;
    expect({ code: up.code, failures: out.split('\n').filter((l) => l.includes('[FAIL]')) }).toEqual({ code: 0, failures: [] });
    expect(out.match(/\[ok\]/g)?.length).toBe(8);
    expect(out).toContain('BIRD withdrew 10.65.1.0/26');
    expect(out).toMatch(/\| 198\.18\.200\.12 +\| node specific \| up +\|/);
    expect(await namespaces()).toHaveLength(6);

    const down = await run(['bash', 'scripts/demo-interop.sh', 'down'], { cwd: REPO, env, timeoutMs: 60_000 });
    expect(down.code).toBe(0);
    expect(await namespaces()).toEqual([]);
    const ps = (await run(['ps', '-eo', 'args'])).stdout;
    expect(ps.split('\n').filter((l) => l.includes('/run/tartan-demo-test'))).toEqual([]);
  });
});
