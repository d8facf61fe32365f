/**
 * Connectivity matrix in the style of the Kubernetes network-policy e2e
 * suite: every case sends REAL traffic (TCP and UDP echo, ICMP ping) between
 * pod namespaces on the same node and across two nodes, after Tartan's
 * PolicyDataplane has programmed each node's namespace.
 *
 *   n1: a (prod, app=web, port http=8080), b (prod, role=fe), c (dev, role=fe)
 *   n2: d (prod, role=fe), e (dev, app=db); n2 also serves TCP 5000 itself
 *   n1 ══ nx0 ══ n2: a real tartan-node on each node, iBGP over nx0, each
 *   originating its node's pod /24; cross-node pod traffic follows the BGP
 *   routes the speakers put in the kernels (protocol 201), no static routes.
 *
 * Every check() first asserts the BGP state (both sessions Established, each
 * kernel's route to the other node's pods is the protocol-201 one), so no
 * case can pass over some other route.
 */
import { FELIX_FAILSAFE_IN, FELIX_FAILSAFE_OUT, type PolicyDataplane, type PolicyInput, type WorkloadEndpoint } from '../../../src/dataplane/policy';
import { waitFor } from '../harness/wait-for';
import { nsRun } from '../harness/netns';
import type { KernelRoute } from '../harness/host';
import type { TartanNode } from '../tartan/tartan-node';
import { allow, clusterInput, gnp, np, wep } from './fixtures';
import { PolicyLab, podCidr, type NodeNs, type Pod } from './topo';

const PORTS = [80, 1500, 3000, 8080];

interface Case {
  from: string;
  to: string;
  proto: 'tcp' | 'udp' | 'icmp';
  port?: number;
  expect: boolean;
}

describe('policy connectivity matrix (two nodes, real traffic)', () => {
  let lab: PolicyLab;
  let n1: NodeNs;
  let n2: NodeNs;
  const dps = new Map<string, PolicyDataplane>();
  const speakers = new Map<string, TartanNode>();
  let weps: WorkloadEndpoint[] = [];

  const other = (n: NodeNs): NodeNs => (n === n1 ? n2 : n1);

  /** A node's whole main IPv4 table, one line per route, protocol numeric ("3" = boot, i.e. `ip route add`). */
  async function routeTable(n: NodeNs): Promise<string[]> {
    const out = (await nsRun(n.ns, ['ip', '-N', '-j', '-4', 'route', 'show', 'table', 'main'])).stdout;
    const routes = out.trim() ? (JSON.parse(out) as KernelRoute[]) : [];
    return routes
      .map((r) => [r.type && r.type !== 'unicast' ? r.type : '', r.dst, r.gateway ? `via ${r.gateway}` : '', r.dev ? `dev ${r.dev}` : '', `proto ${r.protocol ?? '3'}`].filter(Boolean).join(' '))
      .sort();
  }

  /** What each node's kernel must hold: its pods' /32s (to their veths), the connected /30, and the other node's pod /24 from BGP only. */
  function wantTable(n: NodeNs): string[] {
    const o = other(n);
    return [
      ...[...lab.pods.values()].filter((p) => p.node === n).map((p) => `${p.ip} dev ${p.iface} proto 3`),
      `${podCidr(o)} via ${o.linkIp} dev nx0 proto 201`,
      '198.19.0.0/30 dev nx0 proto 2',
    ].sort();
  }

  /** Per node: session state and the kernel's routing table, for one toEqual. */
  async function bgpState(): Promise<Record<string, { session: string; routes: string[] }>> {
    const out: Record<string, { session: string; routes: string[] }> = {};
    for (const n of [n1, n2]) {
      out[n.name] = { session: await speakers.get(n.name)!.peerState(other(n).linkIp!), routes: await routeTable(n) };
    }
    return out;
  }
  const wantState = (): Record<string, { session: string; routes: string[] }> => ({
    n1: { session: 'Established', routes: wantTable(n1) },
    n2: { session: 'Established', routes: wantTable(n2) },
  });

  beforeAll(async () => {
    lab = await PolicyLab.create();
    n1 = await lab.addNode('n1');
    n2 = await lab.addNode('n2');
    await lab.linkNodes(n1, n2);
    const meta: Record<string, [NodeNs, Parameters<typeof wep>[1]]> = {
      a: [n1, { namespace: 'prod', labels: { app: 'web' }, ports: [{ name: 'http', protocol: 'TCP', port: 8080 }] }],
      b: [n1, { namespace: 'prod', labels: { role: 'fe' } }],
      c: [n1, { namespace: 'dev', labels: { role: 'fe' } }],
      d: [n2, { namespace: 'prod', labels: { role: 'fe' } }],
      e: [n2, { namespace: 'dev', labels: { app: 'db' } }],
    };
    for (const [name, [node, m]] of Object.entries(meta)) {
      const p = await lab.addPod(node, name);
      await lab.startEcho(p.ns, PORTS);
      weps.push(wep(p, m));
    }
    await lab.startEcho(n2.ns, [5000]);
    // Inter-node routes: only BGP. Speakers start together; each waits for the other's pod CIDR in its kernel.
    const started = await Promise.all([lab.startSpeaker(n1, [n2]), lab.startSpeaker(n2, [n1])]);
    for (const sp of started) speakers.set(sp.host.name, sp);
    for (const n of [n1, n2]) {
      const sp = speakers.get(n.name)!;
      await sp.waitEstablished(other(n).linkIp!);
      await waitFor(async () => (await routeTable(n)).includes(`${podCidr(other(n))} via ${other(n).linkIp} dev nx0 proto 201`), {
        what: `${n.name}: BGP route to ${podCidr(other(n))} in the kernel`,
        timeoutMs: 20_000,
      }).catch((e: Error) => {
        throw new Error(`${e.message}\n--- ${n.name} tartan-node log ---\n${sp.logTail(40)}`);
      });
    }
    // Felix's default failsafe ports (they include BGP, tcp:179) keep the sessions up under host-endpoint policy.
    const config = { failsafeInbound: FELIX_FAILSAFE_IN, failsafeOutbound: FELIX_FAILSAFE_OUT };
    dps.set('n1', lab.dataplane(n1, { config }));
    dps.set('n2', lab.dataplane(n2, { config }));
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  async function applyAll(extra: Parameters<typeof clusterInput>[2] = {}): Promise<void> {
    for (const [node, dp] of dps) await dp.apply(clusterInput(node, weps, extra));
  }

  function target(to: string): string {
    if (to === 'n2') return n2.linkIp ?? '';
    return lab.pod(to).ip;
  }

  /** Runs every case and compares the whole table at once (a failure shows all mismatches). */
  async function check(cases: Case[]): Promise<void> {
    expect(await bgpState()).toEqual(wantState());
    const got: string[] = [];
    const want: string[] = [];
    for (const c of cases) {
      const ok = await lab.probe(lab.pod(c.from).ns, c.proto, target(c.to), c.port ?? 0);
      const label = `${c.from}->${c.to} ${c.proto}${c.port ? `:${c.port}` : ''}`;
      got.push(`${label} ${ok ? 'allowed' : 'blocked'}`);
      want.push(`${label} ${c.expect ? 'allowed' : 'blocked'}`);
    }
    expect(got).toEqual(want);
  }

  test('inter-node pod routes are the BGP speakers\' (protocol 201), learned from the other node; no static ones', async () => {
    for (const n of [n1, n2]) {
      const o = other(n);
      // Exactly the other node's pod CIDR, via the other node, from tartan-node's kernel FIB.
      // Through a kernel nexthop object (fib.nexthopObjects, the default): `nhid N` before the gateway.
      expect((await lab.exec(n.ns, ['ip', '-4', 'route', 'show', 'proto', '201'])).trim()).toMatch(new RegExp(`^${podCidr(o).replace(/\./g, '\\.')} nhid \\d+ via ${o.linkIp!.replace(/\./g, '\\.')} dev nx0 metric 32$`));
      // The whole table: nothing else could carry pod traffic between the nodes.
      expect(await routeTable(n)).toEqual(wantTable(n));
      // The speaker learned it over the session from the other node, as the best path, next hop that node.
      const learned = (await speakers.get(n.name)!.routes({ table: 'in', prefix: podCidr(o) })).filter((r) => r.prefix === podCidr(o));
      expect(learned).toEqual([expect.objectContaining({ peer: o.linkIp, best: true })]);
      expect(learned[0]!.attributes.nextHop).toEqual([o.linkIp]);
      // And the forwarding decision for a pod over there uses it.
      const pod = [...lab.pods.values()].find((p) => p.node === o)!;
      expect((await lab.exec(n.ns, ['ip', 'route', 'get', pod.ip])).split('\n')[0]).toMatch(new RegExp(`^${pod.ip.replace(/\./g, '\\.')} via ${o.linkIp!.replace(/\./g, '\\.')} dev nx0 `));
    }
  });

  test('default allow through the namespace profile (same node and cross node)', async () => {
    await applyAll();
    await check([
      { from: 'b', to: 'a', proto: 'tcp', port: 80, expect: true },
      { from: 'e', to: 'a', proto: 'udp', port: 80, expect: true },
      { from: 'c', to: 'd', proto: 'icmp', expect: true },
    ]);
  });

  test('default deny ingress by a GlobalNetworkPolicy', async () => {
    await applyAll({ policies: [gnp('default-deny', { selector: 'all()', types: ['Ingress'] })] });
    await check([
      { from: 'b', to: 'a', proto: 'tcp', port: 80, expect: false },
      { from: 'd', to: 'a', proto: 'udp', port: 80, expect: false },
      { from: 'a', to: 'b', proto: 'icmp', expect: false },
    ]);
  });

  test('allow by label selector (NetworkPolicy scoped to its namespace)', async () => {
    await applyAll({
      policies: [
        np('prod', 'web-from-fe', {
          selector: "app == 'web'",
          ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "role == 'fe'" }, destination: { ports: [80] } }],
        }),
      ],
    });
    await check([
      { from: 'b', to: 'a', proto: 'tcp', port: 80, expect: true },
      { from: 'd', to: 'a', proto: 'tcp', port: 80, expect: true },
      { from: 'c', to: 'a', proto: 'tcp', port: 80, expect: false }, // role=fe but namespace dev
      { from: 'b', to: 'a', proto: 'tcp', port: 3000, expect: false },
      { from: 'b', to: 'a', proto: 'udp', port: 80, expect: false },
      { from: 'a', to: 'b', proto: 'tcp', port: 80, expect: true }, // b is not selected: profile allows
    ]);
  });

  test('namespaceSelector', async () => {
    await applyAll({
      policies: [
        np('prod', 'web-from-dev', {
          selector: "app == 'web'",
          ingress: [{ action: 'Allow', source: { namespaceSelector: "env == 'dev'" } }],
        }),
      ],
    });
    await check([
      { from: 'c', to: 'a', proto: 'tcp', port: 80, expect: true },
      { from: 'e', to: 'a', proto: 'udp', port: 1500, expect: true },
      { from: 'b', to: 'a', proto: 'tcp', port: 80, expect: false },
    ]);
  });

  test('port ranges and named ports', async () => {
    await applyAll({
      policies: [
        gnp('web-ports', {
          selector: "app == 'web'",
          ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: ['1000:2000', 'http'] } }],
        }),
      ],
    });
    await check([
      { from: 'b', to: 'a', proto: 'tcp', port: 1500, expect: true },
      { from: 'd', to: 'a', proto: 'tcp', port: 8080, expect: true }, // named port "http"
      { from: 'b', to: 'a', proto: 'tcp', port: 80, expect: false },
      { from: 'b', to: 'a', proto: 'tcp', port: 3000, expect: false },
      { from: 'b', to: 'a', proto: 'udp', port: 1500, expect: false },
    ]);
  });

  test('egress deny to a CIDR with a notNets exception', async () => {
    await applyAll({
      policies: [
        gnp('fe-egress', {
          selector: "role == 'fe'",
          types: ['Egress'],
          egress: [
            { action: 'Deny', destination: { nets: ['198.18.0.0/15'], notNets: [`${lab.pod('a').ip}/32`] } },
            allow,
          ],
        }),
      ],
    });
    await check([
      { from: 'b', to: 'a', proto: 'tcp', port: 80, expect: true }, // the exception
      { from: 'b', to: 'e', proto: 'tcp', port: 80, expect: false }, // cross node, inside the CIDR
      { from: 'd', to: 'e', proto: 'icmp', expect: false },
      { from: 'e', to: 'b', proto: 'udp', port: 80, expect: true }, // e is not role=fe; replies ride conntrack
    ]);
  });

  test('Pass with two tiers: security tier passes fe traffic on to the default tier', async () => {
    await applyAll({
      tiers: [{ name: 'security', order: 10 }],
      policies: [
        gnp('sec', {
          tier: 'security',
          selector: "app == 'web'",
          ingress: [{ action: 'Pass', source: { selector: "role == 'fe'" } }, { action: 'Deny' }],
        }),
        gnp('web-no-3000', {
          selector: "app == 'web'",
          ingress: [{ action: 'Deny', protocol: 'TCP', destination: { ports: [3000] } }, allow],
        }),
      ],
    });
    await check([
      { from: 'b', to: 'a', proto: 'tcp', port: 80, expect: true },
      { from: 'd', to: 'a', proto: 'tcp', port: 3000, expect: false }, // passed, then denied in default tier
      { from: 'e', to: 'a', proto: 'tcp', port: 80, expect: false }, // denied in security tier
    ]);
  });

  test('Log rule is programmed and traffic continues', async () => {
    await applyAll({
      policies: [gnp('log-web', { selector: "app == 'web'", ingress: [{ action: 'Log', protocol: 'TCP' }, allow] })],
    });
    const saved = await lab.exec(n1.ns, ['iptables-save', '-t', 'filter']);
    expect(saved).toMatch(/-A ttn-pi-\S+ .*-p tcp .*-j LOG --log-prefix "tartan-packet: "/);
    await check([{ from: 'b', to: 'a', proto: 'tcp', port: 80, expect: true }]);
  });

  test('HostEndpoint protects the node itself; forwarded pod traffic is unaffected', async () => {
    const input = (node: string): PolicyInput =>
      clusterInput(node, weps, {
        hostEndpoints: [
          { name: 'n2-nx0', node: 'n2', interfaceName: 'nx0', expectedIPs: ['198.19.0.2'], labels: { role: 'node' } },
        ],
        policies: [
          gnp('node-ingress', {
            selector: "role == 'node'",
            types: ['Ingress'],
            ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "app == 'web'" }, destination: { ports: [5000] } }],
          }),
        ],
      });
    for (const [node, dp] of dps) await dp.apply(input(node));
    await check([
      { from: 'a', to: 'n2', proto: 'tcp', port: 5000, expect: true },
      { from: 'b', to: 'n2', proto: 'tcp', port: 5000, expect: false },
      { from: 'a', to: 'n2', proto: 'icmp', expect: false },
      { from: 'b', to: 'd', proto: 'tcp', port: 80, expect: true }, // forwarded through nx0: no applyOnForward policy
    ]);
  });

  test('policy change during a long-lived TCP connection: established flow survives (conntrack), new ones are blocked', async () => {
    await applyAll();
    const client = lab.holdClient(lab.pod('b').ns, lab.pod('a').ip, 80);
    const lines: string[] = [];
    client.stdout.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    const waitLine = async (want: string): Promise<void> => {
      for (let i = 0; i < 100 && !lines.includes(want); i++) await new Promise((r) => setTimeout(r, 50));
      expect(lines).toContain(want);
    };
    try {
      await waitLine('connected');
      client.stdin.write('one\n');
      await waitLine('echo:one');
      await applyAll({ policies: [gnp('default-deny', { selector: 'all()', types: ['Ingress'] })] });
      client.stdin.write('two\n');
      await waitLine('echo:two');
      await check([{ from: 'b', to: 'a', proto: 'tcp', port: 80, expect: false }]);
    } finally {
      if (client.pid !== undefined) process.kill(-client.pid, 'SIGKILL');
    }
  });
});

export type { Pod };
