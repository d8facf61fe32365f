/**
 * Next-hop tracking (RFC 4271 §9.1.2): a route whose NEXT_HOP no kernel route
 * resolves is kept (and shown) but is no candidate — not best, not in the
 * kernel, not exported — until a route to the next hop appears, and it goes
 * again when that route goes. BIRD, iBGP, sends one prefix with a third-party
 * next hop (203.0.113.9) and one with its own address.
 */
import { Lab, startBird, waitFor, type Host, type KernelRoute } from '../harness';
import { startTartan, type TartanNode } from '../tartan/tartan-node';

const AS = 64512;
const FAR = '10.140.0.0/24';
const NEAR = '10.141.0.0/24';
const HOP = '203.0.113.9';

function ours(routes: KernelRoute[], dst: string): KernelRoute | undefined {
  return routes.find((r) => r.dst === dst && ['201', 'tartan-bgp'].includes(String(r.protocol)));
}

describe('next-hop tracking', () => {
  let lab: Lab;
  let t: Host, b: Host;
  let node: TartanNode;

  beforeAll(async () => {
    lab = await Lab.create('nexthop');
    [t, b] = [await lab.addHost('t'), await lab.addHost('b')];
    await startBird(b, {
      asn: AS,
      routerId: b.addr('ipv4'),
      peers: [{ address: t.addr('ipv4'), asn: AS, holdTime: 9 }],
      originate: [{ prefix: FAR, nextHop: HOP }, { prefix: NEAR }],
    });
    node = await startTartan(t, { asn: AS, peers: [{ address: b.addr('ipv4'), asn: AS, holdTime: 9, families: ['ipv4-unicast'] }] });
    await node.waitEstablished(b.addr('ipv4'));
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('keeps a route with an unreachable next hop out of the Loc-RIB and the kernel, and shows why', async () => {
    await waitFor(async () => ours(await t.routes('ipv4'), NEAR), { what: `${NEAR} in the kernel` });
    const far = await waitFor(async () => (await node.routes({ table: 'in', prefix: FAR })).find((r) => r.prefix === FAR), { what: `${FAR} received` });
    expect(far).toMatchObject({ nextHopUnreachable: true, attributes: { nextHop: [HOP] } });
    expect(far.best).toBeUndefined();
    expect(ours(await t.routes('ipv4'), FAR)).toBeUndefined();
    const loc = await node.client.routes({ table: 'loc' });
    expect(loc.map((r) => r.prefix)).toEqual([NEAR]);
    const shown = await node.ctl('bgp', 'routes', FAR);
    expect(shown.stdout).toContain('(next hop unreachable)');
  });

  it('installs it once a connected route reaches the next hop, and removes it when that route goes', async () => {
    // 203.0.113.0/24 on the LAN interface: a connected route (proto kernel, scope link) covers the next hop.
    await t.exec(['ip', 'addr', 'add', '203.0.113.1/24', 'dev', t.ifname]);
    const r = await waitFor(async () => ours(await t.routes('ipv4'), FAR), { what: `${FAR} in the kernel once ${HOP} is reachable` });
    expect(r.gateway).toBe(HOP);
    expect((await node.routes({ table: 'in', prefix: FAR })).find((x) => x.prefix === FAR)).toMatchObject({ best: true });
    await t.exec(['ip', 'addr', 'del', '203.0.113.1/24', 'dev', t.ifname]);
    await waitFor(async () => (ours(await t.routes('ipv4'), FAR) ? undefined : true), { what: `${FAR} gone from the kernel with the route to ${HOP}` });
    expect(ours(await t.routes('ipv4'), NEAR)).toBeDefined();
  });
});
