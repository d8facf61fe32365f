import { chooseAddress, withPrefixLength, type InterfaceAddress } from '../../../src/peering/autodetect';
import { registeredNode } from '../../../src/peering/registration';
import { livenessKey, livenessValue, nodeStatusBlock, nodeStatusResource } from '../../../src/peering/status';
import { desiredState, clusterNodeConfig, namedFilter } from '../../../src/peering/cluster';
import { emptySnapshot } from '../../../src/peering/snapshot';
import { validateConfig } from '../../../src/config';
import type { NodeResource } from '../../../src/datastore';
import type { NodeStatus, PeerStatus } from '../../../src/control/types';

const ifs: InterfaceAddress[] = [
  { ifname: 'lo', address: '127.0.0.1', prefixLength: 8, version: 4 },
  { ifname: 'docker0', address: '172.17.0.1', prefixLength: 16, version: 4 },
  { ifname: 'eth0', address: '169.254.3.3', prefixLength: 16, version: 4 },
  { ifname: 'eth0', address: '198.18.1.2', prefixLength: 24, version: 4 },
  { ifname: 'eth1', address: '10.9.0.2', prefixLength: 16, version: 4 },
  { ifname: 'eth0', address: 'fe80::1', prefixLength: 64, version: 6 },
  { ifname: 'eth0', address: 'fd00::2', prefixLength: 64, version: 6 },
];

describe('address autodetection (Calico methods)', () => {
  it('first-found skips Calico-excluded interfaces, loopback and link-local', () => {
    expect(chooseAddress('first-found', 4, ifs)?.address).toBe('198.18.1.2');
    expect(chooseAddress('first-found', 6, ifs)?.address).toBe('fd00::2');
  });
  it('interface=, skip-interface=, cidr=, can-reach=, none', () => {
    expect(chooseAddress('interface=eth1', 4, ifs)?.address).toBe('10.9.0.2');
    expect(chooseAddress('interface=nope,eth.*', 4, ifs)?.address).toBe('198.18.1.2');
    expect(chooseAddress('skip-interface=eth0', 4, ifs)?.address).toBe('10.9.0.2');
    expect(chooseAddress('cidr=10.0.0.0/8', 4, ifs)?.address).toBe('10.9.0.2');
    expect(chooseAddress('can-reach=10.9.1.1', 4, ifs, '10.9.0.2')).toMatchObject({ address: '10.9.0.2', prefixLength: 16 });
    expect(chooseAddress('none', 4, ifs)).toBeUndefined();
  });
  it('a configured address takes its interface prefix length, else a host prefix', () => {
    expect(withPrefixLength('198.18.1.2', ifs)).toBe('198.18.1.2/24');
    expect(withPrefixLength('192.0.2.1', ifs)).toBe('192.0.2.1/32');
  });
});

describe('node registration', () => {
  it('creates a Node with addresses and the configured AS', () => {
    expect(registeredNode(undefined, { name: 'a', ipv4Address: '198.18.1.2/24', asNumber: 65001 })).toEqual({
      apiVersion: 'projectcalico.org/v3',
      kind: 'Node',
      metadata: { name: 'a' },
      spec: { bgp: { ipv4Address: '198.18.1.2/24', asNumber: 65001 } },
    });
  });
  it('keeps labels, cluster ID and an inherited AS; reports nothing to do when already so', () => {
    const existing: NodeResource = { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'a', labels: { rr: 'true' }, resourceVersion: '9' }, spec: { bgp: { ipv4Address: '198.18.1.2/24', routeReflectorClusterID: '244.0.0.1', asNumber: 65009 } } };
    expect(registeredNode(existing, { name: 'a', ipv4Address: '198.18.1.2/24' })).toBeUndefined();
    const moved = registeredNode(existing, { name: 'a', ipv4Address: '198.18.1.3/24' })!;
    expect(moved.metadata).toEqual(existing.metadata);
    expect(moved.spec.bgp).toEqual({ ipv4Address: '198.18.1.3/24', routeReflectorClusterID: '244.0.0.1', asNumber: 65009 });
  });
});

describe('status reports', () => {
  const peer = (address: string, peerType: string, state: PeerStatus['state']): PeerStatus =>
    ({ name: address, address, port: 179, asNumber: 64512, localAsNumber: 64512, peerType, session: 'ibgp', enabled: true, passive: false, state, since: '2026-01-01T00:00:00.000Z', families: [], messages: { received: 0, sent: 0, updatesReceived: 0, updatesSent: 0, notificationsReceived: 0, notificationsSent: 0 } });
  const s: NodeStatus = { nodeName: 'a', asNumber: 64512, routerId: '10.0.0.1', version: '0.1.0', pid: 1, startedAt: '2026-01-01T00:00:00.000Z', peers: [peer('10.0.0.2', 'node-to-node mesh', 'Established'), peer('10.0.0.3', 'node specific', 'Active'), peer('fd00::2', 'global', 'Established')] };

  it('maps peers to CalicoNodeStatus types and counts', () => {
    const b = nodeStatusBlock(s, new Date('2026-01-01T00:01:00Z'), undefined);
    expect(b.bgp).toEqual({
      numberEstablishedV4: 1,
      numberNotEstablishedV4: 1,
      numberEstablishedV6: 1,
      numberNotEstablishedV6: 0,
      peersV4: [
        { peerIP: '10.0.0.2', type: 'NodeMesh', state: 'Established', since: '2026-01-01T00:00:00.000Z' },
        { peerIP: '10.0.0.3', type: 'NodePeer', state: 'Active', since: '2026-01-01T00:00:00.000Z' },
      ],
      peersV6: [{ peerIP: 'fd00::2', type: 'GlobalPeer', state: 'Established', since: '2026-01-01T00:00:00.000Z' }],
    });
    expect(b.agent?.birdV4).toMatchObject({ state: 'Ready', routerID: '10.0.0.1' });
    const r = nodeStatusResource(undefined, 'a', b, 30);
    expect(r.spec).toEqual({ node: 'a', classes: ['Agent', 'BGP'], updatePeriodSeconds: 30 });
  });

  it('liveness key and value are Felix-shaped', () => {
    expect(livenessKey('a')).toBe('/calico/felix/v2/no-region/host/a/status');
    expect(JSON.parse(livenessValue(new Date('2026-01-01T00:01:00Z'), new Date('2026-01-01T00:00:00Z'), true))).toEqual({ time: '2026-01-01T00:01:00Z', uptime: 60, first_update: true });
  });
});

describe('cluster-mode config', () => {
  it('datastore section: defaults, ETCD_* fill-in, field paths on errors', () => {
    const c = validateConfig({ nodeName: 'a', datastore: { type: 'etcdv3' } }, { ETCD_ENDPOINTS: 'http://10.0.0.9:2379,http://10.0.0.10:2379', ETCD_USERNAME: 'u', ETCD_PASSWORD: 'p' });
    expect(c.datastore).toEqual({
      type: 'etcdv3',
      endpoints: ['http://10.0.0.9:2379', 'http://10.0.0.10:2379'],
      username: 'u',
      password: 'p',
      ipAutodetectionMethod: 'first-found',
      ip6AutodetectionMethod: 'none',
      reportIntervalSeconds: 30,
      reportTTLSeconds: 90,
    });
    expect(c.routerId).toBe('');
    expect(() => validateConfig({ datastore: { type: 'kubernetes' } }, {})).toThrow(/datastore.type/);
    expect(() => validateConfig({ datastore: { endpoints: ['http://x:1'], ipAutodetectionMethod: 'guess' } }, {})).toThrow(/datastore.ipAutodetectionMethod/);
    expect(() => validateConfig({ datastore: { endpoints: ['http://x:1'], reportIntervalSeconds: 30, reportTTLSeconds: 10 } }, {})).toThrow(/datastore.reportTTLSeconds/);
    expect(() => validateConfig({ datastore: { endpoints: ['http://x:1'], certFile: '/c' } }, {})).toThrow(/certFile/);
    expect(() => validateConfig({ datastore: { endpoint: [] } }, {})).toThrow(/datastore.endpoint: unknown field \(did you mean "endpoints"\?\)/);
  });

  it('the file wins over ETCD_*; DATASTORE_TYPE=etcdv3 alone enables cluster mode; asNumber in the file is registered', () => {
    const c = validateConfig({ asNumber: 65001, datastore: { endpoints: ['http://a:2379'] } }, { ETCD_ENDPOINTS: 'http://b:2379' });
    expect(c.datastore?.endpoints).toEqual(['http://a:2379']);
    expect(c.datastore?.nodeASNumber).toBe(65001);
    expect(validateConfig({ routerId: '10.0.0.1' }, { DATASTORE_TYPE: 'etcdv3' }).datastore?.endpoints).toEqual(['http://127.0.0.1:2379']);
  });

  it('without a datastore the config is standalone as before (ETCD_* ignored)', () => {
    const c = validateConfig({ routerId: '10.0.0.1' }, { ETCD_ENDPOINTS: 'http://b:2379' });
    expect(c.datastore).toBeUndefined();
    expect(() => validateConfig({}, {})).toThrow(/routerId/);
  });

  it('builds the speaker config from the datastore (identity, listen port, bindMode, filters)', () => {
    const base = validateConfig({ nodeName: 'a', datastore: { endpoints: ['http://x:2379'] } }, {});
    const s = {
      ...emptySnapshot('a'),
      nodes: [{ apiVersion: 'projectcalico.org/v3' as const, kind: 'Node' as const, metadata: { name: 'a' }, spec: { bgp: { ipv4Address: '10.0.0.1/24', routeReflectorClusterID: '244.0.0.1' } } }],
      bgpConfigurations: [{ apiVersion: 'projectcalico.org/v3' as const, kind: 'BGPConfiguration' as const, metadata: { name: 'default' }, spec: { asNumber: 65000, listenPort: 1179, bindMode: 'NodeIP' as const } }],
      bgpFilters: [{ apiVersion: 'projectcalico.org/v3' as const, kind: 'BGPFilter' as const, metadata: { name: 'f' }, spec: { exportV4: [{ action: 'Reject' as const, cidr: '10.0.0.0/8', matchOperator: 'In' as const, asPathPrefix: ['65000'] }] } }],
    };
    const cfg = clusterNodeConfig(base, desiredState(base, s));
    expect(cfg).toMatchObject({ asNumber: 65000, routerId: '10.0.0.1', ipv4Address: '10.0.0.1', routeReflectorClusterID: '244.0.0.1', listen: { address: '10.0.0.1', port: 1179 } });
    expect(cfg.bgpFilters).toEqual([namedFilter(s.bgpFilters[0]!)]);
    expect(cfg.bgpFilters[0]!.spec.exportV4![0]!.asPathPrefix).toEqual([65000]);
  });
});
