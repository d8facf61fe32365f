import { applyGrace, diffPrefix, resolveTarget, routesEqual, type GraceResult } from '../../../src/dataplane/routes/diff';
import type { KernelRoute, LinkInfo } from '../../../src/netlink/types';

const links = new Map<string, LinkInfo>([
  ['veth1', { index: 5, name: 'veth1', adminUp: true, operUp: true }],
  ['veth2', { index: 6, name: 'veth2', adminUp: true, operUp: false }],
]);
const ctx = { table: 254, protocol: 202, defaultMetric: 1024, links };

const gw: KernelRoute = {
  family: 4,
  dst: '198.19.0.1/32',
  table: 254,
  protocol: 201,
  type: 'unicast',
  scope: 'universe',
  metric: 1024,
  nextHops: [{ gateway: '198.18.0.2' }],
};

describe('routes/diff resolveTarget', () => {
  test('device route to a veth is scope link with its ifindex', () => {
    const r = resolveTarget(4, '198.19.0.9/32', { nextHops: [{ ifname: 'veth1' }] }, ctx);
    expect(r).toEqual({
      ok: true,
      route: { family: 4, dst: '198.19.0.9/32', table: 254, protocol: 202, type: 'unicast', scope: 'link', metric: 1024, nextHops: [{ ifindex: 5 }] },
    });
  });
  test('IPv6 routes are always scope universe (IPv6 has no route scope)', () => {
    const r = resolveTarget(6, 'fd00:7a7a::9/128', { nextHops: [{ ifname: 'veth1' }], metric: 512 }, ctx);
    expect(r.ok && r.route.scope).toBe('universe');
    expect(r.ok && r.route.metric).toBe(512);
  });
  test('missing and down interfaces are skipped with a reason', () => {
    expect(resolveTarget(4, '198.19.0.9/32', { nextHops: [{ ifname: 'nope' }] }, ctx)).toEqual({ ok: false, reason: 'interface-missing', ifname: 'nope' });
    expect(resolveTarget(4, '198.19.0.9/32', { nextHops: [{ ifname: 'veth2' }] }, ctx)).toEqual({ ok: false, reason: 'interface-down', ifname: 'veth2' });
  });
  test('blackhole ignores next hops', () => {
    const r = resolveTarget(4, '198.19.0.0/24', { type: 'blackhole', nextHops: [{ ifname: 'nope' }] }, ctx);
    expect(r.ok && r.route.nextHops).toEqual([]);
  });
});

describe('routes/diff routesEqual', () => {
  test('the kernel-filled oif of a gateway route does not count as a difference', () => {
    expect(routesEqual(gw, { ...gw, nextHops: [{ gateway: '198.18.0.2', ifindex: 3 }] })).toBe(true);
  });
  test('a different gateway, type, scope or weight does', () => {
    expect(routesEqual(gw, { ...gw, nextHops: [{ gateway: '198.18.0.3' }] })).toBe(false);
    expect(routesEqual(gw, { ...gw, type: 'blackhole', nextHops: [] })).toBe(false);
    expect(routesEqual(gw, { ...gw, scope: 'link' })).toBe(false);
    const ecmp = { ...gw, nextHops: [{ gateway: '198.18.0.2' }, { gateway: '198.18.0.3' }] };
    expect(routesEqual(ecmp, { ...ecmp, nextHops: [{ gateway: '198.18.0.3' }, { gateway: '198.18.0.2' }] })).toBe(true);
    expect(routesEqual(ecmp, { ...ecmp, nextHops: [{ gateway: '198.18.0.3', weight: 2 }, { gateway: '198.18.0.2' }] })).toBe(false);
  });
  test('IPv6 blackhole reported with oif lo equals the desired one', () => {
    const bh: KernelRoute = { ...gw, family: 6, dst: 'fd00:7a7a::/48', type: 'blackhole', nextHops: [] };
    expect(routesEqual(bh, { ...bh, nextHops: [{ ifindex: 1 }] })).toBe(true);
  });
  test('a device route compares the interface', () => {
    const dev: KernelRoute = { ...gw, scope: 'link', nextHops: [{ ifindex: 5 }] };
    expect(routesEqual(dev, { ...dev, nextHops: [{ ifindex: 6 }] })).toBe(false);
  });
});

describe('routes/diff diffPrefix', () => {
  test('correct route: no operation', () => {
    expect(diffPrefix(gw, [{ ...gw, nextHops: [{ gateway: '198.18.0.2', ifindex: 3 }] }])).toEqual([]);
  });
  test('missing: add (EXCL, never clobbers a foreign route)', () => {
    expect(diffPrefix(gw, [])).toEqual([{ kind: 'add', route: gw }]);
  });
  test('changed next hop: replace in place', () => {
    const old = { ...gw, nextHops: [{ gateway: '198.18.0.9' }] };
    expect(diffPrefix(gw, [old])).toEqual([{ kind: 'replace', route: gw }]);
  });
  test('changed metric: add the new one, delete the old one', () => {
    const old = { ...gw, metric: 512 };
    expect(diffPrefix(gw, [old])).toEqual([
      { kind: 'add', route: gw },
      { kind: 'delete', route: old },
    ]);
  });
  test('not desired: delete every route of ours', () => {
    expect(diffPrefix(undefined, [gw])).toEqual([{ kind: 'delete', route: gw }]);
  });
});

describe('routes/diff applyGrace', () => {
  const dev: KernelRoute = { ...gw, scope: 'link', nextHops: [{ ifindex: 5 }] };
  const input = (now: number, since?: number) => ({
    staleSince: new Map(since === undefined ? [] : [[dev.dst, since]]),
    now,
    graceMs: 10_000,
    graced: (r: KernelRoute) => r.nextHops.some((h) => h.ifindex === 5),
  });
  const out = (): GraceResult => ({ ops: [], deferred: new Map(), nextDeadline: undefined });

  test('a stale route on a workload interface is kept until the grace period ends', () => {
    const first = out();
    applyGrace(dev.dst, false, [{ kind: 'delete', route: dev }], input(1000), first);
    expect(first.ops).toEqual([]);
    expect(first.deferred.get(dev.dst)).toBe(1000);
    expect(first.nextDeadline).toBe(11_000);
    const later = out();
    applyGrace(dev.dst, false, [{ kind: 'delete', route: dev }], input(11_000, 1000), later);
    expect(later.ops).toEqual([{ kind: 'delete', route: dev }]);
    expect(later.deferred.size).toBe(0);
  });
  test('other stale routes go at once; desired prefixes are never held', () => {
    const o = out();
    applyGrace(gw.dst, false, [{ kind: 'delete', route: gw }], input(0), o);
    applyGrace(dev.dst, true, [{ kind: 'delete', route: { ...dev, metric: 1 } }], input(0), o);
    expect(o.ops).toHaveLength(2);
  });
});
