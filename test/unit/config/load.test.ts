import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, ConfigError, loadConfigFile } from '../../../src/config';

const EXAMPLE = join(__dirname, '../../../config/tartan-node.example.yaml');

function errorOf(text: string): ConfigError {
  try {
    parseConfig(text);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('node config', () => {
  it('loads the annotated example with every field', () => {
    const cfg = loadConfigFile(EXAMPLE);
    expect(cfg.nodeName).toBe('node-a');
    expect(cfg.asNumber).toBe(64512);
    expect(cfg.routerId).toBe('192.0.2.10');
    expect(cfg.listen).toEqual({ address: '::', port: 179, enabled: true });
    expect(cfg.peers).toHaveLength(2);
    expect(cfg.peers[0]).toMatchObject({ name: 'tor-1', peerIP: '192.0.2.1', asNumber: 64512, passive: false, holdTime: 90, connectRetryTime: 3 });
    expect(cfg.peers[1]).toMatchObject({ peerIP: '2001:db8::1', asNumber: 4200000001, families: ['ipv6-unicast'] });
    expect(cfg.originate.map((o) => o.prefix)).toEqual(['10.65.0.0/26', '10.65.1.0/26', '2001:db8:65::/64']);
    expect(cfg.originate[1]).toMatchObject({ med: 10, localPref: 200, communities: ['64512:100', 'no-export'], largeCommunities: ['4200000001:1:2'] });
    expect(cfg.originate[2]!.family).toBe('ipv6-unicast');
  });

  it('applies Calico-like defaults to a minimal file', () => {
    const cfg = parseConfig('routerId: 192.0.2.1\n');
    expect(cfg.asNumber).toBe(64512);
    expect(cfg.listen.port).toBe(179);
    expect(cfg.controlSocket).toBe('/run/tartan/tartan.sock');
    expect(cfg.bgp).toMatchObject({ holdTime: 90, connectRetryTime: 3, gracefulRestartTime: 120 });
    expect(cfg.peers).toEqual([]);
  });

  it('takes the router ID from ipv4Address and canonicalises addresses', () => {
    const cfg = parseConfig('ipv4Address: 192.0.2.7\npeers:\n  - {peerIP: "2001:0db8::0001", asNumber: 1}\n');
    expect(cfg.routerId).toBe('192.0.2.7');
    expect(cfg.peers[0]!.peerIP).toBe('2001:db8::1');
  });

  it.each([
    ['peers:\n  - {peerIP: 10.0.0.300, asNumber: 1}\nrouterId: 1.1.1.1', 'peers[0].peerIP', '"10.0.0.300" is not an IP address'],
    ['routerId: 1.1.1.1\npeers:\n  - {peerIP: 10.0.0.1}', 'peers[0].asNumber', 'is required'],
    ['routerId: 1.1.1.1\nasNumber: 4294967296', 'asNumber', 'out of range 1..4294967295'],
    ['routerId: 1.1.1.1\nasNumber: "x"', 'asNumber', 'must be an integer'],
    ['routerId: 0.0.0.0', 'routerId', 'not a dotted-quad router ID'],
    ['asNumber: 1', 'routerId', 'is required'],
    ['routerId: 1.1.1.1\nbgp: {holdTime: 2}', 'bgp.holdTime', 'hold time must be 0 or at least 3'],
    ['routerId: 1.1.1.1\npeers:\n  - {peerIP: 10.0.0.1, asNumber: 1, pasive: true}', 'peers[0].pasive', 'unknown field (did you mean "passive"?)'],
    ['routerId: 1.1.1.1\npeers:\n  - {peerIP: 10.0.0.1, asNumber: 1, families: [ipv4-multicast]}', 'peers[0].families[0]', 'must be one of ipv4-unicast, ipv6-unicast'],
    ['routerId: 1.1.1.1\npeers:\n  - {peerIP: 10.0.0.1, asNumber: 1}\n  - {peerIP: 10.0.0.1, asNumber: 2}', 'peers[1].peerIP', 'already configured at peers[0]'],
    ['routerId: 1.1.1.1\npeers:\n  - {peerIP: 10.0.0.1, asNumber: 1, sourceAddress: "::1"}', 'peers[0].sourceAddress', 'same family'],
    ['routerId: 1.1.1.1\noriginate: [10.0.0.1/24]', 'originate[0].prefix', 'host bits clear'],
    ['routerId: 1.1.1.1\noriginate: [{prefix: 10.0.0.0/24, communities: ["70000:1"]}]', 'originate[0].communities[0]', 'is not a community'],
    ['routerId: 1.1.1.1\noriginate: [{prefix: 10.0.0.0/24, largeCommunities: ["1:2"]}]', 'originate[0].largeCommunities[0]', 'is not a large community'],
    ['routerId: 1.1.1.1\noriginate: [{prefix: "2001:db8::/32", nextHop: 1.2.3.4}]', 'originate[0].nextHop', 'needs an IPv6 next hop'],
    ['routerId: 1.1.1.1\nlisten: {port: 0}', 'listen.port', 'out of range 1..65535'],
    ['routerId: 1.1.1.1\nlog: {level: loud}', 'log.level', 'must be one of error, warn, info, debug'],
    ['routerId: 1.1.1.1\npeers: {a: 1}', 'peers', 'must be a list'],
    ['routerId: 1.1.1.1\npeers:\n  - {peerIP: 10.0.0.1, asNumber: 64512, routeReflectorClient: true}', 'peers[0].routeReflectorClient', 'needs routeReflectorClusterID'],
    ['routerId: 1.1.1.1\nrouteReflectorClusterID: 1.1.1.1\npeers:\n  - {peerIP: 10.0.0.1, asNumber: 1, routeReflectorClient: true}', 'peers[0].routeReflectorClient', 'must be an iBGP peer'],
    ['routerId: 1.1.1.1\npeers:\n  - {peerIP: 10.0.0.1, asNumber: 1, nextHopMode: self}', 'peers[0].nextHopMode', 'must be one of Auto, Self, Keep'],
    ['routerId: 1.1.1.1\nfib: {table: 0}', 'fib.table', 'out of range'],
    ['routerId: 1.1.1.1\npeers:\n  - {peerIP: 10.0.0.1, asNumber: 1, filters: [nope]}', 'peers[0].filters[0]', 'no bgpFilters entry is named "nope"'],
    ['routerId: 1.1.1.1\nbgpFilters:\n  - {name: f, spec: {importV4: [{action: Maybe}]}}', 'bgpFilters[0].spec.importV4[0].action', ''],
    ['- just\n- a list', '', 'must be a mapping'],
  ])('rejects %j at %s', (text, path, problem) => {
    const err = errorOf(text);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.path).toBe(path);
    expect(err.message).toContain(problem);
    if (path) expect(err.message.startsWith(`${path}: `)).toBe(true);
  });

  it('reports YAML syntax errors with the line', () => {
    const err = errorOf('routerId: 1.1.1.1\npeers:\n  - peerIP: [unclosed\n');
    expect(err.message).toMatch(/line \d+, column \d+: invalid YAML/);
  });

  it('rejects duplicate keys', () => {
    expect(errorOf('routerId: 1.1.1.1\nasNumber: 1\nasNumber: 2\n').message).toMatch(/invalid YAML/);
  });

  it('names the file in errors from loadConfigFile', () => {
    expect(() => loadConfigFile('/nonexistent/tartan.yaml')).toThrow('/nonexistent/tartan.yaml: no such file');
  });

  it('example file documents every field the loader reads', () => {
    const text = readFileSync(EXAMPLE, 'utf8');
    for (const field of ['nodeName', 'asNumber', 'routerId', 'ipv4Address', 'ipv6Address', 'listen', 'controlSocket', 'log', 'holdTime', 'keepaliveTime', 'connectRetryTime', 'gracefulRestartTime', 'peerIP', 'passive', 'families', 'sourceAddress', 'localASNumber', 'enabled', 'originate', 'nextHop', 'med', 'localPref', 'communities', 'largeCommunities', 'fib', 'resyncIntervalSeconds', 'startupHoldSeconds', 'routeReflectorClusterID', 'routeReflectorClient', 'nextHopMode', 'filters', 'bgpFilters']) {
      expect(text).toContain(`${field}:`);
    }
  });
});
