import { Etcd3 } from 'etcd3';
import {
  Datastore, type BGPPeer, type CorruptValue, type IPPool, type NetworkPolicy, type NodeResource, RESOURCE_PREFIX,
} from '../../../src/datastore';
import { isTartanError } from '../../../src/errors';
import { startEtcd, type EtcdServer } from './etcd-server';

const v3 = 'projectcalico.org/v3' as const;

function peer(name: string, peerIP = '192.0.2.1', asNumber = 64600): BGPPeer {
  return { apiVersion: v3, kind: 'BGPPeer', metadata: { name }, spec: { peerIP, asNumber } };
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return isTartanError(e) ? e.code : `foreign: ${String(e)}`;
  }
}

describe('Datastore CRUD against a real etcd', () => {
  let etcd: EtcdServer;
  let ds: Datastore;
  let raw: Etcd3;
  const corrupt: CorruptValue[] = [];

  beforeAll(async () => {
    etcd = await startEtcd();
    ds = Datastore.connect({ endpoints: [etcd.endpoint] }, { onCorrupt: (c) => corrupt.push(c) });
    raw = new Etcd3({ hosts: etcd.endpoint });
  });
  afterAll(async () => {
    ds?.close();
    raw?.close();
    await etcd?.stop();
  });

  it('create stores Calico JSON at the Calico key; resourceVersion is the mod revision', async () => {
    const created = await ds.create(peer('tor1'));
    const key = `${RESOURCE_PREFIX}bgppeers/tor1`;
    const stored = await raw.get(key).json() as Record<string, unknown> & { metadata: Record<string, unknown> };
    expect(stored).toMatchObject({ apiVersion: v3, kind: 'BGPPeer', spec: { peerIP: '192.0.2.1', asNumber: 64600 } });
    expect(stored.metadata['resourceVersion']).toBeUndefined();
    expect(stored.metadata['uid']).toMatch(/^[0-9a-f-]{36}$/);
    expect(stored.metadata['creationTimestamp']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const rev = (await raw.get(key).exec()).kvs[0]?.mod_revision;
    expect(created.metadata.resourceVersion).toBe(rev);
    const got = await ds.get('BGPPeer', 'tor1');
    expect(got).toEqual(created);
  });

  it('create of an existing name is RESOURCE_EXISTS', async () => {
    expect(await codeOf(ds.create(peer('tor1')))).toBe('RESOURCE_EXISTS');
  });

  it('update is compare-and-swap on resourceVersion', async () => {
    const current = await ds.get('BGPPeer', 'tor1');
    const updated = await ds.update({ ...current, spec: { ...current.spec, asNumber: 64601 } });
    expect(Number(updated.metadata.resourceVersion)).toBeGreaterThan(Number(current.metadata.resourceVersion));
    expect(updated.metadata.uid).toBe(current.metadata.uid);
    expect(updated.metadata.creationTimestamp).toBe(current.metadata.creationTimestamp);
    // The old version is now stale.
    expect(await codeOf(ds.update({ ...current, spec: { ...current.spec, asNumber: 64602 } }))).toBe('RESOURCE_CONFLICT');
    expect((await ds.get('BGPPeer', 'tor1')).spec.asNumber).toBe(64601);
    expect(await codeOf(ds.update(peer('missing')))).toBe('RESOURCE_NOT_FOUND');
  });

  it('racing updates from the same version: exactly one wins', async () => {
    const base = await ds.get('BGPPeer', 'tor1');
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => codeOf(ds.update({ ...base, spec: { ...base.spec, asNumber: 65000 + i } }))),
    );
    expect(results.filter((r) => r === undefined)).toHaveLength(1);
    expect(results.filter((r) => r === 'RESOURCE_CONFLICT')).toHaveLength(7);
  });

  it('apply creates or updates and keeps identity', async () => {
    const a = await ds.apply(peer('tor2'));
    const b = await ds.apply(peer('tor2', '192.0.2.2'));
    expect(b.metadata.uid).toBe(a.metadata.uid);
    expect(b.spec.peerIP).toBe('192.0.2.2');
    expect(await codeOf(ds.apply({ ...peer('tor2'), metadata: { name: 'tor2', resourceVersion: a.metadata.resourceVersion } }))).toBe('RESOURCE_CONFLICT');
  });

  it('delete honours resourceVersion and returns the deleted object', async () => {
    const cur = await ds.get('BGPPeer', 'tor2');
    expect(await codeOf(ds.delete('BGPPeer', 'tor2', { resourceVersion: '1' }))).toBe('RESOURCE_CONFLICT');
    const gone = await ds.delete('BGPPeer', 'tor2', { resourceVersion: cur.metadata.resourceVersion });
    expect(gone?.spec.peerIP).toBe('192.0.2.2');
    expect(await codeOf(ds.get('BGPPeer', 'tor2'))).toBe('RESOURCE_NOT_FOUND');
    expect(await codeOf(ds.delete('BGPPeer', 'tor2'))).toBe('RESOURCE_NOT_FOUND');
  });

  it('an invalid resource is refused with every problem and nothing is written', async () => {
    let caught: unknown;
    try {
      await ds.create({ apiVersion: v3, kind: 'BGPPeer', metadata: { name: 'bad' }, spec: { peerIP: '10.0.0.300', asNumber: 0 } });
    } catch (e) {
      caught = e;
    }
    expect(isTartanError(caught, 'RESOURCE_INVALID')).toBe(true);
    expect((caught as Error).message).toContain('spec.peerIP: "10.0.0.300" is not an IP address');
    expect((caught as Error).message).toContain('spec.asNumber: must be 1..4294967295, got 0');
    expect(await raw.get(`${RESOURCE_PREFIX}bgppeers/bad`).string()).toBeNull();
  });

  it('stores defaults; lists namespaced kinds per namespace and across all', async () => {
    const pool = await ds.create<IPPool>({ apiVersion: v3, kind: 'IPPool', metadata: { name: 'p1' }, spec: { cidr: '10.20.0.0/16' } });
    expect(pool.spec).toMatchObject({ blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false, nodeSelector: 'all()' });
    const np = (name: string, namespace?: string): NetworkPolicy => ({
      apiVersion: v3, kind: 'NetworkPolicy', metadata: { name, ...(namespace ? { namespace } : {}) }, spec: { selector: 'all()', egress: [{ action: 'Allow' }] },
    });
    const stored = await ds.create(np('a'));
    expect(stored.metadata.namespace).toBe('default');
    expect(stored.spec.types).toEqual(['Egress']);
    await ds.create(np('b', 'prod'));
    await ds.create(np('a', 'prod'));
    expect(await raw.get(`${RESOURCE_PREFIX}networkpolicies/prod/b`).string()).not.toBeNull();
    const prod = await ds.list('NetworkPolicy', 'prod');
    expect(prod.items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`)).toEqual(['prod/a', 'prod/b']);
    const all = await ds.list('NetworkPolicy');
    expect(all.items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`)).toEqual(['default/a', 'prod/a', 'prod/b']);
    expect((await ds.get('NetworkPolicy', 'b', 'prod')).metadata.namespace).toBe('prod');
  });

  it('reads values written by Calico itself', async () => {
    // As libcalico-go stores a Node (no resourceVersion in the value).
    const calicoValue = {
      kind: 'Node', apiVersion: v3,
      metadata: { name: 'node-a', uid: '5b1a8c2e-8d4e-4f6a-9a55-2c1f0e7d9b11', creationTimestamp: '2024-05-01T10:00:00Z', labels: { 'kubernetes.io/hostname': 'node-a' } },
      spec: { bgp: { ipv4Address: '10.0.0.11/24', ipv4IPIPTunnelAddr: '192.168.77.0' }, orchRefs: [{ nodeName: 'node-a', orchestrator: 'k8s' }] },
    };
    await raw.put(`${RESOURCE_PREFIX}nodes/node-a`).value(JSON.stringify(calicoValue));
    const node = await ds.get('Node', 'node-a');
    expect((node as NodeResource).spec.bgp?.ipv4Address).toBe('10.0.0.11/24');
    expect(node.metadata.resourceVersion).toMatch(/^\d+$/);
  });

  it('corrupt stored values are reported and skipped, never crash the reader', async () => {
    await raw.put(`${RESOURCE_PREFIX}bgppeers/zz-notjson`).value('{not json');
    await raw.put(`${RESOURCE_PREFIX}bgppeers/zz-wrongkind`).value(JSON.stringify({ apiVersion: v3, kind: 'Node', metadata: { name: 'zz-wrongkind' }, spec: {} }));
    await raw.put(`${RESOURCE_PREFIX}bgppeers/zz-invalid`).value(JSON.stringify({ apiVersion: v3, kind: 'BGPPeer', metadata: { name: 'zz-invalid' }, spec: { peerIP: 'x', asNumber: 1 } }));
    corrupt.length = 0;
    const { items } = await ds.list('BGPPeer');
    expect(items.map((p) => p.metadata.name)).toEqual(['tor1']);
    expect(corrupt.map((c) => c.key.split('/').pop())).toEqual(['zz-invalid', 'zz-notjson', 'zz-wrongkind']);
    expect(corrupt[0]?.reason).toMatch(/spec\.peerIP/);
    expect(corrupt[1]?.reason).toMatch(/not JSON/);
    expect(corrupt[2]?.reason).toMatch(/kind Node stored under the BGPPeer prefix/);
    expect(await codeOf(ds.get('BGPPeer', 'zz-notjson'))).toBe('RESOURCE_CORRUPT');
    // A corrupt object can be deleted to clean it up.
    await ds.delete('BGPPeer', 'zz-notjson');
    expect(await raw.get(`${RESOURCE_PREFIX}bgppeers/zz-notjson`).string()).toBeNull();
  });

  it('etcd down: DATASTORE_UNAVAILABLE, then works again after restart', async () => {
    const quick = Datastore.connect({ endpoints: [etcd.endpoint], requestTimeoutMs: 1000 });
    try {
      await etcd.kill();
      expect(await codeOf(quick.get('BGPPeer', 'tor1'))).toBe('DATASTORE_UNAVAILABLE');
      expect(await codeOf(quick.create(peer('while-down')))).toBe('DATASTORE_UNAVAILABLE');
      await etcd.start();
      // The client reconnects by itself (its circuit breaker may need a few seconds).
      let got: BGPPeer | undefined;
      for (let i = 0; i < 100 && !got; i++) {
        got = await quick.get('BGPPeer', 'tor1').catch(async () => {
          await new Promise((r) => setTimeout(r, 200));
          return undefined;
        });
      }
      expect(got?.metadata.name).toBe('tor1');
    } finally {
      quick.close();
    }
  });
});
