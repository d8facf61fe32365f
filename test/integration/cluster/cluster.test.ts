/**
 * Tartan as a cluster driven by etcd, the way confd drives BIRD in Calico:
 * real etcd (in a lab namespace), three real tartan-node processes (a, b, c),
 * resources written with the datastore and IPAM libraries, results read from
 * the nodes' kernels, control APIs and `ss`.
 *
 * One lab for the whole file; the steps build on each other:
 *   1. full mesh, block routes everywhere; then mesh → route reflector (c)
 *      with every kernel polled throughout: no route ever missing
 *   2. a WorkloadEndpoint on a with a borrowed address from b's block
 *   3. changing one BGPPeer resets that session only
 *   4. etcd stopped for 30 s: sessions and routes stay; changes made after
 *      it returns (and a compaction) are caught up
 *   5. invalid resources refused; a corrupt value is logged and skipped
 */
import { createClusterLab, destroyClusterLab, startClusterNode, hasRouteVia, kernelRoutes, waitPeers, AS, type ClusterLab } from './cluster-lab';
import { waitFor, sleep, type Host } from '../harness';
import type { TartanNode } from '../tartan/tartan-node';
import { API_VERSION, RESOURCE_INVALID, type BGPPeer, type NodeResource, type WorkloadEndpoint } from '../../../src/datastore';
import { Ipam, blockCidrFor } from '../../../src/ipam';
import { isTartanError } from '../../../src/errors';

const POOL = '10.70.0.0/16';
const RR_CLUSTER = '244.0.0.1';
const MESH = 'node-to-node mesh/Established';
const NODE = 'node specific/Established';

describe('tartan-node cluster over etcd', () => {
  let c: ClusterLab;
  let a: Host, b: Host, rr: Host;
  let na: TartanNode, nb: TartanNode, nc: TartanNode;
  const block: Record<string, string> = {};
  let ipam: Ipam;

  const ip = (h: Host): string => h.addr('ipv4');
  const nodes = (): [Host, TartanNode][] => [[a, na], [b, nb], [rr, nc]];
  const wep = (name: string, node: string, ips: string[]): WorkloadEndpoint => ({
    apiVersion: API_VERSION,
    kind: 'WorkloadEndpoint',
    metadata: { name: `${node}-k8s-${name}-eth0`, namespace: 'default' },
    spec: { orchestrator: 'k8s', node, workload: name, pod: name, endpoint: 'eth0', interfaceName: `cali${name}`, ipNetworks: ips.map((x) => `${x}/32`) },
  });
  /** Every node's kernel holds every other node's block via that node. */
  const allBlockRoutes = async (): Promise<string[]> => {
    const missing: string[] = [];
    for (const [h] of nodes()) {
      const routes = await kernelRoutes(h);
      for (const [o] of nodes()) {
        if (o === h) continue;
        const r = routes.get(block[o.name]!);
        if (!r || r.gateway !== ip(o)) missing.push(`${h.name} lacks ${block[o.name]} via ${o.name}`);
      }
    }
    return missing;
  };
  const logs = (): string => nodes().map(([, n]) => `--- ${n.host.name} ---\n${n.logTail(25)}`).join('\n');

  beforeAll(async () => {
    c = await createClusterLab('cluster', ['a', 'b', 'c']);
    [a, b, rr] = c.hosts as [Host, Host, Host];
    [na, nb, nc] = await Promise.all([startClusterNode(a, c.etcd), startClusterNode(b, c.etcd), startClusterNode(rr, c.etcd)]);
    await c.ds.create({ apiVersion: API_VERSION, kind: 'IPPool', metadata: { name: 'pool' }, spec: { cidr: POOL, blockSize: 26 } });
    ipam = new Ipam(c.ds);
    // The nodes registered themselves; IPAM claims one block per node through them.
    await waitFor(async () => (await c.ds.list('Node')).items.length === 3, { what: 'three Node resources registered' });
    for (const h of [a, b, rr]) {
      const got = await ipam.autoAssign({ node: h.name, handleId: `boot-${h.name}`, num4: 1 });
      block[h.name] = blockCidrFor(got.ipv4[0]!, 26)!;
    }
  });

  afterAll(async () => {
    await destroyClusterLab(c);
  });

  it('registers each node (addresses, AS) and publishes liveness and CalicoNodeStatus', async () => {
    const n = await c.ds.get('Node', 'a');
    expect(n.spec.bgp).toMatchObject({ ipv4Address: `${ip(a)}/24`, asNumber: AS });
    await waitFor(async () => (await c.ds.kv.get('/calico/felix/v2/no-region/host/a/status')) !== undefined, { what: 'liveness key of node a' });
    const live = JSON.parse((await c.ds.kv.get('/calico/felix/v2/no-region/host/a/status'))!.value) as { time: string; uptime: number };
    expect(typeof live.time).toBe('string');
    const status = await waitFor(async () => {
      const s = await c.ds.get('CalicoNodeStatus', 'a');
      return s.status?.bgp?.numberEstablishedV4 === 2 ? s : undefined;
    }, { what: 'CalicoNodeStatus a with two established peers', timeoutMs: 30_000 });
    expect(status.status?.bgp?.peersV4?.map((p) => [p.peerIP, p.type, p.state]).sort()).toEqual(
      [[ip(b), 'NodeMesh', 'Established'], [ip(rr), 'NodeMesh', 'Established']].sort(),
    );
  });

  it('1a. forms a full mesh and every kernel gets the other nodes\' block routes (and blackholes its own)', async () => {
    await waitPeers(na, { [ip(b)]: MESH, [ip(rr)]: MESH }, 'a meshed');
    await waitPeers(nb, { [ip(a)]: MESH, [ip(rr)]: MESH }, 'b meshed');
    await waitPeers(nc, { [ip(a)]: MESH, [ip(b)]: MESH }, 'c meshed');
    await waitFor(async () => (await allBlockRoutes()).length === 0, { what: 'block routes in every kernel', timeoutMs: 30_000 }).catch((e: Error) => {
      throw new Error(`${e.message}\n${logs()}`);
    });
    for (const [h] of nodes()) {
      const own = (await kernelRoutes(h)).get(block[h.name]!);
      expect(own).toMatchObject({ type: 'blackhole', protocol: '203' });
    }
    const bgp = (await kernelRoutes(a)).get(block['b']!);
    expect(bgp?.protocol).toBe('201');
  });

  it('1b. mesh → route reflector: sessions re-form to Calico\'s set, and no block route ever leaves any kernel', async () => {
    let polling = true;
    let polls = 0;
    const gaps: string[] = [];
    const poller = (async () => {
      while (polling) {
        const missing = await allBlockRoutes();
        polls++;
        if (missing.length) gaps.push(`poll ${polls}: ${missing.join('; ')}`);
      }
    })();
    try {
      // The operator's order from the Calico docs: the BGPPeer, then the reflector node, then the mesh off.
      await c.ds.create<BGPPeer>({ apiVersion: API_VERSION, kind: 'BGPPeer', metadata: { name: 'peer-with-route-reflectors' }, spec: { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'" } });
      const node = await c.ds.get('Node', 'c');
      await c.ds.update<NodeResource>({ ...node, metadata: { ...node.metadata, labels: { ...(node.metadata.labels ?? {}), 'route-reflector': 'true' } }, spec: { ...node.spec, bgp: { ...node.spec.bgp, routeReflectorClusterID: RR_CLUSTER } } });
      // Migration state (Calico's): a and b still mesh with each other, and peer with c as node-specific.
      await waitPeers(na, { [ip(b)]: MESH, [ip(rr)]: NODE }, 'a during migration');
      await waitPeers(nb, { [ip(a)]: MESH, [ip(rr)]: NODE }, 'b during migration');
      await waitPeers(nc, { [ip(a)]: NODE, [ip(b)]: NODE }, 'c (reflector) during migration');
      // c reflects: a hears b's block from c too before the mesh goes.
      await waitFor(async () => (await na.routes({ table: 'in', prefix: block['b'] })).some((r) => r.peer === ip(rr) && r.attributes.clusterList?.includes(RR_CLUSTER)), {
        what: "a to hear b's block reflected by c",
      }).catch(async (e: Error) => {
        throw new Error(`${e.message}\nc out to a: ${JSON.stringify(await nc.routes({ table: 'out', peer: ip(a) }))}\nc in: ${JSON.stringify(await nc.routes({ table: 'in' }))}\n${logs()}`);
      });
      await c.ds.apply({ apiVersion: API_VERSION, kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { nodeToNodeMeshEnabled: false } });
      await waitPeers(na, { [ip(rr)]: NODE }, 'a as a client');
      await waitPeers(nb, { [ip(rr)]: NODE }, 'b as a client');
      await waitPeers(nc, { [ip(a)]: NODE, [ip(b)]: NODE }, 'c as the reflector');
      const atA = (await na.routes({ table: 'in', prefix: block['b'] })).filter((r) => r.prefix === block['b']);
      expect(atA).toEqual([expect.objectContaining({ peer: ip(rr), best: true })]);
      expect(atA[0]!.attributes).toMatchObject({ nextHop: [ip(b)], originatorId: ip(b), clusterList: [RR_CLUSTER] });
      const st = await nc.status();
      expect(st.peers.every((p) => p.peerType === 'node specific')).toBe(true);
      // Keep watching the kernels a while after the final state: a late withdrawal would show here.
      const settled = polls;
      await waitFor(() => polls >= settled + 20, { what: '20 more kernel polls after the migration' });
    } finally {
      polling = false;
      await poller;
    }
    expect(polls).toBeGreaterThan(20);
    expect(gaps).toEqual([]);
    expect(await allBlockRoutes()).toEqual([]);
  });

  it('2. a WorkloadEndpoint on a with a borrowed address from b\'s block: b gets the /32 via a', async () => {
    const own = (await ipam.autoAssign({ node: 'a', handleId: 'pod1', num4: 1 })).ipv4[0]!;
    const borrowed = block['b']!.replace(/\.(\d+)\/26$/, (_m, last: string) => `.${Number(last) + 40}`);
    await c.ds.create(wep('pod1', 'a', [own, borrowed]));
    await waitFor(() => hasRouteVia(b, `${borrowed}/32`, ip(a)), { what: `${borrowed}/32 via a in b's kernel` }).catch((e: Error) => {
      throw new Error(`${e.message}\n${logs()}`);
    });
    await waitFor(() => hasRouteVia(rr, `${borrowed}/32`, ip(a)), { what: `${borrowed}/32 via a in c's kernel` });
    expect(await hasRouteVia(b, block['a']!, ip(a))).toBe(true);
    // The address inside a's own block travels as the block, not as a /32.
    expect((await kernelRoutes(b)).has(`${own}/32`)).toBe(false);
    expect((await na.routes({ table: 'out', prefix: `${own}/32` })).filter((r) => r.prefix === `${own}/32`)).toEqual([]);
  });

  /** Per session: since, local and remote TCP ports, keyed "node→peer". */
  const sessions = async (): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    for (const [h, n] of nodes()) {
      for (const p of (await n.status()).peers) out[`${h.name}→${p.address}`] = `${p.state} since ${p.since} ports ${p.negotiated?.localPort}/${p.negotiated?.remotePort}`;
    }
    return out;
  };
  const ssEstablished = async (h: Host): Promise<string[]> =>
    (await h.exec(['ss', '-Htn', 'state', 'established', '( sport = :179 or dport = :179 )']))
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => l.trim().split(/\s+/).slice(-2).join(' '))
      .sort();

  it('3. adding, changing and removing one BGPPeer leaves every other session untouched', async () => {
    const before = await sessions();
    const ssBefore = { a: await ssEstablished(a), b: await ssEstablished(b), c: await ssEstablished(rr) };
    // a ↔ b directly: node-specific on a, and on b by reverse peering.
    await c.ds.create<BGPPeer>({ apiVersion: API_VERSION, kind: 'BGPPeer', metadata: { name: 'a-to-b' }, spec: { node: 'a', peerIP: ip(b), asNumber: AS } });
    await waitPeers(na, { [ip(rr)]: NODE, [ip(b)]: NODE }, 'a with the extra peer');
    await waitPeers(nb, { [ip(rr)]: NODE, [ip(a)]: NODE }, 'b with the reverse peer');
    const added = await sessions();
    const ab = added[`a→${ip(b)}`]!;
    // Change that one BGPPeer (a new keepalive needs a new OPEN: that session restarts).
    const cur = await c.ds.get('BGPPeer', 'a-to-b');
    await c.ds.update<BGPPeer>({ ...cur, spec: { ...cur.spec, keepaliveTime: '7s' } });
    await waitFor(async () => {
      const s = await sessions();
      return s[`a→${ip(b)}`] !== ab && s[`a→${ip(b)}`]!.startsWith('Established') && s[`b→${ip(a)}`]!.startsWith('Established');
    }, { what: 'the a-b session to restart with the new keepalive', timeoutMs: 30_000 });
    expect((await na.status()).peers.find((p) => p.address === ip(b))?.negotiated?.keepaliveTime).toBe(7);
    await c.ds.delete('BGPPeer', 'a-to-b');
    await waitPeers(na, { [ip(rr)]: NODE }, 'a without the extra peer');
    await waitPeers(nb, { [ip(rr)]: NODE }, 'b without the reverse peer');
    // Through all of it the reflector sessions kept their TCP connections and their since.
    const after = await sessions();
    for (const k of [`a→${ip(rr)}`, `b→${ip(rr)}`, `c→${ip(a)}`, `c→${ip(b)}`]) expect(after[k]).toBe(before[k]);
    expect({ a: await ssEstablished(a), b: await ssEstablished(b), c: await ssEstablished(rr) }).toEqual(ssBefore);
  });

  it('4. etcd away for 30 s: sessions and routes stay; later changes (and a compaction) are caught up', async () => {
    const before = await sessions();
    await c.etcd.stop();
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      expect(await allBlockRoutes()).toEqual([]);
      for (const [, n] of nodes()) expect(n.proc.running).toBe(true);
      await sleep(2000);
    }
    expect(await sessions()).toEqual(before);
    await c.etcd.start();
    // Changes right after the restart, then a compaction past the nodes' resume point:
    // a node that had not reconnected yet must relist instead of resuming.
    const got = await ipam.autoAssign({ node: 'c', handleId: 'after-outage', num4: 1 });
    const borrowed2 = block['a']!.replace(/\.(\d+)\/26$/, (_m, last: string) => `.${Number(last) + 50}`);
    await c.ds.create(wep('pod2', 'c', [got.ipv4[0]!, borrowed2]));
    const rev = Number((await c.ds.get('WorkloadEndpoint', 'c-k8s-pod2-eth0', 'default')).metadata.resourceVersion);
    await c.ds.kv.compact(rev);
    await waitFor(() => hasRouteVia(a, `${borrowed2}/32`, ip(rr)), { what: `${borrowed2}/32 via c in a's kernel after the outage`, timeoutMs: 30_000 }).catch((e: Error) => {
      throw new Error(`${e.message}\n${logs()}`);
    });
    await waitFor(() => hasRouteVia(b, `${borrowed2}/32`, ip(rr)), { what: `${borrowed2}/32 via c in b's kernel` });
    // A further change after the compaction also arrives (the watch is healthy again).
    await c.ds.delete('WorkloadEndpoint', 'c-k8s-pod2-eth0', { namespace: 'default' });
    await waitFor(async () => !(await kernelRoutes(a)).has(`${borrowed2}/32`), { what: `${borrowed2}/32 withdrawn from a's kernel` });
    expect(await sessions()).toEqual(before);
  });

  it('5. invalid resources are refused; a corrupt value is logged and skipped, and the nodes carry on', async () => {
    const bad = c.ds.create<BGPPeer>({ apiVersion: API_VERSION, kind: 'BGPPeer', metadata: { name: 'bad' }, spec: { peerIP: '10.0.0.300', asNumber: AS } });
    await expect(bad).rejects.toThrow(/spec\.peerIP/);
    await bad.catch((e: unknown) => expect(isTartanError(e, RESOURCE_INVALID)).toBe(true));
    await expect(c.ds.create({ apiVersion: API_VERSION, kind: 'BGPConfiguration', metadata: { name: 'node.a' }, spec: { nodeToNodeMeshEnabled: true } })).rejects.toThrow(/nodeToNodeMeshEnabled/);
    const key = '/calico/resources/v3/projectcalico.org/bgppeers/corrupt';
    await c.ds.kv.txn([], [{ op: 'put', key, value: '{"kind":"BGPPeer", this is not json' }]);
    for (const [, n] of nodes()) {
      await waitFor(() => n.logTail(400).includes(`skipping a corrupt value at ${key}`), { what: `${n.host.name} to log the corrupt value` });
    }
    // Still working: a change after the corrupt value is applied.
    const borrowed3 = block['c']!.replace(/\.(\d+)\/26$/, (_m, last: string) => `.${Number(last) + 60}`);
    await c.ds.create(wep('pod3', 'b', [borrowed3]));
    await waitFor(() => hasRouteVia(a, `${borrowed3}/32`, ip(b)), { what: `${borrowed3}/32 via b in a's kernel after the corrupt value` });
    for (const [, n] of nodes()) expect(n.proc.running).toBe(true);
    await c.ds.kv.txn([], [{ op: 'delete', key }]);
  });

  it('6. BGPConfiguration logSeverityScreen changes the log level of a running node', async () => {
    await c.ds.apply({ apiVersion: API_VERSION, kind: 'BGPConfiguration', metadata: { name: 'node.b' }, spec: { logSeverityScreen: 'Warning' } });
    await waitFor(() => nb.logTail(400).includes('log level is now warn (BGPConfiguration logSeverityScreen Warning)'), { what: "b's log level to follow logSeverityScreen" });
    // Only b has the per-node setting.
    expect(na.logTail(400)).not.toContain('log level is now warn');
  });
});
