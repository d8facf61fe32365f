import fc from 'fast-check';
import { FibReconciler, type FibFailure } from '../../../src/bgp/fib/fib-reconciler';
import { keyFromCidr } from '../../../src/bgp/rib/prefix-key';
import { EEXIST, ENETUNREACH, FakeNetlinkKernel } from './fake-kernel';

const GW1 = '198.18.0.2';
const GW2 = '198.18.0.3';

function setup(opts: { resyncIntervalMs?: number } = {}): { k: FakeNetlinkKernel; fib: FibReconciler; failures: FibFailure[][]; set: (cidr: string, ...hops: string[]) => void } {
  const k = new FakeNetlinkKernel();
  const failures: FibFailure[][] = [];
  const fib = new FibReconciler({
    driver: k.driver(),
    protocol: 201,
    table: 254,
    metric: 32,
    resyncIntervalMs: opts.resyncIntervalMs ?? 0,
    onFailures: (f) => failures.push([...f]),
  });
  const key = new Uint32Array(4);
  const set = (cidr: string, ...hops: string[]): void => {
    const len = keyFromCidr(cidr, key);
    fib.update(cidr.includes(':') ? 1 : 0, key, len, hops);
  };
  return { k, fib, failures, set };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('FibReconciler', () => {
  test('nothing is programmed before start; start installs the desired state with our protocol and metric', async () => {
    const { k, fib, set } = setup();
    set('10.1.0.0/24', GW1);
    set('10.2.0.0/24', GW2, GW1);
    set('2001:db8:1::/48', '2001:db8::2');
    set('10.3.0.0/24', GW1);
    set('10.3.0.0/24');
    await tick();
    expect(k.datagrams).toBe(0);
    const r = await fib.start();
    expect(r).toEqual({ adds: 3, replaces: 0, deletes: 0, failed: 0 });
    expect(k.summary()).toEqual(['10.1.0.0/24 m32 via 198.18.0.2', '10.2.0.0/24 m32 via 198.18.0.2,198.18.0.3', '2001:db8:1::/48 m32 via 2001:db8::2']);
    expect(fib.routeCount).toBe(3);
    fib.stop();
  });

  test('after start, changes stream in: add, replace in place, ECMP as one route, delete on withdraw', async () => {
    const { k, fib, set } = setup();
    await fib.start();
    set('10.1.0.0/24', GW1);
    await fib.whenIdle();
    expect(k.ops().map((o) => o.kind)).toEqual(['add']);
    set('10.1.0.0/24', GW1, GW2);
    await fib.whenIdle();
    set('10.1.0.0/24', GW2);
    await fib.whenIdle();
    // Best path changes are replaces, never delete + add (no window without a route).
    expect(k.ops().map((o) => o.kind)).toEqual(['add', 'replace', 'replace']);
    expect(k.ops()[1]!.route.nextHops.map((h) => h.gateway)).toEqual([GW1, GW2]);
    expect(k.summary()).toEqual(['10.1.0.0/24 m32 via 198.18.0.3']);
    set('10.1.0.0/24');
    await fib.whenIdle();
    expect(k.summary()).toEqual([]);
    expect(fib.counters).toMatchObject({ adds: 1, replaces: 2, deletes: 1, errors: 0 });
    expect(fib.stats.prefixes).toBe(0);
    expect(fib.stats.nextHopSets).toBe(0);
    fib.stop();
  });

  test('a change that comes back before it is sent sends nothing', async () => {
    const { k, fib, set } = setup();
    set('10.1.0.0/24', GW1);
    await fib.start();
    const before = k.applied.length;
    set('10.1.0.0/24', GW2);
    set('10.1.0.0/24', GW1);
    await fib.whenIdle();
    expect(k.applied.length).toBe(before);
    fib.stop();
  });

  test('start adopts correct routes untouched, repairs the rest, and never touches other protocols', async () => {
    const { k, fib, set } = setup();
    k.put({ dst: '10.1.0.0/24', nextHops: [{ gateway: GW1, ifindex: 2 }] }); // right (the kernel adds the interface)
    k.put({ dst: '10.2.0.0/24', nextHops: [{ gateway: GW2 }, { gateway: GW1 }] }); // right, other hop order
    k.put({ dst: '10.3.0.0/24', nextHops: [{ gateway: GW2 }] }); // wrong gateway: replace
    k.put({ dst: '10.4.0.0/24', nextHops: [{ gateway: GW1 }] }); // no longer wanted: delete
    k.put({ dst: '10.5.0.0/24', metric: 1024, nextHops: [{ gateway: GW1 }] }); // ours with another metric: delete
    k.put({ dst: '10.6.0.0/24', type: 'blackhole' }); // ours, not a gateway route: replace
    k.put({ dst: '10.7.0.0/24', protocol: 4, nextHops: [{ gateway: GW2 }] }); // foreign, same dst and metric: add fails
    k.put({ dst: '10.1.0.0/24', protocol: 4, metric: 100, nextHops: [{ gateway: GW2 }] }); // foreign, other metric
    k.put({ dst: '10.4.0.0/24', protocol: 12, metric: 50, nextHops: [{ gateway: GW2 }] }); // foreign
    for (const p of ['10.1.0.0/24', '10.3.0.0/24', '10.5.0.0/24', '10.6.0.0/24', '10.7.0.0/24']) set(p, GW1);
    set('10.2.0.0/24', GW1, GW2);
    const foreignBefore = [...k.fib.values()].filter((r) => r.protocol !== 201);
    const r = await fib.start();
    expect(r).toEqual({ adds: 1, replaces: 2, deletes: 2, failed: 1 });
    const touched = k.ops().map((o) => `${o.kind} ${o.route.dst} m${o.route.metric}${o.errno ? ` E${o.errno}` : ''}`);
    expect(touched.sort()).toEqual(['add 10.5.0.0/24 m32', 'add 10.7.0.0/24 m32 E17', 'delete 10.4.0.0/24 m32', 'delete 10.5.0.0/24 m1024', 'replace 10.3.0.0/24 m32', 'replace 10.6.0.0/24 m32'].sort());
    expect([...k.fib.values()].filter((x) => x.protocol !== 201)).toEqual(foreignBefore);
    expect(fib.counters.repairs).toBe(0); // the first sync is not drift
    fib.stop();
  });

  test('a resync puts back hand-deleted and hand-changed routes, removes strays, counts repairs', async () => {
    const { k, fib, set } = setup();
    set('10.1.0.0/24', GW1);
    set('10.2.0.0/24', GW1);
    set('10.3.0.0/24', GW1);
    await fib.start();
    k.fib.delete(FakeNetlinkKernel.key({ family: 4, table: 254, dst: '10.1.0.0/24', metric: 32 }));
    k.put({ dst: '10.2.0.0/24', nextHops: [{ gateway: GW2 }] });
    k.put({ dst: '10.9.0.0/24', nextHops: [{ gateway: GW2 }] });
    const n = k.applied.length;
    const r = await fib.resync();
    expect(r).toEqual({ adds: 1, replaces: 1, deletes: 1, failed: 0 });
    expect(k.applied.slice(n).map((o) => `${o.kind} ${o.route.dst}`).sort()).toEqual(['add 10.1.0.0/24', 'delete 10.9.0.0/24', 'replace 10.2.0.0/24']);
    expect(k.summary()).toEqual(['10.1.0.0/24 m32 via 198.18.0.2', '10.2.0.0/24 m32 via 198.18.0.2', '10.3.0.0/24 m32 via 198.18.0.2']);
    expect(fib.counters).toMatchObject({ repairs: 3, resyncs: 2 });
    // In sync: another resync does nothing.
    expect(await fib.resync()).toEqual({ adds: 0, replaces: 0, deletes: 0, failed: 0 });
    fib.stop();
  });

  test('a prefix changed while its request is in flight is sent again after the answer, never twice at once', async () => {
    const { k, fib, set } = setup();
    await fib.start();
    k.hold = true;
    set('10.1.0.0/24', GW1);
    await tick();
    await tick();
    expect(k.ops()).toHaveLength(1);
    set('10.1.0.0/24', GW2);
    set('10.2.0.0/24', GW2);
    await tick();
    await tick();
    // The other prefix went; the changed one waits for its first answer.
    expect(k.ops().map((o) => `${o.kind} ${o.route.dst}`).sort()).toEqual(['add 10.1.0.0/24', 'add 10.2.0.0/24']);
    k.release();
    await fib.whenIdle();
    expect(k.ops().map((o) => `${o.kind} ${o.route.dst}`).slice(2)).toEqual(['replace 10.1.0.0/24']);
    expect(k.summary()).toEqual(['10.1.0.0/24 m32 via 198.18.0.3', '10.2.0.0/24 m32 via 198.18.0.3']);
    fib.stop();
  });

  test('a failed add (a foreign route is there) is not followed by a replace of that route', async () => {
    const { k, fib, set, failures } = setup();
    k.put({ dst: '10.1.0.0/24', protocol: 4, nextHops: [{ gateway: GW2 }] });
    await fib.start();
    k.hold = true;
    set('10.1.0.0/24', GW1);
    await tick();
    await tick();
    set('10.1.0.0/24', GW1, GW2);
    k.release();
    await fib.whenIdle();
    expect(k.ops().map((o) => `${o.kind} ${o.errno}`)).toEqual([`add ${EEXIST}`, `add ${EEXIST}`]);
    expect(k.get('10.1.0.0/24')!.protocol).toBe(4);
    expect(failures.flat().map((f) => `${f.kind} ${f.prefix} ${f.error.code}`)).toEqual(['add 10.1.0.0/24 NETLINK_EEXIST', 'add 10.1.0.0/24 NETLINK_EEXIST']);
    expect(fib.counters.errors).toBe(2);
    fib.stop();
  });

  test('failures are reported per route and leave the kernel as it was; the next resync retries', async () => {
    const { k, fib, set, failures } = setup();
    set('10.1.0.0/24', GW1);
    set('10.2.0.0/24', GW1);
    k.failWith = (_kind, r) => (r.dst === '10.2.0.0/24' ? ENETUNREACH : 0);
    const r = await fib.start();
    expect(r).toMatchObject({ adds: 1, failed: 1 });
    expect(failures).toHaveLength(1);
    expect(failures[0]![0]).toMatchObject({ kind: 'add', prefix: '10.2.0.0/24', metric: 32 });
    expect(failures[0]![0]!.error.code).toBe('NETLINK_ENETUNREACH');
    expect(fib.routeCount).toBe(1);
    k.failWith = () => 0;
    expect(await fib.resync()).toMatchObject({ adds: 1, failed: 0 });
    expect(fib.routeCount).toBe(2);
    fib.stop();
  });

  test('a route that cannot be encoded fails alone', async () => {
    const { k, fib, set, failures } = setup();
    set('2001:db8:1::/48', '198.18.0.2'); // IPv4 next hop for an IPv6 prefix
    set('2001:db8:2::/48', '2001:db8::2');
    const r = await fib.start();
    expect(r).toMatchObject({ adds: 1, failed: 1 });
    expect(failures.flat().map((f) => f.error.code)).toEqual(['NETLINK_BAD_ROUTE']);
    expect(k.summary()).toEqual(['2001:db8:2::/48 m32 via 2001:db8::2']);
    fib.stop();
  });

  test('an interrupted dump is read again', async () => {
    const { k, fib, set } = setup();
    k.put({ dst: '10.1.0.0/24', nextHops: [{ gateway: GW1 }] });
    set('10.1.0.0/24', GW1);
    k.interruptDumps = 2;
    expect(await fib.start()).toEqual({ adds: 0, replaces: 0, deletes: 0, failed: 0 });
    expect(k.applied).toHaveLength(0);
    fib.stop();
  });

  test('IPv6 ECMP dumped one hop per message is one route (no churn on restart)', async () => {
    const { k, fib, set } = setup();
    k.splitV6Multipath = true;
    k.put({ dst: '2001:db8:1::/48', nextHops: [{ gateway: '2001:db8::3' }, { gateway: '2001:db8::2' }] });
    set('2001:db8:1::/48', '2001:db8::2', '2001:db8::3');
    expect(await fib.start()).toEqual({ adds: 0, replaces: 0, deletes: 0, failed: 0 });
    fib.stop();
  });

  test('counts only routes of our protocol and table', async () => {
    const { k, fib } = setup();
    k.put({ dst: '10.1.0.0/24', nextHops: [{ gateway: GW1 }] });
    k.put({ dst: '2001:db8::/32', nextHops: [{ gateway: '2001:db8::2' }] });
    k.put({ dst: '10.2.0.0/24', protocol: 4, nextHops: [{ gateway: GW1 }] });
    k.put({ dst: '10.3.0.0/24', table: 100, nextHops: [{ gateway: GW1 }] });
    expect(await fib.countKernelRoutes()).toBe(2);
  });

  test('a full-table load goes in large datagrams within the window', async () => {
    const { k, fib } = setup();
    await fib.start();
    const key = new Uint32Array(1);
    const hops = [[GW1], [GW2], [GW1, GW2]];
    for (let i = 0; i < 20_000; i++) {
      key[0] = (0x0a000000 + i) >>> 0;
      fib.update(0, key, 32, hops[i % 3]!);
      if (i % 5000 === 4999) await tick(); // the RIB's slices
    }
    await fib.whenIdle();
    expect(fib.routeCount).toBe(20_000);
    expect(k.ops('add')).toHaveLength(20_000);
    // 8 KiB datagrams of ~60-100 byte requests: ~100 per datagram.
    expect(k.datagrams).toBeLessThan(400);
    expect(k.maxUnanswered).toBeLessThanOrEqual(512);
    fib.stop();
  });

  test('stopped: nothing more is sent', async () => {
    const { k, fib, set } = setup();
    await fib.start();
    fib.stop();
    set('10.1.0.0/24', GW1);
    await tick();
    await tick();
    await fib.whenIdle();
    expect(k.datagrams).toBe(1 + 1); // the two start-up dumps
  });

  test('property: any sequence of changes, answers and resyncs ends with the kernel equal to the desired state', async () => {
    const prefixes = ['10.1.0.0/24', '10.2.0.0/24', '10.3.0.0/32', '2001:db8:1::/48', '2001:db8:2::/64'];
    const v4hops = [[], [GW1], [GW2], [GW1, GW2]];
    const v6hops = [[], ['2001:db8::2'], ['2001:db8::3', '2001:db8::2']];
    const step = fc.oneof(
      fc.record({ t: fc.constant('set' as const), p: fc.nat(prefixes.length - 1), h: fc.nat(3) }),
      fc.record({ t: fc.constant('tick' as const) }),
      fc.record({ t: fc.constant('hold' as const) }),
      fc.record({ t: fc.constant('release' as const) }),
      fc.record({ t: fc.constant('resync' as const) }),
      fc.record({ t: fc.constant('tamper' as const), p: fc.nat(prefixes.length - 1) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), fc.boolean(), async (steps, startFirst) => {
        const { k, fib, set } = setup();
        const want = new Map<string, string[]>();
        const apply = (p: string, h: string[]): void => {
          set(p, ...h);
          if (h.length) want.set(p, [...h].sort());
          else want.delete(p);
        };
        const started = startFirst ? fib.start() : undefined;
        const resyncs: Promise<unknown>[] = [];
        for (const s of steps) {
          if (s.t === 'set') {
            const p = prefixes[s.p]!;
            const hs = p.includes(':') ? v6hops : v4hops;
            apply(p, hs[s.h % hs.length]!);
          } else if (s.t === 'tick') await tick();
          else if (s.t === 'hold') k.hold = true;
          else if (s.t === 'release') k.release();
          else if (s.t === 'resync' && (startFirst || resyncs.length > 0)) resyncs.push(fib.resync());
          else if (s.t === 'tamper') {
            const p = prefixes[s.p]!;
            k.put({ dst: p, nextHops: [{ gateway: p.includes(':') ? '2001:db8::9' : '198.18.0.9' }] });
          }
        }
        const start = started ?? fib.start();
        k.release();
        await start;
        await Promise.all(resyncs);
        // Tampering after the last dump is only found by the next resync.
        await fib.resync();
        await fib.whenIdle();
        const expected = [...want].map(([p, h]) => `${p} m32 via ${h.join(',')}`).sort();
        expect(k.summary()).toEqual(expected);
        expect(fib.routeCount).toBe(want.size);
        fib.stop();
      }),
      { numRuns: 150 },
    );
  });
});

describe('FibReconciler.warmUp', () => {
  test('runs the per-route paths on a scratch instance without I/O', () => {
    expect(() => FibReconciler.warmUp(2, 300)).not.toThrow();
  });
});
