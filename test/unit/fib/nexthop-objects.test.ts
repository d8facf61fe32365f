import { TartanError } from '../../../src/errors';
import type { NexthopObject } from '../../../src/netlink';
import { FIRST_OBJECT_ID, NexthopObjects, type NexthopDriver } from '../../../src/bgp/fib/nexthop-objects';

/** An in-memory kernel: objects by id, on-link gateways by address → ifindex, a log of calls. */
class FakeKernel implements NexthopDriver {
  objects = new Map<number, NexthopObject>();
  onLink = new Map<string, number>([
    ['198.18.0.2', 3],
    ['198.18.0.3', 3],
    ['fd00::2', 3],
  ]);
  /** Ids some other process holds but a dump does not show yet (a race): add gets EEXIST. */
  hidden = new Set<number>();
  calls: string[] = [];
  noNexthops = false;

  routeGet(_family: 4 | 6, address: string): Promise<{ ifindex: number; viaGateway: boolean }> {
    const i = this.onLink.get(address);
    return Promise.resolve(i ? { ifindex: i, viaGateway: false } : { ifindex: 3, viaGateway: true });
  }
  addNexthop(nh: NexthopObject): Promise<void> {
    if (this.objects.has(nh.id) || this.hidden.has(nh.id)) return Promise.reject(new TartanError('NETLINK_EEXIST', `add nexthop id ${nh.id}: EEXIST`));
    this.calls.push(`add ${nh.id}`);
    this.objects.set(nh.id, nh);
    return Promise.resolve();
  }
  deleteNexthop(id: number): Promise<void> {
    this.calls.push(`del ${id}`);
    this.objects.delete(id);
    return Promise.resolve();
  }
  dumpNexthops(): Promise<NexthopObject[]> {
    if (this.noNexthops) return Promise.reject(new TartanError('NETLINK_EOPNOTSUPP', 'nexthop dump: EOPNOTSUPP'));
    return Promise.resolve([...this.objects.values()]);
  }
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

function manager(k: FakeKernel): { m: NexthopObjects; changes: string[]; errors: unknown[] } {
  const changes: string[] = [];
  const errors: unknown[] = [];
  const m = new NexthopObjects({ driver: k, protocol: 201, onChange: (key) => changes.push(key), onError: (e) => errors.push(e) });
  return { m, changes, errors };
}

describe('NexthopObjects', () => {
  test('a set of one on-link gateway gets a gateway object, an ECMP set a group of them', async () => {
    const k = new FakeKernel();
    const { m, changes } = manager(k);
    m.acquire('198.18.0.2', ['198.18.0.2']);
    m.acquire('198.18.0.2 198.18.0.3', ['198.18.0.2', '198.18.0.3']);
    expect(m.objectFor('198.18.0.2')).toBe(0); // no object yet
    expect(m.pending).toBe(2); // the reconciler holds their routes back meanwhile
    await settle();
    expect(m.pending).toBe(0);
    expect(changes.sort()).toEqual(['198.18.0.2', '198.18.0.2 198.18.0.3']);
    const single = m.objectFor('198.18.0.2');
    const group = m.objectFor('198.18.0.2 198.18.0.3');
    expect(k.objects.get(single)).toEqual({ id: single, protocol: 201, kind: 'gateway', family: 4, gateway: '198.18.0.2', ifindex: 3 });
    const g = k.objects.get(group);
    expect(g?.kind === 'group' && g.members.map((id) => (k.objects.get(id) as { gateway: string }).gateway).sort()).toEqual(['198.18.0.2', '198.18.0.3']);
    // The shared gateway has one object.
    expect([...k.objects.values()].filter((o) => o.kind === 'gateway')).toHaveLength(2);
    expect(m.size).toBe(3);
  });

  test('an off-link gateway (behind another router) keeps plain routes; ids in use elsewhere are skipped', async () => {
    const k = new FakeKernel();
    k.hidden.add(FIRST_OBJECT_ID);
    const { m, changes } = manager(k);
    m.acquire('203.0.113.1', ['203.0.113.1']);
    m.acquire('198.18.0.2', ['198.18.0.2']);
    await settle();
    expect(m.objectFor('203.0.113.1')).toBe(0);
    expect(changes.sort()).toEqual(['198.18.0.2', '203.0.113.1']); // both settled
    expect(m.pending).toBe(0);
    expect(m.objectFor('198.18.0.2')).toBe(FIRST_OBJECT_ID + 1);
  });

  test('a released set takes its group with it, and a gateway object only when no set uses it any more', async () => {
    const k = new FakeKernel();
    const { m } = manager(k);
    m.acquire('198.18.0.2', ['198.18.0.2']);
    m.acquire('198.18.0.2 198.18.0.3', ['198.18.0.2', '198.18.0.3']);
    await settle();
    const single = m.objectFor('198.18.0.2');
    const group = m.objectFor('198.18.0.2 198.18.0.3');
    k.calls = [];
    m.release('198.18.0.2 198.18.0.3');
    await settle();
    // The group first; 198.18.0.3's object goes, 198.18.0.2's stays (the single set uses it).
    expect(k.calls[0]).toBe(`del ${group}`);
    expect(k.calls).toHaveLength(2);
    expect(k.objects.has(single)).toBe(true);
    expect(m.objectFor('198.18.0.2 198.18.0.3')).toBe(0);
  });

  test('a set acquired twice lives until released twice', async () => {
    const k = new FakeKernel();
    const { m } = manager(k);
    m.acquire('198.18.0.2', ['198.18.0.2']);
    m.acquire('198.18.0.2', ['198.18.0.2']);
    await settle();
    m.release('198.18.0.2');
    await settle();
    expect(k.objects.size).toBe(1);
    m.release('198.18.0.2');
    await settle();
    expect(k.objects.size).toBe(0);
  });

  test('at start-up our objects from a previous run are reused; unused ones go, unless a route still names them', async () => {
    const k = new FakeKernel();
    k.objects.set(500, { id: 500, protocol: 201, kind: 'gateway', family: 4, gateway: '198.18.0.2', ifindex: 3 });
    k.objects.set(501, { id: 501, protocol: 201, kind: 'gateway', family: 4, gateway: '198.18.0.3', ifindex: 3 });
    k.objects.set(502, { id: 502, protocol: 201, kind: 'group', members: [500, 501] });
    k.objects.set(600, { id: 600, protocol: 201, kind: 'gateway', family: 6, gateway: 'fd00::2', ifindex: 3 });
    k.objects.set(601, { id: 601, protocol: 201, kind: 'gateway', family: 4, gateway: '198.18.0.9', ifindex: 3 });
    k.objects.set(700, { id: 700, protocol: 11, kind: 'gateway', family: 4, gateway: '198.18.0.7', ifindex: 3 }); // another daemon's
    const { m } = manager(k);
    await m.ready();
    m.acquire('198.18.0.2 198.18.0.3', ['198.18.0.2', '198.18.0.3']);
    await settle();
    expect(m.objectFor('198.18.0.2 198.18.0.3')).toBe(502);
    expect(k.calls).toEqual([]); // nothing created
    // A route still names 601: it stays for now; 600 goes; 700 is not ours.
    await m.dropUnclaimed(new Set([601]));
    expect(k.calls).toEqual(['del 600']);
    await m.dropUnclaimed(new Set());
    expect(k.calls).toEqual(['del 600', 'del 601']);
    expect(k.objects.has(700)).toBe(true);
    // New ids start above every id seen.
    m.acquire('fd00::2', ['fd00::2']);
    await settle();
    expect(m.objectFor('fd00::2')).toBe(FIRST_OBJECT_ID);
  });

  test('verify() re-creates an object the kernel dropped (its interface went down); the set is plain meanwhile', async () => {
    const k = new FakeKernel();
    const { m, changes } = manager(k);
    m.acquire('198.18.0.2', ['198.18.0.2']);
    await settle();
    const before = m.objectFor('198.18.0.2');
    k.objects.clear();
    changes.length = 0;
    await m.verify();
    expect(m.objectFor('198.18.0.2')).toBe(0);
    await settle();
    expect(changes).toEqual(['198.18.0.2', '198.18.0.2']); // gone, then back
    const after = m.objectFor('198.18.0.2');
    expect(after).not.toBe(before);
    expect(k.objects.get(after)).toMatchObject({ kind: 'gateway', gateway: '198.18.0.2' });
  });

  test('a kernel without nexthop objects: every set stays plain, and the error is reported once', async () => {
    const k = new FakeKernel();
    k.noNexthops = true;
    const { m, errors } = manager(k);
    m.acquire('198.18.0.2', ['198.18.0.2']);
    await settle();
    expect(m.objectFor('198.18.0.2')).toBe(0);
    expect(k.calls).toEqual([]);
    expect(errors).toHaveLength(1);
    await m.verify();
    expect(errors).toHaveLength(1);
  });
});
