/**
 * Graceful restart, receiving side (RFC 4724 §4.2), with a real BIRD that
 * dies without a NOTIFICATION (SIGKILL): Tartan keeps its routes — in the
 * RIB and in the kernel — while the peer restarts, counts as ready, and
 * removes them when the peer's restart time runs out; when the peer comes
 * back, what it sends again replaces the stale routes.
 */
import { Lab, startBird, waitFor, type DaemonConfig, type DaemonHandle, type Host } from '../harness';
import { startTartan, type TartanNode } from '../tartan/tartan-node';

const RESTART_TIME = 6;

describe('graceful restart (receiving speaker)', () => {
  let lab: Lab;
  let t: Host, b: Host;
  let tartan: TartanNode;
  let bird: DaemonHandle;
  let birdCfg: DaemonConfig;

  const kernelHas = async (prefix: string): Promise<boolean> => (await t.routes('ipv4')).some((r) => r.dst === prefix && ['201', 'tartan-bgp'].includes(String(r.protocol)));
  const inTartan = async (prefix: string): Promise<{ stale?: boolean } | undefined> => (await tartan.routes({ table: 'in' })).find((r) => r.prefix === prefix);

  beforeAll(async () => {
    lab = await Lab.create('gr');
    [t, b] = [await lab.addHost('t'), await lab.addHost('b')];
    birdCfg = {
      asn: 65001,
      routerId: b.addr('ipv4'),
      peers: [{ address: t.addr('ipv4'), asn: 64512, holdTime: 9, gracefulRestartTime: RESTART_TIME }],
      originate: [{ prefix: '10.170.0.0/24' }, { prefix: '10.170.1.0/24' }],
    };
    bird = await startBird(b, birdCfg);
    tartan = await startTartan(t, { asn: 64512, peers: [{ address: b.addr('ipv4'), asn: 65001, holdTime: 9, families: ['ipv4-unicast'] }] });
    await tartan.waitEstablished(b.addr('ipv4'));
    await waitFor(async () => (await kernelHas('10.170.0.0/24')) && (await kernelHas('10.170.1.0/24')), { what: "BIRD's routes in Tartan's kernel" });
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('keeps the routes of a peer that died without a NOTIFICATION, then drops them after its restart time', async () => {
    process.kill(bird.pid, 'SIGKILL');
    await waitFor(async () => (await tartan.peerState(b.addr('ipv4'))) !== 'Established', { what: 'Tartan to see the session go' });
    const r = await inTartan('10.170.0.0/24');
    expect(r?.stale).toBe(true);
    expect(await kernelHas('10.170.0.0/24')).toBe(true);
    const peer = (await tartan.status()).peers[0]!;
    expect(peer).toMatchObject({ gracefulRestart: true, staleRoutes: 2 });
    expect(tartan.logTail(200)).toMatch(/graceful restart: keeping 2 route\(s\) of the restarting peer for up to 6 s/);
    await waitFor(async () => !(await kernelHas('10.170.0.0/24')) && !(await inTartan('10.170.0.0/24')), {
      what: `the stale routes to go after the ${RESTART_TIME} s restart time`,
      timeoutMs: (RESTART_TIME + 10) * 1000,
    });
    expect(tartan.logTail(200)).toContain('did not come back within its restart time');
  });

  it('when the peer comes back, the routes it sends again are fresh, and those it no longer sends go', async () => {
    bird = await startBird(b, birdCfg);
    await tartan.waitEstablished(b.addr('ipv4'));
    await waitFor(async () => (await kernelHas('10.170.1.0/24')) && (await inTartan('10.170.1.0/24'))?.stale === undefined, { what: 'fresh routes after the restart' });
    // Second restart, quicker than the restart time, with one prefix gone.
    process.kill(bird.pid, 'SIGKILL');
    await waitFor(async () => (await inTartan('10.170.1.0/24'))?.stale === true, { what: 'routes to turn stale' });
    bird = await startBird(b, { ...birdCfg, originate: [{ prefix: '10.170.1.0/24' }] });
    await tartan.waitEstablished(b.addr('ipv4'));
    await waitFor(async () => !(await inTartan('10.170.0.0/24')) && (await inTartan('10.170.1.0/24'))?.stale === undefined, {
      what: '10.170.0.0/24 (not resent) gone and 10.170.1.0/24 fresh',
    });
    await waitFor(async () => (await kernelHas('10.170.1.0/24')) && !(await kernelHas('10.170.0.0/24')), { what: 'the kernel to follow: 10.170.1.0/24 only' });
  });
});
