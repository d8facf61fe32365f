/**
 * Network policy end to end: resources written to a real etcd → a
 * DataplaneController inside the node namespace → iptables/ipsets → REAL
 * traffic (TCP and UDP echo, ICMP ping) between pod namespaces and from an
 * outside namespace to the node through a HostEndpoint.
 *
 *   n1: a (prod, app=web), b (prod, role=fe), c (dev, role=fe); routes by the controller
 *   ext ══ hx0 (198.19.7.2 → 198.19.7.1) ══ n1, host endpoint on hx0; n1 serves TCP 5000/5001
 */
import { Datastore } from '../../../src/datastore';
import { waitFor } from '../harness/wait-for';
import { startEtcd, type EtcdServer } from '../datastore/etcd-server';
import { PolicyLab, type NodeNs, type Pod } from '../policy/topo';
import { ControllerProc } from './controller-proc';
import { allowAllProfile, gnpResource, hepResource, npResource, profileResource, wepResource } from './fixtures';

const PORTS = [80, 3000];

interface Case {
  from: string;
  to: string;
  proto: 'tcp' | 'udp' | 'icmp';
  port?: number;
  expect: boolean;
}

describe('DataplaneController: policy from etcd enforced on real traffic', () => {
  let etcd: EtcdServer;
  let ds: Datastore;
  let lab: PolicyLab;
  let n1: NodeNs;
  let ext: string;
  const pods = new Map<string, Pod>();
  let dc: ControllerProc;

  /** Write (create or update) and wait until the controller has applied it. */
  async function put(r: Parameters<Datastore['apply']>[0]): Promise<void> {
    const stored = await ds.apply(r);
    await dc.caughtUp(stored.metadata.resourceVersion);
  }

  async function del(kind: 'GlobalNetworkPolicy' | 'NetworkPolicy' | 'HostEndpoint', name: string, namespace?: string): Promise<void> {
    await ds.delete(kind, name, namespace !== undefined ? { namespace } : {});
    const rev = Number((await ds.kv.range('/calico/resources/v3/')).revision);
    await dc.caughtUp(rev);
  }

  function target(to: string): { ns: string; ip: string } {
    if (to === 'n1') return { ns: n1.ns, ip: '198.19.7.1' };
    const p = pods.get(to);
    if (p === undefined) throw new Error(`no pod ${to}`);
    return { ns: p.ns, ip: p.ip };
  }

  function source(from: string): string {
    if (from === 'ext') return ext;
    return target(from).ns;
  }

  /** Runs every case and compares the whole table at once (a failure shows all mismatches). */
  async function check(cases: Case[]): Promise<void> {
    const got: string[] = [];
    const want: string[] = [];
    for (const c of cases) {
      const ok = await lab.probe(source(c.from), c.proto, target(c.to).ip, c.port ?? 0);
      const label = `${c.from}->${c.to} ${c.proto}${c.port ? `:${c.port}` : ''}`;
      got.push(`${label} ${ok ? 'allowed' : 'blocked'}`);
      want.push(`${label} ${c.expect ? 'allowed' : 'blocked'}`);
    }
    expect(got).toEqual(want);
  }

  const save = async (table = 'filter'): Promise<string[]> =>
    (await lab.exec(n1.ns, ['iptables-nft-save', '-t', table])).split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/g, ''));

  beforeAll(async () => {
    etcd = await startEtcd();
    ds = Datastore.connect({ endpoints: [etcd.endpoint] });
    lab = await PolicyLab.create();
    n1 = await lab.addNode('n1');
    const meta: Record<string, { namespace: string; labels: Record<string, string> }> = {
      a: { namespace: 'prod', labels: { app: 'web' } },
      b: { namespace: 'prod', labels: { role: 'fe' } },
      c: { namespace: 'dev', labels: { role: 'fe' } },
    };
    await ds.create(allowAllProfile('prod', { env: 'prod' }));
    await ds.create(allowAllProfile('dev', { env: 'dev' }));
    for (const [name, m] of Object.entries(meta)) {
      const p = await lab.addPod(n1, name, { route: false });
      pods.set(name, p);
      await lab.startEcho(p.ns, PORTS);
      await ds.create(wepResource(p, m));
    }
    // An outside host behind n1's hx0, and services on the node itself.
    ext = await lab.addHost('ext');
    await lab.exec(n1.ns, ['ip', 'link', 'add', 'hx0', 'type', 'veth', 'peer', 'name', 'hx1', 'netns', ext]);
    await lab.exec(n1.ns, ['ip', 'addr', 'add', '198.19.7.1/30', 'dev', 'hx0']);
    await lab.exec(n1.ns, ['ip', 'link', 'set', 'hx0', 'up']);
    await lab.exec(ext, ['ip', 'addr', 'add', '198.19.7.2/30', 'dev', 'hx1']);
    await lab.exec(ext, ['ip', 'link', 'set', 'hx1', 'up']);
    await lab.startEcho(n1.ns, [5000, 5001]);
    // Foreign iptables state that must never be touched.
    for (const argv of [
      ['-N', 'FOREIGN-CHAIN'],
      ['-A', 'FOREIGN-CHAIN', '-s', '198.18.99.0/24', '-j', 'ACCEPT'],
      ['-A', 'INPUT', '-s', '198.18.98.0/24', '-j', 'FOREIGN-CHAIN'],
    ]) {
      await lab.exec(n1.ns, ['iptables-nft', ...argv]);
    }
    dc = await ControllerProc.start({
      ns: n1.ns,
      nodeName: 'n1',
      etcdPort: Number(new URL(etcd.endpoint).port),
      dir: lab.dir,
      track: (child) => lab.adopt(child),
      options: {
        interfacePrefix: 'tt',
        families: [4],
        routeRefreshMs: 2000,
        iptablesRefreshMs: 1500,
        policy: { config: { failsafeInbound: [], failsafeOutbound: [] } },
      },
    });
    await dc.call('ready');
    await dc.settle();
  });

  afterAll(async () => {
    await dc?.stop();
    ds?.close();
    await lab?.destroy();
    await etcd?.stop();
  });

  test('default allow through the namespace profiles (routes by the controller)', async () => {
    await check([
      { from: 'b', to: 'a', proto: 'tcp', port: 80, expect: true },
      { from: 'c', to: 'a', proto: 'udp', port: 80, expect: true },
      { from: 'a', to: 'c', proto: 'icmp', expect: true },
    ]);
    const st = await dc.status();
    expect(st.policy.counters?.restoreCalls).toBeGreaterThan(0);
    expect(st.lastError).toBeNull();
  });

  test('an endpoint profile change (Profile via spec.profiles) blocks ingress to its endpoints', async () => {
    await put(profileResource('kns.prod', { egress: [{ action: 'Allow' }], labelsToApply: { 'pcns.env': 'prod' } }));
    await check([
      { from: 'b', to: 'a', proto: 'tcp', port: 80, expect: false },
      { from: 'c', to: 'b', proto: 'icmp', expect: false },
      { from: 'a', to: 'c', proto: 'udp', port: 3000, expect: true }, // prod egress and dev ingress still allow
    ]);
    await put(allowAllProfile('prod', { env: 'prod' }));
    await check([{ from: 'b', to: 'a', proto: 'tcp', port: 80, expect: true }]);
  });

  test('GlobalNetworkPolicy default deny + NetworkPolicy allow; a long-lived TCP connection survives the change', async () => {
    // Established before any policy: conntrack keeps it going (Felix/Calico semantics).
    const hold = lab.holdClient(pods.get('b')?.ns ?? '', target('a').ip, 3000);
    let out = '';
    hold.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('connected'), { what: 'held connection b->a:3000' });
    hold.stdin.write('one\n');
    await waitFor(() => out.includes('echo:one'), { what: 'echo before the policy change' });

    await put(gnpResource('default-deny-web', { selector: "app == 'web'", types: ['Ingress'] }));
    await put(
      npResource('prod', 'web-from-fe', {
        order: 10,
        selector: "app == 'web'",
        ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "role == 'fe'" }, destination: { ports: [80] } }],
      }),
    );
    await check([
      { from: 'b', to: 'a', proto: 'tcp', port: 80, expect: true },
      { from: 'c', to: 'a', proto: 'tcp', port: 80, expect: false }, // role=fe but namespace dev
      { from: 'b', to: 'a', proto: 'tcp', port: 3000, expect: false },
      { from: 'b', to: 'a', proto: 'udp', port: 80, expect: false },
      { from: 'b', to: 'a', proto: 'icmp', expect: false },
      { from: 'a', to: 'b', proto: 'tcp', port: 80, expect: true }, // b is not selected
    ]);
    hold.stdin.write('two\n');
    await waitFor(() => out.includes('echo:two'), { what: 'echo on the held connection after the policy change' });
    expect(out).not.toContain('closed');
    hold.stdin.end();

    await put(
      npResource('prod', 'web-from-fe', {
        order: 10,
        selector: "app == 'web'",
        ingress: [
          { action: 'Allow', protocol: 'TCP', source: { selector: "role == 'fe'" }, destination: { ports: [80] } },
          { action: 'Allow', protocol: 'ICMP', source: { namespaceSelector: "env == 'dev'" } },
          { action: 'Allow', protocol: 'UDP', source: { selector: "role == 'fe'" }, destination: { ports: [3000] } },
        ],
      }),
    );
    await check([
      { from: 'c', to: 'a', proto: 'icmp', expect: true }, // namespaceSelector from the kns.dev profile labels
      { from: 'b', to: 'a', proto: 'icmp', expect: false },
      { from: 'b', to: 'a', proto: 'udp', port: 3000, expect: true },
      { from: 'b', to: 'a', proto: 'udp', port: 80, expect: false },
    ]);
  });

  test('a GlobalNetworkPolicy Deny with a lower order wins over the namespace allow', async () => {
    await put(
      gnpResource('deny-dev-egress-udp', {
        order: 1,
        selector: "projectcalico.org/namespace == 'dev'",
        types: ['Egress'],
        egress: [{ action: 'Deny', protocol: 'UDP' }, { action: 'Pass' }],
      }),
    );
    await check([
      { from: 'c', to: 'b', proto: 'udp', port: 80, expect: false },
      { from: 'c', to: 'b', proto: 'tcp', port: 80, expect: true }, // passed on to the profile
      { from: 'b', to: 'c', proto: 'udp', port: 80, expect: true },
    ]);
    await del('GlobalNetworkPolicy', 'deny-dev-egress-udp');
    await check([{ from: 'c', to: 'b', proto: 'udp', port: 80, expect: true }]);
  });

  test('a HostEndpoint with a GlobalNetworkPolicy polices traffic to the node', async () => {
    await check([{ from: 'ext', to: 'n1', proto: 'tcp', port: 5001, expect: true }]);
    await put(hepResource('n1-hx0', 'n1', 'hx0', ['198.19.7.1'], { role: 'node' }));
    await put(
      gnpResource('node-in', {
        selector: "role == 'node'",
        types: ['Ingress'],
        ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [5000] } }],
      }),
    );
    await check([
      { from: 'ext', to: 'n1', proto: 'tcp', port: 5000, expect: true },
      { from: 'ext', to: 'n1', proto: 'tcp', port: 5001, expect: false },
      { from: 'ext', to: 'n1', proto: 'icmp', expect: false },
      { from: 'b', to: 'a', proto: 'tcp', port: 80, expect: true }, // workload traffic unaffected
    ]);
    await del('GlobalNetworkPolicy', 'node-in');
    await del('HostEndpoint', 'n1-hx0');
    await check([{ from: 'ext', to: 'n1', proto: 'tcp', port: 5001, expect: true }]);
  });

  test('a flushed Tartan chain is repaired by the next read-back; foreign rules untouched', async () => {
    const foreign = (lines: string[]): string[] => lines.filter((l) => !/ttn|tartan-/.test(l));
    const before = await save();
    const chain = before.find((l) => l.startsWith(`:ttn-tw-${pods.get('a')?.iface}`))?.slice(1).split(' ')[0];
    expect(chain).toBeDefined();
    const rules = (lines: string[]): string[] => lines.filter((l) => l.startsWith(`-A ${chain} `));
    expect(rules(before).length).toBeGreaterThan(0);
    const repairs = (await dc.status()).policy.counters?.repairs ?? 0;
    await lab.exec(n1.ns, ['iptables-nft', '-F', chain ?? '']);
    await waitFor(async () => rules(await save()).length === rules(before).length, { what: `${chain} restored` });
    expect(rules(await save())).toEqual(rules(before));
    expect((await dc.status()).policy.counters?.repairs ?? 0).toBeGreaterThan(repairs);
    expect(foreign(await save())).toEqual(foreign(before));
    expect((await save()).filter((l) => l.includes('FOREIGN'))).toEqual([
      ':FOREIGN-CHAIN - ',
      '-A INPUT -s 198.18.98.0/24 -j FOREIGN-CHAIN',
      '-A FOREIGN-CHAIN -s 198.18.99.0/24 -j ACCEPT',
    ]);
    await check([
      { from: 'b', to: 'a', proto: 'tcp', port: 80, expect: true },
      { from: 'c', to: 'a', proto: 'tcp', port: 80, expect: false },
    ]);
  });
});
