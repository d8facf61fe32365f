import {
  parseResources, validateResource, checkResource, withDefaults, effectiveBGPConfiguration, lookupKind, KINDS,
  ResourceInvalidError, type BGPConfiguration, type IPPool, type NetworkPolicy,
} from '../../../src/datastore';
import { isTartanError } from '../../../src/errors';

const v3 = 'projectcalico.org/v3';

function problemsOf(value: unknown): string[] {
  const r = checkResource(value);
  return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
}

describe('valid Calico manifests', () => {
  const manifests: Array<[string, unknown]> = [
    ['global peer', { apiVersion: v3, kind: 'BGPPeer', metadata: { name: 'tor' }, spec: { peerIP: '192.0.2.1', asNumber: 64600 } }],
    ['peer with port', { apiVersion: v3, kind: 'BGPPeer', metadata: { name: 'p' }, spec: { peerIP: '192.0.2.1:1179', asNumber: '1.10' } }],
    ['v6 peer with port', { apiVersion: v3, kind: 'BGPPeer', metadata: { name: 'p6' }, spec: { peerIP: '[2001:db8::1]:179', asNumber: 65000, node: 'n1' } }],
    [
      'route reflector peering',
      { apiVersion: v3, kind: 'BGPPeer', metadata: { name: 'peer-with-route-reflectors' }, spec: { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'" } },
    ],
    [
      'bgp config',
      {
        apiVersion: v3,
        kind: 'BGPConfiguration',
        metadata: { name: 'default' },
        spec: {
          logSeverityScreen: 'Info',
          nodeToNodeMeshEnabled: false,
          asNumber: 63400,
          serviceClusterIPs: [{ cidr: '10.96.0.0/12' }],
          communities: [{ name: 'c1', value: '64512:100' }],
          prefixAdvertisements: [{ cidr: '172.16.0.0/16', communities: ['c1', '64512:200:300'] }],
          listenPort: 178,
        },
      },
    ],
    [
      'node',
      {
        apiVersion: v3,
        kind: 'Node',
        metadata: { name: 'rr1', labels: { 'route-reflector': 'true', 'kubernetes.io/hostname': 'rr1' } },
        spec: { bgp: { ipv4Address: '10.0.0.5/24', routeReflectorClusterID: '244.0.0.1', asNumber: 64512 }, orchRefs: [{ nodeName: 'rr1', orchestrator: 'k8s' }] },
      },
    ],
    ['pool', { apiVersion: v3, kind: 'IPPool', metadata: { name: 'default-ipv4-ippool' }, spec: { cidr: '192.168.0.0/16', ipipMode: 'Always', natOutgoing: true } }],
    ['v6 pool', { apiVersion: v3, kind: 'IPPool', metadata: { name: 'v6' }, spec: { cidr: 'fd00:10::/64', vxlanMode: 'CrossSubnet' } }],
    [
      'filter',
      {
        apiVersion: v3,
        kind: 'BGPFilter',
        metadata: { name: 'f' },
        spec: { exportV4: [{ action: 'Accept', matchOperator: 'In', cidr: '10.0.0.0/8', prefixLength: { min: 24, max: 32 } }], importV6: [{ action: 'Reject' }] },
      },
    ],
    [
      'network policy',
      {
        apiVersion: v3,
        kind: 'NetworkPolicy',
        metadata: { name: 'allow-tcp-6379', namespace: 'production' },
        spec: {
          selector: "role == 'database'",
          types: ['Ingress', 'Egress'],
          ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "role == 'frontend'" }, destination: { ports: [6379, '8000:8080', 'http'] } }],
          egress: [{ action: 'Allow' }],
        },
      },
    ],
    [
      'gnp',
      {
        apiVersion: v3,
        kind: 'GlobalNetworkPolicy',
        metadata: { name: 'deny-icmp' },
        spec: { order: 100.5, selector: 'all()', ingress: [{ action: 'Deny', protocol: 'ICMP', icmp: { type: 8 } }], doNotTrack: true, applyOnForward: true },
      },
    ],
    [
      'wep',
      {
        apiVersion: v3,
        kind: 'WorkloadEndpoint',
        metadata: { name: 'node1-k8s-pod--1-eth0', namespace: 'default' },
        spec: { node: 'node1', orchestrator: 'k8s', pod: 'pod-1', endpoint: 'eth0', interfaceName: 'cali0ef24ba4e2a', ipNetworks: ['10.0.0.5/32'], mac: 'ee:ee:ee:ee:ee:ee', profiles: ['kns.default'] },
      },
    ],
    ['hep', { apiVersion: v3, kind: 'HostEndpoint', metadata: { name: 'h1-eth0', labels: { role: 'gw' } }, spec: { node: 'h1', interfaceName: 'eth0', expectedIPs: ['192.0.2.10'] } }],
    ['profile', { apiVersion: v3, kind: 'Profile', metadata: { name: 'kns.default' }, spec: { ingress: [{ action: 'Allow' }], labelsToApply: { 'pcns.name': 'default' } } }],
    ['felix', { apiVersion: v3, kind: 'FelixConfiguration', metadata: { name: 'default' }, spec: { ipipEnabled: true, routeRefreshInterval: '90s', deviceRouteProtocol: 80 } }],
    [
      'node status',
      {
        apiVersion: v3,
        kind: 'CalicoNodeStatus',
        metadata: { name: 'n1' },
        spec: { node: 'n1', classes: ['BGP'] },
        status: { bgp: { numberEstablishedV4: 1, peersV4: [{ peerIP: '10.0.0.2', type: 'NodeMesh', state: 'Established', since: '09:00:00' }] } },
      },
    ],
    ['block affinity', { apiVersion: v3, kind: 'BlockAffinity', metadata: { name: 'n1-10-0-0-0-26' }, spec: { state: 'confirmed', node: 'n1', cidr: '10.0.0.0/26', deleted: 'false' } }],
    ['null spec fields are unset', { apiVersion: v3, kind: 'BGPConfiguration', metadata: { name: 'default', resourceVersion: '12' }, spec: { asNumber: null } }],
  ];
  test.each(manifests)('%s', (_name, value) => {
    expect(problemsOf(value)).toEqual([]);
  });
});

describe('invalid resources name every problem with its path', () => {
  it('bgp peer with several mistakes', () => {
    const problems = problemsOf({
      apiVersion: v3,
      kind: 'BGPPeer',
      metadata: { name: 'Bad_Name' },
      spec: { peerIP: '10.0.0.300', asNumber: 0, keepaliveTime: 'often', pasive: true, ttlSecurity: 300 },
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^metadata\.name: "Bad_Name" is not a valid name/),
        'spec.peerIP: "10.0.0.300" is not an IP address (IPv4, IPv4:port, IPv6 or [IPv6]:port)',
        'spec.asNumber: must be 1..4294967295, got 0',
        expect.stringMatching(/^spec\.keepaliveTime: "often" is not a duration/),
        'spec.pasive: unknown field',
        'spec.ttlSecurity: must be 0..255, got 300',
      ]),
    );
    expect(problems).toHaveLength(6);
  });

  const cases: Array<[string, unknown, RegExp]> = [
    ['wrong apiVersion', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' } }, /^apiVersion: must be projectcalico.org\/v3/],
    ['unknown kind', { apiVersion: v3, kind: 'Pod', metadata: { name: 'n' } }, /^kind: must be one of Node, BGPPeer/],
    ['missing name', { apiVersion: v3, kind: 'Node', metadata: {} }, /^metadata\.name: is required/],
    ['namespace on cluster kind', { apiVersion: v3, kind: 'IPPool', metadata: { name: 'p', namespace: 'x' }, spec: { cidr: '10.0.0.0/8' } }, /^metadata\.namespace: IPPool is not namespaced/],
    ['unknown top-level field', { apiVersion: v3, kind: 'Node', metadata: { name: 'n' }, specs: {} }, /^specs: unknown field/],
    ['bad label', { apiVersion: v3, kind: 'Node', metadata: { name: 'n', labels: { 'a b': 'x' } } }, /^metadata\.labels\["a b"\]: "a b" is not a valid label key/],
    ['peer selector with ip', { apiVersion: v3, kind: 'BGPPeer', metadata: { name: 'p' }, spec: { peerIP: '10.0.0.1', asNumber: 1, peerSelector: 'all()' } }, /^spec\.peerSelector: cannot be set together/],
    ['peer without AS', { apiVersion: v3, kind: 'BGPPeer', metadata: { name: 'p' }, spec: { peerIP: '10.0.0.1' } }, /^spec\.asNumber: is required when spec\.peerIP/],
    ['bad selector', { apiVersion: v3, kind: 'BGPPeer', metadata: { name: 'p' }, spec: { nodeSelector: "rack = 'a'", peerSelector: 'all()' } }, /^spec\.nodeSelector: unexpected character "=" at position 5/],
    ['node and nodeSelector', { apiVersion: v3, kind: 'BGPPeer', metadata: { name: 'p' }, spec: { node: 'a', nodeSelector: 'all()', peerSelector: 'all()' } }, /^spec\.nodeSelector: cannot be set together with spec\.node/],
    ['pool cidr', { apiVersion: v3, kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.0.0.0/33' } }, /^spec\.cidr: "10.0.0.0\/33" is not a CIDR/],
    ['pool host bits', { apiVersion: v3, kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.0.0.1/24' } }, /^spec\.cidr: "10.0.0.1\/24" has host bits set \(the network is 10.0.0.0\/24\)/],
    ['pool block size', { apiVersion: v3, kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.0.0.0/16', blockSize: 19 } }, /^spec\.blockSize: must be 20\.\.32 for an IPv4 pool/],
    ['pool smaller than block', { apiVersion: v3, kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.0.0.0/28', blockSize: 26 } }, /^spec\.blockSize: 26 is larger than the pool/],
    ['ipip on v6', { apiVersion: v3, kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: 'fd00::/64', ipipMode: 'Always' } }, /^spec\.ipipMode: IPIP is not supported for IPv6/],
    ['ipip and vxlan', { apiVersion: v3, kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.0.0.0/16', ipipMode: 'Always', vxlanMode: 'Always' } }, /^spec\.vxlanMode: ipipMode and vxlanMode cannot both/],
    ['loopback pool', { apiVersion: v3, kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '127.0.0.0/16' } }, /^spec\.cidr: 127\.0\.0\.0\/16 is in a reserved range/],
    ['mode typo', { apiVersion: v3, kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.0.0.0/16', ipipMode: 'always' } }, /^spec\.ipipMode: must be one of Never, Always, CrossSubnet, got "always"/],
    ['rr cluster id', { apiVersion: v3, kind: 'Node', metadata: { name: 'n' }, spec: { bgp: { routeReflectorClusterID: 'abc' } } }, /^spec\.bgp\.routeReflectorClusterID: "abc" is not an IPv4 address/],
    ['per-node mesh', { apiVersion: v3, kind: 'BGPConfiguration', metadata: { name: 'node.n1' }, spec: { nodeToNodeMeshEnabled: false } }, /^spec\.nodeToNodeMeshEnabled: can only be set on the "default"/],
    ['community', { apiVersion: v3, kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { communities: [{ name: 'c', value: '70000:1' }] } }, /^spec\.communities\[0\]\.value: "70000:1" is not a community/],
    ['rule ports without protocol', { apiVersion: v3, kind: 'GlobalNetworkPolicy', metadata: { name: 'g' }, spec: { ingress: [{ action: 'Allow', destination: { ports: [80] } }] } }, /^spec\.ingress\[0\]\.protocol: ports require protocol/],
    ['rule action', { apiVersion: v3, kind: 'GlobalNetworkPolicy', metadata: { name: 'g' }, spec: { egress: [{ action: 'Drop' }] } }, /^spec\.egress\[0\]\.action: must be one of Allow, Deny, Log, Pass/],
    ['preDNAT egress', { apiVersion: v3, kind: 'GlobalNetworkPolicy', metadata: { name: 'g' }, spec: { preDNAT: true, applyOnForward: true, egress: [{ action: 'Allow' }] } }, /^spec\.egress: preDNAT policy cannot have egress rules/],
    ['filter cidr family', { apiVersion: v3, kind: 'BGPFilter', metadata: { name: 'f' }, spec: { exportV4: [{ action: 'Accept', cidr: 'fd00::/8', matchOperator: 'In' }] } }, /^spec\.exportV4\[0\]\.cidr: "fd00::\/8" is not an IPv4 CIDR/],
    ['hep without interface', { apiVersion: v3, kind: 'HostEndpoint', metadata: { name: 'h' }, spec: { node: 'h' } }, /^spec\.interfaceName: one of spec\.interfaceName or spec\.expectedIPs/],
    ['not a mapping', 'hello', /^: a resource must be a mapping/],
  ];
  test.each(cases)('%s', (_name, value, re) => {
    const problems = problemsOf(value);
    expect(problems.some((p) => re.test(p))).toBe(true);
  });

  it('validateResource throws RESOURCE_INVALID with the resource named and all problems in the message', () => {
    let caught: unknown;
    try {
      validateResource({ apiVersion: v3, kind: 'IPPool', metadata: { name: 'p1' }, spec: { cidr: 'nope', blockSize: 'x' } });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ResourceInvalidError);
    expect(isTartanError(caught, 'RESOURCE_INVALID')).toBe(true);
    const msg = (caught as Error).message;
    expect(msg).toContain('IPPool "p1" is invalid');
    expect(msg).toContain('spec.cidr: "nope" is not a CIDR');
    expect(msg).toContain('spec.blockSize: must be 0..128, got "x"');
  });
});

describe('defaults', () => {
  it('IPPool gets Calico defaults', () => {
    const [v4, v6] = parseResources(`
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: p4}
spec: {cidr: 10.10.0.0/16}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: p6}
spec: {cidr: "fd00::/48", blockSize: 120}
`) as [IPPool, IPPool];
    expect(v4.spec).toEqual({
      cidr: '10.10.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false, nodeSelector: 'all()',
      allowedUses: ['Workload', 'Tunnel'], assignmentMode: 'Automatic',
    });
    expect(v6.spec.blockSize).toBe(120);
    expect(withDefaults<IPPool>({ ...v6, spec: { cidr: 'fd00::/48' } }).spec.blockSize).toBe(122);
  });

  const policy = (spec: NetworkPolicy['spec']): NetworkPolicy => ({ apiVersion: v3, kind: 'NetworkPolicy', metadata: { name: 'p' }, spec });
  test.each([
    [{}, ['Ingress']],
    [{ ingress: [{ action: 'Allow' as const }] }, ['Ingress']],
    [{ egress: [{ action: 'Allow' as const }] }, ['Egress']],
    [{ ingress: [{ action: 'Deny' as const }], egress: [{ action: 'Allow' as const }] }, ['Ingress', 'Egress']],
    [{ types: ['Egress' as const] }, ['Egress']],
  ])('policy types inferred like Calico: %j → %j', (spec, types) => {
    const r = withDefaults(policy(spec));
    expect(r.spec.types).toEqual(types);
    expect(r.metadata.namespace).toBe('default');
  });

  it('effective BGP configuration: defaults, global, per-node overlay', () => {
    expect(effectiveBGPConfiguration([])).toMatchObject({ asNumber: 64512, nodeToNodeMeshEnabled: true, logSeverityScreen: 'Info', listenPort: 179 });
    const configs: BGPConfiguration[] = [
      { apiVersion: v3, kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { asNumber: 65000, nodeToNodeMeshEnabled: false, logSeverityScreen: 'Warning' } },
      { apiVersion: v3, kind: 'BGPConfiguration', metadata: { name: 'node.n1' }, spec: { listenPort: 1179, logSeverityScreen: 'Debug' } },
    ];
    expect(effectiveBGPConfiguration(configs, 'n1')).toMatchObject({ asNumber: 65000, nodeToNodeMeshEnabled: false, logSeverityScreen: 'Debug', listenPort: 1179 });
    expect(effectiveBGPConfiguration(configs, 'n2')).toMatchObject({ logSeverityScreen: 'Warning', listenPort: 179 });
  });
});

describe('manifest parsing', () => {
  it('reads JSON, YAML lists and multi-document YAML', () => {
    const json = JSON.stringify({ apiVersion: v3, kind: 'Node', metadata: { name: 'n1' }, spec: {} });
    expect(parseResources(json).map((r) => r.metadata.name)).toEqual(['n1']);
    const list = `
apiVersion: projectcalico.org/v3
kind: List
items:
- apiVersion: projectcalico.org/v3
  kind: BGPPeer
  metadata: {name: a}
  spec: {peerIP: 10.0.0.1, asNumber: 65001}
- apiVersion: projectcalico.org/v3
  kind: BGPPeerList
  items:
  - apiVersion: projectcalico.org/v3
    kind: BGPPeer
    metadata: {name: b}
    spec: {peerIP: 10.0.0.2, asNumber: 65002}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: c}
`;
    expect(parseResources(list).map((r) => `${r.kind}/${r.metadata.name}`)).toEqual(['BGPPeer/a', 'BGPPeer/b', 'Node/c']);
  });

  it('reports problems of every document with the document index', () => {
    const text = `
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: ok}
spec: {peerIP: 10.0.0.1, asNumber: 1}
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: bad}
spec: {peerIP: 10.0.0.300, asNumber: 1}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: bad2}
spec: {cidr: 10.0.0.0/8, blockSize: 40}
`;
    expect(() => parseResources(text)).toThrow(/\[1\] spec\.peerIP: "10\.0\.0\.300" is not an IP address[\s\S]*\[2\] spec\.blockSize: must be 20\.\.32/);
  });

  it('YAML syntax errors are RESOURCE_PARSE_ERROR', () => {
    let caught: unknown;
    try {
      parseResources('kind: [unclosed');
    } catch (e) {
      caught = e;
    }
    expect(isTartanError(caught, 'RESOURCE_PARSE_ERROR')).toBe(true);
  });
});

describe('kind names', () => {
  test.each([
    ['bgpp', 'BGPPeer'], ['bgppeers', 'BGPPeer'], ['BGPPeer', 'BGPPeer'], ['no', 'Node'], ['nodes', 'Node'], ['pool', 'IPPool'],
    ['ippools', 'IPPool'], ['gnp', 'GlobalNetworkPolicy'], ['policy', 'NetworkPolicy'], ['wep', 'WorkloadEndpoint'], ['hep', 'HostEndpoint'],
    ['bgpconfig', 'BGPConfiguration'], ['felixconfig', 'FelixConfiguration'], ['bgpf', 'BGPFilter'], ['caliconodestatus', 'CalicoNodeStatus'],
  ])('%s → %s', (name, kind) => {
    expect(lookupKind(name)?.kind).toBe(kind);
  });
  it('unknown names and unique aliases', () => {
    expect(lookupKind('pods')).toBeUndefined();
    const all = KINDS.flatMap((k) => k.names);
    expect(new Set(all).size).toBe(all.length);
  });
});
