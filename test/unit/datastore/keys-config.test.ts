import { configFromEnv, resourceKey, kindPrefix, parseResourceKey } from '../../../src/datastore';
import { decodeResource, encodeResource } from '../../../src/datastore/codec';
import { etcdOptions } from '../../../src/datastore/config';
import { isTartanError } from '../../../src/errors';

describe('etcd key layout', () => {
  it('matches libcalico-go', () => {
    expect(resourceKey('BGPPeer', 'tor')).toBe('/calico/resources/v3/projectcalico.org/bgppeers/tor');
    expect(resourceKey('NetworkPolicy', 'p', 'prod')).toBe('/calico/resources/v3/projectcalico.org/networkpolicies/prod/p');
    expect(resourceKey('WorkloadEndpoint', 'w')).toBe('/calico/resources/v3/projectcalico.org/workloadendpoints/default/w');
    expect(resourceKey('BGPConfiguration', 'node.n1')).toBe('/calico/resources/v3/projectcalico.org/bgpconfigurations/node.n1');
    expect(kindPrefix('IPPool')).toBe('/calico/resources/v3/projectcalico.org/ippools/');
    expect(kindPrefix('NetworkPolicy', 'prod')).toBe('/calico/resources/v3/projectcalico.org/networkpolicies/prod/');
    expect(parseResourceKey('/calico/resources/v3/projectcalico.org/networkpolicies/prod/p')).toEqual({ kind: 'NetworkPolicy', namespace: 'prod', name: 'p' });
    expect(parseResourceKey('/calico/resources/v3/projectcalico.org/ippools/a/b')).toBeUndefined();
    expect(parseResourceKey('/calico/ipam/v2/config')).toBeUndefined();
  });

  it('codec drops resourceVersion on write and sets it from the mod revision on read', () => {
    const r = { apiVersion: 'projectcalico.org/v3' as const, kind: 'Node' as const, metadata: { name: 'n', resourceVersion: '5' }, spec: {} };
    const text = encodeResource(r);
    expect(JSON.parse(text).metadata).toEqual({ name: 'n' });
    const d = decodeResource({ key: '/calico/resources/v3/projectcalico.org/nodes/n', value: text, modRevision: 42 });
    expect(d.ok && d.resource.metadata.resourceVersion).toBe('42');
    const wrong = decodeResource({ key: '/calico/resources/v3/projectcalico.org/nodes/m', value: text, modRevision: 1 });
    expect(wrong).toEqual({ ok: false, reason: 'name "n" does not match the key' });
  });
});

describe('datastore config', () => {
  it('reads Calico env variables', () => {
    expect(
      configFromEnv({
        ETCD_ENDPOINTS: 'https://10.0.0.1:2379, https://10.0.0.2:2379',
        ETCD_CA_CERT_FILE: '/etc/calico/ca.pem',
        ETCD_CERT_FILE: '/etc/calico/cert.pem',
        ETCD_KEY_FILE: '/etc/calico/key.pem',
        ETCD_USERNAME: 'u',
        ETCD_PASSWORD: 'p',
      }),
    ).toEqual({
      endpoints: ['https://10.0.0.1:2379', 'https://10.0.0.2:2379'],
      caCertFile: '/etc/calico/ca.pem', certFile: '/etc/calico/cert.pem', keyFile: '/etc/calico/key.pem', username: 'u', password: 'p',
    });
    expect(configFromEnv({})).toEqual({ endpoints: ['http://127.0.0.1:2379'] });
  });

  it('rejects incomplete TLS/auth and unreadable files with DATASTORE_CONFIG_INVALID', () => {
    const codeOf = (f: () => unknown): string | undefined => {
      try {
        f();
        return undefined;
      } catch (e) {
        return isTartanError(e) ? e.code : 'foreign';
      }
    };
    expect(codeOf(() => etcdOptions({ endpoints: [] }))).toBe('DATASTORE_CONFIG_INVALID');
    expect(codeOf(() => etcdOptions({ endpoints: ['http://a:1'], certFile: '/x' }))).toBe('DATASTORE_CONFIG_INVALID');
    expect(codeOf(() => etcdOptions({ endpoints: ['http://a:1'], username: 'u' }))).toBe('DATASTORE_CONFIG_INVALID');
    expect(codeOf(() => etcdOptions({ endpoints: ['https://a:1'], caCertFile: '/nonexistent/ca.pem' }))).toBe('DATASTORE_CONFIG_INVALID');
    expect(etcdOptions({ endpoints: ['http://a:1'], username: 'u', password: 'p' }).auth).toEqual({ username: 'u', password: 'p' });
  });
});
