import { computePeering, splitPeerIP } from '../../../src/peering/peers';
import { emptySnapshot, durationSeconds, asNumberOf, type ClusterSnapshot } from '../../../src/peering/snapshot';
import type { BGPConfiguration, BGPPeer, BGPPeerSpec, NodeResource } from '../../../src/datastore';
import type { PeerConfigEntry } from '../../../src/config/types';

const DEFAULTS = { holdTime: 90, connectRetryTime: 3 };

function node(name: string, ipv4: string | undefined, extra: { labels?: Record<string, string>; rr?: string; as?: number; ipv6?: string } = {}): NodeResource {
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'Node',
    metadata: { name, ...(extra.labels ? { labels: extra.labels } : {}) },
    spec: {
      bgp: {
        ...(ipv4 ? { ipv4Address: `${ipv4}/24` } : {}),
        ...(extra.ipv6 ? { ipv6Address: `${extra.ipv6}/64` } : {}),
        ...(extra.rr ? { routeReflectorClusterID: extra.rr } : {}),
        ...(extra.as ? { asNumber: extra.as } : {}),
      },
    },
  };
}
function peer(name: string, spec: BGPPeerSpec): BGPPeer {
  return { apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: { name }, spec };
}
function bgpConfig(name: string, spec: BGPConfiguration['spec']): BGPConfiguration {
  return { apiVersion: 'projectcalico.org/v3', kind: 'BGPConfiguration', metadata: { name }, spec };
}
function snap(me: string, parts: Partial<ClusterSnapshot>): ClusterSnapshot {
  return { ...emptySnapshot(me), ...parts };
}
const byIp = (ps: PeerConfigEntry[]): Record<string, PeerConfigEntry> => Object.fromEntries(ps.map((p) => [p.peerIP, p]));

const A = node('a', '10.0.0.1');
const B = node('b', '10.0.0.2');
const C = node('c', '10.0.0.3');

describe('node-to-node mesh', () => {
  it('peers with every other node, named Mesh_<ip>, iBGP in the global AS, source address ours', () => {
    const r = computePeering(snap('b', { nodes: [A, B, C] }), DEFAULTS);
    expect(r.local).toMatchObject({ nodeName: 'b', ipv4: '10.0.0.2', asNumber: 64512, listenPort: 179 });
    expect(r.peers.map((p) => p.name)).toEqual(['Mesh_10_0_0_1', 'Mesh_10_0_0_3']);
    const a = byIp(r.peers)['10.0.0.1']!;
    expect(a).toMatchObject({ peerType: 'node-to-node mesh', asNumber: 64512, port: 179, sourceAddress: '10.0.0.2', families: ['ipv4-unicast'], routeReflectorClient: false, holdTime: 90, filters: [] });
  });

  it('is unidirectional: passive towards string-greater peer IPs', () => {
    const r = byIp(computePeering(snap('b', { nodes: [A, B, C] }), DEFAULTS).peers);
    expect(r['10.0.0.1']!.passive).toBe(false);
    expect(r['10.0.0.3']!.passive).toBe(true);
    // String comparison, as Calico's: "10.0.0.10" < "10.0.0.2".
    const r2 = byIp(computePeering(snap('b', { nodes: [B, node('j', '10.0.0.10')] }), DEFAULTS).peers);
    expect(r2['10.0.0.10']!.passive).toBe(false);
  });

  it('is off when nodeToNodeMeshEnabled is false', () => {
    const r = computePeering(snap('a', { nodes: [A, B], bgpConfigurations: [bgpConfig('default', { nodeToNodeMeshEnabled: false })] }), DEFAULTS);
    expect(r.peers).toEqual([]);
  });

  it('leaves route reflectors out, and a route reflector builds no mesh', () => {
    const rr = node('c', '10.0.0.3', { rr: '244.0.0.1' });
    expect(computePeering(snap('a', { nodes: [A, B, rr] }), DEFAULTS).peers.map((p) => p.peerIP)).toEqual(['10.0.0.2']);
    expect(computePeering(snap('c', { nodes: [A, B, rr] }), DEFAULTS).peers).toEqual([]);
  });

  it("uses each node's AS (eBGP across ASes) and the global AS otherwise", () => {
    const r = byIp(computePeering(snap('a', { nodes: [A, node('b', '10.0.0.2', { as: 65001 })], bgpConfigurations: [bgpConfig('default', { asNumber: 65000 })] }), DEFAULTS).peers);
    expect(r['10.0.0.2']!.asNumber).toBe(65001);
    const mine = computePeering(snap('a', { nodes: [A], bgpConfigurations: [bgpConfig('default', { asNumber: 65000 })] }), DEFAULTS);
    expect(mine.local?.asNumber).toBe(65000);
  });

  it('applies nodeMeshMaxRestartTime and nodeMeshPassword; listen ports per node', () => {
    const r = computePeering(
      snap('a', {
        nodes: [A, B],
        bgpConfigurations: [
          bgpConfig('default', { nodeMeshMaxRestartTime: '2m', nodeMeshPassword: { secretKeyRef: { name: 's', key: 'k' } }, listenPort: 1790 }),
          bgpConfig('node.b', { listenPort: 1179 }),
        ],
      }),
      DEFAULTS,
    );
    expect(r.local?.listenPort).toBe(1790);
    expect(r.peers[0]).toMatchObject({ name: 'Mesh_10_0_0_2', port: 1179, maxRestartTime: 120, password: { secretName: 's', secretKey: 'k' } });
  });

  it('peers over IPv6 when both nodes have IPv6 addresses, and skips the family we lack', () => {
    const a6 = node('a', '10.0.0.1', { ipv6: 'fd00::1' });
    const b6 = node('b', '10.0.0.2', { ipv6: 'fd00::2' });
    const r = computePeering(snap('a', { nodes: [a6, b6] }), DEFAULTS);
    expect(r.peers.map((p) => [p.peerIP, p.families[0], p.sourceAddress])).toEqual([
      ['10.0.0.2', 'ipv4-unicast', '10.0.0.1'],
      ['fd00::2', 'ipv6-unicast', 'fd00::1'],
    ]);
    const r2 = computePeering(snap('a', { nodes: [A, b6] }), DEFAULTS);
    expect(r2.peers.map((p) => p.peerIP)).toEqual(['10.0.0.2']);
    expect(r2.notes.join()).toMatch(/no IPv6 address/);
  });

  it('returns no local identity while our Node is missing', () => {
    const r = computePeering(snap('x', { nodes: [A] }), DEFAULTS);
    expect(r.local).toBeUndefined();
    expect(r.peers).toEqual([]);
  });
});

describe('explicit BGPPeers', () => {
  const tor = peer('tor', { peerIP: '192.0.2.1', asNumber: 65100 });

  it('a global peer applies to every node, named Global_<ip>, eBGP', () => {
    for (const me of ['a', 'b']) {
      const p = computePeering(snap(me, { nodes: [A, B], bgpPeers: [tor], bgpConfigurations: [bgpConfig('default', { nodeToNodeMeshEnabled: false })] }), DEFAULTS).peers;
      expect(p).toHaveLength(1);
      expect(p[0]).toMatchObject({ name: 'Global_192_0_2_1', peerType: 'global', asNumber: 65100, passive: false, port: 179 });
    }
  });

  it('node and nodeSelector limit a peer to the nodes selected', () => {
    const labelled = node('b', '10.0.0.2', { labels: { rack: 'r1' } });
    const peers = [peer('p1', { node: 'a', peerIP: '192.0.2.1', asNumber: 65100 }), peer('p2', { nodeSelector: "rack == 'r1'", peerIP: '192.0.2.2', asNumber: 65100 })];
    const off = [bgpConfig('default', { nodeToNodeMeshEnabled: false })];
    expect(computePeering(snap('a', { nodes: [A, labelled], bgpPeers: peers, bgpConfigurations: off }), DEFAULTS).peers.map((p) => p.name)).toEqual(['Node_192_0_2_1']);
    expect(computePeering(snap('b', { nodes: [A, labelled], bgpPeers: peers, bgpConfigurations: off }), DEFAULTS).peers.map((p) => p.name)).toEqual(['Node_192_0_2_2']);
  });

  it('a node-specific peering to an IP that has a global one is skipped', () => {
    const peers = [peer('g', { peerIP: '192.0.2.1', asNumber: 65100 }), peer('n', { node: 'a', peerIP: '192.0.2.1', asNumber: 65200 })];
    const r = computePeering(snap('a', { nodes: [A], bgpPeers: peers }), DEFAULTS).peers;
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ peerType: 'global', asNumber: 65100 });
  });

  it('carries Calico per-peer knobs: ports, local AS, keepalive, restart time, TTL security, password, source address, next hop, filters', () => {
    const p = peer('x', {
      node: 'a',
      peerIP: '192.0.2.9:1179',
      asNumber: '65100',
      localASNumber: 65001,
      keepaliveTime: '20s',
      maxRestartTime: '1m30s',
      ttlSecurity: 2,
      password: { secretKeyRef: { name: 'bgp', key: 'pw' } },
      sourceAddress: 'None',
      nextHopMode: 'Self',
      filters: ['f1', 'f2'],
      numAllowedLocalASNumbers: 1,
    });
    const r = computePeering(snap('a', { nodes: [A], bgpPeers: [p] }), DEFAULTS).peers[0]!;
    expect(r).toEqual({
      name: 'Node_192_0_2_9_port_1179',
      peerIP: '192.0.2.9',
      port: 1179,
      asNumber: 65100,
      localASNumber: 65001,
      passive: false,
      holdTime: 90,
      keepaliveTime: 20,
      connectRetryTime: 3,
      families: ['ipv4-unicast'],
      enabled: true,
      routeReflectorClient: false,
      nextHopMode: 'Self',
      addPaths: 'off',
      filters: ['f1', 'f2'],
      peerType: 'node specific',
      maxRestartTime: 90,
      ttlSecurity: 2,
      password: { secretName: 'bgp', secretKey: 'pw' },
      numAllowedLocalASNumbers: 1,
    });
  });

  it('keepOriginalNextHop means Keep for eBGP only', () => {
    const mk = (as: number): BGPPeer => peer('k', { node: 'a', peerIP: '192.0.2.1', asNumber: as, keepOriginalNextHop: true });
    expect(computePeering(snap('a', { nodes: [A], bgpPeers: [mk(65100)] }), DEFAULTS).peers[0]!.nextHopMode).toBe('Keep');
    expect(computePeering(snap('a', { nodes: [A], bgpPeers: [mk(64512)] }), DEFAULTS).peers[0]!.nextHopMode).toBe('Auto');
  });

  it('a peerIP that is a Calico node uses its listen port; a global one to a greater node IP is passive', () => {
    const peers = [peer('to-b', { peerIP: '10.0.0.2', asNumber: 64512 })];
    const cfgs = [bgpConfig('default', { nodeToNodeMeshEnabled: false }), bgpConfig('node.b', { listenPort: 1179 })];
    const r = computePeering(snap('a', { nodes: [A, B], bgpPeers: peers, bgpConfigurations: cfgs }), DEFAULTS).peers;
    expect(r).toEqual([expect.objectContaining({ name: 'Global_10_0_0_2_port_1179', port: 1179, passive: true })]);
  });

  it('never peers with itself', () => {
    const r = computePeering(snap('a', { nodes: [A], bgpPeers: [peer('self', { peerIP: '10.0.0.1', asNumber: 64512 })] }), DEFAULTS).peers;
    expect(r).toEqual([]);
  });

  it('reports an invalid selector and skips that peer', () => {
    const r = computePeering(snap('a', { nodes: [A, B], bgpPeers: [peer('bad', { nodeSelector: 'all()', peerSelector: "x == 'unterminated" })], bgpConfigurations: [bgpConfig('default', { nodeToNodeMeshEnabled: false })] }), DEFAULTS);
    expect(r.peers).toEqual([]);
    expect(r.notes.join()).toMatch(/invalid selector/);
  });
});

describe('route reflectors (peerSelector, reverse peering)', () => {
  const rr = node('c', '10.0.0.3', { rr: '244.0.0.1', labels: { 'route-reflector': 'true' } });
  const toRr = peer('peer-with-route-reflectors', { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'" });
  const off = bgpConfig('default', { nodeToNodeMeshEnabled: false });

  it('clients peer with the reflector only (node specific, not passive, not clients)', () => {
    const r = computePeering(snap('a', { nodes: [A, B, rr], bgpPeers: [toRr], bgpConfigurations: [off] }), DEFAULTS).peers;
    expect(r).toEqual([expect.objectContaining({ name: 'Node_10_0_0_3', peerIP: '10.0.0.3', peerType: 'node specific', passive: false, routeReflectorClient: false })]);
  });

  it('the reflector peers back with every node (reverse peering), each a route-reflector client', () => {
    const res = computePeering(snap('c', { nodes: [A, B, rr], bgpPeers: [toRr], bgpConfigurations: [off] }), DEFAULTS);
    expect(res.local?.routeReflectorClusterID).toBe('244.0.0.1');
    expect(res.peers.map((p) => [p.name, p.peerType, p.routeReflectorClient])).toEqual([
      ['Node_10_0_0_1', 'node specific', true],
      ['Node_10_0_0_2', 'node specific', true],
    ]);
  });

  it('reflectors sharing a cluster ID are non-clients of each other; different IDs make them clients', () => {
    const rr2 = node('d', '10.0.0.4', { rr: '244.0.0.1', labels: { 'route-reflector': 'true' } });
    const same = byIp(computePeering(snap('c', { nodes: [A, rr, rr2], bgpPeers: [toRr], bgpConfigurations: [off] }), DEFAULTS).peers);
    expect(same['10.0.0.4']!.routeReflectorClient).toBe(false);
    expect(same['10.0.0.1']!.routeReflectorClient).toBe(true);
    const rr3 = node('d', '10.0.0.4', { rr: '244.0.0.2', labels: { 'route-reflector': 'true' } });
    expect(byIp(computePeering(snap('c', { nodes: [A, rr, rr3], bgpPeers: [toRr], bgpConfigurations: [off] }), DEFAULTS).peers)['10.0.0.4']!.routeReflectorClient).toBe(true);
  });

  it('eBGP peers never become clients', () => {
    const ext = node('a', '10.0.0.1', { as: 65001 });
    const r = byIp(computePeering(snap('c', { nodes: [ext, rr], bgpPeers: [toRr], bgpConfigurations: [off] }), DEFAULTS).peers);
    expect(r['10.0.0.1']).toMatchObject({ asNumber: 65001, routeReflectorClient: false });
  });

  it('reversePeering: Manual adds no reverse peerings', () => {
    const manual = peer('m', { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'", reversePeering: 'Manual' });
    expect(computePeering(snap('c', { nodes: [A, B, rr], bgpPeers: [manual], bgpConfigurations: [off] }), DEFAULTS).peers).toEqual([]);
  });

  it('a peerIP peering is reversed to the node with that IP and AS, same family only', () => {
    const p = peer('a-to-b', { node: 'a', peerIP: '10.0.0.2', asNumber: 64512 });
    const atB = computePeering(snap('b', { nodes: [A, B], bgpPeers: [p], bgpConfigurations: [off] }), DEFAULTS).peers;
    expect(atB).toEqual([expect.objectContaining({ name: 'Node_10_0_0_1', peerIP: '10.0.0.1' })]);
  });

  it('mesh and reflector coexist during a migration: non-RR nodes mesh among themselves and peer with the RR', () => {
    const r = computePeering(snap('a', { nodes: [A, B, rr], bgpPeers: [toRr] }), DEFAULTS).peers;
    expect(r.map((p) => [p.peerIP, p.peerType])).toEqual([
      ['10.0.0.2', 'node-to-node mesh'],
      ['10.0.0.3', 'node specific'],
    ]);
  });
});

describe('helpers', () => {
  it('parses peerIP forms', () => {
    expect(splitPeerIP('10.0.0.1')).toEqual({ host: '10.0.0.1', port: 0 });
    expect(splitPeerIP('10.0.0.1:1179')).toEqual({ host: '10.0.0.1', port: 1179 });
    expect(splitPeerIP('[fd00::1]:1179')).toEqual({ host: 'fd00::1', port: 1179 });
    expect(splitPeerIP('fd00::1')).toEqual({ host: 'fd00::1', port: 0 });
  });
  it('parses Go durations and AS numbers', () => {
    expect(durationSeconds('1m30s')).toBe(90);
    expect(durationSeconds('500ms')).toBe(1);
    expect(durationSeconds('0')).toBe(0);
    expect(durationSeconds('soon')).toBeUndefined();
    expect(asNumberOf('64512')).toBe(64512);
    expect(asNumberOf('1.10')).toBe(65546);
    expect(asNumberOf('x')).toBeUndefined();
  });
});
