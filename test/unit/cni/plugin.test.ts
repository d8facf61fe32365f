import { cmdAdd, cmdDel, cmdCheck, ipamAdd, type EndpointStore, type PluginParts } from '../../../src/cni/plugin';
import type { Dataplane, VethSpec } from '../../../src/cni/dataplane';
import type { AddressSource } from '../../../src/cni/ipam';
import { parseNetConf, parseArgs, workloadIdentity, buildAddResult, formatResult, CniError, TARTAN_CNI_CHECK_FAILED, CNI_UNKNOWN_CONTAINER, TARTAN_CNI_INTERFACE_EXISTS } from '../../../src/cni';
import type { WorkloadEndpoint } from '../../../src/datastore';
import { DatastoreError } from '../../../src/datastore';
import { TartanError } from '../../../src/errors';

const raw = { cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'tartan', etcd_endpoints: 'e:2379', nodename: 'node-1', ipam: { type: 'tartan-ipam' }, args: { cni: { labels: [{ key: 'app', value: 'web' }] } } };
const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/var/run/netns/p1', CNI_IFNAME: 'eth0', CNI_ARGS: 'K8S_POD_NAMESPACE=demo;K8S_POD_NAME=web-1' };
const conf = parseNetConf(raw, 'plugin');
const args = parseArgs(env);
const id = workloadIdentity(args, 'node-1', conf.name);

/** Records what each part was asked to do, in one shared list. */
function fakes(opts: { failSetup?: Error; failApply?: Error; failGet?: Error; held?: string[]; wep?: WorkloadEndpoint } = {}) {
  const calls: string[] = [];
  const weps = new Map<string, WorkloadEndpoint>();
  if (opts.wep) weps.set(opts.wep.metadata.name, opts.wep);
  let veth = false;
  const dataplane: Dataplane = {
    async setup(spec: VethSpec) {
      calls.push(`setup ${spec.hostVeth} ${spec.addresses.join(',')}`);
      if (opts.failSetup) throw opts.failSetup;
      veth = true;
      return { containerMac: '0a:00:00:00:00:01', created: true };
    },
    async teardown(netns, ifname) {
      calls.push(`teardown ${netns} ${ifname}`);
      const had = veth;
      veth = false;
      return had;
    },
    async removeHostLink(name) {
      calls.push(`removeHostLink ${name}`);
      return false;
    },
    async inspect() {
      return veth
        ? {
            host: { ifindex: 5, linkIndex: 2, name: id.hostVeth, mac: 'ee:ee:ee:ee:ee:ee', mtu: 1500, up: true, kind: 'veth' },
            container: {
              link: { ifindex: 2, linkIndex: 5, name: 'eth0', mac: '0a:00:00:00:00:01', mtu: 1500, up: true, kind: 'veth' },
              addresses: ['198.19.0.5'],
              routes: [{ dst: '169.254.1.1', scope: 'link' }, { dst: 'default', gateway: '169.254.1.1' }],
            },
          }
        : {};
    },
  };
  const endpoints: EndpointStore = {
    async get(_ns, name) {
      if (opts.failGet) throw opts.failGet;
      return weps.get(name);
    },
    async apply(w) {
      calls.push(`apply ${w.metadata.name}`);
      if (opts.failApply) throw opts.failApply;
      weps.set(w.metadata.name, { ...w, metadata: { ...w.metadata, resourceVersion: '7' } });
    },
    async delete(_ns, name, rv) {
      calls.push(`delete ${name}@${rv}`);
      weps.delete(name);
    },
  };
  let held = opts.held ?? [];
  const addresses: AddressSource = {
    async assign() {
      calls.push('assign');
      const fresh = held.length === 0;
      if (fresh) held = ['198.19.0.5'];
      return { addresses: held, fresh };
    },
    async release() {
      calls.push('release');
      held = [];
    },
    async verify(a) {
      return a.every((x) => held.includes(x)) ? undefined : `handle lacks ${a.join(',')}`;
    },
  };
  const log = { debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() };
  const parts = { dataplane, endpoints, addresses, netnsExists: (p: string) => p !== '/gone', log } as unknown as PluginParts;
  return { parts, calls, weps, held: () => held };
}

describe('ADD', () => {
  it('addresses, then veth, then the endpoint; the result names both interfaces', async () => {
    const f = fakes();
    const r = await cmdAdd(conf, args, id, f.parts);
    expect(f.calls).toEqual(['assign', `setup ${id.hostVeth} 198.19.0.5`, 'apply node--1-k8s-web--1-eth0']);
    expect(r).toEqual(buildAddResult({ hostVeth: id.hostVeth, ifname: 'eth0', containerMac: '0a:00:00:00:00:01', netns: '/var/run/netns/p1', addresses: ['198.19.0.5'] }));
    expect(f.weps.get('node--1-k8s-web--1-eth0')?.metadata.labels).toMatchObject({ app: 'web', 'projectcalico.org/namespace': 'demo' });
  });

  it('a failure after the addresses were taken undoes everything (endpoint, veth, addresses)', async () => {
    const f = fakes({ failApply: new DatastoreError('DATASTORE_UNAVAILABLE', 'etcd away') });
    await expect(cmdAdd(conf, args, id, f.parts)).rejects.toThrow('etcd away');
    expect(f.calls).toEqual(['assign', `setup ${id.hostVeth} 198.19.0.5`, 'apply node--1-k8s-web--1-eth0', 'teardown /var/run/netns/p1 eth0', 'release']);
    expect(f.held()).toEqual([]);
  });

  it('with etcd gone mid-ADD the veth is still removed (the runtime\'s DEL releases the addresses later)', async () => {
    const away = new DatastoreError('DATASTORE_UNAVAILABLE', 'etcd away');
    const f = fakes({ failApply: away, failGet: away });
    await expect(cmdAdd(conf, args, id, f.parts)).rejects.toThrow('etcd away');
    expect(f.calls).toEqual(['assign', `setup ${id.hostVeth} 198.19.0.5`, 'apply node--1-k8s-web--1-eth0', 'teardown /var/run/netns/p1 eth0']);
    expect(f.held()).toEqual(['198.19.0.5']);
  });

  it('a dataplane failure releases the addresses', async () => {
    const f = fakes({ failSetup: new TartanError('CNI_DATAPLANE_ERROR', 'ip link add: File exists') });
    await expect(cmdAdd(conf, args, id, f.parts)).rejects.toThrow('File exists');
    expect(f.calls.at(-1)).toBe('release');
  });

  it('an interface that is not ours: fresh addresses released, the container left untouched', async () => {
    const f = fakes({ failSetup: new CniError(TARTAN_CNI_INTERFACE_EXISTS, 'interface eth0 already exists') });
    await expect(cmdAdd(conf, args, id, f.parts)).rejects.toThrow('already exists');
    expect(f.calls).toEqual(['assign', `setup ${id.hostVeth} 198.19.0.5`, 'release']);
  });

  it('a namespace that does not exist: code 3, nothing allocated', async () => {
    const f = fakes();
    await expect(cmdAdd(conf, { ...args, netns: '/gone' }, id, f.parts)).rejects.toThrow(expect.objectContaining({ cniCode: CNI_UNKNOWN_CONTAINER }));
    expect(f.calls).toEqual([]);
  });
});

describe('DEL', () => {
  it('veth, then endpoint, then addresses; a second DEL succeeds too', async () => {
    const f = fakes();
    await cmdAdd(conf, args, id, f.parts);
    f.calls.length = 0;
    await cmdDel(conf, { ...args, command: 'DEL' }, id, f.parts);
    expect(f.calls).toEqual(['teardown /var/run/netns/p1 eth0', 'delete node--1-k8s-web--1-eth0@7', 'release']);
    f.calls.length = 0;
    await cmdDel(conf, { ...args, command: 'DEL' }, id, f.parts);
    expect(f.calls).toEqual(['teardown /var/run/netns/p1 eth0', 'release']);
  });

  it('leaves the endpoint of a newer sandbox of the pod alone', async () => {
    const f = fakes();
    await cmdAdd(conf, { ...args, containerId: 'c2' }, { ...id, containerId: 'c2' }, f.parts);
    f.calls.length = 0;
    await cmdDel(conf, { ...args, command: 'DEL' }, id, f.parts);
    expect(f.calls).toEqual(['teardown /var/run/netns/p1 eth0', 'release']);
    expect(f.weps.has('node--1-k8s-web--1-eth0')).toBe(true);
  });

  it('without a namespace, removes the host veth its endpoint names', async () => {
    const f = fakes();
    await cmdAdd(conf, args, id, f.parts);
    f.calls.length = 0;
    await cmdDel(conf, { ...args, command: 'DEL', netns: '' }, id, f.parts);
    expect(f.calls).toEqual([`removeHostLink ${id.hostVeth}`, 'delete node--1-k8s-web--1-eth0@7', 'release']);
  });
});

describe('CHECK', () => {
  const prevFor = (r: unknown) => parseNetConf({ ...raw, prevResult: r }, 'plugin');

  it('passes after ADD, and names what is missing once it is gone', async () => {
    const f = fakes();
    const result = formatResult(await cmdAdd(conf, args, id, f.parts), '1.0.0');
    await expect(cmdCheck(prevFor(result), { ...args, command: 'CHECK' }, id, f.parts)).resolves.toBeUndefined();
    await f.parts.dataplane.teardown('/var/run/netns/p1', 'eth0');
    await f.parts.addresses.release();
    const err = (await cmdCheck(prevFor(result), { ...args, command: 'CHECK' }, id, f.parts).catch((e: unknown) => e)) as CniError;
    expect(err.cniCode).toBe(TARTAN_CNI_CHECK_FAILED);
    expect(err.details.split('\n')).toEqual([
      `host interface ${id.hostVeth} does not exist`,
      'interface eth0 does not exist in /var/run/netns/p1',
      'handle lacks 198.19.0.5',
    ]);
  });

  it('needs prevResult and cniVersion ≥ 0.4.0', async () => {
    const f = fakes();
    await expect(cmdCheck(conf, args, id, f.parts)).rejects.toThrow('prevResult: is required for CHECK');
    const old = parseNetConf({ ...raw, cniVersion: '0.3.1', prevResult: {} }, 'plugin');
    await expect(cmdCheck(old, args, id, f.parts)).rejects.toThrow('CHECK needs cniVersion 0.4.0 or later');
  });
});

describe('tartan-ipam run by another plugin', () => {
  it('returns only the addresses', async () => {
    const f = fakes();
    expect(formatResult(await ipamAdd(conf, f.parts.addresses), '1.0.0')).toEqual({ cniVersion: '1.0.0', ips: [{ address: '198.19.0.5/32' }], routes: [] });
  });
});
