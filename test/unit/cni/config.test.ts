import { parseNetConf, decodeConfig, roleOf, CniError, CNI_INVALID_CONFIG, CNI_INCOMPATIBLE_VERSION, CNI_DECODE_FAILURE } from '../../../src/cni';

const good = {
  cniVersion: '1.0.0',
  name: 'k8s-pod-network',
  type: 'tartan',
  etcd_endpoints: 'http://10.0.0.1:2379, http://10.0.0.2:2379',
  nodename: 'node-1',
  mtu: 1440,
  log_level: 'Warning',
  ipam: { type: 'tartan-ipam', assign_ipv4: 'true', assign_ipv6: true, ipv4_pools: ['demo-pool', '198.19.0.0/16'] },
  dns: { nameservers: ['10.96.0.10'], search: ['demo.svc.cluster.local'] },
  container_settings: { allow_ip_forwarding: true },
  policy: { type: 'k8s' },
  kubernetes: { kubeconfig: '/etc/cni/net.d/calico-kubeconfig' },
  args: { cni: { labels: [{ key: 'app', value: 'web' }, { key: 'example.com/tier', value: 'front' }] } },
};

function problem(raw: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): CniError {
  try {
    parseNetConf(raw, roleOf(raw), env);
  } catch (e) {
    return e as CniError;
  }
  throw new Error('parsed without error');
}

describe('network configuration', () => {
  it('parses a Calico-style config (unknown Calico fields ignored)', () => {
    const c = parseNetConf(good, 'plugin');
    expect(c).toMatchObject({
      cniVersion: '1.0.0',
      name: 'k8s-pod-network',
      type: 'tartan',
      etcd: { endpoints: ['http://10.0.0.1:2379', 'http://10.0.0.2:2379'], requestTimeoutMs: 5000 },
      nodename: 'node-1',
      mtu: 1440,
      logLevel: 'warn',
      ipam: { type: 'tartan-ipam', assignIpv4: true, assignIpv6: true, ipv4Pools: ['demo-pool', '198.19.0.0/16'], ipv6Pools: [] },
      dns: { nameservers: ['10.96.0.10'], search: ['demo.svc.cluster.local'] },
      allowIpForwarding: true,
      labels: { app: 'web', 'example.com/tier': 'front' },
      nodenameFile: '/var/lib/calico/nodename',
    });
    expect(c.raw).toBe(good);
  });

  it('defaults: IPv4 only, kernel MTU, info logs, no forwarding, no labels', () => {
    const c = parseNetConf({ cniVersion: '0.3.1', name: 'n', type: 'tartan', etcd_endpoints: '127.0.0.1:2379', ipam: { type: 'tartan-ipam' } }, 'plugin');
    expect(c).toMatchObject({ mtu: 0, logLevel: 'info', allowIpForwarding: false, labels: {}, ipam: { assignIpv4: true, assignIpv6: false } });
    expect(c.dns).toBeUndefined();
    expect(c.nodename).toBeUndefined();
  });

  it('falls back to Calico\'s ETCD_* environment for the datastore', () => {
    const c = parseNetConf({ cniVersion: '1.0.0', name: 'n', type: 'tartan', ipam: { type: 'tartan-ipam' } }, 'plugin', {
      ETCD_ENDPOINTS: 'https://e1:2379',
      ETCD_CA_CERT_FILE: '/ca.pem',
      ETCD_CERT_FILE: '/c.pem',
      ETCD_KEY_FILE: '/k.pem',
    });
    expect(c.etcd).toEqual({ endpoints: ['https://e1:2379'], caCertFile: '/ca.pem', certFile: '/c.pem', keyFile: '/k.pem', requestTimeoutMs: 5000 });
  });

  it('names every bad field by its path (code 7)', () => {
    const e = problem({
      ...good,
      name: 'bad name',
      mtu: 20,
      log_level: 'loud',
      datastore_type: 'kubernetes',
      ipam: { type: 'tartan-ipam', assign_ipv4: 'maybe', ipv4_pools: ['fd00::/64'] },
      dns: { nameservers: ['not-an-ip'] },
      args: { cni: { labels: [{ key: 'ok', value: 'fine' }, { key: '-bad', value: 'x' }, { key: 'k', value: 'way too long '.repeat(9) }] } },
    });
    expect(e.cniCode).toBe(CNI_INVALID_CONFIG);
    const paths = e.details.split('\n').map((l) => l.split(':')[0]);
    expect(paths).toEqual([
      'name',
      'datastore_type',
      'mtu',
      'log_level',
      'ipam.assign_ipv4',
      'ipam.ipv4_pools[0]',
      'dns.nameservers[0]',
      'args.cni.labels[1].key',
      'args.cni.labels[2].value',
    ]);
    expect(e.message).toMatch(/^invalid network config: name: "bad name" is not a network name/);
    expect(e.message).toContain('mtu: must be an integer from 68 to 65535 (or 0 for the kernel default), got 20');
  });

  it('requires name, type tartan, ipam.type and an etcd endpoint', () => {
    const e = problem({ cniVersion: '1.0.0', type: 'bridge' });
    expect(e.details.split('\n')).toEqual([
      'name: is required',
      'type: must be "tartan", got "bridge"',
      'etcd_endpoints: is required (comma-separated etcd URLs; or set ETCD_ENDPOINTS)',
      'ipam: is required',
    ]);
    expect(problem({ ...good, ipam: {} }).details).toBe('ipam.type: is required');
    expect(problem({ ...good, ipam: { type: 'tartan-ipam', assign_ipv4: false } }).details).toContain('no address to assign');
    expect(problem({ ...good, etcd_cert_file: '/c.pem' }).details).toContain('etcd_cert_file and etcd_key_file must be given together');
  });

  it('an unsupported cniVersion is code 1; a missing one code 7', () => {
    const e = problem({ ...good, cniVersion: '0.2.0' });
    expect(e.cniCode).toBe(CNI_INCOMPATIBLE_VERSION);
    expect(e.details).toBe('supported versions: 0.3.0, 0.3.1, 0.4.0, 1.0.0');
    const { cniVersion: _drop, ...noVersion } = good;
    expect(problem(noVersion).message).toBe('invalid network config: cniVersion: is required');
  });

  it('stdin that is not a JSON object is code 6', () => {
    expect(() => decodeConfig('{')).toThrow(expect.objectContaining({ cniCode: CNI_DECODE_FAILURE }));
    expect(() => decodeConfig('[1]')).toThrow('not a JSON object');
    expect(decodeConfig('{"a":1}')).toEqual({ a: 1 });
  });

  it('role: type tartan is the plugin; another plugin with ipam.type tartan-ipam runs us as IPAM', () => {
    expect(roleOf(good)).toBe('plugin');
    expect(roleOf({ type: 'bridge', ipam: { type: 'tartan-ipam' } })).toBe('ipam');
    expect(roleOf({ type: 'bridge', ipam: { type: 'host-local' } })).toBe('plugin');
    // As IPAM, any type is fine, and the IPAM fields still apply.
    const c = parseNetConf({ cniVersion: '1.0.0', name: 'n', type: 'bridge', etcd_endpoints: 'e:2379', ipam: { type: 'tartan-ipam', assign_ipv6: 'true' } }, 'ipam');
    expect(c.ipam).toMatchObject({ assignIpv4: true, assignIpv6: true });
  });

  it('keeps prevResult for CHECK and DEL', () => {
    const prev = { cniVersion: '1.0.0', ips: [{ address: '198.19.0.1/32' }] };
    expect(parseNetConf({ ...good, prevResult: prev }, 'plugin').prevResult).toBe(prev);
  });
});
