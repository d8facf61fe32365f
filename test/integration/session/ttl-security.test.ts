/**
 * GTSM / TTL security (RFC 5082) between tartan-node and BIRD, as Calico
 * renders BGPPeer ttlSecurity: `ttl security on` (with `multihop N` for N
 * hops; here directly connected, N = 1: TTL 255 both ways).
 *
 *   t  tartan-node AS 65200 ── g1 BIRD AS 65201  ttl security on; Tartan ttlSecurity 1
 *                           ── g2 BIRD AS 65202  multihop (sends TTL 64), no ttl security; Tartan ttlSecurity 1
 *                           ── n  BIRD AS 65204  neither side
 *
 * g1 coming up (its kernel drops anything below TTL 255) shows Tartan sends
 * with 255 on its outgoing and accepted connections; g2 never coming up at
 * Tartan, with Tartan's kernel counting TCPMinTTLDrop, shows Tartan enforces
 * the minimum TTL. (BIRD's listening socket answers with TTL 255, so
 * Tartan's connections to g2 complete their handshake; g2's data at TTL 64
 * is what gets dropped, as it is on the connections g2 opens.)
 */
import { Lab, startBird, tcpExt, waitFor, type BirdDaemon, type Host, type PeerConfig } from '../harness';
import { startTartan, type TartanNode, type TartanPeer } from '../tartan/tartan-node';

const AS_T = 65200;

describe('TTL security with BIRD', () => {
  let lab: Lab;
  let t: Host, g1: Host, g2: Host, n: Host;
  let bird1: BirdDaemon, birdN: BirdDaemon;
  let tartan: TartanNode;

  beforeAll(async () => {
    lab = await Lab.create('ttl-security');
    [t, g1, g2, n] = [await lab.addHost('t'), await lab.addHost('g1'), await lab.addHost('g2'), await lab.addHost('n')];
    const bird = (h: Host, asn: number, extra: Partial<PeerConfig>): Promise<BirdDaemon> =>
      startBird(h, {
        asn,
        routerId: h.addr('ipv4'),
        peers: [
          { address: t.addr('ipv4'), asn: AS_T, holdTime: 9, ...extra },
          { address: t.addr('ipv6'), asn: AS_T, holdTime: 9, ...extra },
        ],
        originate: [{ prefix: `10.${asn - 65000}.0.0/24` }],
      });
    [bird1, , birdN] = await Promise.all([bird(g1, 65201, { ttlSecurity: true }), bird(g2, 65202, { multihop: true }), bird(n, 65204, {})]);
    const both = (h: Host, asn: number, ttlSecurity?: number): TartanPeer[] => [
      { address: h.addr('ipv4'), asn, holdTime: 9, families: ['ipv4-unicast'], ...(ttlSecurity !== undefined ? { ttlSecurity } : {}) },
      { address: h.addr('ipv6'), asn, holdTime: 9, families: ['ipv6-unicast'], ...(ttlSecurity !== undefined ? { ttlSecurity } : {}) },
    ];
    tartan = await startTartan(t, {
      asn: AS_T,
      peers: [...both(g1, 65201, 1), ...both(g2, 65202, 1), ...both(n, 65204)],
      originate: [{ prefix: '10.200.0.0/24' }],
    });
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('both sides with TTL security, directly connected: Established over IPv4 and IPv6, routes flow', async () => {
    for (const f of ['ipv4', 'ipv6'] as const) {
      await tartan.waitEstablished(g1.addr(f));
      await bird1.waitEstablished(t.addr(f));
    }
    await waitFor(async () => (await tartan.receivedRoutes('ipv4-unicast')).some((r) => r.prefix === '10.201.0.0/24'), { what: 'Tartan to learn 10.201.0.0/24 from g1' });
    await waitFor(async () => (await bird1.receivedRoutes('ipv4-unicast')).some((r) => r.prefix === '10.200.0.0/24'), { what: 'g1 to learn 10.200.0.0/24 from Tartan' });
    // Peers without TTL security are unaffected.
    await tartan.waitEstablished(n.addr('ipv4'));
    await tartan.waitEstablished(n.addr('ipv6'));
    await birdN.waitEstablished(t.addr('ipv4'));
  });

  it('a peer sending TTL 64 to a Tartan peer with ttlSecurity 1 never reaches Established: the kernel drops its packets', async () => {
    const states = new Set<string>();
    // TCP connections with g2 (ours and g2's; those that g2 opens during our error wait are refused): attempts.
    const attempts = (): number =>
      tartan
        .logTail(100_000)
        .split('\n')
        .filter((l) => l.includes(`"peer":"${g2.addr('ipv4')}"`) && /connection established|refusing connection/.test(l)).length;
    const d0 = await tcpExt(t, 'TCPMinTTLDrop');
    const a0 = attempts();
    await waitFor(
      async () => {
        for (const f of ['ipv4', 'ipv6'] as const) states.add(await tartan.peerState(g2.addr(f)));
        return (await tcpExt(t, 'TCPMinTTLDrop')) >= d0 + 5 && attempts() >= a0 + 3;
      },
      { what: "segments from g2 dropped below Tartan's minimum TTL over three more connections", timeoutMs: 90_000, intervalMs: 250 },
    );
    for (const f of ['ipv4', 'ipv6'] as const) states.add(await tartan.peerState(g2.addr(f)));
    expect([...states].filter((s) => s === 'Established')).toEqual([]);
    expect(await tartan.peerState(g1.addr('ipv4'))).toBe('Established');
    expect(await tartan.peerState(n.addr('ipv4'))).toBe('Established');
  });
});
