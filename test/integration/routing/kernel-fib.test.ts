/**
 * Best BGP routes in the kernel: Tartan's routes carry its own protocol
 * number (201) and metric, follow announcements and withdrawals, become one
 * multipath route for equal paths, come back after a hand delete at the next
 * resync, never disturb other protocols' routes, and survive a restart of
 * tartan-node without being removed and added back.
 *
 *   t   tartan-node AS 64512
 *   b1  BIRD AS 65001  originates 10.130.0.0/24, 10.131.0.0/24, 2001:db8:130::/48
 *   b2  BIRD AS 65001  originates 10.131.0.0/24 (equal path: ECMP)
 */
import { Lab, waitFor, type DaemonHandle, type Host } from '../harness';
import { birdPeerEntry, fibTestOptions, ourRoute, startBirdPeer } from './bird-peer';
import { startTartan, type TartanNode, type TartanOptions } from '../tartan/tartan-node';

describe('kernel FIB', () => {
  let lab: Lab;
  let t: Host, b1: Host, b2: Host;
  let tartan: TartanNode;
  let bird1: DaemonHandle;
  let opts: TartanOptions;

  beforeAll(async () => {
    lab = await Lab.create('fib');
    [t, b1, b2] = [await lab.addHost('t'), await lab.addHost('b1'), await lab.addHost('b2')];
    bird1 = await startBirdPeer(t, b1, ['10.130.0.0/24', '10.131.0.0/24', '2001:db8:130::/48']);
    await startBirdPeer(t, b2, ['10.131.0.0/24']);
    opts = fibTestOptions([
      birdPeerEntry(b1, 'ipv4-unicast'),
      birdPeerEntry(b1, 'ipv6-unicast'),
      birdPeerEntry(b2, 'ipv4-unicast'),
      birdPeerEntry(b2, 'ipv6-unicast'),
    ]);
    // A foreign route that must never be touched, inside Tartan's own prefix space.
    await t.exec(['ip', 'route', 'add', '10.130.0.0/25', 'via', b1.addr('ipv4'), 'proto', 'static']);
    tartan = await startTartan(t, opts);
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('installs learned routes with protocol 201 and metric 32, IPv4 and IPv6', async () => {
    const r4 = await waitFor(async () => ourRoute(await t.routes('ipv4'), '10.130.0.0/24'), { what: '10.130.0.0/24 in the kernel with proto 201' });
    expect(r4).toMatchObject({ gateway: b1.addr('ipv4'), metric: 32 });
    const r6 = await waitFor(async () => ourRoute(await t.routes('ipv6'), '2001:db8:130::/48'), { what: '2001:db8:130::/48 in the kernel with proto 201' });
    expect(r6.gateway).toBe(b1.addr('ipv6'));
  });

  it('installs equal paths from two peers as one multipath route', async () => {
    const r = await waitFor(
      async () => {
        const route = ourRoute(await t.routes('ipv4'), '10.131.0.0/24');
        return route?.nexthops?.length === 2 ? route : undefined;
      },
      { what: '10.131.0.0/24 as a two-way multipath route' },
    );
    expect(r.nexthops!.map((h) => h.gateway).sort()).toEqual([b1.addr('ipv4'), b2.addr('ipv4')].sort());
    const view = await tartan.routes({ table: 'in', prefix: '10.131.0.0/24' });
    expect(view.filter((v) => v.prefix === '10.131.0.0/24')).toHaveLength(2);
  });

  it('puts a hand-deleted route back at the next resync and leaves the foreign route alone', async () => {
    await t.exec(['ip', 'route', 'del', '10.130.0.0/24', 'proto', '201']);
    expect(ourRoute(await t.routes('ipv4'), '10.130.0.0/24')).toBeUndefined();
    await waitFor(async () => ourRoute(await t.routes('ipv4'), '10.130.0.0/24'), { what: 'the resync to restore 10.130.0.0/24' });
    const foreign = (await t.routes('ipv4')).find((r) => r.dst === '10.130.0.0/25');
    expect(foreign).toMatchObject({ protocol: 'static', gateway: b1.addr('ipv4') });
  });

  it('removes the route when the peer withdraws it, and shrinks the multipath route when a path goes', async () => {
    await bird1.withdraw('10.130.0.0/24');
    await waitFor(async () => !ourRoute(await t.routes('ipv4'), '10.130.0.0/24'), { what: '10.130.0.0/24 to leave the kernel' });
    await bird1.withdraw('10.131.0.0/24');
    const single = await waitFor(
      async () => {
        const route = ourRoute(await t.routes('ipv4'), '10.131.0.0/24');
        return route && !route.nexthops ? route : undefined;
      },
      { what: '10.131.0.0/24 to become a single-path route via b2' },
    );
    expect(single.gateway).toBe(b2.addr('ipv4'));
    await bird1.announce({ prefix: '10.130.0.0/24' });
    await waitFor(async () => ourRoute(await t.routes('ipv4'), '10.130.0.0/24'), { what: '10.130.0.0/24 to come back' });
  });

  it('a restart of tartan-node adopts its kernel routes without removing and re-adding them', async () => {
    const monitorLog = `${t.dir}/ip-monitor.log`;
    const monitor = t.spawn(['ip', 'monitor', 'route'], { logFile: monitorLog });
    // Subscribed before anything happens: add and remove a marker route until the monitor shows it.
    const { readFileSync } = await import('node:fs');
    let n = 0;
    await waitFor(
      async () => {
        const marker = `198.18.254.${++n}`;
        await t.exec(['ip', 'route', 'add', `${marker}/32`, 'dev', 'lo', 'proto', 'static']);
        await t.exec(['ip', 'route', 'del', `${marker}/32`, 'dev', 'lo', 'proto', 'static']);
        return readFileSync(monitorLog, 'utf8').includes(`${marker} `);
      },
      { what: 'ip monitor to subscribe', intervalMs: 50 },
    );
    try {
      expect(await tartan.stop()).toBe(0);
      // The routes persist while the daemon is down (BIRD's `persist`, as Calico runs it).
      expect(ourRoute(await t.routes('ipv4'), '10.130.0.0/24')).toBeDefined();
      // Both runs log to the same file: wait for the second "in sync" line.
      const syncLines = (): string[] => tartan.logTail(100_000).split('\n').filter((l) => l.includes('kernel FIB in sync'));
      expect(syncLines()).toHaveLength(1);
      tartan = await startTartan(t, opts);
      await waitFor(async () => syncLines().length === 2, { what: 'the restarted daemon to reconcile the kernel FIB', timeoutMs: 40_000 });
      expect(syncLines()[1]).toMatch(/0 added, 0 replaced, 0 removed, 0 failed/);
    } finally {
      await monitor.stop();
    }
    const events = readFileSync(monitorLog, 'utf8').split('\n').filter((l) => l.includes('10.130.0.0/24') || l.includes('10.131.0.0/24') || l.includes('2001:db8:130::/48'));
    expect(events).toEqual([]);
  });
});
