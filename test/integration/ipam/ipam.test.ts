import { Etcd3 } from 'etcd3';
import { Datastore, type CorruptValue, type IPPool, type NodeResource } from '../../../src/datastore';
import { Ipam, affinityKey, blockKey, handleKey, type AllocationBlock } from '../../../src/ipam';
import { isTartanError } from '../../../src/errors';
import { startEtcd, type EtcdServer } from '../datastore/etcd-server';

const v3 = 'projectcalico.org/v3' as const;
const pool = (name: string, cidr: string, spec: Partial<IPPool['spec']> = {}): IPPool => ({ apiVersion: v3, kind: 'IPPool', metadata: { name }, spec: { cidr, ...spec } });
const node = (name: string, labels: Record<string, string>): NodeResource => ({ apiVersion: v3, kind: 'Node', metadata: { name, labels }, spec: {} });

describe('IPAM against a real etcd', () => {
  let etcd: EtcdServer;
  let ds: Datastore;
  let raw: Etcd3;
  let ipam: Ipam;
  const corrupt: CorruptValue[] = [];

  beforeAll(async () => {
    etcd = await startEtcd();
    ds = Datastore.connect({ endpoints: [etcd.endpoint] });
    raw = new Etcd3({ hosts: etcd.endpoint });
    ipam = new Ipam(ds, { onCorrupt: (c) => corrupt.push(c) });
    await ds.create(node('n1', { rack: 'a' }));
    await ds.create(node('n2', { rack: 'b' }));
    await ds.create(pool('rack-a', '10.50.0.0/24', { blockSize: 28, nodeSelector: "rack == 'a'" }));
    await ds.create(pool('rack-b', '10.60.0.0/24', { blockSize: 28, nodeSelector: "rack == 'b'" }));
    await ds.create(pool('off', '10.70.0.0/24', { blockSize: 28, disabled: true }));
    await ds.create(pool('v6', 'fd00:50::/120', { blockSize: 124 }));
  });
  afterAll(async () => {
    ds?.close();
    raw?.close();
    await etcd?.stop();
  });

  it('claims a block for the node (affinity confirmed) and records the handle', async () => {
    const r = await ipam.autoAssign({ node: 'n1', handleId: 'pod-1', num4: 3, num6: 2, attrs: { node: 'n1', pod: 'pod-1', namespace: 'default' } });
    expect(r.ipv4).toHaveLength(3);
    expect(r.ipv6).toHaveLength(2);
    const block4 = `${r.ipv4[0]}/28`;
    expect(r.ipv4.every((ip) => ip.startsWith('10.50.0.'))).toBe(true);
    expect(r.ipv6.every((ip) => ip.startsWith('fd00:50::'))).toBe(true);
    expect(await raw.get(affinityKey('n1', block4)).json()).toEqual({ state: 'confirmed', deleted: false });
    const b = (await raw.get(blockKey(block4)).json()) as AllocationBlock;
    expect(b.affinity).toBe('host:n1');
    expect(b.attributes).toEqual([{ handle_id: 'pod-1', secondary: { node: 'n1', pod: 'pod-1', namespace: 'default' } }]);
    expect(b.allocations.slice(0, 4)).toEqual([0, 0, 0, null]);
    const h = (await raw.get(handleKey('pod-1')).json()) as { block: Record<string, number> };
    expect(h.block[block4]).toBe(3);
    expect(Object.values(h.block).reduce((a, n) => a + n, 0)).toBe(5);
  });

  it('uses the affine block first; nodeSelector and disabled pools are respected', async () => {
    const a = await ipam.autoAssign({ node: 'n1', handleId: 'pod-2', num4: 2 });
    expect(a.ipv4.every((ip) => ip.startsWith('10.50.0.'))).toBe(true);
    const first = (await ipam.ipamShow()).pools.find((p) => p.name === 'rack-a');
    expect(first?.blocks).toHaveLength(1);
    expect(first?.blocks[0]).toMatchObject({ node: 'n1', inUse: 5, free: 11 });
    const b = await ipam.autoAssign({ node: 'n2', handleId: 'pod-3', num4: 1 });
    expect(b.ipv4[0]).toMatch(/^10\.60\.0\./);
    // A node nobody's pools select gets nothing (and nothing leaks).
    await ds.create(node('n3', { rack: 'c' }));
    let caught: unknown;
    try {
      await ipam.autoAssign({ node: 'n3', handleId: 'pod-4', num4: 1 });
    } catch (e) {
      caught = e;
    }
    expect(isTartanError(caught, 'IPAM_EXHAUSTED')).toBe(true);
    expect(await raw.get(handleKey('pod-4')).string()).toBeNull();
  });

  it('claims further blocks, borrows when the pool has no free block, refuses under strict affinity', async () => {
    await ds.create(node('t1', { tiny: 'yes' }));
    await ds.create(node('t2', { tiny: 'yes' }));
    await ds.create(pool('tiny', '10.80.0.0/27', { blockSize: 28, nodeSelector: 'has(tiny)' })); // two blocks of 16
    const t1 = await ipam.autoAssign({ node: 't1', handleId: 't1-a', num4: 20 });
    expect(new Set(t1.ipv4.map((ip) => ip.split('.')[3] as string).map((o) => Math.floor(Number(o) / 16))).size).toBe(2);
    // t2: no free block left; borrows from t1's second block.
    await ipam.setConfig({ strict_affinity: true });
    let caught: unknown;
    try {
      await ipam.autoAssign({ node: 't2', handleId: 't2-a', num4: 5 });
    } catch (e) {
      caught = e;
    }
    expect(isTartanError(caught, 'IPAM_EXHAUSTED')).toBe(true);
    await ipam.setConfig({ strict_affinity: false });
    const t2 = await ipam.autoAssign({ node: 't2', handleId: 't2-a', num4: 5 });
    expect(t2.ipv4).toHaveLength(5);
    expect(t2.ipv4.filter((ip) => t1.ipv4.includes(ip))).toEqual([]);
    const tiny = (await ipam.ipamShow()).pools.find((p) => p.name === 'tiny');
    expect(tiny).toMatchObject({ total: 32, inUse: 25, free: 7 });
    expect(tiny?.blocks.map((b) => b.node)).toEqual(['t1', 't1']);
    // All-or-nothing: asking for more than is left takes nothing.
    const before = (await ipam.ipamShow()).pools.find((p) => p.name === 'tiny')?.inUse;
    await expect(ipam.autoAssign({ node: 't2', handleId: 't2-b', num4: 8 })).rejects.toMatchObject({ code: 'IPAM_EXHAUSTED' });
    expect((await ipam.ipamShow()).pools.find((p) => p.name === 'tiny')?.inUse).toBe(before);
  });

  it('releases by handle and by IP, keeping handles and blocks consistent', async () => {
    const r = await ipam.autoAssign({ node: 'n1', handleId: 'pod-5', num4: 4 });
    expect(await ipam.releaseIPs([r.ipv4[0] as string, '10.50.0.250', '192.0.2.1'])).toEqual([r.ipv4[0]]);
    const h = (await raw.get(handleKey('pod-5')).json()) as { block: Record<string, number> };
    expect(Object.values(h.block)).toEqual([3]);
    expect((await ipam.releaseByHandle('pod-5')).sort()).toEqual(r.ipv4.slice(1).sort());
    expect(await raw.get(handleKey('pod-5')).string()).toBeNull();
    expect(await ipam.releaseByHandle('pod-5')).toEqual([]);
    expect((await ipam.checkIpam()).problems).toEqual([]);
  });

  it('releases empty affine blocks of a node, and only empty ones', async () => {
    await ipam.releaseByHandle('pod-3');
    const released = await ipam.releaseEmptyAffineBlocks('n2');
    expect(released).toHaveLength(1);
    expect(released[0]).toMatch(/^10\.60\.0\.\d+\/28$/);
    const n2 = (await ipam.ipamShow()).pools.find((p) => p.name === 'rack-b');
    expect(n2?.blocks).toEqual([]);
    expect((await raw.getAll().prefix('/calico/ipam/v2/host/n2/').keys())).toEqual([]);
    // n1 still holds addresses: its block stays.
    expect(await ipam.releaseEmptyAffineBlocks('n1')).toEqual(expect.not.arrayContaining([expect.stringMatching(/^10\.50\.0\.0\//)]));
    expect((await ipam.ipamShow()).pools.find((p) => p.name === 'rack-a')?.blocks.length).toBeGreaterThan(0);
  });

  it('check reports damage done from outside; corrupt values are reported, not fatal', async () => {
    await raw.put(handleKey('ghost')).value(JSON.stringify({ block: { '10.50.0.0/28': 1 }, deleted: false }));
    await raw.put(blockKey('10.50.0.240/28')).value('{broken');
    corrupt.length = 0;
    const report = await ipam.checkIpam();
    expect(report.problems).toEqual(
      expect.arrayContaining([
        { type: 'handle-without-allocations', handleId: 'ghost', block: '10.50.0.0/28' },
        { type: 'corrupt-value', key: blockKey('10.50.0.240/28'), reason: expect.stringMatching(/not JSON/) },
      ]),
    );
    // Allocation still works and never uses the corrupt block's range.
    const r = await ipam.autoAssign({ node: 'n1', handleId: 'pod-6', num4: 1 });
    expect(r.ipv4[0]).not.toMatch(/^10\.50\.0\.2(4\d|5[0-5])$/);
    await ipam.ipamShow();
    expect(corrupt.some((c) => c.key === blockKey('10.50.0.240/28'))).toBe(true);
    await raw.delete().key(handleKey('ghost'));
    await raw.delete().key(blockKey('10.50.0.240/28'));
  });
});
