/**
 * Kernel nexthop objects (fib.nexthopObjects, the default): Tartan's routes
 * name an object (`nhid`) of protocol 201 instead of carrying their gateways,
 * an ECMP route names a group of the gateway objects; an object the kernel
 * drops (as it does when the interface goes down: here deleted by hand, which
 * takes its routes with it) is made again and the routes come back at the
 * next resync; a restart reuses the objects and touches no route; with the
 * option off, routes carry their gateways.
 *
 *   t   tartan-node AS 64512
 *   b1  BIRD AS 65001  originates 10.140.0.0/24, 10.141.0.0/24, 2001:db8:140::/48
 *   b2  BIRD AS 65001  originates 10.141.0.0/24 (equal path: ECMP)
 */
import { Lab, waitFor, type Host } from '../harness';
import { birdPeerEntry, fibTestOptions, OUR_PROTOCOLS, ourRoute, startBirdPeer } from './bird-peer';
import { startTartan, type TartanNode, type TartanOptions } from '../tartan/tartan-node';

interface NexthopJson {
  id: number;
  gateway?: string;
  group?: { id: number }[];
  protocol?: string;
}

describe('kernel FIB through nexthop objects', () => {
  let lab: Lab;
  let t: Host, b1: Host, b2: Host;
  let tartan: TartanNode;
  let opts: TartanOptions;

  const nexthops = async (): Promise<NexthopJson[]> => {
    const out = await t.exec(['ip', '-j', 'nexthop', 'show']);
    return out.trim() ? (JSON.parse(out) as NexthopJson[]) : [];
  };

  beforeAll(async () => {
    lab = await Lab.create('nhobj');
    [t, b1, b2] = [await lab.addHost('t'), await lab.addHost('b1'), await lab.addHost('b2')];
    await startBirdPeer(t, b1, ['10.140.0.0/24', '10.141.0.0/24', '2001:db8:140::/48']);
    await startBirdPeer(t, b2, ['10.141.0.0/24']);
    opts = fibTestOptions([
      birdPeerEntry(b1, 'ipv4-unicast'),
      birdPeerEntry(b1, 'ipv6-unicast'),
      birdPeerEntry(b2, 'ipv4-unicast'),
    ]);
    tartan = await startTartan(t, opts);
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('routes name objects of protocol 201; the ECMP route names a group of the two gateway objects', async () => {
    const single = await waitFor(async () => {
      const r = ourRoute(await t.routes('ipv4'), '10.140.0.0/24');
      return r?.nhid ? r : undefined;
    }, { what: '10.140.0.0/24 through a nexthop object' });
    const ecmp = await waitFor(async () => {
      const r = ourRoute(await t.routes('ipv4'), '10.141.0.0/24');
      return r?.nhid && r.nexthops?.length === 2 ? r : undefined;
    }, { what: '10.141.0.0/24 through a group object' });
    const v6 = await waitFor(async () => {
      const r = ourRoute(await t.routes('ipv6'), '2001:db8:140::/48');
      return r?.nhid ? r : undefined;
    }, { what: '2001:db8:140::/48 through a nexthop object' });
    const objs = await nexthops();
    const byId = new Map(objs.map((o) => [o.id, o]));
    expect(byId.get(single.nhid!)).toMatchObject({ gateway: b1.addr('ipv4') });
    expect(OUR_PROTOCOLS).toContain(String(byId.get(single.nhid!)?.protocol));
    expect(byId.get(v6.nhid!)).toMatchObject({ gateway: b1.addr('ipv6') });
    const group = byId.get(ecmp.nhid!);
    expect(group?.group?.map((m) => byId.get(m.id)?.gateway).sort()).toEqual([b1.addr('ipv4'), b2.addr('ipv4')].sort());
    // The kernel still reports the gateways of a route that names an object (nexthop_compat_mode).
    expect(single.gateway).toBe(b1.addr('ipv4'));
  });

  it('an object the kernel dropped, with its routes, is made again and the routes come back', async () => {
    const before = ourRoute(await t.routes('ipv4'), '10.140.0.0/24')!;
    // What the kernel does to the objects of an interface that goes down, and to their routes.
    await t.exec(['ip', 'nexthop', 'del', 'id', String(before.nhid)]);
    expect(ourRoute(await t.routes('ipv4'), '10.140.0.0/24')).toBeUndefined();
    const after = await waitFor(async () => {
      const r = ourRoute(await t.routes('ipv4'), '10.140.0.0/24');
      return r?.nhid ? r : undefined;
    }, { what: '10.140.0.0/24 back through a new object', timeoutMs: 20_000 });
    expect(after.nhid).not.toBe(before.nhid);
    expect((await nexthops()).find((o) => o.id === after.nhid)).toMatchObject({ gateway: b1.addr('ipv4') });
    // The group lost a member with it; the ECMP route is whole again too.
    await waitFor(async () => ourRoute(await t.routes('ipv4'), '10.141.0.0/24')?.nexthops?.length === 2, { what: '10.141.0.0/24 as a two-way route again', timeoutMs: 20_000 });
  });

  it('a restart reuses the objects and touches no route', async () => {
    // Let the repairs of the previous test settle into one full resync.
    const syncLine = (): string[] => tartan.logTail(100_000).split('\n').filter((l) => l.includes('kernel FIB in sync'));
    const routesBefore = JSON.stringify([ourRoute(await t.routes('ipv4'), '10.140.0.0/24'), ourRoute(await t.routes('ipv4'), '10.141.0.0/24'), ourRoute(await t.routes('ipv6'), '2001:db8:140::/48')]);
    const objsBefore = JSON.stringify((await nexthops()).map((o) => o.id).sort());
    expect(await tartan.stop()).toBe(0);
    expect(syncLine()).toHaveLength(1);
    tartan = await startTartan(t, opts);
    await waitFor(async () => syncLine().length === 2, { what: 'the restarted daemon to reconcile the kernel FIB', timeoutMs: 40_000 });
    expect(syncLine()[1]).toMatch(/0 added, 0 replaced, 0 removed, 0 failed/);
    const routesAfter = JSON.stringify([ourRoute(await t.routes('ipv4'), '10.140.0.0/24'), ourRoute(await t.routes('ipv4'), '10.141.0.0/24'), ourRoute(await t.routes('ipv6'), '2001:db8:140::/48')]);
    expect(routesAfter).toBe(routesBefore);
    expect(JSON.stringify((await nexthops()).map((o) => o.id).sort())).toBe(objsBefore);
  });

  it('with fib.nexthopObjects off, routes carry their gateways', async () => {
    expect(await tartan.stop()).toBe(0);
    // Deleting the objects deletes the routes that name them.
    await t.exec(['ip', 'nexthop', 'flush']);
    expect(ourRoute(await t.routes('ipv4'), '10.140.0.0/24')).toBeUndefined();
    tartan = await startTartan(t, { ...opts, extra: { fib: { resyncIntervalSeconds: 2, startupHoldSeconds: 20, nexthopObjects: false } } });
    const r = await waitFor(async () => ourRoute(await t.routes('ipv4'), '10.141.0.0/24')?.nexthops?.length === 2 ? ourRoute(await t.routes('ipv4'), '10.141.0.0/24') : undefined, { what: '10.141.0.0/24 as a two-way route' });
    expect(r?.nhid).toBeUndefined();
    expect(ourRoute(await t.routes('ipv4'), '10.140.0.0/24')).toMatchObject({ gateway: b1.addr('ipv4') });
    expect(ourRoute(await t.routes('ipv4'), '10.140.0.0/24')?.nhid).toBeUndefined();
    expect(await nexthops()).toEqual([]);
  });

  it('an interface that goes down and up gets its routes back at once, not at the next periodic resync', async () => {
    expect(await tartan.stop()).toBe(0);
    const syncs = (): number => tartan.logTail(100_000).split('\n').filter((l) => l.includes('kernel FIB in sync')).length;
    const before = syncs();
    // No periodic resync within this test: only the link event can repair the kernel.
    tartan = await startTartan(t, { ...opts, extra: { fib: { resyncIntervalSeconds: 3600, startupHoldSeconds: 20 } } });
    await waitFor(async () => syncs() > before, { what: 'the first kernel sync after the restart', timeoutMs: 40_000 });
    expect(ourRoute(await t.routes('ipv4'), '10.140.0.0/24')).toBeDefined();
    const dev = (await t.routes('ipv4')).find((r) => r.dst === '10.140.0.0/24')?.dev as string;
    // Admin down: the kernel deletes the interface's nexthop objects and the routes using them.
    await t.exec(['ip', 'link', 'set', 'dev', dev, 'down']);
    expect(ourRoute(await t.routes('ipv4'), '10.140.0.0/24')).toBeUndefined();
    expect(await nexthops()).toEqual([]);
    await t.exec(['ip', 'link', 'set', 'dev', dev, 'up']);
    const back = await waitFor(async () => {
      const r = ourRoute(await t.routes('ipv4'), '10.140.0.0/24');
      return r?.nhid ? r : undefined;
    }, { what: '10.140.0.0/24 back after the link came up', timeoutMs: 20_000 });
    expect(back.gateway).toBe(b1.addr('ipv4'));
    expect(tartan.logTail(200)).toMatch(/kernel FIB repaired after a link change: [1-9]\d* added/);
  });
});
