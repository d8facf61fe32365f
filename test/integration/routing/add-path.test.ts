/**
 * ADD-PATH (RFC 7911) with real daemons, all iBGP in AS 64512.
 *
 * Part 1 — send: Tartan reflects for two BIRD clients that originate the same
 * prefix, and for a BIRD client (`add paths on`) and an FRR client (which
 * always offers ADD-PATH receive) that Tartan sends every path to. Those
 * two learn both paths; a plain client learns only the best.
 *
 * Part 2 — receive: Tartan is a client of a BIRD route reflector that sends
 * every path (`add paths on`); two BIRD clients originate the same prefix with
 * equal attributes. Tartan keeps both paths (distinct path ids) and installs
 * one multipath kernel route over both next hops, which without ADD-PATH it
 * could not: the reflector would send it one path.
 */
import { Lab, startBird, startFrr, waitFor, type DaemonHandle, type Host, type RouteEntry } from '../harness';
import { startTartan, type TartanNode } from '../tartan/tartan-node';

const AS = 64512;
const P = '10.77.0.0/24';

const paths = (rs: RouteEntry[]): RouteEntry[] => rs.filter((r) => r.prefix === P);

describe('Tartan sends every path to ADD-PATH clients (route reflector)', () => {
  let lab: Lab;
  let rr: Host, a: Host, b: Host, c: Host, d: Host, e: Host;
  let rrNode: TartanNode;
  let birdA: DaemonHandle, birdC: DaemonHandle, frrD: DaemonHandle, birdE: DaemonHandle;

  beforeAll(async () => {
    lab = await Lab.create('addpath-tx');
    [rr, a, b, c, d, e] = [await lab.addHost('rr'), await lab.addHost('a'), await lab.addHost('b'), await lab.addHost('c'), await lab.addHost('d'), await lab.addHost('e')];
    const client = (h: Host, addPaths?: 'send'): { address: string; asn: number; holdTime: number; families: ['ipv4-unicast']; rrClient: true; addPaths?: 'send' } => ({
      address: h.addr('ipv4'),
      asn: AS,
      holdTime: 9,
      families: ['ipv4-unicast'],
      rrClient: true,
      ...(addPaths ? { addPaths } : {}),
    });
    rrNode = await startTartan(rr, {
      asn: AS,
      peers: [client(a), client(b), client(c, 'send'), client(d, 'send'), client(e)],
      extra: { routeReflectorClusterID: rr.addr('ipv4') },
    });
    const cfg = (h: Host, originate: { prefix: string }[], addPath = false): Parameters<typeof startBird>[1] => ({
      asn: AS,
      routerId: h.addr('ipv4'),
      peers: [{ address: rr.addr('ipv4'), asn: AS, holdTime: 9, ...(addPath ? { addPath: true } : {}) }],
      originate,
    });
    [birdA, , birdC, frrD, birdE] = await Promise.all([
      // a's path wins (higher LOCAL_PREF is not settable here; lower router id decides: a < b).
      startBird(a, cfg(a, [{ prefix: P }])),
      startBird(b, cfg(b, [{ prefix: P }])),
      startBird(c, cfg(c, [], true)),
      startFrr(d, cfg(d, [])),
      startBird(e, cfg(e, [])),
    ]);
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('negotiates ADD-PATH send only with the clients configured for it', async () => {
    for (const h of [a, b, c, d, e]) await rrNode.waitEstablished(h.addr('ipv4'));
    const out = await waitFor(
      async () => {
        const v = (await rrNode.routes({ table: 'out', peer: c.addr('ipv4'), prefix: P })).filter((r) => r.prefix === P);
        return v.length === 2 ? v : undefined;
      },
      { what: 'two paths for the ADD-PATH client in Tartan\'s out table', timeoutMs: 20_000 },
    );
    expect(new Set(out.map((r) => r.pathId)).size).toBe(2);
    const plain = (await rrNode.routes({ table: 'out', peer: e.addr('ipv4'), prefix: P })).filter((r) => r.prefix === P);
    expect(plain).toHaveLength(1);
    expect(plain[0]!.pathId).toBeUndefined();
  });

  it('gives BIRD and FRR clients both paths, each with ORIGINATOR_ID and CLUSTER_LIST', async () => {
    for (const [name, d0] of [['BIRD', birdC], ['FRR', frrD]] as const) {
      const got = await waitFor(
        async () => {
          const ps = paths(await d0.receivedRoutes('ipv4-unicast'));
          return ps.length === 2 ? ps : undefined;
        },
        { what: `${name} to hold two paths for ${P}`, timeoutMs: 20_000 },
      );
      expect(got.map((r) => r.nextHop).sort()).toEqual([a.addr('ipv4'), b.addr('ipv4')].sort());
      for (const r of got) {
        expect(r.originatorId).toBe(r.nextHop);
        expect(r.clusterList).toEqual([rr.addr('ipv4')]);
      }
    }
    // The plain client sees one path: the best.
    const atE = await waitFor(async () => {
      const ps = paths(await birdE.receivedRoutes('ipv4-unicast'));
      return ps.length === 1 ? ps : undefined;
    }, { what: 'the plain client to hold one path' });
    expect(atE[0]!.nextHop).toBe(a.addr('ipv4'));
  });

  it('withdraws only the path that went', async () => {
    await birdA.withdraw(P);
    for (const [name, d0] of [['BIRD', birdC], ['FRR', frrD]] as const) {
      const got = await waitFor(
        async () => {
          const ps = paths(await d0.receivedRoutes('ipv4-unicast'));
          return ps.length === 1 ? ps : undefined;
        },
        { what: `${name} to keep only b's path`, timeoutMs: 20_000 },
      );
      expect(got[0]!.nextHop).toBe(b.addr('ipv4'));
    }
    // The plain client's best changed from a to b: an implicit withdrawal, still one path.
    const atE = await waitFor(async () => {
      const ps = paths(await birdE.receivedRoutes('ipv4-unicast'));
      return ps.length === 1 && ps[0]!.nextHop === b.addr('ipv4') ? ps : undefined;
    }, { what: "the plain client to switch to b's path" });
    expect(atE).toHaveLength(1);
  });
});

describe('Tartan receives every path from an ADD-PATH route reflector', () => {
  let lab: Lab;
  let rr: Host, a: Host, b: Host, t: Host;
  let node: TartanNode;

  beforeAll(async () => {
    lab = await Lab.create('addpath-rx');
    [rr, a, b, t] = [await lab.addHost('rr'), await lab.addHost('a'), await lab.addHost('b'), await lab.addHost('t')];
    const client = (h: Host, addPath = false): { address: string; asn: number; holdTime: number; rrClient: true; addPath?: true } => ({
      address: h.addr('ipv4'),
      asn: AS,
      holdTime: 9,
      rrClient: true,
      ...(addPath ? { addPath: true as const } : {}),
    });
    const member = (h: Host, originate: { prefix: string }[]): Parameters<typeof startBird>[1] => ({
      asn: AS,
      routerId: h.addr('ipv4'),
      peers: [{ address: rr.addr('ipv4'), asn: AS, holdTime: 9 }],
      originate,
    });
    await Promise.all([
      startBird(rr, { asn: AS, routerId: rr.addr('ipv4'), peers: [client(a), client(b), client(t, true)], originate: [] }),
      startBird(a, member(a, [{ prefix: P }])),
      startBird(b, member(b, [{ prefix: P }])),
    ]);
    node = await startTartan(t, {
      asn: AS,
      peers: [{ address: rr.addr('ipv4'), asn: AS, holdTime: 9, families: ['ipv4-unicast'], addPaths: 'receive' }],
    });
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('keeps both reflected paths with their path ids', async () => {
    await node.waitEstablished(rr.addr('ipv4'));
    const got = await waitFor(
      async () => {
        const v = (await node.routes({ table: 'in', prefix: P })).filter((r) => r.prefix === P);
        return v.length === 2 ? v : undefined;
      },
      { what: 'two paths for the prefix from the reflector', timeoutMs: 20_000 },
    );
    expect(new Set(got.map((r) => r.pathId)).size).toBe(2);
    expect(got.every((r) => r.pathId !== undefined)).toBe(true);
    expect(got.map((r) => r.attributes.nextHop?.[0]).sort()).toEqual([a.addr('ipv4'), b.addr('ipv4')].sort());
    expect(got.map((r) => r.attributes.originatorId).sort()).toEqual([a.addr('ipv4'), b.addr('ipv4')].sort());
  });

  it('installs one multipath kernel route over both paths', async () => {
    const route = await waitFor(
      async () => {
        const r = (await t.routes('ipv4')).find((x) => x.dst === P && ['201', 'tartan-bgp'].includes(String(x.protocol)));
        return r?.nexthops?.length === 2 ? r : undefined;
      },
      { what: `${P} as a two-way multipath route with protocol 201`, timeoutMs: 20_000 },
    );
    expect(route.nexthops!.map((h) => h.gateway).sort()).toEqual([a.addr('ipv4'), b.addr('ipv4')].sort());
  });
});
