import {
  interfaceSysctls,
  namespacesFromProfiles,
  parseDuration,
  resolveFelixConfig,
  toHostEndpoint,
  toPolicy,
  usableLocalWorkloads,
  workloadRoutes,
  type ConvertProblem,
} from '../../../src/dataplane/controller';
import type { FelixConfiguration, GlobalNetworkPolicy, HostEndpoint } from '../../../src/datastore';
import type { WorkloadEndpoint } from '../../../src/dataplane/policy';

const wep = (name: string, node: string, iface: string, nets: string[]): WorkloadEndpoint => ({ name, namespace: 'ns', node, interfaceName: iface, ipNetworks: nets });
const S = { families: [4, 6] as Array<4 | 6>, metricV4: 1024, metricV6: 1024 };

describe('workload routes', () => {
  test('one device route per ipNetworks entry of local endpoints, per enabled family', () => {
    const problems: ConvertProblem[] = [];
    const locals = usableLocalWorkloads(
      [
        ['k/a', wep('a', 'n1', 'calia', ['198.18.0.2/32', 'fd00:7a7a::2/128'])],
        ['k/b', wep('b', 'n2', 'calib', ['198.18.0.3/32'])],
        ['k/c', wep('c', 'n1', 'calic', ['198.18.0.4'])],
      ],
      'n1',
      problems,
    );
    const r = workloadRoutes(locals, S, problems);
    expect([...r]).toEqual([
      ['198.18.0.2/32', { nextHops: [{ ifname: 'calia' }], metric: 1024 }],
      ['fd00:7a7a::2/128', { nextHops: [{ ifname: 'calia' }], metric: 1024 }],
      ['198.18.0.4/32', { nextHops: [{ ifname: 'calic' }], metric: 1024 }],
    ]);
    expect([...workloadRoutes(locals, { ...S, families: [4], metricV4: 512 }, [])].map(([p, t]) => [p, t.metric])).toEqual([
      ['198.18.0.2/32', 512],
      ['198.18.0.4/32', 512],
    ]);
    expect(problems).toEqual([]);
  });

  test('conflicts: a shared interface or prefix keeps the first endpoint by key and reports the other', () => {
    const problems: ConvertProblem[] = [];
    const locals = usableLocalWorkloads(
      [
        ['k/b', wep('b', 'n1', 'calia', ['198.18.0.9/32'])],
        ['k/a', wep('a', 'n1', 'calia', ['198.18.0.2/32'])],
        ['k/c', wep('c', 'n1', 'calic', ['198.18.0.2/32'])],
        ['k/d', wep('d', 'n1', '', ['198.18.0.5/32'])],
      ],
      'n1',
      problems,
    );
    const r = workloadRoutes(locals, S, problems);
    expect([...r.keys()]).toEqual(['198.18.0.2/32']);
    expect(r.get('198.18.0.2/32')?.nextHops?.[0]?.ifname).toBe('calia');
    expect(problems.map((p) => p.key).sort()).toEqual(['k/b', 'k/c', 'k/d']);
  });
});

test('interface sysctls as Felix sets them', () => {
  expect(interfaceSysctls('cali1', [4, 6])).toEqual([
    { path: '/proc/sys/net/ipv4/conf/cali1/route_localnet', value: '1' },
    { path: '/proc/sys/net/ipv4/neigh/cali1/proxy_delay', value: '0' },
    { path: '/proc/sys/net/ipv4/conf/cali1/proxy_arp', value: '1' },
    { path: '/proc/sys/net/ipv4/conf/cali1/forwarding', value: '1' },
    { path: '/proc/sys/net/ipv4/conf/cali1/rp_filter', value: '1' },
    { path: '/proc/sys/net/ipv6/conf/cali1/proxy_ndp', value: '1' },
    { path: '/proc/sys/net/ipv6/conf/cali1/forwarding', value: '1' },
    { path: '/proc/sys/net/ipv6/conf/cali1/accept_ra', value: '0' },
  ]);
  expect(interfaceSysctls('cali1', [4])).toHaveLength(5);
});

describe('FelixConfiguration', () => {
  const fc = (name: string, spec: FelixConfiguration['spec']): FelixConfiguration => ({ apiVersion: 'projectcalico.org/v3', kind: 'FelixConfiguration', metadata: { name }, spec });
  test('defaults < default < node.<name> < explicit options', () => {
    const configs = [
      fc('default', { routeRefreshInterval: '30s', ipv6Support: true, interfacePrefix: 'veth,tap', defaultEndpointToHostAction: 'Drop' }),
      fc('node.n1', { routeRefreshInterval: '1m30s', ipv4NormalRoutePriority: 100 }),
      fc('node.n2', { routeRefreshInterval: '5s' }),
    ];
    const c = resolveFelixConfig(configs, 'n1', { families: [4] });
    expect(c).toMatchObject({ routeRefreshMs: 90_000, families: [4], interfacePrefix: 'veth', metricV4: 100, endpointToHostAction: 'DROP', iptablesRefreshMs: 180_000 });
    expect(resolveFelixConfig([], 'n1')).toMatchObject({ interfacePrefix: 'cali', families: [4], metricV4: 1024, routeRefreshMs: 90_000 });
  });
  test('durations', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1h2m3s')).toBe(3_723_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('soon')).toBeUndefined();
  });
});

describe('resources → policy model', () => {
  test('unsupported matches drop the rule (never widen it) and are reported', () => {
    const problems: ConvertProblem[] = [];
    const r: GlobalNetworkPolicy = {
      apiVersion: 'projectcalico.org/v3',
      kind: 'GlobalNetworkPolicy',
      metadata: { name: 'p' },
      spec: {
        selector: 'all()',
        ingress: [
          { action: 'Allow', source: { serviceAccounts: { names: ['x'] } } },
          { action: 'Deny', protocol: 'TCP', http: { methods: ['GET'] } },
          { action: 'Allow', protocol: 'UDP', destination: { ports: [53] }, metadata: { annotations: { a: 'b' } } },
        ],
        doNotTrack: true,
      },
    };
    const p = toPolicy(r, 'key', problems);
    expect(p).toEqual({
      kind: 'GlobalNetworkPolicy',
      name: 'p',
      spec: { selector: 'all()', ingress: [{ action: 'Allow', protocol: 'UDP', destination: { ports: [53] } }], doNotTrack: true },
    });
    expect(problems.map((x) => x.message)).toEqual([expect.stringContaining('serviceAccounts'), expect.stringContaining('http')]);
  });

  test('host endpoints: local with interface get chains; without interface only feed ipsets', () => {
    const hep = (name: string, spec: HostEndpoint['spec']): HostEndpoint => ({ apiVersion: 'projectcalico.org/v3', kind: 'HostEndpoint', metadata: { name }, spec });
    expect(toHostEndpoint(hep('a', { node: 'n1', interfaceName: 'eth0' }), 'n1').node).toBe('n1');
    expect(toHostEndpoint(hep('b', { node: 'n1', expectedIPs: ['10.0.0.1'] }), 'n1').node).toBe('');
    expect(toHostEndpoint(hep('c', { node: 'n2', interfaceName: 'eth0' }), 'n1').node).toBe('n2');
  });

  test('namespace labels from kns.<ns> profiles (pcns. prefix)', () => {
    expect(namespacesFromProfiles([{ name: 'kns.prod', labelsToApply: { 'pcns.env': 'prod', other: 'x' } }, { name: 'plain' }])).toEqual([
      { name: 'prod', labels: { 'projectcalico.org/name': 'prod', env: 'prod' } },
    ]);
  });
});
