/**
 * Kernel route programming in real network namespaces: the driver and the
 * RouteTable run in an agent process inside the lab host's namespace, and
 * the results are checked with iproute2 (`ip -j route`, `ip monitor route`).
 * Addresses: 198.18.X.0/24 and fd00:7a7a:X::/64 (lab LAN), 198.19.0.0/16
 * and fd00:7a7a:ff00::/40 (routed test prefixes).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, waitFor, type Host, type KernelRoute, type ProcessHandle } from '../harness';
import { RouteAgent } from './agent-client';

const BGP = 201;
const WL = 202;

interface Counters {
  adds: number;
  replaces: number;
  deletes: number;
  errors: number;
  repairs: number;
  resyncs: number;
}
interface Result {
  adds: number;
  replaces: number;
  deletes: number;
  skipped: number;
  failed: Array<{ dst: string; kind: string; code: string }>;
}

let lab: Lab;
let host: Host;
let agent: RouteAgent;
let gw1: string;
let gw2: string;
let gw6a: string;
let gw6b: string;

async function ipRoutes(family: 4 | 6, ...filter: string[]): Promise<KernelRoute[]> {
  const out = await host.exec(['ip', '-j', `-${family}`, 'route', 'show', ...filter]);
  return out.trim() ? (JSON.parse(out) as KernelRoute[]) : [];
}

async function ip(...args: string[]): Promise<void> {
  await host.exec(['ip', ...args]);
}

async function openTable(opts: Record<string, unknown> = {}): Promise<void> {
  await agent.call('open', { protocol: BGP, resyncIntervalMs: 0, ...opts });
}

/** Route monitor lines for a prefix (ip monitor prints one line per change). */
function monitorLines(logFile: string, needle: string): string[] {
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((l) => l.includes(needle));
}

let markers = 0;

/**
 * `ip monitor route` in the test namespace, returned once it is subscribed:
 * a marker route (outside the prefixes under test) is added and removed until
 * the monitor has printed it, instead of sleeping and hoping.
 */
async function routeMonitor(name: string): Promise<ProcessHandle> {
  const mon = host.spawn(['ip', 'monitor', 'route'], { logFile: join(host.dir, `${name}.log`) });
  await waitFor(
    async () => {
      const marker = `198.18.254.${(markers++ % 250) + 1}`;
      await ip('route', 'add', `${marker}/32`, 'dev', 'lo', 'proto', 'static');
      await ip('route', 'del', `${marker}/32`, 'dev', 'lo', 'proto', 'static');
      return monitorLines(mon.logFile, `${marker} `).length > 0;
    },
    { what: 'ip monitor to subscribe', timeoutMs: 10_000, intervalMs: 50 },
  );
  return mon;
}

beforeEach(async () => {
  lab = await Lab.create('routes');
  host = await lab.addHost('r1');
  const net = lab.ipv4Prefix.replace(/\.0\/24$/, '');
  gw1 = `${net}.2`;
  gw2 = `${net}.3`;
  const net6 = lab.ipv6Prefix.replace(/::\/64$/, '');
  gw6a = `${net6}::2`;
  gw6b = `${net6}::3`;
  agent = await RouteAgent.start(host.ns);
});

afterEach(async () => {
  await agent?.stop();
  await lab?.destroy();
});

describe('kernel routes in a namespace', () => {
  test('routes appear with our protocol number and metric', async () => {
    await openTable({ families: [4] });
    await agent.call('set', { prefix: '198.19.0.1/32', target: { nextHops: [{ gateway: gw1 }] } });
    await agent.call('set', { prefix: '198.19.0.2/32', target: { nextHops: [{ gateway: gw1 }], metric: 77 } });
    const r = await agent.call<Result>('start');
    expect(r).toMatchObject({ adds: 2, failed: [] });
    const got = await ipRoutes(4, 'proto', String(BGP));
    expect(got).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ dst: '198.19.0.1', gateway: gw1, metric: 1024 }),
        expect.objectContaining({ dst: '198.19.0.2', gateway: gw1, metric: 77 }),
      ]),
    );
    expect(got).toHaveLength(2);
  });

  test('a replace changes the next hop in place (no delete)', async () => {
    await openTable({ families: [4] });
    await agent.call('set', { prefix: '198.19.0.1/32', target: { nextHops: [{ gateway: gw1 }] } });
    await agent.call('start');
    const mon = await routeMonitor('mon-replace');
    await agent.call('set', { prefix: '198.19.0.1/32', target: { nextHops: [{ gateway: gw2 }] } });
    // The 2 ms coalesce timer may apply the change before this call arrives: the counters
    // below, not this call's result, say what was done in total.
    const r = await agent.call<Result>('apply');
    expect(r.failed).toEqual([]);
    const [route] = await ipRoutes(4, 'proto', String(BGP));
    expect(route).toMatchObject({ dst: '198.19.0.1', gateway: gw2, metric: 1024 });
    await waitFor(() => monitorLines(mon.logFile, '198.19.0.1').length > 0, { what: 'ip monitor to see the replace', timeoutMs: 5000 });
    expect(monitorLines(mon.logFile, 'Deleted').filter((l) => l.includes('198.19.0.1'))).toEqual([]);
    expect(await agent.call<Counters>('counters')).toMatchObject({ adds: 1, replaces: 1, deletes: 0 });
  });

  test('start-up reconcile leaves correct pre-existing routes alone (zero route events) and removes stale ones of ours', async () => {
    await ip('route', 'add', '198.19.0.1/32', 'via', gw1, 'proto', String(BGP), 'metric', '1024');
    await ip('route', 'add', '198.19.0.2/32', 'via', gw1, 'proto', String(BGP), 'metric', '1024');
    await ip('-6', 'route', 'add', 'fd00:7a7a:ff00::1/128', 'via', gw6a, 'proto', String(BGP), 'metric', '1024');
    await ip('route', 'add', '198.19.0.99/32', 'via', gw1, 'proto', String(BGP), 'metric', '1024'); // stale
    const mon = await routeMonitor('mon-startup');
    await openTable();
    await agent.call('set', { prefix: '198.19.0.1/32', target: { nextHops: [{ gateway: gw1 }] } });
    await agent.call('set', { prefix: '198.19.0.2/32', target: { nextHops: [{ gateway: gw1 }] } });
    await agent.call('set', { prefix: 'fd00:7a7a:ff00::1/128', target: { nextHops: [{ gateway: gw6a }] } });
    const r = await agent.call<Result>('start');
    expect(r).toMatchObject({ adds: 0, replaces: 0, deletes: 1, failed: [] });
    await waitFor(() => monitorLines(mon.logFile, '198.19.0.99').length > 0, { what: 'the stale delete in ip monitor', timeoutMs: 5000 });
    expect(monitorLines(mon.logFile, '198.19.0.1 ')).toEqual([]);
    expect(monitorLines(mon.logFile, '198.19.0.2 ')).toEqual([]);
    expect(monitorLines(mon.logFile, 'fd00:7a7a:ff00::1')).toEqual([]);
    expect((await ipRoutes(4, 'proto', String(BGP))).map((x) => x.dst).sort()).toEqual(['198.19.0.1', '198.19.0.2']);
  });

  test('foreign routes (proto static, proto bird) are never touched', async () => {
    await ip('route', 'add', '198.19.0.50/32', 'via', gw1, 'proto', 'static', 'metric', '1024');
    await ip('route', 'add', '198.19.0.51/32', 'via', gw1, 'proto', 'bird', 'metric', '1024');
    await ip('route', 'add', '198.19.0.52/32', 'via', gw1, 'proto', 'bird', 'metric', '10');
    await openTable({ families: [4] });
    // We want .50 at the same metric as the static one, and .52 at a different metric.
    await agent.call('set', { prefix: '198.19.0.50/32', target: { nextHops: [{ gateway: gw2 }] } });
    await agent.call('set', { prefix: '198.19.0.52/32', target: { nextHops: [{ gateway: gw2 }] } });
    const r = await agent.call<Result>('start');
    expect(r.failed).toEqual([{ dst: '198.19.0.50/32', kind: 'add', code: 'NETLINK_EEXIST' }]);
    await agent.call('del', { prefix: '198.19.0.52/32' });
    await agent.call('apply');
    await agent.call('resync');
    const all = await ipRoutes(4);
    expect(all).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ dst: '198.19.0.50', gateway: gw1, protocol: 'static' }),
        expect.objectContaining({ dst: '198.19.0.51', gateway: gw1, protocol: 'bird' }),
        expect.objectContaining({ dst: '198.19.0.52', gateway: gw1, protocol: 'bird', metric: 10 }),
      ]),
    );
    expect(all.filter((x) => String(x.protocol) === String(BGP))).toEqual([]);
  });

  test('a hand-deleted route comes back at the next resync; a hand-added route of ours goes', async () => {
    await openTable({ families: [4], resyncIntervalMs: 1000, routeEvents: false });
    await agent.call('set', { prefix: '198.19.0.1/32', target: { nextHops: [{ gateway: gw1 }] } });
    await agent.call('start');
    await ip('route', 'del', '198.19.0.1/32', 'proto', String(BGP));
    await ip('route', 'add', '198.19.0.7/32', 'via', gw1, 'proto', String(BGP));
    await waitFor(async () => (await ipRoutes(4, 'proto', String(BGP))).map((x) => x.dst).join(',') === '198.19.0.1', {
      what: 'resync to restore 198.19.0.1 and remove 198.19.0.7',
      timeoutMs: 10_000,
    });
    expect(await agent.call<Counters>('counters')).toMatchObject({ repairs: 2, adds: 2, deletes: 1 });
  });

  test('with route events, a hand-deleted route is repaired without a resync', async () => {
    await openTable({ families: [4], resyncIntervalMs: 0 });
    await agent.call('set', { prefix: '198.19.0.1/32', target: { nextHops: [{ gateway: gw1 }] } });
    await agent.call('start');
    await ip('route', 'del', '198.19.0.1/32', 'proto', String(BGP));
    await waitFor(async () => (await ipRoutes(4, 'proto', String(BGP))).length === 1, { what: 'event-driven repair', timeoutMs: 5000 });
    expect(await agent.call<Counters>('counters')).toMatchObject({ repairs: 1, resyncs: 1 });
  });

  test('ECMP route with two gateways (RTA_MULTIPATH), weights included', async () => {
    await openTable({ families: [4] });
    await agent.call('set', { prefix: '198.19.1.0/24', target: { nextHops: [{ gateway: gw1 }, { gateway: gw2, weight: 3 }] } });
    expect(await agent.call<Result>('start')).toMatchObject({ adds: 1, failed: [] });
    const [route] = await ipRoutes(4, 'proto', String(BGP));
    expect(route?.dst).toBe('198.19.1.0/24');
    expect(route?.nexthops?.map((h) => [h.gateway, h.weight])).toEqual([
      [gw1, 1],
      [gw2, 3],
    ]);
    // Unchanged on resync (equality holds for the kernel's multipath form).
    expect(await agent.call<Result>('resync')).toMatchObject({ adds: 0, replaces: 0, deletes: 0 });
  });

  test('IPv6: gateway, ECMP and blackhole routes', async () => {
    await openTable({ families: [6] });
    await agent.call('set', { prefix: 'fd00:7a7a:ff00::1/128', target: { nextHops: [{ gateway: gw6a }] } });
    await agent.call('set', { prefix: 'fd00:7a7a:ff01::/48', target: { nextHops: [{ gateway: gw6a }, { gateway: gw6b }] } });
    await agent.call('set', { prefix: 'fd00:7a7a:ff02::/48', target: { type: 'blackhole' } });
    expect(await agent.call<Result>('start')).toMatchObject({ adds: 3, failed: [] });
    const got = await ipRoutes(6, 'proto', String(BGP));
    expect(got.find((x) => x.dst === 'fd00:7a7a:ff00::1')).toMatchObject({ gateway: gw6a, metric: 1024 });
    expect(got.find((x) => x.dst === 'fd00:7a7a:ff01::/48')?.nexthops?.map((h) => h.gateway)).toEqual([gw6a, gw6b]);
    expect(got.find((x) => x.dst === 'fd00:7a7a:ff02::/48')).toMatchObject({ type: 'blackhole' });
    expect(await agent.call<Result>('resync')).toMatchObject({ adds: 0, replaces: 0, deletes: 0 });
  });

  test('device routes (scope link) to a workload veth, IPv4 and IPv6, with protocol 202', async () => {
    await ip('link', 'add', 'ttw1', 'type', 'veth', 'peer', 'name', 'ttw1p');
    await ip('link', 'set', 'ttw1', 'up');
    await ip('link', 'set', 'ttw1p', 'up');
    await agent.call('open', { protocol: WL, resyncIntervalMs: 0 });
    await agent.call('set', { prefix: '198.19.2.10/32', target: { nextHops: [{ ifname: 'ttw1' }] } });
    await agent.call('set', { prefix: 'fd00:7a7a:ff03::10/128', target: { nextHops: [{ ifname: 'ttw1' }] } });
    await agent.call('start');
    // IPv6 may wait for the veth's carrier: the link-up event then adds it.
    await waitFor(async () => (await ipRoutes(4, 'proto', String(WL))).length + (await ipRoutes(6, 'proto', String(WL))).length === 2, {
      what: 'both device routes',
      timeoutMs: 5000,
    });
    const v4 = await ipRoutes(4, 'proto', String(WL));
    expect(v4).toEqual([expect.objectContaining({ dst: '198.19.2.10', dev: 'ttw1', scope: 'link', metric: 1024 })]);
    const v6 = await ipRoutes(6, 'proto', String(WL));
    expect(v6).toEqual([expect.objectContaining({ dst: 'fd00:7a7a:ff03::10', dev: 'ttw1', metric: 1024 })]);
  });

  test('a route to a down interface is skipped, then appears once the link is set up', async () => {
    await ip('link', 'add', 'ttw2', 'type', 'veth', 'peer', 'name', 'ttw2p');
    await agent.call('open', { protocol: WL, resyncIntervalMs: 0, families: [4] });
    await agent.call('set', { prefix: '198.19.3.10/32', target: { nextHops: [{ ifname: 'ttw2' }] } });
    const r = await agent.call<Result>('start');
    expect(r).toMatchObject({ adds: 0, skipped: 1, failed: [] });
    expect(await agent.call('skipped')).toEqual({ '198.19.3.10/32': { reason: 'interface-down', ifname: 'ttw2' } });
    expect(await ipRoutes(4, 'proto', String(WL))).toEqual([]);
    await ip('link', 'set', 'ttw2p', 'up');
    await ip('link', 'set', 'ttw2', 'up');
    await waitFor(async () => (await ipRoutes(4, 'proto', String(WL))).length === 1, { what: 'route via ttw2 after link up', timeoutMs: 5000 });
    expect(await ipRoutes(4, 'proto', String(WL))).toEqual([expect.objectContaining({ dst: '198.19.3.10', dev: 'ttw2', scope: 'link' })]);
  });

  test('driver: one failing route in a batch does not lose the rest', async () => {
    const base = { family: 4, table: 254, protocol: BGP, type: 'unicast', scope: 'universe', metric: 1024 };
    const ops = Array.from({ length: 300 }, (_, i) => ({
      kind: 'add',
      route: { ...base, dst: `198.19.4.${i % 256}/32`, nextHops: [{ gateway: i === 5 ? '203.0.113.1' : gw1 }] },
    }));
    const res = await agent.call<{ ok: number; failed: Array<{ dst: string; code: string }> }>('driverApply', { ops });
    // i = 5 has an unreachable gateway; i >= 256 repeat .0-.43, which exist by then,
    // except .5, whose first add failed: the repeat (i = 261) succeeds.
    expect(res.failed.filter((f) => f.code === 'NETLINK_ENETUNREACH').map((f) => f.dst)).toEqual(['198.19.4.5/32']);
    expect(res.failed.filter((f) => f.code === 'NETLINK_EEXIST')).toHaveLength(43);
    expect(res.ok).toBe(256);
    expect(await ipRoutes(4, 'proto', String(BGP))).toHaveLength(256);
  });
});
