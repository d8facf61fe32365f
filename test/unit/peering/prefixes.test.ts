import { computeOriginated } from '../../../src/peering/prefixes';
import { emptySnapshot, type ClusterSnapshot } from '../../../src/peering/snapshot';
import type { BGPConfiguration, IPPool, WorkloadEndpoint } from '../../../src/datastore';
import type { NodeBlockAffinity } from '../../../src/ipam';

const pool = (cidr: string, extra: Partial<IPPool['spec']> = {}): IPPool => ({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: cidr.replace(/[./]/g, '-') }, spec: { cidr, ...extra } });
const aff = (node: string, cidr: string, state: NodeBlockAffinity['state'] = 'confirmed'): NodeBlockAffinity => ({ node, cidr, state });
const wep = (name: string, node: string, ipNetworks: string[]): WorkloadEndpoint => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'WorkloadEndpoint',
  metadata: { name, namespace: 'default' },
  spec: { node, orchestrator: 'k8s', workload: name, endpoint: 'eth0', ipNetworks, interfaceName: 'cali0' },
});
const cfg = (spec: BGPConfiguration['spec'], name = 'default'): BGPConfiguration => ({ apiVersion: 'projectcalico.org/v3', kind: 'BGPConfiguration', metadata: { name }, spec });
const snap = (parts: Partial<ClusterSnapshot>): ClusterSnapshot => ({ ...emptySnapshot('a'), ...parts });

describe('originated prefixes', () => {
  it('originates and blackholes each confirmed affine block of this node only', () => {
    const r = computeOriginated(snap({ ipPools: [pool('10.65.0.0/16')], affinities: [aff('a', '10.65.0.0/26'), aff('a', '10.65.1.0/26', 'pending'), aff('b', '10.65.2.0/26'), aff('a', '10.65.0.64/26')] }));
    expect(r.originate.map((o) => o.prefix)).toEqual(['10.65.0.0/26', '10.65.0.64/26']);
    expect(r.blackholes).toEqual(['10.65.0.0/26', '10.65.0.64/26']);
    expect(r.originate[0]).toEqual({ prefix: '10.65.0.0/26', family: 'ipv4-unicast', communities: [], largeCommunities: [] });
  });

  it('does not blackhole /32 (or /128) blocks, but still originates them', () => {
    const r = computeOriginated(snap({ ipPools: [pool('10.65.0.0/16', { blockSize: 32 }), pool('fd00:65::/48')], affinities: [aff('a', '10.65.0.7/32'), aff('a', 'fd00:65::/122')] }));
    expect(r.originate.map((o) => [o.prefix, o.family])).toEqual([
      ['10.65.0.7/32', 'ipv4-unicast'],
      ['fd00:65::/122', 'ipv6-unicast'],
    ]);
    expect(r.blackholes).toEqual(['fd00:65::/122']);
  });

  it('originates borrowed workload addresses one by one, not those inside our blocks, not other nodes\'', () => {
    const r = computeOriginated(
      snap({
        ipPools: [pool('10.65.0.0/16')],
        affinities: [aff('a', '10.65.0.0/26')],
        workloadEndpoints: [wep('in-block', 'a', ['10.65.0.5/32']), wep('borrowed', 'a', ['10.65.0.70/32', 'fd00:65::9/128']), wep('elsewhere', 'b', ['10.65.0.71/32'])],
      }),
    );
    expect(r.originate.map((o) => o.prefix)).toEqual(['10.65.0.0/26', '10.65.0.70/32']);
  });

  it('borrowed IPv6 addresses inside an IPv6 pool are /128 routes', () => {
    const r = computeOriginated(snap({ ipPools: [pool('fd00:65::/48')], workloadEndpoints: [wep('w', 'a', ['fd00:65::9/128'])] }));
    expect(r.originate.map((o) => o.prefix)).toEqual(['fd00:65::9/128']);
  });

  it('never exports anything inside a disableBGPExport pool (the block still gets its blackhole)', () => {
    const r = computeOriginated(snap({ ipPools: [pool('10.66.0.0/16', { disableBGPExport: true })], affinities: [aff('a', '10.66.0.0/26')], workloadEndpoints: [wep('w', 'a', ['10.66.9.9/32'])] }));
    expect(r.originate).toEqual([]);
    expect(r.blackholes).toEqual(['10.66.0.0/26']);
  });

  it('keeps exporting a disabled pool (disabled only stops new allocations, as in Calico)', () => {
    const r = computeOriginated(snap({ ipPools: [pool('10.67.0.0/16', { disabled: true })], affinities: [aff('a', '10.67.0.0/26')], workloadEndpoints: [wep('w', 'a', ['10.67.9.9/32'])] }));
    expect(r.originate.map((o) => o.prefix)).toEqual(['10.67.0.0/26', '10.67.9.9/32']);
  });

  it('does not export a borrowed address that is in no pool', () => {
    const r = computeOriginated(snap({ workloadEndpoints: [wep('w', 'a', ['192.0.2.9/32'])] }));
    expect(r.originate).toEqual([]);
  });

  it('originates service cluster, external and load-balancer CIDRs without blackholes', () => {
    const r = computeOriginated(snap({ bgpConfigurations: [cfg({ serviceClusterIPs: [{ cidr: '10.96.0.0/12' }], serviceExternalIPs: [{ cidr: '192.0.2.0/24' }], serviceLoadBalancerIPs: [{ cidr: '198.51.100.7' }] })] }));
    expect(r.originate.map((o) => o.prefix)).toEqual(['10.96.0.0/12', '192.0.2.0/24', '198.51.100.7/32']);
    expect(r.blackholes).toEqual([]);
  });

  it('adds prefixAdvertisements communities (literal or named; standard and large) to prefixes inside their CIDR', () => {
    const r = computeOriginated(
      snap({
        ipPools: [pool('10.65.0.0/16')],
        affinities: [aff('a', '10.65.0.0/26'), aff('a', '10.65.1.0/26')],
        bgpConfigurations: [
          cfg({
            communities: [{ name: 'gold', value: '64512:300' }, { name: 'big', value: '64512:1:2' }],
            prefixAdvertisements: [
              { cidr: '10.65.0.0/24', communities: ['gold', '64512:120', 'big'] },
              { cidr: '10.65.0.0/16', communities: ['64512:1'] },
            ],
          }),
        ],
      }),
    );
    expect(r.originate[0]).toMatchObject({ prefix: '10.65.0.0/26', communities: ['64512:300', '64512:120', '64512:1'], largeCommunities: ['64512:1:2'] });
    expect(r.originate[1]).toMatchObject({ prefix: '10.65.1.0/26', communities: ['64512:1'], largeCommunities: [] });
  });

  it('notes an unknown community name', () => {
    const r = computeOriginated(snap({ affinities: [aff('a', '10.65.0.0/26')], bgpConfigurations: [cfg({ prefixAdvertisements: [{ cidr: '10.65.0.0/16', communities: ['nope'] }] })] }));
    expect(r.notes.join()).toMatch(/nope/);
    expect(r.originate[0]!.communities).toEqual([]);
  });
});
