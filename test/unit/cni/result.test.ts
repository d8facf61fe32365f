import { buildAddResult, buildIpamResult, formatResult, parseResult, CniError } from '../../../src/cni';

const v4 = { hostVeth: 'cali9beb1ed9b53', ifname: 'eth0', containerMac: '3a:26:6e:b1:93:38', netns: '/var/run/netns/p1', addresses: ['198.19.238.0'] };

describe('CNI results', () => {
  it('ADD (1.0.0): host veth and container interface, /32 on the container interface, default via 169.254.1.1', () => {
    const r = formatResult(buildAddResult({ ...v4, dns: { nameservers: ['10.96.0.10'] } }), '1.0.0');
    expect(r).toEqual({
      cniVersion: '1.0.0',
      interfaces: [
        { name: 'cali9beb1ed9b53', mac: 'ee:ee:ee:ee:ee:ee' },
        { name: 'eth0', mac: '3a:26:6e:b1:93:38', sandbox: '/var/run/netns/p1' },
      ],
      ips: [{ address: '198.19.238.0/32', interface: 1 }],
      routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }],
      dns: { nameservers: ['10.96.0.10'] },
    });
    // Key order as the spec lists it.
    expect(Object.keys(r)).toEqual(['cniVersion', 'interfaces', 'ips', 'routes', 'dns']);
  });

  it('dual stack: a /128 and an IPv6 default via the host link-local address; 0.4.0 results carry ips[].version', () => {
    const r = formatResult(buildAddResult({ ...v4, addresses: ['198.19.238.1', 'fd00:7a7a:ff::5'], gatewayV6: 'fe80::ecee:eeff:feee:eeee' }), '0.4.0');
    expect(r['ips']).toEqual([
      { version: '4', address: '198.19.238.1/32', interface: 1 },
      { version: '6', address: 'fd00:7a7a:ff::5/128', interface: 1 },
    ]);
    expect(r['routes']).toEqual([
      { dst: '0.0.0.0/0', gw: '169.254.1.1' },
      { dst: '::/0', gw: 'fe80::ecee:eeff:feee:eeee' },
    ]);
  });

  it('IPAM plugin result: addresses only, no interfaces', () => {
    expect(formatResult(buildIpamResult(['198.19.0.7']), '1.0.0')).toEqual({ cniVersion: '1.0.0', ips: [{ address: '198.19.0.7/32' }], routes: [] });
  });

  it('reads a previous result back', () => {
    const text = formatResult(buildAddResult(v4), '0.4.0');
    expect(parseResult(JSON.parse(JSON.stringify(text)), 'prevResult')).toEqual(buildAddResult(v4));
  });

  it('a malformed previous result names the bad entry', () => {
    expect(() => parseResult({ ips: [{ address: '198.19.0.1/32' }, { address: 'x' }], interfaces: {} }, 'prevResult')).toThrow(
      'invalid prevResult: prevResult.interfaces: must be a list; prevResult.ips[1].address: must be an address in CIDR form',
    );
    expect(() => parseResult('nope', 'prevResult')).toThrow(CniError);
  });
});
