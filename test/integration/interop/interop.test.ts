/**
 * Tartan against each reference daemon (BIRD 2, GoBGP 3, FRR 8), over eBGP
 * with 4-octet ASNs and over iBGP, IPv4 and IPv6 sessions, routes in both
 * directions with their attributes; withdrawals, implicit withdrawals, route
 * changes by config reload, and peers going down.
 *
 *   t  tartan-node  AS 4200000001 ──eBGP (v4 + v6 sessions)── e  DAEMON AS 4200000002
 *   t  tartan-node  AS 4200000001 ──iBGP (v4 + v6 sessions)── i  DAEMON AS 4200000001
 */
import { Lab, startBird, startFrr, startGobgp, waitFor, type DaemonConfig, type DaemonHandle, type Host, type RouteEntry } from '../harness';
import { startTartan, type TartanNode, type TartanOptions } from '../tartan/tartan-node';

const AS_T = 4200000001;
const AS_E = 4200000002;

type Starter = (host: Host, cfg: DaemonConfig) => Promise<DaemonHandle>;

const DAEMONS: [string, Starter][] = [
  ['BIRD', startBird],
  ['GoBGP', startGobgp],
  ['FRR', startFrr],
];

function find(rs: RouteEntry[], prefix: string, peer?: string): RouteEntry | undefined {
  return rs.find((r) => r.prefix === prefix && (peer === undefined || r.fromPeer === peer));
}

describe.each(DAEMONS)('Tartan interoperates with %s', (name, start) => {
  let lab: Lab;
  let t: Host, e: Host, i: Host;
  let tartan: TartanNode;
  let ebgp: DaemonHandle, ibgp: DaemonHandle;
  let tartanOpts: TartanOptions;

  beforeAll(async () => {
    lab = await Lab.create(`interop-${name.toLowerCase()}`);
    t = await lab.addHost('t');
    e = await lab.addHost('e');
    i = await lab.addHost('i');
    const peerOf = (h: Host, asn: number): TartanOptions['peers'] => [
      { address: h.addr('ipv4'), asn, holdTime: 9, families: ['ipv4-unicast'] },
      { address: h.addr('ipv6'), asn, holdTime: 9, families: ['ipv6-unicast'] },
    ];
    tartanOpts = {
      asn: AS_T,
      peers: [...peerOf(e, AS_E), ...peerOf(i, AS_T)],
      originate: [
        { prefix: '10.91.0.0/24', communities: ['65091:1'], largeCommunities: [`${AS_T}:91:1`], med: 91 },
        { prefix: '10.91.1.0/24' },
        { prefix: '2001:db8:91::/48', communities: ['65091:6'] },
      ],
    };
    tartan = await startTartan(t, tartanOpts);
    const daemonCfg = (asn: number, n: number): DaemonConfig => ({
      asn,
      routerId: n === 1 ? e.addr('ipv4') : i.addr('ipv4'),
      // FRR ends its sessions without a NOTIFICATION when stopped; Tartan then keeps its routes as a
      // graceful-restart helper (RFC 4724 §4.2) for the restart time, kept short here.
      peers: [
        { address: t.addr('ipv4'), asn: AS_T, holdTime: 9, gracefulRestartTime: 3 },
        { address: t.addr('ipv6'), asn: AS_T, holdTime: 9, gracefulRestartTime: 3 },
      ],
      originate: [
        { prefix: `10.9${n + 1}.0.0/24`, communities: [`6509${n + 1}:1`], largeCommunities: [`${asn}:9${n + 1}:1`], med: 10 * n },
        { prefix: `10.9${n + 1}.1.0/24` },
        { prefix: `2001:db8:9${n + 1}::/48`, communities: [`6509${n + 1}:6`] },
      ],
    });
    [ebgp, ibgp] = await Promise.all([start(e, daemonCfg(AS_E, 1)), start(i, daemonCfg(AS_T, 2))]);
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('reaches Established on all four sessions, on both sides', async () => {
    for (const h of [e, i]) {
      await tartan.waitEstablished(h.addr('ipv4'));
      await tartan.waitEstablished(h.addr('ipv6'));
    }
    await ebgp.waitEstablished(t.addr('ipv4'));
    await ebgp.waitEstablished(t.addr('ipv6'));
    await ibgp.waitEstablished(t.addr('ipv4'));
    await ibgp.waitEstablished(t.addr('ipv6'));
    const status = await tartan.ctl('node', 'status');
    expect(status.code).toBe(0);
    expect(status.stdout.match(/\| up +\|/g)).toHaveLength(4);
  });

  it('receives eBGP and iBGP routes of both families with their attributes', async () => {
    const v4 = await waitFor(
      async () => {
        const rs = await tartan.receivedRoutes('ipv4-unicast');
        const want = [['10.92.0.0/24', e], ['10.92.1.0/24', e], ['10.93.0.0/24', i], ['10.93.1.0/24', i]] as const;
        return want.every(([p, h]) => find(rs, p, h.addr('ipv4'))) ? rs : undefined;
      },
      { what: 'the four IPv4 routes of e and i at Tartan' },
    );
    const fromE = find(v4, '10.92.0.0/24', e.addr('ipv4'))!;
    expect(fromE).toMatchObject({ asPath: [AS_E], nextHop: e.addr('ipv4'), communities: ['65092:1'], largeCommunities: [`${AS_E}:92:1`], med: 10, origin: 'igp' });
    expect(fromE.localPref).toBeUndefined(); // RFC 4271 §5.1.5: not sent over eBGP
    const fromI = find(v4, '10.93.0.0/24', i.addr('ipv4'))!;
    expect(fromI).toMatchObject({ asPath: [], nextHop: i.addr('ipv4'), communities: ['65093:1'], largeCommunities: [`${AS_T}:93:1`], med: 20, localPref: 100 });
    expect(find(v4, '10.92.1.0/24', e.addr('ipv4'))).toBeDefined();
    expect(find(v4, '10.93.1.0/24', i.addr('ipv4'))).toBeDefined();

    const v6 = await waitFor(
      async () => {
        const rs = await tartan.receivedRoutes('ipv6-unicast');
        return find(rs, '2001:db8:92::/48', e.addr('ipv6')) && find(rs, '2001:db8:93::/48', i.addr('ipv6')) ? rs : undefined;
      },
      { what: 'the IPv6 routes of e and i at Tartan' },
    );
    expect(find(v6, '2001:db8:92::/48', e.addr('ipv6'))).toMatchObject({ asPath: [AS_E], nextHop: e.addr('ipv6'), communities: ['65092:6'] });
    expect(find(v6, '2001:db8:93::/48', i.addr('ipv6'))).toMatchObject({ asPath: [], nextHop: i.addr('ipv6'), localPref: 100 });
  });

  it('advertises its routes to eBGP and iBGP peers with the right attributes', async () => {
    const atE = await waitFor(
      async () => {
        const rs = await ebgp.receivedRoutes('ipv4-unicast');
        return find(rs, '10.91.0.0/24') && find(rs, '10.91.1.0/24') ? rs : undefined;
      },
      { what: `${name} (eBGP) to learn Tartan's IPv4 routes` },
    );
    expect(find(atE, '10.91.0.0/24')).toMatchObject({ asPath: [AS_T], nextHop: t.addr('ipv4'), communities: ['65091:1'], largeCommunities: [`${AS_T}:91:1`], med: 91 });
    const atI = await waitFor(async () => find(await ibgp.receivedRoutes('ipv4-unicast'), '10.91.0.0/24'), { what: `${name} (iBGP) to learn 10.91.0.0/24` });
    expect(atI).toMatchObject({ asPath: [], nextHop: t.addr('ipv4'), localPref: 100, med: 91 });
    const v6E = await waitFor(async () => find(await ebgp.receivedRoutes('ipv6-unicast'), '2001:db8:91::/48'), { what: `${name} to learn 2001:db8:91::/48` });
    expect(v6E).toMatchObject({ asPath: [AS_T], nextHop: t.addr('ipv6'), communities: ['65091:6'] });
    const v6I = await waitFor(async () => find(await ibgp.receivedRoutes('ipv6-unicast'), '2001:db8:91::/48'), { what: `${name} (iBGP) to learn 2001:db8:91::/48` });
    expect(v6I).toMatchObject({ asPath: [], nextHop: t.addr('ipv6') });
  });

  it('follows withdrawals and implicit withdrawals from the peer', async () => {
    await ebgp.withdraw('10.92.1.0/24');
    await waitFor(async () => !find(await tartan.receivedRoutes('ipv4-unicast'), '10.92.1.0/24'), { what: 'Tartan to drop 10.92.1.0/24' });
    // Same prefix again with other attributes: replaces the old route (implicit withdraw).
    await ebgp.withdraw('10.92.0.0/24');
    await ebgp.announce({ prefix: '10.92.0.0/24', communities: ['65092:99'] });
    const replaced = await waitFor(
      async () => {
        const r = find(await tartan.receivedRoutes('ipv4-unicast'), '10.92.0.0/24');
        return r?.communities.includes('65092:99') ? r : undefined;
      },
      { what: 'Tartan to see 10.92.0.0/24 with community 65092:99' },
    );
    expect(replaced.communities).toEqual(['65092:99']);
    expect((await tartan.receivedRoutes('ipv4-unicast')).filter((r) => r.prefix === '10.92.0.0/24')).toHaveLength(1);
    await ibgp.withdraw('2001:db8:93::/48');
    await waitFor(async () => !find(await tartan.receivedRoutes('ipv6-unicast'), '2001:db8:93::/48'), { what: 'Tartan to drop 2001:db8:93::/48' });
  });

  it('withdraws and changes its own routes on config reload without resetting sessions', async () => {
    const before = (await tartan.status()).peers.map((p) => [p.address, p.since]);
    tartan.reload({
      ...tartanOpts,
      originate: [{ prefix: '10.91.0.0/24', communities: ['65091:2'] }, { prefix: '2001:db8:91::/48', communities: ['65091:6'] }],
    });
    await waitFor(async () => !find(await ebgp.receivedRoutes('ipv4-unicast'), '10.91.1.0/24'), { what: `${name} to drop 10.91.1.0/24` });
    await waitFor(async () => find(await ebgp.receivedRoutes('ipv4-unicast'), '10.91.0.0/24')?.communities.join() === '65091:2', {
      what: `${name} to see 10.91.0.0/24 with community 65091:2 only`,
    });
    await waitFor(async () => !find(await ibgp.receivedRoutes('ipv4-unicast'), '10.91.1.0/24'), { what: `${name} (iBGP) to drop 10.91.1.0/24` });
    const after = (await tartan.status()).peers.map((p) => [p.address, p.since]);
    expect(after).toEqual(before);
  });

  it("drops a peer's routes when the peer goes down, and ends cleanly on SIGTERM", async () => {
    await ebgp.stop();
    await waitFor(async () => (await tartan.receivedRoutes('ipv4-unicast')).every((r) => r.fromPeer !== e.addr('ipv4')), {
      what: `Tartan to drop every route from ${e.addr('ipv4')}`,
    });
    expect((await tartan.receivedRoutes('ipv6-unicast')).some((r) => r.fromPeer === e.addr('ipv6'))).toBe(false);
    expect(await tartan.peerState(e.addr('ipv4'))).not.toBe('Established');
    // iBGP routes are unaffected.
    expect(find(await tartan.receivedRoutes('ipv4-unicast'), '10.93.0.0/24', i.addr('ipv4'))).toBeDefined();

    expect(await tartan.stop()).toBe(0);
    await waitFor(async () => !find(await ibgp.receivedRoutes('ipv4-unicast'), '10.91.0.0/24'), { what: `${name} to drop Tartan's routes after it stopped` });
    expect(tartan.logTail(400)).toMatch(/sent NOTIFICATION Cease \/ Administrative Shutdown/);
  });
});
