/**
 * Workload routes and interface sysctls end to end: WorkloadEndpoints are
 * written to a real etcd, a DataplaneController runs inside the node's
 * namespace, and the test checks the node's kernel (ip route, /proc/sys) and
 * real traffic between pods that only works through the controller's routes.
 */
import { Datastore } from '../../../src/datastore';
import { waitFor } from '../harness/wait-for';
import { startEtcd, type EtcdServer } from '../datastore/etcd-server';
import { PolicyLab, type NodeNs, type Pod } from '../policy/topo';
import { ControllerProc } from './controller-proc';
import { allowAllProfile, wepResource } from './fixtures';

interface IpRoute {
  dst: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  metric?: number;
}

describe('DataplaneController: workload routes and sysctls from etcd', () => {
  let etcd: EtcdServer;
  let ds: Datastore;
  let lab: PolicyLab;
  let n1: NodeNs;
  let a: Pod;
  let b: Pod;
  let c: Pod;
  let dc: ControllerProc;

  const routes = async (args: string[] = []): Promise<IpRoute[]> =>
    JSON.parse((await lab.exec(n1.ns, ['ip', '-j', 'route', 'show', 'table', 'main', ...args])) || '[]') as IpRoute[];
  const ours = async (): Promise<IpRoute[]> => routes(['proto', '202']);
  const routeTo = async (ip: string): Promise<IpRoute | undefined> => (await ours()).find((r) => r.dst === ip);
  const sysctl = async (path: string): Promise<string> => (await lab.exec(n1.ns, ['cat', path])).trim();

  beforeAll(async () => {
    etcd = await startEtcd();
    ds = Datastore.connect({ endpoints: [etcd.endpoint] });
    lab = await PolicyLab.create();
    n1 = await lab.addNode('n1');
    a = await lab.addPod(n1, 'a', { route: false });
    b = await lab.addPod(n1, 'b', { route: false });
    c = await lab.addPod(n1, 'c', { route: false });
    // Routes that are not ours (other protocols) on a workload interface: never touched.
    await lab.exec(n1.ns, ['ip', 'route', 'add', '198.18.77.0/24', 'dev', a.iface, 'proto', 'static']);
    await lab.exec(n1.ns, ['ip', 'route', 'add', '198.18.78.0/24', 'dev', a.iface]);
    await lab.exec(n1.ns, ['ip', 'route', 'add', `${a.ip}/32`, 'dev', a.iface, 'proto', 'bird', 'metric', '50']);
    // Left by a previous run: pod a's correct route (adopted) and one no endpoint explains (stale).
    await lab.exec(n1.ns, ['ip', 'route', 'add', `${a.ip}/32`, 'dev', a.iface, 'proto', '202', 'metric', '1024', 'scope', 'link']);
    await lab.exec(n1.ns, ['ip', 'route', 'add', '198.18.10.99/32', 'dev', a.iface, 'proto', '202', 'metric', '1024', 'scope', 'link']);
    await ds.create(allowAllProfile('prod'));
    await ds.create(wepResource(a, { namespace: 'prod', labels: { app: 'a' } }));
    dc = await ControllerProc.start({
      ns: n1.ns,
      nodeName: 'n1',
      etcdPort: Number(new URL(etcd.endpoint).port),
      dir: lab.dir,
      track: (child) => lab.adopt(child),
      options: {
        interfacePrefix: 'tt',
        families: [4],
        routeGraceMs: 2000,
        routeRefreshMs: 1500,
        iptablesRefreshMs: 1500,
        policy: { config: { failsafeInbound: [], failsafeOutbound: [] } },
      },
    });
    await dc.call('ready');
  });

  afterAll(async () => {
    await dc?.stop();
    ds?.close();
    await lab?.destroy();
    await etcd?.stop();
  });

  test('an endpoint present at start-up is adopted without churn', async () => {
    const st = await dc.settle();
    expect(st.state).toBe('in-sync');
    expect(st.routes.counters?.adds).toBe(0);
    expect(st.routes.counters?.replaces).toBe(0);
    expect(await routeTo(a.ip)).toMatchObject({ dev: a.iface, scope: 'link', metric: 1024 });
  });

  test('writing endpoints adds /32 routes (proto 202, scope link, host-side veth) and sets the sysctls', async () => {
    await ds.create(wepResource(b, { namespace: 'prod', labels: { app: 'b' } }));
    const r = await waitFor(() => routeTo(b.ip), { what: `route to ${b.ip}` });
    expect(r).toMatchObject({ dev: b.iface, scope: 'link', metric: 1024 });
    // `ip route show proto 202` leaves the protocol out of its output; read it from the unfiltered table.
    const full = (await routes()).find((x) => x.dst === b.ip && x.metric === 1024);
    expect(['202', 'tartan-wl']).toContain(String(full?.protocol));
    for (const iface of [a.iface, b.iface]) {
      await waitFor(async () => (await sysctl(`/proc/sys/net/ipv4/conf/${iface}/proxy_arp`)) === '1', { what: `${iface} proxy_arp=1` });
      expect(await sysctl(`/proc/sys/net/ipv4/conf/${iface}/forwarding`)).toBe('1');
      expect(await sysctl(`/proc/sys/net/ipv4/conf/${iface}/rp_filter`)).toBe('1');
      expect(await sysctl(`/proc/sys/net/ipv4/conf/${iface}/route_localnet`)).toBe('1');
      expect(await sysctl(`/proc/sys/net/ipv4/neigh/${iface}/proxy_delay`)).toBe('0');
    }
    // Real traffic: the node forwards between the pods only through these routes.
    expect(await lab.probe(a.ns, 'icmp', b.ip)).toBe(true);
    expect(await lab.probe(b.ns, 'icmp', a.ip)).toBe(true);
  });

  test('our stale route on a workload interface is removed after the grace period; other protocols stay', async () => {
    await waitFor(async () => (await routeTo('198.18.10.99')) === undefined, { what: 'stale 198.18.10.99 removed' });
    const all = await routes();
    expect(all.find((r) => r.dst === '198.18.77.0/24')).toBeDefined();
    expect(all.find((r) => r.dst === '198.18.78.0/24')).toBeDefined();
    expect(all.find((r) => r.dst === a.ip && r.metric === 50)).toBeDefined();
  });

  test('a hand-deleted route is repaired', async () => {
    const before = (await dc.status()).routes.counters?.repairs ?? 0;
    await lab.exec(n1.ns, ['ip', 'route', 'del', `${b.ip}/32`, 'dev', b.iface, 'proto', '202', 'metric', '1024']);
    await waitFor(() => routeTo(b.ip), { what: `route to ${b.ip} repaired` });
    expect((await dc.status()).routes.counters?.repairs ?? 0).toBeGreaterThan(before);
    expect(await lab.probe(a.ns, 'icmp', b.ip)).toBe(true);
  });

  test('a sysctl changed by hand is set back by the resync', async () => {
    await lab.exec(n1.ns, ['sysctl', '-q', '-w', `net.ipv4.conf.${a.iface}.proxy_arp=0`]);
    await waitFor(async () => (await sysctl(`/proc/sys/net/ipv4/conf/${a.iface}/proxy_arp`)) === '1', { what: 'proxy_arp repaired' });
    expect((await dc.status()).sysctls.repairs).toBeGreaterThan(0);
  });

  test('a route to a down interface is skipped and appears when the link comes up', async () => {
    await lab.exec(n1.ns, ['ip', 'link', 'set', c.iface, 'down']);
    await ds.create(wepResource(c, { namespace: 'prod', labels: { app: 'c' } }));
    await waitFor(async () => (await dc.status()).routes.skipped === 1, { what: 'route to c skipped' });
    expect(await routeTo(c.ip)).toBeUndefined();
    await lab.exec(n1.ns, ['ip', 'link', 'set', c.iface, 'up']);
    await waitFor(() => routeTo(c.ip), { what: `route to ${c.ip} after link up` });
    expect((await dc.status()).routes.skipped).toBe(0);
    await waitFor(() => lab.probe(a.ns, 'icmp', c.ip), { what: 'a can ping c' });
  });

  test('endpoints of other nodes get no route', async () => {
    const remote = wepResource({ ...c, name: 'remote', iface: 'ttremote', ip: '198.18.20.5' }, { namespace: 'prod', node: 'n2' });
    await ds.create(remote);
    await waitFor(async () => (await dc.status()).resources['WorkloadEndpoint'] === 4, { what: 'controller saw 4 endpoints' });
    await dc.settle();
    expect(await routeTo('198.18.20.5')).toBeUndefined();
    expect((await dc.status()).localWorkloads).toBe(3);
  });

  test('deleting an endpoint removes its route; the pods are cut off', async () => {
    await ds.delete('WorkloadEndpoint', wepResource(b, { namespace: 'prod' }).metadata.name, { namespace: 'prod' });
    await waitFor(async () => (await routeTo(b.ip)) === undefined, { what: `route to ${b.ip} removed` });
    expect(await lab.probe(a.ns, 'icmp', b.ip)).toBe(false);
    const all = await routes();
    expect(all.find((r) => r.dst === '198.18.77.0/24')).toBeDefined();
    expect((await dc.status()).lastError).toBeNull();
  });
});
