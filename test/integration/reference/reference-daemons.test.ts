/**
 * Self-test of the harness: BIRD, GoBGP and FRR peer with each other in one
 * lab (a triangle of IPv4 and IPv6 sessions), so the drivers are proven to
 * configure, read and steer real daemons before Tartan is tested with them.
 *
 *   r1 BIRD  AS 4200000001 ──eBGP── r2 GoBGP AS 4200000002
 *   r1 BIRD  AS 4200000001 ──eBGP── r3 FRR   AS 4200000002
 *   r2 GoBGP AS 4200000002 ──iBGP── r3 FRR   AS 4200000002
 */
import {
  Lab,
  startBird,
  startFrr,
  startGobgp,
  waitFor,
  type AddressFamily,
  type DaemonConfig,
  type DaemonHandle,
  type Host,
  type OriginateRoute,
  type RouteEntry,
} from '../harness';

const AS_BIRD = 4200000001;
const AS_CORE = 4200000002; // GoBGP and FRR share it: their session is iBGP

interface Node {
  host: Host;
  asn: number;
  v4: OriginateRoute;
  v6: OriginateRoute;
  daemon?: DaemonHandle;
}

function routes(n: number, asn: number): { v4: OriginateRoute; v6: OriginateRoute } {
  const attrs = { communities: [`65000:${n}00`, `65001:${n}`], largeCommunities: [`${asn}:${n}:1`], med: 10 + n };
  return { v4: { prefix: `10.${n}.0.0/24`, ...attrs }, v6: { prefix: `2001:db8:${n}::/48`, ...attrs } };
}

function config(self: Node, others: Node[]): DaemonConfig {
  return {
    asn: self.asn,
    routerId: self.host.addr('ipv4'),
    peers: others.flatMap((o) => [
      { address: o.host.addr('ipv4'), asn: o.asn, holdTime: 9 },
      { address: o.host.addr('ipv6'), asn: o.asn, holdTime: 9 },
    ]),
    originate: [self.v4, self.v6],
  };
}

function fromPeer(rs: RouteEntry[], prefix: string, peer: string): RouteEntry | undefined {
  return rs.find((r) => r.prefix === prefix && r.fromPeer === peer);
}

describe('reference daemons interoperate (harness self-test)', () => {
  let lab: Lab;
  const nodes: Node[] = [];

  beforeAll(async () => {
    lab = await Lab.create('reference-daemons');
    const [h1, h2, h3] = [await lab.addHost('bird'), await lab.addHost('gobgp'), await lab.addHost('frr')];
    nodes.push({ host: h1, asn: AS_BIRD, ...routes(1, AS_BIRD) });
    nodes.push({ host: h2, asn: AS_CORE, ...routes(2, AS_CORE) });
    nodes.push({ host: h3, asn: AS_CORE, ...routes(3, AS_CORE) });
    const [b, g, f] = nodes as [Node, Node, Node];
    [b.daemon, g.daemon, f.daemon] = await Promise.all([
      startBird(b.host, config(b, [g, f])),
      startGobgp(g.host, config(g, [b, f])),
      startFrr(f.host, config(f, [b, g])),
    ]);
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  const d = (i: number): DaemonHandle => {
    const x = nodes[i]?.daemon;
    if (!x) throw new Error('daemon not started');
    return x;
  };

  it('all six sessions reach Established', async () => {
    await Promise.all(
      nodes.flatMap((n, i) =>
        nodes.filter((_, j) => j !== i).flatMap((o) => [d(i).waitEstablished(o.host.addr('ipv4')), d(i).waitEstablished(o.host.addr('ipv6'))]),
      ),
    );
  });

  for (const family of ['ipv4-unicast', 'ipv6-unicast'] as AddressFamily[]) {
    it(`every daemon learns the others' ${family} routes with their attributes`, async () => {
      const fam = family === 'ipv4-unicast' ? 'ipv4' : 'ipv6';
      for (const [i, me] of nodes.entries()) {
        for (const other of nodes.filter((n) => n !== me)) {
          const want = fam === 'ipv4' ? other.v4 : other.v6;
          const peer = other.host.addr(fam);
          const got = await waitFor(async () => fromPeer(await d(i).receivedRoutes(family), want.prefix, peer), {
            what: `${d(i).kind} to learn ${want.prefix} from ${peer}`,
            timeoutMs: 15_000,
          });
          const ebgp = me.asn !== other.asn;
          expect(got).toMatchObject({
            nextHop: peer,
            asPath: ebgp ? [other.asn] : [],
            origin: 'igp',
            med: want.med,
            communities: expect.arrayContaining(want.communities ?? []),
            largeCommunities: want.largeCommunities,
          });
          if (!ebgp) expect(got.localPref).toBe(100);
        }
      }
    });
  }

  it('run-time announce and withdraw propagate to every peer', async () => {
    const extra = (i: number): OriginateRoute => ({ prefix: `10.${100 + i}.0.0/24`, communities: ['65000:999'] });
    await Promise.all(nodes.map((_, i) => d(i).announce(extra(i))));
    for (const [i] of nodes.entries()) {
      for (const [j, other] of nodes.entries()) {
        if (i === j) continue;
        await waitFor(async () => fromPeer(await d(i).receivedRoutes('ipv4-unicast'), extra(j).prefix, other.host.addr('ipv4')), {
          what: `${d(i).kind} to learn announced ${extra(j).prefix}`,
        });
      }
    }
    // Withdraw the originally configured v4 prefix and the announced one everywhere.
    await Promise.all(nodes.map(async (n, i) => {
      await d(i).withdraw(n.v4.prefix);
      await d(i).withdraw(extra(i).prefix);
    }));
    for (const [i] of nodes.entries()) {
      const gone = new Set(nodes.flatMap((n, j) => (j === i ? [] : [n.v4.prefix, extra(j).prefix])));
      await waitFor(async () => !(await d(i).receivedRoutes('ipv4-unicast')).some((r) => gone.has(r.prefix)), {
        what: `${d(i).kind} to drop withdrawn prefixes ${[...gone].join(', ')}`,
      });
    }
    // IPv6 routes are untouched by the IPv4 withdrawals.
    const v6 = await d(0).receivedRoutes('ipv6-unicast');
    expect(v6.map((r) => r.prefix)).toEqual(expect.arrayContaining(['2001:db8:2::/48', '2001:db8:3::/48']));
  });
});
