/**
 * The `tartan` CNI plugin, run exactly as a container runtime runs it: the
 * executable (bin/tartan-cni → dist/cni/main.js) started inside a node's
 * network namespace, CNI_* variables in its environment, the network
 * configuration on stdin, CNI_NETNS=/var/run/netns/<pod namespace>. etcd is
 * real (in the lab, on the LAN; the test reads it through the relay), the
 * pods are real namespaces, and at the end a real tartan-node programs the
 * pods' /32 routes from the WorkloadEndpoints the plugin wrote and the pods
 * ping each other.
 *
 * One lab for the file; the steps build on each other.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClusterLab, destroyClusterLab, kernelRoutes, startClusterNode, type ClusterLab } from '../cluster/cluster-lab';
import { REPO } from '../tartan/tartan-node';
import { run, waitFor, type Host } from '../harness';
import { NAME_PREFIX, addNamespace, deleteNamespace, listNamespaces } from '../harness/netns';
import { API_VERSION, type WorkloadEndpoint } from '../../../src/datastore';
import { Ipam } from '../../../src/ipam';

const PLUGIN = join(REPO, 'bin/tartan-cni');
const POOL = '198.19.0.0/16';
const POOL6 = 'fd00:7a7a:c0::/112';
const NETWORK = 'k8s-pod-network';

interface Call {
  code: number;
  json: Record<string, unknown> | undefined;
  stdout: string;
  stderr: string;
}

interface Pod {
  name: string;
  ns: string;
  cid: string;
}

describe('tartan CNI plugin', () => {
  let c: ClusterLab;
  let node: Host;
  let ipam: Ipam;
  const pods: Pod[] = [];
  let conf: Record<string, unknown>;

  const netnsPath = (p: Pod): string => `/var/run/netns/${p.ns}`;
  const newPod = async (name: string): Promise<Pod> => {
    const pod = { name, ns: `${NAME_PREFIX}${c.lab.runId}-${name}`, cid: `c0ffee${name.replace(/[^a-z0-9]/g, '')}${pods.length}` };
    pods.push(pod); // recorded first: afterAll removes it even if creation fails half-way
    await addNamespace(pod.ns);
    await run(['ip', '-n', pod.ns, 'link', 'set', 'lo', 'up']); // the runtime's loopback plugin does this
    return pod;
  };

  /** Run the plugin as a runtime does: in the node's namespace, a clean environment, config on stdin. */
  const cni = async (
    command: 'ADD' | 'DEL' | 'CHECK' | 'VERSION',
    pod: Pod | undefined,
    opts: { config?: Record<string, unknown>; netns?: string; k8sPod?: string; cniPath?: string; prevResult?: unknown } = {},
  ): Promise<Call> => {
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', CNI_COMMAND: command, CNI_PATH: opts.cniPath ?? '/opt/cni/bin' };
    if (pod) {
      env['CNI_CONTAINERID'] = pod.cid;
      env['CNI_IFNAME'] = 'eth0';
      env['CNI_NETNS'] = opts.netns ?? netnsPath(pod);
      env['CNI_ARGS'] = `IgnoreUnknown=1;K8S_POD_NAMESPACE=demo;K8S_POD_NAME=${opts.k8sPod ?? pod.name};K8S_POD_INFRA_CONTAINER_ID=${pod.cid}`;
    }
    const config = { ...(opts.config ?? conf), ...(opts.prevResult !== undefined ? { prevResult: opts.prevResult } : {}) };
    const r = await run(['ip', 'netns', 'exec', node.ns, PLUGIN], { env, input: JSON.stringify(config), allowFailure: true, timeoutMs: 30_000 });
    let json: Record<string, unknown> | undefined;
    try {
      json = r.stdout.trim() ? (JSON.parse(r.stdout) as Record<string, unknown>) : undefined;
    } catch {
      json = undefined;
    }
    return { code: r.code ?? -1, json, stdout: r.stdout, stderr: r.stderr };
  };
  const ok = (r: Call): Call => {
    if (r.code !== 0) throw new Error(`plugin failed (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
    return r;
  };

  const linkIn = async (ns: string, dev: string): Promise<Record<string, unknown> | undefined> => {
    const r = await run(['ip', '-n', ns, '-j', '-d', 'link', 'show', 'dev', dev], { allowFailure: true });
    return r.code === 0 ? (JSON.parse(r.stdout) as Array<Record<string, unknown>>)[0] : undefined;
  };
  const jsonIn = async <T>(ns: string, args: string[]): Promise<T[]> => {
    const out = (await run(['ip', '-n', ns, '-j', ...args])).stdout.trim();
    return out ? (JSON.parse(out) as T[]) : [];
  };
  const podAddrs = async (p: Pod): Promise<string[]> =>
    (await jsonIn<{ addr_info: Array<{ local: string; prefixlen: number; scope: string }> }>(p.ns, ['addr', 'show', 'dev', 'eth0']))
      .flatMap((a) => a.addr_info)
      .filter((a) => a.scope === 'global')
      .map((a) => `${a.local}/${a.prefixlen}`);
  const caliLinks = async (): Promise<string[]> =>
    (await jsonIn<{ ifname: string }>(node.ns, ['link', 'show'])).map((l) => l.ifname).filter((n) => n.startsWith('cali')).sort();
  const wepOf = async (name: string): Promise<WorkloadEndpoint | undefined> => (await c.ds.list('WorkloadEndpoint', 'demo')).items.find((w) => w.metadata.name === name);
  const ipOf = (r: Call): string => String(((r.json?.['ips'] as Array<{ address: string }>)[0]!.address).split('/')[0]);

  beforeAll(async () => {
    c = await createClusterLab('cni', ['node1']);
    node = c.hosts[0]!;
    ipam = new Ipam(c.ds);
    await c.ds.create({ apiVersion: API_VERSION, kind: 'IPPool', metadata: { name: 'pods' }, spec: { cidr: POOL, blockSize: 26 } });
    // The profile Calico's kube-controllers make for namespace "demo": allow all (policy is on in tartan-node).
    await c.ds.create({ apiVersion: API_VERSION, kind: 'Profile', metadata: { name: 'kns.demo' }, spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] } });
    conf = {
      cniVersion: '1.0.0',
      name: NETWORK,
      type: 'tartan',
      etcd_endpoints: c.etcd.endpoint,
      nodename: 'node1',
      mtu: 1450,
      log_level: 'debug',
      ipam: { type: 'tartan-ipam' },
      dns: { nameservers: ['10.96.0.10'], search: ['demo.svc.cluster.local'] },
      args: { cni: { labels: [{ key: 'app', value: 'web' }] } },
    };
  });

  afterAll(async () => {
    for (const p of pods) await deleteNamespace(p.ns).catch(() => undefined);
    await destroyClusterLab(c);
  });

  it('VERSION lists the supported spec versions', async () => {
    const r = ok(await cni('VERSION', undefined, { config: { cniVersion: '1.0.0' } }));
    expect(r.json).toEqual({ cniVersion: '1.0.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0'] });
  });

  let a: Pod;
  let addA: Call;

  it('ADD: a veth cali… ↔ eth0, the /32 and Calico\'s in-pod routes, a WorkloadEndpoint, an IPAM allocation by handle', async () => {
    a = await newPod('web-1');
    addA = ok(await cni('ADD', a));
    const ip = ipOf(addA);
    expect(ip).toMatch(/^198\.19\.\d+\.\d+$/);
    const host = await linkIn(node.ns, 'cali9beb1ed9b53'); // sha1("demo.web-1"), as Calico names it
    const eth0 = await linkIn(a.ns, 'eth0');
    expect(addA.json).toEqual({
      cniVersion: '1.0.0',
      interfaces: [
        { name: 'cali9beb1ed9b53', mac: 'ee:ee:ee:ee:ee:ee' },
        { name: 'eth0', mac: eth0?.['address'], sandbox: netnsPath(a) },
      ],
      ips: [{ address: `${ip}/32`, interface: 1 }],
      routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }],
      dns: { nameservers: ['10.96.0.10'], search: ['demo.svc.cluster.local'] },
    });
    // The host side: in the node's namespace, Calico's MAC, up, the MTU, the pod's eth0 as its peer.
    expect(host).toMatchObject({ address: 'ee:ee:ee:ee:ee:ee', mtu: 1450, link_index: eth0?.['ifindex'], linkinfo: { info_kind: 'veth' } });
    expect(host?.['flags']).toContain('UP');
    expect(eth0).toMatchObject({ mtu: 1450, link_index: host?.['ifindex'], linkinfo: { info_kind: 'veth' } });
    expect(await linkIn(c.etcd.host.ns, 'cali9beb1ed9b53')).toBeUndefined();
    expect((await readSysctl(node.ns, 'net.ipv4.conf.cali9beb1ed9b53.proxy_arp'))).toBe('1');
    // The pod side.
    expect(await podAddrs(a)).toEqual([`${ip}/32`]);
    const routes = await jsonIn<{ dst: string; gateway?: string; dev: string; scope?: string }>(a.ns, ['-4', 'route', 'show']);
    expect(routes.map((r) => ({ dst: r.dst, gateway: r.gateway, dev: r.dev, scope: r.scope }))).toEqual([
      { dst: 'default', gateway: '169.254.1.1', dev: 'eth0', scope: undefined },
      { dst: '169.254.1.1', gateway: undefined, dev: 'eth0', scope: 'link' },
    ]);
    const neigh = await jsonIn<{ dst: string; lladdr: string; state: string[] }>(a.ns, ['neigh', 'show', 'dev', 'eth0']);
    expect(neigh).toEqual([expect.objectContaining({ dst: '169.254.1.1', lladdr: 'ee:ee:ee:ee:ee:ee', state: ['PERMANENT'] })]);
    // The WorkloadEndpoint, as Calico names and fills it.
    const wep = await wepOf('node1-k8s-web--1-eth0');
    expect(wep?.metadata.labels).toEqual({ app: 'web', 'projectcalico.org/namespace': 'demo', 'projectcalico.org/orchestrator': 'k8s' });
    expect(wep?.spec).toEqual({
      orchestrator: 'k8s',
      node: 'node1',
      pod: 'web-1',
      containerID: a.cid,
      endpoint: 'eth0',
      interfaceName: 'cali9beb1ed9b53',
      ipNetworks: [`${ip}/32`],
      profiles: ['kns.demo'],
      mac: eth0?.['address'],
    });
    // IPAM: the handle is <network>.<container id>, in a block affine to node1, with the pod recorded.
    expect(await ipam.ipsByHandle(`${NETWORK}.${a.cid}`)).toEqual([ip]);
    const blocks = (await ipam.ipamShow()).pools.flatMap((p) => p.blocks);
    expect(blocks).toEqual([expect.objectContaining({ cidr: blockOf(ip).replace('-', '/'), node: 'node1', inUse: 1 })]);
    expect(await c.ds.kv.get(`/calico/ipam/v2/host/node1/ipv4/block/${blockOf(ip)}`)).toBeDefined();
    expect(addA.stderr).toContain('wrote WorkloadEndpoint demo/node1-k8s-web--1-eth0');
  });

  it('a second ADD of the same container changes nothing and returns the same result', async () => {
    const before = await linkIn(node.ns, 'cali9beb1ed9b53');
    const again = ok(await cni('ADD', a));
    expect(again.json).toEqual(addA.json);
    expect((await linkIn(node.ns, 'cali9beb1ed9b53'))?.['ifindex']).toBe(before?.['ifindex']);
    expect(await ipam.ipsByHandle(`${NETWORK}.${a.cid}`)).toEqual([ipOf(addA)]);
    expect(await caliLinks()).toEqual(['cali9beb1ed9b53']);
  });

  it('CHECK passes; after the pod loses its default route it fails naming it; ADD again repairs it', async () => {
    expect(ok(await cni('CHECK', a, { prevResult: addA.json })).stdout.trim()).toBe('');
    await run(['ip', '-n', a.ns, 'route', 'del', 'default']);
    const bad = await cni('CHECK', a, { prevResult: addA.json });
    expect(bad.code).not.toBe(0);
    expect(bad.json).toMatchObject({ cniVersion: '1.0.0', code: 104, details: 'no default route via 169.254.1.1' });
    ok(await cni('ADD', a));
    ok(await cni('CHECK', a, { prevResult: addA.json }));
  });

  let b: Pod;
  let addB: Call;

  it('a second pod gets a different address (same node block) and its own veth', async () => {
    b = await newPod('db-1');
    addB = ok(await cni('ADD', b, { config: { ...conf, args: { cni: { labels: [{ key: 'app', value: 'db' }] } } } }));
    expect(ipOf(addB)).not.toBe(ipOf(addA));
    expect(blockOf(ipOf(addB))).toBe(blockOf(ipOf(addA)));
    expect((await caliLinks()).length).toBe(2);
    expect((await wepOf('node1-k8s-db--1-eth0'))?.metadata.labels?.['app']).toBe('db');
  });

  it('with tartan-node running on the node, the pods\' /32 routes are programmed and the pods ping each other', async () => {
    const ipA = ipOf(addA);
    const ipB = ipOf(addB);
    // The plugin leaves the host route to the node's dataplane controller (one owner, protocol 202).
    expect([...(await kernelRoutes(node)).keys()].filter((d) => d.startsWith('198.19.'))).toEqual([]);
    await startClusterNode(node, c.etcd);
    await waitFor(
      async () => {
        const r = await kernelRoutes(node);
        return r.get(`${ipA}/32`)?.protocol === '202' && r.get(`${ipB}/32`)?.protocol === '202';
      },
      { what: 'the two pods\' /32 routes (protocol 202) in node1', timeoutMs: 30_000 },
    );
    expect((await kernelRoutes(node)).get(`${ipA}/32`)).toMatchObject({ dev: 'cali9beb1ed9b53', scope: 'link' });
    await waitFor(async () => (await run(['ip', 'netns', 'exec', a.ns, 'ping', '-n', '-c', '1', '-W', '1', ipB], { allowFailure: true })).code === 0, {
      what: `web-1 → db-1 (${ipB}) ping`,
      timeoutMs: 20_000,
    });
    const out = await run(['ip', 'netns', 'exec', b.ns, 'ping', '-n', '-c', '2', '-i', '0.2', '-W', '1', ipA]);
    expect(out.stdout).toMatch(/2 packets transmitted, 2 received/);
  });

  it('a bad configuration gives the CNI error object naming the field, and creates nothing', async () => {
    const p = await newPod('bad-1');
    const r = await cni('ADD', p, { config: { ...conf, mtu: 'jumbo', ipam: { type: 'tartan-ipam', assign_ipv4: 'yes' } } });
    expect(r.code).toBe(1);
    expect(r.json).toEqual({
      cniVersion: '1.0.0',
      code: 7,
      msg: 'invalid network config: mtu: must be an integer from 68 to 65535 (or 0 for the kernel default), got "jumbo"; ipam.assign_ipv4: must be true or false, got "yes"',
      details: 'mtu: must be an integer from 68 to 65535 (or 0 for the kernel default), got "jumbo"\nipam.assign_ipv4: must be true or false, got "yes"',
    });
    const env = await cni('ADD', p, { netns: '/var/run/netns/does-not-exist' });
    expect(env.json).toMatchObject({ code: 3, msg: 'network namespace /var/run/netns/does-not-exist does not exist' });
    expect(await ipam.ipsByHandle(`${NETWORK}.${p.cid}`)).toEqual([]);
    expect((await caliLinks()).length).toBe(2);
  });

  it('a failure after the address was assigned undoes everything (veth, address)', async () => {
    // Fault injection: a pod name the datastore refuses in a WorkloadEndpoint name (upper case),
    // so the endpoint write fails after the address and the veth exist.
    const p = await newPod('bad-2');
    const r = await cni('ADD', p, { k8sPod: 'Bad-Pod' });
    expect(r.json).toMatchObject({ cniVersion: '1.0.0', code: 103 });
    expect(String(r.json?.['details'])).toContain('is not a valid name');
    expect(await ipam.ipsByHandle(`${NETWORK}.${p.cid}`)).toEqual([]);
    expect(await c.ds.kv.get(`/calico/ipam/v2/handle/${NETWORK}.${p.cid}`)).toBeUndefined();
    expect(await linkIn(p.ns, 'eth0')).toBeUndefined();
    expect((await caliLinks()).length).toBe(2);
  });

  it('an existing eth0 that is not the plugin\'s is refused and left alone', async () => {
    const p = await newPod('bad-3');
    // Someone else's eth0: a veth whose peer is not a cali… interface of the node.
    await run(['ip', '-n', p.ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'other0']);
    const r = await cni('ADD', p);
    expect(r.json).toMatchObject({ code: 105, msg: `interface eth0 already exists in ${netnsPath(p)}` });
    expect((await linkIn(p.ns, 'eth0'))?.['link']).toBe('other0');
    expect((await caliLinks()).length).toBe(2);
    expect(await ipam.ipsByHandle(`${NETWORK}.${p.cid}`)).toEqual([]);
  });

  it('DEL releases everything; a second DEL succeeds', async () => {
    const ipA = ipOf(addA);
    ok(await cni('DEL', a, { prevResult: addA.json }));
    expect(await linkIn(node.ns, 'cali9beb1ed9b53')).toBeUndefined();
    expect(await linkIn(a.ns, 'eth0')).toBeUndefined();
    expect(await wepOf('node1-k8s-web--1-eth0')).toBeUndefined();
    expect(await ipam.ipsByHandle(`${NETWORK}.${a.cid}`)).toEqual([]);
    expect(await c.ds.kv.get(`/calico/ipam/v2/handle/${NETWORK}.${a.cid}`)).toBeUndefined();
    await waitFor(async () => !(await kernelRoutes(node)).has(`${ipA}/32`), { what: `${ipA}/32 withdrawn by tartan-node` });
    const second = await cni('DEL', a);
    expect(second.code).toBe(0);
    expect(second.stdout.trim()).toBe('');
  });

  it('DEL without CNI_NETNS still removes the host veth its endpoint names', async () => {
    const env = { netns: '' };
    ok(await cni('DEL', b, env));
    expect(await caliLinks()).toEqual([]);
    expect(await linkIn(b.ns, 'eth0')).toBeUndefined();
    expect(await wepOf('node1-k8s-db--1-eth0')).toBeUndefined();
    expect(await ipam.ipsByHandle(`${NETWORK}.${b.cid}`)).toEqual([]);
  });

  it('dual stack: a /128 too, and the IPv6 default route via the host veth\'s link-local address', async () => {
    await c.ds.create({ apiVersion: API_VERSION, kind: 'IPPool', metadata: { name: 'pods6' }, spec: { cidr: POOL6, blockSize: 122 } });
    const p = await newPod('web-6');
    const config = { ...conf, cniVersion: '0.4.0', ipam: { type: 'tartan-ipam', assign_ipv6: 'true' } };
    const r = ok(await cni('ADD', p, { config }));
    const ips = r.json?.['ips'] as Array<{ version: string; address: string }>;
    expect(ips.map((i) => i.version)).toEqual(['4', '6']);
    const v6 = ips[1]!.address;
    expect(v6).toMatch(/^fd00:7a7a:c0::[0-9a-f:]+\/128$/);
    expect(await podAddrs(p)).toEqual(expect.arrayContaining([ips[0]!.address, v6]));
    const host = (await c.ds.list('WorkloadEndpoint', 'demo')).items.find((w) => w.spec.pod === 'web-6');
    expect(host?.spec.ipNetworks).toEqual([ips[0]!.address, v6]);
    const ll = (await jsonIn<{ addr_info: Array<{ local: string; scope: string }> }>(node.ns, ['-6', 'addr', 'show', 'dev', String(host?.spec.interfaceName)]))
      .flatMap((x) => x.addr_info)
      .find((x) => x.scope === 'link')?.local;
    const routes6 = await jsonIn<{ dst: string; gateway?: string }>(p.ns, ['-6', 'route', 'show', 'default']);
    expect(routes6).toEqual([expect.objectContaining({ dst: 'default', gateway: ll })]);
    expect(r.json?.['routes']).toEqual([
      { dst: '0.0.0.0/0', gw: '169.254.1.1' },
      { dst: '::/0', gw: ll },
    ]);
    ok(await cni('CHECK', p, { config, prevResult: r.json }));
    ok(await cni('DEL', p, { config }));
    expect(await caliLinks()).toEqual([]);
  });

  it('tartan-ipam run by another plugin (as calico-ipam is): addresses only, released on DEL', async () => {
    const p = await newPod('ipam-1');
    const config = { cniVersion: '1.0.0', name: 'other-net', type: 'ptp', etcd_endpoints: c.etcd.endpoint, nodename: 'node1', ipam: { type: 'tartan-ipam' } };
    const r = ok(await cni('ADD', p, { config }));
    expect(Object.keys(r.json ?? {})).toEqual(['cniVersion', 'ips', 'routes']);
    const ip = ipOf(r);
    expect(await ipam.ipsByHandle(`other-net.${p.cid}`)).toEqual([ip]);
    expect(await linkIn(p.ns, 'eth0')).toBeUndefined(); // IPAM does not touch interfaces
    ok(await cni('DEL', p, { config }));
    expect(await ipam.ipsByHandle(`other-net.${p.cid}`)).toEqual([]);
  });

  it('another IPAM plugin on CNI_PATH is delegated to (ADD, then DEL)', async () => {
    const dir = join(c.lab.dir, 'cni-bin');
    mkdirSync(dir, { recursive: true });
    const calls = join(dir, 'calls.log');
    writeFileSync(
      join(dir, 'static-ipam'),
      `#!/usr/bin/env node
const fs = require('fs');
const conf = JSON.parse(fs.readFileSync(0, 'utf8'));
fs.appendFileSync(${JSON.stringify(calls)}, process.env.CNI_COMMAND + ' ' + process.env.CNI_CONTAINERID + ' ' + conf.ipam.address + '\\n');
if (process.env.CNI_COMMAND === 'ADD') process.stdout.write(JSON.stringify({ cniVersion: conf.cniVersion, ips: [{ address: conf.ipam.address }] }));
`,
    );
    chmodSync(join(dir, 'static-ipam'), 0o755);
    const p = await newPod('static-1');
    const config = { ...conf, ipam: { type: 'static-ipam', address: '198.19.250.7/32' } };
    const r = ok(await cni('ADD', p, { config, cniPath: `/nonexistent:${dir}` }));
    expect(r.json?.['ips']).toEqual([{ address: '198.19.250.7/32', interface: 1 }]);
    expect(await podAddrs(p)).toEqual(['198.19.250.7/32']);
    expect((await c.ds.list('WorkloadEndpoint', 'demo')).items.find((w) => w.spec.pod === 'static-1')?.spec.ipNetworks).toEqual(['198.19.250.7/32']);
    ok(await cni('DEL', p, { config, cniPath: dir }));
    expect(readFileSync(calls, 'utf8')).toBe(`ADD ${p.cid} 198.19.250.7/32\nDEL ${p.cid} 198.19.250.7/32\n`);
    expect(await caliLinks()).toEqual([]);
    const missing = await cni('ADD', p, { config, cniPath: '/nonexistent' });
    expect(missing.json).toMatchObject({ code: 106, msg: 'IPAM plugin "static-ipam" not found' });
  });

  it('ipam.ipv4_pools restricts the pools addresses come from', async () => {
    const p = await newPod('pool-1');
    const none = await cni('ADD', p, { config: { ...conf, ipam: { type: 'tartan-ipam', ipv4_pools: ['other-pool'] } } });
    expect(none.json).toMatchObject({ code: 101, msg: 'IP address assignment failed' });
    expect(String(none.json?.['details'])).toContain('no enabled IPv4 pool among other-pool selects node node1');
    expect(await caliLinks()).toEqual([]);
    const r = ok(await cni('ADD', p, { config: { ...conf, ipam: { type: 'tartan-ipam', ipv4_pools: [POOL] } } }));
    expect(ipOf(r)).toMatch(/^198\.19\./);
    ok(await cni('DEL', p));
  });

  it('leaves nothing behind: no endpoints, no allocations, no pod namespace after teardown', async () => {
    expect((await c.ds.list('WorkloadEndpoint')).items).toEqual([]);
    const handles = (await c.ds.kv.range('/calico/ipam/v2/handle/')).kvs.map((kv) => kv.key);
    expect(handles).toEqual([]);
    for (const p of pods) await deleteNamespace(p.ns);
    const left = (await listNamespaces()).filter((n) => pods.some((p) => p.ns === n));
    expect(left).toEqual([]);
  });
});

function blockOf(ip: string): string {
  const parts = ip.split('.').map(Number);
  return `${parts[0]}.${parts[1]}.${parts[2]}.${parts[3]! & ~63}-26`;
}

async function readSysctl(ns: string, key: string): Promise<string> {
  return (await run(['ip', 'netns', 'exec', ns, 'sysctl', '-n', key])).stdout.trim();
}
