import { RouteTable, type Clock, type EventSource } from '../../../src/dataplane/routes/route-table';
import type { RouteProgrammer } from '../../../src/netlink/route-driver';
import type { BatchResult, KernelRoute, LinkInfo, NetlinkEvent, RouteDumpFilter, RouteOp } from '../../../src/netlink/types';
import { netlinkError } from '../../../src/netlink/errors';

/** In-memory kernel FIB keyed by (dst, metric), holding routes of any protocol. */
class FakeKernel implements RouteProgrammer {
  fib = new Map<string, KernelRoute>();
  links: LinkInfo[] = [{ index: 5, name: 'cali1', adminUp: true, operUp: true }];
  applied: RouteOp[] = [];
  private static k(r: KernelRoute): string {
    return `${r.dst}#${r.metric}`;
  }
  put(r: KernelRoute): void {
    this.fib.set(FakeKernel.k(r), r);
  }
  async forEachRoute(f: RouteDumpFilter, fn: (r: KernelRoute) => void): Promise<number> {
    let n = 0;
    for (const r of this.fib.values()) {
      if (r.family === f.family && (f.protocol === undefined || r.protocol === f.protocol) && (f.table === undefined || r.table === f.table)) {
        fn(r);
        n++;
      }
    }
    return n;
  }
  async apply(ops: Iterable<RouteOp>): Promise<BatchResult> {
    const res: BatchResult = { ok: 0, failed: [] };
    for (const op of ops) {
      this.applied.push(op);
      const key = FakeKernel.k(op.route);
      const cur = this.fib.get(key);
      if (op.kind === 'add' && cur) res.failed.push({ op, error: netlinkError(17, 'add') });
      else if (op.kind === 'delete' && (!cur || cur.protocol !== op.route.protocol)) res.failed.push({ op, error: netlinkError(3, 'del') });
      else {
        if (op.kind === 'delete') this.fib.delete(key);
        else this.put(op.route);
        res.ok++;
      }
    }
    return res;
  }
  async listLinks(): Promise<LinkInfo[]> {
    return this.links;
  }
}

class ManualClock implements Clock {
  t = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private id = 0;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    this.timers.set(++this.id, { at: this.t + ms, fn });
    return this.id;
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }
  /** Advance time, firing due timers, and let promises settle. */
  async advance(ms: number): Promise<void> {
    this.t += ms;
    for (const [id, tm] of [...this.timers]) {
      if (tm.at <= this.t) {
        this.timers.delete(id);
        tm.fn();
      }
    }
    for (let i = 0; i < 10; i++) await Promise.resolve();
    await new Promise((r) => setImmediate(r));
  }
}

class Events implements EventSource {
  private fns: Array<(e: NetlinkEvent) => void> = [];
  on(fn: (e: NetlinkEvent) => void): void {
    this.fns.push(fn);
  }
  emit(e: NetlinkEvent): void {
    for (const f of this.fns) f(e);
  }
}

const PROTO = 202;
const dev = (dst: string, ifindex = 5): KernelRoute => ({
  family: 4,
  dst,
  table: 254,
  protocol: PROTO,
  type: 'unicast',
  scope: 'link',
  metric: 1024,
  nextHops: [{ ifindex }],
});

function setup(extra: Partial<ConstructorParameters<typeof RouteTable>[0]> = {}) {
  const kernel = new FakeKernel();
  const clock = new ManualClock();
  const events = new Events();
  const table = new RouteTable({ driver: kernel, events, protocol: PROTO, clock, resyncIntervalMs: 60_000, families: [4], ...extra });
  return { kernel, clock, events, table };
}

describe('RouteTable', () => {
  test('start-up: correct routes untouched, missing added, stale of ours deleted, foreign untouched', async () => {
    const { kernel, table } = setup();
    kernel.put(dev('198.19.0.1/32'));
    kernel.put(dev('198.19.0.9/32')); // ours, not desired
    kernel.put({ ...dev('198.19.0.2/32'), protocol: 4 }); // proto static, same key as a desired route
    kernel.put({ ...dev('198.19.0.3/32'), protocol: 12, nextHops: [{ gateway: '198.18.0.1' }], scope: 'universe' }); // bird
    table.setDesired('198.19.0.1/32', { nextHops: [{ ifname: 'cali1' }] });
    table.setDesired('198.19.0.2/32', { nextHops: [{ ifname: 'cali1' }] });
    const r = await table.start();
    expect(kernel.applied.map((o) => [o.kind, o.route.dst])).toEqual([
      ['add', '198.19.0.2/32'],
      ['delete', '198.19.0.9/32'],
    ]);
    // The foreign static route blocks our add: reported, not overwritten.
    expect(r.failed.map((f) => f.error.code)).toEqual(['NETLINK_EEXIST']);
    expect(kernel.fib.get('198.19.0.2/32#1024')?.protocol).toBe(4);
    expect(kernel.fib.get('198.19.0.3/32#1024')?.protocol).toBe(12);
    expect(table.counters).toMatchObject({ adds: 0, deletes: 1, errors: 1 });
    table.stop();
  });

  test('changes are coalesced into one apply', async () => {
    const { kernel, clock, table } = setup({ coalesceMs: 5 });
    await table.start();
    for (let i = 1; i <= 50; i++) table.setDesired(`198.19.1.${i}`, { nextHops: [{ ifname: 'cali1' }] });
    expect(kernel.applied).toHaveLength(0);
    await clock.advance(5);
    expect(kernel.applied).toHaveLength(50);
    table.delete('198.19.1.1/32');
    await clock.advance(5);
    expect(kernel.applied.at(-1)).toMatchObject({ kind: 'delete', route: { dst: '198.19.1.1/32' } });
    expect(table.counters).toMatchObject({ adds: 50, deletes: 1 });
    table.stop();
  });

  test('resync repairs a hand-deleted and a hand-changed route', async () => {
    const { kernel, clock, table } = setup();
    table.setDesired('198.19.0.1/32', { nextHops: [{ ifname: 'cali1' }] });
    table.setDesired('198.19.0.2/32', { nextHops: [{ ifname: 'cali1' }] });
    await table.start();
    kernel.fib.delete('198.19.0.1/32#1024');
    kernel.put(dev('198.19.0.2/32', 9));
    await clock.advance(60_000);
    expect(kernel.fib.get('198.19.0.1/32#1024')).toEqual(dev('198.19.0.1/32'));
    expect(kernel.fib.get('198.19.0.2/32#1024')).toEqual(dev('198.19.0.2/32'));
    expect(table.counters).toMatchObject({ repairs: 2, resyncs: 2 });
    table.stop();
  });

  test('a route delete event of ours is repaired without waiting for resync; our own echoes are not', async () => {
    const { kernel, clock, events, table } = setup();
    table.setDesired('198.19.0.1/32', { nextHops: [{ ifname: 'cali1' }] });
    await table.start();
    events.emit({ kind: 'route', action: 'new', route: dev('198.19.0.1/32') }); // echo of our add
    await clock.advance(5);
    expect(kernel.applied).toHaveLength(1);
    kernel.fib.delete('198.19.0.1/32#1024');
    events.emit({ kind: 'route', action: 'del', route: dev('198.19.0.1/32') });
    await clock.advance(5);
    expect(kernel.applied.map((o) => o.kind)).toEqual(['add', 'add']);
    expect(table.counters.repairs).toBe(1);
    table.stop();
  });

  test('a route via a down interface waits for the link-up event', async () => {
    const { kernel, clock, events, table } = setup();
    kernel.links = [{ index: 7, name: 'cali2', adminUp: true, operUp: false }];
    table.setDesired('198.19.0.7/32', { nextHops: [{ ifname: 'cali2' }] });
    await table.start();
    expect(kernel.applied).toHaveLength(0);
    expect(table.skippedPrefixes().get('198.19.0.7/32')).toEqual({ reason: 'interface-down', ifname: 'cali2' });
    events.emit({ kind: 'link', action: 'new', link: { index: 7, name: 'cali2', adminUp: true, operUp: true } });
    await clock.advance(5);
    expect(kernel.applied.map((o) => [o.kind, o.route.dst, o.route.nextHops])).toEqual([['add', '198.19.0.7/32', [{ ifindex: 7 }]]]);
    expect(table.skippedPrefixes().size).toBe(0);
    table.stop();
  });

  test('stale routes on workload interfaces get a grace period', async () => {
    const { kernel, clock, table } = setup({ isWorkloadInterface: (n) => n.startsWith('cali'), graceMs: 10_000 });
    kernel.put(dev('198.19.0.5/32'));
    await table.start();
    expect(kernel.applied).toHaveLength(0);
    await clock.advance(5_000);
    table.setDesired('198.19.0.6/32', { nextHops: [{ ifname: 'cali1' }] });
    await clock.advance(5);
    expect(kernel.fib.has('198.19.0.5/32#1024')).toBe(true);
    await clock.advance(5_000);
    expect(kernel.fib.has('198.19.0.5/32#1024')).toBe(false);
    table.stop();
  });

  test('a desired route that shows up within the grace period is kept, not re-added', async () => {
    const { kernel, clock, table } = setup({ isWorkloadInterface: () => true });
    kernel.put(dev('198.19.0.5/32'));
    await table.start();
    table.setDesired('198.19.0.5/32', { nextHops: [{ ifname: 'cali1' }] });
    await clock.advance(20_000);
    expect(kernel.applied).toHaveLength(0);
    table.stop();
  });

  test('invalid prefixes are rejected at the boundary', () => {
    const { table } = setup();
    expect(() => table.setDesired('nope', {})).toThrow(expect.objectContaining({ code: 'ROUTES_INVALID_PREFIX' }));
    expect(() => table.setDesired('fd00::1/128', {})).toThrow(expect.objectContaining({ code: 'ROUTES_INVALID_PREFIX' }));
  });
});
