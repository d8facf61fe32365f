/**
 * Calico BGPFilter on a live session with BIRD: import and export rules
 * (with operations) apply, and changing them by config reload re-filters
 * without resetting the session (Adj-RIB-In replay for imports, a diff of
 * the Adj-RIB-Out for exports).
 */
import { Lab, startBird, waitFor, type DaemonHandle, type Host, type RouteEntry } from '../harness';
import { startTartan, type TartanNode, type TartanOptions } from '../tartan/tartan-node';

function find(rs: RouteEntry[], prefix: string): RouteEntry | undefined {
  return rs.find((r) => r.prefix === prefix);
}

describe('BGPFilter', () => {
  let lab: Lab;
  let t: Host, b: Host;
  let tartan: TartanNode;
  let bird: DaemonHandle;
  let opts: TartanOptions;

  const filters = (importReject: string, exportReject: string): object[] => [
    {
      name: 'edge',
      spec: {
        importV4: [{ action: 'Reject', cidr: importReject, matchOperator: 'Equal' }],
        exportV4: [
          { action: 'Reject', cidr: exportReject, matchOperator: 'Equal' },
          { action: 'Accept', cidr: '10.140.0.0/16', matchOperator: 'In', operations: [{ addCommunity: { value: '64512:140' } }] },
        ],
      },
    },
  ];

  beforeAll(async () => {
    lab = await Lab.create('bgp-filter');
    [t, b] = [await lab.addHost('t'), await lab.addHost('b')];
    bird = await startBird(b, {
      asn: 65001,
      routerId: b.addr('ipv4'),
      peers: [{ address: t.addr('ipv4'), asn: 64512, holdTime: 9 }],
      originate: [{ prefix: '10.150.0.0/24' }, { prefix: '10.150.1.0/24' }],
    });
    opts = {
      asn: 64512,
      peers: [{ address: b.addr('ipv4'), asn: 65001, holdTime: 9, families: ['ipv4-unicast'], filters: ['edge'] }],
      originate: [{ prefix: '10.140.0.0/24' }, { prefix: '10.140.1.0/24' }],
      extra: { bgpFilters: filters('10.150.1.0/24', '10.140.1.0/24') },
    };
    tartan = await startTartan(t, opts);
    await tartan.waitEstablished(b.addr('ipv4'));
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('rejects on import but keeps the route visible, and applies export rules with operations', async () => {
    await waitFor(async () => find(await tartan.receivedRoutes('ipv4-unicast'), '10.150.0.0/24'), { what: 'Tartan to learn 10.150.0.0/24' });
    const views = await tartan.routes({ table: 'in' });
    expect(views.find((v) => v.prefix === '10.150.1.0/24')?.rejected).toBe('rejected by import filter');
    expect(views.find((v) => v.prefix === '10.150.0.0/24')).toMatchObject({ best: true });
    const atBird = await waitFor(async () => find(await bird.receivedRoutes('ipv4-unicast'), '10.140.0.0/24'), { what: 'BIRD to learn 10.140.0.0/24' });
    expect(atBird.communities).toEqual(['64512:140']);
    expect(find(await bird.receivedRoutes('ipv4-unicast'), '10.140.1.0/24')).toBeUndefined();
  });

  it('re-filters on reload without resetting the session', async () => {
    const since = (await tartan.status()).peers[0]!.since;
    tartan.reload({ ...opts, extra: { bgpFilters: filters('10.150.0.0/24', '10.140.0.0/24') } });
    await waitFor(async () => find(await bird.receivedRoutes('ipv4-unicast'), '10.140.1.0/24'), { what: 'BIRD to learn 10.140.1.0/24 after the export filter changed' });
    await waitFor(async () => !find(await bird.receivedRoutes('ipv4-unicast'), '10.140.0.0/24'), { what: 'BIRD to lose 10.140.0.0/24' });
    await waitFor(
      async () => {
        const v = await tartan.routes({ table: 'in' });
        return v.find((r) => r.prefix === '10.150.1.0/24')?.best === true && v.find((r) => r.prefix === '10.150.0.0/24')?.rejected === 'rejected by import filter';
      },
      { what: 'the import filter to be replayed over the Adj-RIB-In' },
    );
    const peer = (await tartan.status()).peers[0]!;
    expect(peer.since).toBe(since);
    expect(peer.state).toBe('Established');
    expect(tartan.logTail(400)).toContain('BGP filters changed');
  });
});
