/**
 * 4-octet ASNs across a 2-octet-only peer (RFC 6793): FRR with
 * `dont-capability-negotiate` (no AS4 capability; FRR's `enable as4 off`
 * cannot peer with a 4-octet AS at all) sees Tartan (AS 4200000001) as
 * AS_TRANS and carries 4-octet ASNs in AS4_PATH; Tartan must rebuild the real
 * path on receipt and emit AS_TRANS + AS4_PATH when it sends.
 *
 *   g GoBGP AS 4200000003 ──(4-octet)── b FRR AS 65002 ──(2-octet only)── t Tartan AS 4200000001
 */
import { Lab, startFrr, startGobgp, waitFor, type DaemonHandle, type Host, type RouteEntry } from '../harness';
import { startTartan, type TartanNode } from '../tartan/tartan-node';

const AS_T = 4200000001;
const AS_B = 65002;
const AS_G = 4200000003;
const AS_TRANS = 23456;

function find(rs: RouteEntry[], prefix: string): RouteEntry | undefined {
  return rs.find((r) => r.prefix === prefix);
}

describe('4-octet AS through a 2-octet-only peer (AS_TRANS, AS4_PATH)', () => {
  let lab: Lab;
  let t: Host, b: Host, g: Host;
  let tartan: TartanNode;
  let frr: DaemonHandle, gobgp: DaemonHandle;

  beforeAll(async () => {
    lab = await Lab.create('as-trans');
    [t, b, g] = [await lab.addHost('t'), await lab.addHost('b'), await lab.addHost('g')];
    tartan = await startTartan(t, {
      asn: AS_T,
      peers: [{ address: b.addr('ipv4'), asn: AS_B, families: ['ipv4-unicast'], holdTime: 9 }],
      originate: [{ prefix: '10.97.0.0/24', communities: ['65097:1'] }],
    });
    frr = await startFrr(b, {
      asn: AS_B,
      routerId: b.addr('ipv4'),
      peers: [
        { address: t.addr('ipv4'), asn: AS_T, twoOctetOnly: true, holdTime: 9 },
        { address: g.addr('ipv4'), asn: AS_G, holdTime: 9 },
      ],
      originate: [{ prefix: '10.96.0.0/24' }],
    });
    // GoBGP only once Tartan's session with FRR is up. FRR 8.4 packs UPDATEs per update group, and
    // Tartan (dont-capability-negotiate) and GoBGP share one, encoded the way its first member
    // negotiated: with GoBGP first, FRR sent Tartan 4-octet AS_PATHs on the 2-octet session (seen
    // here as RFC 7606 treat-as-withdraw, "AS_PATH: unknown segment type 250", the first octet of
    // AS 4200000003), every time; with Tartan first, 2-octet paths and AS4_PATH, as RFC 6793 has it.
    await tartan.waitEstablished(b.addr('ipv4'));
    gobgp = await startGobgp(g, {
      asn: AS_G,
      routerId: g.addr('ipv4'),
      peers: [{ address: b.addr('ipv4'), asn: AS_B, holdTime: 9 }],
      originate: [{ prefix: '10.95.0.0/24' }],
    });
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('establishes without the 4-octet AS capability', async () => {
    await tartan.waitEstablished(b.addr('ipv4'));
    await frr.waitEstablished(g.addr('ipv4'));
    const peer = (await tartan.status()).peers[0]!;
    expect(peer.negotiated?.fourOctetAs).toBe(false);
    expect(peer.negotiated?.peerCapabilities.some((c) => c.startsWith('4-octet AS'))).toBe(false);
  });

  it("rebuilds the 4-octet path from AS4_PATH on routes it receives", async () => {
    const viaBird = await waitFor(async () => find(await tartan.receivedRoutes('ipv4-unicast'), '10.95.0.0/24'), {
      what: "Tartan to learn GoBGP's 10.95.0.0/24 through FRR",
    });
    expect(viaBird.asPath).toEqual([AS_B, AS_G]);
    expect(viaBird.asPath).not.toContain(AS_TRANS);
    const frrOwn = await waitFor(async () => find(await tartan.receivedRoutes('ipv4-unicast'), '10.96.0.0/24'), { what: "Tartan to learn FRR's 10.96.0.0/24" });
    expect(frrOwn.asPath).toEqual([AS_B]);
  });

  it('sends AS_TRANS in AS_PATH and MY AS to the 2-octet peer', async () => {
    const atFrr = await waitFor(async () => find(await frr.receivedRoutes('ipv4-unicast'), '10.97.0.0/24'), { what: 'FRR to learn 10.97.0.0/24' });
    // FRR shows the 2-octet AS_PATH as received. It does not merge our AS4_PATH
    // here: having read the AS4 capability in our OPEN, it treats us as a NEW
    // speaker although the session runs 2-octet (dont-capability-negotiate), so
    // it ignores AS4_PATH, and GoBGP beyond it sees AS_TRANS as well. The
    // AS4_PATH bytes themselves are checked against the codec's golden tests.
    expect(atFrr.asPath).toEqual([AS_TRANS]);
    expect(atFrr.communities).toEqual(['65097:1']);
    const atGobgp = await waitFor(async () => find(await gobgp.receivedRoutes('ipv4-unicast'), '10.97.0.0/24'), {
      what: 'GoBGP to learn 10.97.0.0/24 through FRR',
    });
    expect(atGobgp.asPath).toEqual([AS_B, AS_TRANS]);
  });
});
