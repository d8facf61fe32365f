/**
 * Route reflection (RFC 4456) with real daemons, all iBGP in AS 64512.
 *
 * Part 1 — Tartan as the route reflector for three clients (Tartan, BIRD, FRR)
 * and one non-client (GoBGP):
 *   rr  tartan-node, cluster ID 198.18.x.250 (not its router ID)
 *   c1  tartan-node client   10.101.0.0/24
 *   c2  BIRD client          10.102.0.0/24
 *   c3  FRR client           10.103.0.0/24
 *   n   GoBGP non-client     10.104.0.0/24
 *
 * Part 2 — Tartan as a client of a BIRD route reflector, next to an FRR client.
 *
 * Part 3 — two reflectors sharing one cluster ID (a Tartan and a BIRD) with one
 * Tartan client: each drops the other's reflection of the client's route
 * (CLUSTER_LIST loop), so nothing loops and the client sees no echo.
 */
import { Lab, startBird, startFrr, startGobgp, waitFor, type DaemonHandle, type Host, type RouteEntry } from '../harness';
import { startTartan, type TartanNode } from '../tartan/tartan-node';

const AS = 64512;

function find(rs: RouteEntry[], prefix: string): RouteEntry | undefined {
  return rs.find((r) => r.prefix === prefix);
}

async function learned(d: { receivedRoutes(f: 'ipv4-unicast'): Promise<RouteEntry[]> }, prefix: string, what: string): Promise<RouteEntry> {
  return waitFor(async () => find(await d.receivedRoutes('ipv4-unicast'), prefix), { what, timeoutMs: 20_000 });
}

describe('Tartan as route reflector for Tartan, BIRD and FRR clients', () => {
  let lab: Lab;
  let rr: Host, c1: Host, c2: Host, c3: Host, n: Host;
  let rrNode: TartanNode, c1Node: TartanNode;
  let bird: DaemonHandle, frr: DaemonHandle, gobgp: DaemonHandle;
  let clusterId: string;

  beforeAll(async () => {
    lab = await Lab.create('rr-tartan');
    [rr, c1, c2, c3, n] = [await lab.addHost('rr'), await lab.addHost('c1'), await lab.addHost('c2'), await lab.addHost('c3'), await lab.addHost('n')];
    clusterId = rr.addr('ipv4').replace(/\.\d+$/, '.250');
    const v4 = (h: Host, extra: object = {}): { address: string; asn: number; holdTime: number; families: ['ipv4-unicast'] } => ({
      address: h.addr('ipv4'),
      asn: AS,
      holdTime: 9,
      families: ['ipv4-unicast'],
      ...extra,
    });
    rrNode = await startTartan(rr, {
      asn: AS,
      peers: [v4(c1, { rrClient: true }), v4(c2, { rrClient: true }), v4(c3, { rrClient: true }), v4(n)],
      extra: { routeReflectorClusterID: clusterId },
    });
    c1Node = await startTartan(c1, { asn: AS, peers: [v4(rr)], originate: [{ prefix: '10.101.0.0/24' }] });
    const cfg = (h: Host, prefix: string): Parameters<typeof startBird>[1] => ({
      asn: AS,
      routerId: h.addr('ipv4'),
      // FRR stops without a NOTIFICATION, so the reflector keeps its routes for the (short) restart time.
      peers: [{ address: rr.addr('ipv4'), asn: AS, holdTime: 9, gracefulRestartTime: 3 }],
      originate: [{ prefix }],
    });
    [bird, frr, gobgp] = await Promise.all([startBird(c2, cfg(c2, '10.102.0.0/24')), startFrr(c3, cfg(c3, '10.103.0.0/24')), startGobgp(n, cfg(n, '10.104.0.0/24'))]);
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('brings up every client session', async () => {
    for (const h of [c1, c2, c3, n]) await rrNode.waitEstablished(h.addr('ipv4'));
  });

  it("reflects each client's route to the other clients with ORIGINATOR_ID and CLUSTER_LIST", async () => {
    const atTartan = await learned(c1Node, '10.102.0.0/24', "the Tartan client to learn BIRD's route");
    expect(atTartan).toMatchObject({ nextHop: c2.addr('ipv4'), originatorId: c2.addr('ipv4'), clusterList: [clusterId], localPref: 100, asPath: [] });
    expect(await learned(c1Node, '10.103.0.0/24', "the Tartan client to learn FRR's route")).toMatchObject({ originatorId: c3.addr('ipv4'), clusterList: [clusterId] });
    const atBird = await learned(bird, '10.101.0.0/24', "BIRD to learn the Tartan client's route");
    expect(atBird).toMatchObject({ nextHop: c1.addr('ipv4'), originatorId: c1.addr('ipv4'), clusterList: [clusterId] });
    expect(await learned(bird, '10.103.0.0/24', "BIRD to learn FRR's route")).toMatchObject({ originatorId: c3.addr('ipv4'), clusterList: [clusterId] });
    expect(await learned(frr, '10.101.0.0/24', "FRR to learn the Tartan client's route")).toMatchObject({ originatorId: c1.addr('ipv4'), clusterList: [clusterId] });
    expect(await learned(frr, '10.102.0.0/24', "FRR to learn BIRD's route")).toMatchObject({ originatorId: c2.addr('ipv4'), clusterList: [clusterId] });
  });

  it("reflects client routes to the non-client, and the non-client's route to clients only", async () => {
    expect(await learned(gobgp, '10.101.0.0/24', 'GoBGP (non-client) to learn a client route')).toMatchObject({ originatorId: c1.addr('ipv4'), clusterList: [clusterId] });
    expect(await learned(bird, '10.104.0.0/24', "BIRD to learn the non-client's route")).toMatchObject({ originatorId: n.addr('ipv4'), clusterList: [clusterId] });
    expect(await learned(c1Node, '10.104.0.0/24', "the Tartan client to learn the non-client's route")).toMatchObject({ originatorId: n.addr('ipv4') });
  });

  it('does not reflect a route back to the client it came from', async () => {
    expect(find(await bird.receivedRoutes('ipv4-unicast'), '10.102.0.0/24')).toBeUndefined();
    expect(find(await c1Node.receivedRoutes('ipv4-unicast'), '10.101.0.0/24')).toBeUndefined();
  });

  it('withdraws reflected routes when a client goes down', async () => {
    await frr.stop();
    await waitFor(async () => !find(await c1Node.receivedRoutes('ipv4-unicast'), '10.103.0.0/24'), { what: "FRR's route to leave the Tartan client" });
    await waitFor(async () => !find(await bird.receivedRoutes('ipv4-unicast'), '10.103.0.0/24'), { what: "FRR's route to leave BIRD" });
  });
});

describe('Tartan as a client of a BIRD route reflector', () => {
  let lab: Lab;
  let rr: Host, t: Host, f: Host;
  let tartan: TartanNode;

  beforeAll(async () => {
    lab = await Lab.create('rr-bird');
    [rr, t, f] = [await lab.addHost('rr'), await lab.addHost('t'), await lab.addHost('f')];
    await startBird(rr, {
      asn: AS,
      routerId: rr.addr('ipv4'),
      peers: [
        { address: t.addr('ipv4'), asn: AS, holdTime: 9, rrClient: true, clusterId: '10.255.255.1' },
        { address: f.addr('ipv4'), asn: AS, holdTime: 9, rrClient: true, clusterId: '10.255.255.1' },
      ],
      originate: [],
    });
    await startFrr(f, { asn: AS, routerId: f.addr('ipv4'), peers: [{ address: rr.addr('ipv4'), asn: AS, holdTime: 9 }], originate: [{ prefix: '10.113.0.0/24' }] });
    tartan = await startTartan(t, { asn: AS, peers: [{ address: rr.addr('ipv4'), asn: AS, holdTime: 9, families: ['ipv4-unicast'] }], originate: [{ prefix: '10.111.0.0/24' }] });
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it("learns the other client's route with the reflector's ORIGINATOR_ID and CLUSTER_LIST", async () => {
    await tartan.waitEstablished(rr.addr('ipv4'));
    const r = await learned(tartan, '10.113.0.0/24', "Tartan to learn FRR's route through BIRD");
    expect(r).toMatchObject({ nextHop: f.addr('ipv4'), originatorId: f.addr('ipv4'), clusterList: ['10.255.255.1'], asPath: [], fromPeer: rr.addr('ipv4') });
  });
});

describe('two route reflectors sharing a cluster ID do not loop', () => {
  let lab: Lab;
  let rr1: Host, rr2: Host, c: Host, e: Host;
  let rr1Node: TartanNode, client: TartanNode, other: TartanNode;
  const CLUSTER = '10.255.255.7';

  beforeAll(async () => {
    lab = await Lab.create('rr-pair');
    [rr1, rr2, c, e] = [await lab.addHost('rr1'), await lab.addHost('rr2'), await lab.addHost('c'), await lab.addHost('e')];
    const peer = (h: Host, extra: object = {}): { address: string; asn: number; holdTime: number; families: ['ipv4-unicast'] } => ({ address: h.addr('ipv4'), asn: AS, holdTime: 9, families: ['ipv4-unicast'], ...extra });
    rr1Node = await startTartan(rr1, { asn: AS, peers: [peer(rr2), peer(c, { rrClient: true }), peer(e, { rrClient: true })], extra: { routeReflectorClusterID: CLUSTER } });
    await startBird(rr2, {
      asn: AS,
      routerId: rr2.addr('ipv4'),
      peers: [
        { address: rr1.addr('ipv4'), asn: AS, holdTime: 9 },
        { address: c.addr('ipv4'), asn: AS, holdTime: 9, rrClient: true, clusterId: CLUSTER },
        { address: e.addr('ipv4'), asn: AS, holdTime: 9, rrClient: true, clusterId: CLUSTER },
      ],
      originate: [],
    });
    client = await startTartan(c, { asn: AS, peers: [peer(rr1), peer(rr2)], originate: [{ prefix: '10.121.0.0/24' }] });
    other = await startTartan(e, { asn: AS, peers: [peer(rr1), peer(rr2)], originate: [{ prefix: '10.122.0.0/24' }] });
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it("drops the other reflector's copy of a client route (CLUSTER_LIST holds our cluster ID)", async () => {
    await rr1Node.waitEstablished(rr2.addr('ipv4'));
    await rr1Node.waitEstablished(c.addr('ipv4'));
    await client.waitEstablished(rr2.addr('ipv4'));
    // rr1 hears the client's route directly, and BIRD's reflection of it, which it must reject.
    const views = await waitFor(
      async () => {
        const v = (await rr1Node.routes({ table: 'in', prefix: '10.121.0.0/24' })).filter((r) => r.prefix === '10.121.0.0/24');
        return v.length === 2 ? v : undefined;
      },
      { what: 'rr1 to hold the client route directly and as reflected by rr2' },
    );
    const direct = views.find((v) => v.peer === c.addr('ipv4'))!;
    const reflected = views.find((v) => v.peer === rr2.addr('ipv4'))!;
    expect(direct.best).toBe(true);
    expect(reflected.rejected).toBe('loop detected on import');
    expect(reflected.attributes.clusterList).toEqual([CLUSTER]);
    // The other client gets the route once from each reflector, each with a one-entry CLUSTER_LIST: no loop grew it.
    const atE = await waitFor(
      async () => {
        const v = (await other.routes({ table: 'in', prefix: '10.121.0.0/24' })).filter((r) => r.prefix === '10.121.0.0/24');
        return v.length === 2 ? v : undefined;
      },
      { what: 'client e to learn the route from both reflectors' },
    );
    for (const r of atE) expect(r.attributes.clusterList).toEqual([CLUSTER]);
    const status = await rr1Node.status();
    expect(status.peers.every((p) => p.state === 'Established')).toBe(true);
  });
});
