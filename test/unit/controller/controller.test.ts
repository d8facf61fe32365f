/**
 * DataplaneController against fakes: a hand-fed syncer feed, an in-memory
 * kernel FIB, in-memory /proc/sys, and a command runner that records
 * iptables/ipset invocations.
 */
import { DataplaneController, SysctlManager, ControllerState, type ResourceFeed, type SysctlIo } from '../../../src/dataplane/controller';
import type { Resource, SyncEvent, SyncListener, WorkloadEndpoint } from '../../../src/datastore';
import type { CommandRunner } from '../../../src/dataplane/policy';
import type { RouteProgrammer } from '../../../src/netlink/route-driver';
import type { BatchResult, KernelRoute, LinkInfo, NetlinkEvent, RouteDumpFilter, RouteOp } from '../../../src/netlink/types';

class FakeFeed implements ResourceFeed {
  private l: SyncListener<Resource> | null = null;
  rev = 0;
  on(l: SyncListener<Resource>): () => void {
    this.l = l;
    return () => (this.l = null);
  }
  emit(e: SyncEvent<Resource>): void {
    this.l?.(e);
  }
  put(key: string, value: Resource): void {
    this.emit({ type: 'added', key, value, revision: ++this.rev });
  }
  del(key: string, previous: Resource): void {
    this.emit({ type: 'deleted', key, previous, revision: ++this.rev, synthetic: false });
  }
}

class FakeKernel implements RouteProgrammer {
  fib = new Map<string, KernelRoute>();
  links: LinkInfo[] = [{ index: 5, name: 'cali1', adminUp: true, operUp: true }];
  async forEachRoute(f: RouteDumpFilter, fn: (r: KernelRoute) => void): Promise<number> {
    let n = 0;
    for (const r of this.fib.values()) if (r.family === f.family && (f.protocol === undefined || r.protocol === f.protocol)) (fn(r), n++);
    return n;
  }
  async apply(ops: Iterable<RouteOp>): Promise<BatchResult> {
    let ok = 0;
    for (const op of ops) {
      if (op.kind === 'delete') this.fib.delete(op.route.dst);
      else this.fib.set(op.route.dst, op.route);
      ok++;
    }
    return { ok, failed: [] };
  }
  async listLinks(): Promise<LinkInfo[]> {
    return this.links;
  }
}

class FakeEvents {
  private fns: Array<(e: NetlinkEvent) => void> = [];
  on(fn: (e: NetlinkEvent) => void): void {
    this.fns.push(fn);
  }
  emit(e: NetlinkEvent): void {
    for (const f of this.fns) f(e);
  }
}

class FakeProc implements SysctlIo {
  files = new Map<string, string>();
  async read(p: string): Promise<string> {
    const v = this.files.get(p);
    if (v === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return v;
  }
  async write(p: string, v: string): Promise<void> {
    if (!this.files.has(p)) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    this.files.set(p, v);
  }
  addIface(i: string): void {
    for (const p of [`ipv4/conf/${i}/route_localnet`, `ipv4/conf/${i}/proxy_arp`, `ipv4/conf/${i}/forwarding`, `ipv4/conf/${i}/rp_filter`]) this.files.set(`/proc/sys/net/${p}`, '0');
    this.files.set(`/proc/sys/net/ipv4/neigh/${i}/proxy_delay`, '5');
  }
}

function wep(name: string, node: string, iface: string, ip: string, labels: Record<string, string> = {}): WorkloadEndpoint {
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'WorkloadEndpoint',
    metadata: { name, namespace: 'prod', labels },
    spec: { node, interfaceName: iface, ipNetworks: [`${ip}/32`], profiles: ['kns.prod'] },
  };
}

const until = async (cond: () => boolean): Promise<void> => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
};

describe('DataplaneController', () => {
  let feed: FakeFeed;
  let kernel: FakeKernel;
  let events: FakeEvents;
  let proc: FakeProc;
  let commands: Array<{ argv: readonly string[]; input?: string }>;
  let dc: DataplaneController;

  beforeEach(() => {
    feed = new FakeFeed();
    kernel = new FakeKernel();
    events = new FakeEvents();
    proc = new FakeProc();
    proc.addIface('cali1');
    commands = [];
    const runner: CommandRunner = async (argv, input) => {
      commands.push({ argv, ...(input !== undefined ? { input } : {}) });
      return { code: 0, stdout: argv[1] === '--version' ? 'iptables v1.8.9 (nf_tables)' : '', stderr: '' };
    };
    dc = new DataplaneController({ nodeName: 'n1', feed, routeDriver: kernel, events, sysctlIo: proc, coalesceMs: 1, routeGraceMs: 0, policy: { runner } });
  });

  afterEach(() => dc.stop());

  test('writes nothing before in-sync, then routes, sysctls and policy', async () => {
    await dc.start();
    feed.put('/wep/a', wep('a', 'n1', 'cali1', '198.18.0.2'));
    feed.put('/wep/b', wep('b', 'n2', 'cali9', '198.18.0.3'));
    await new Promise((r) => setTimeout(r, 20));
    expect(kernel.fib.size).toBe(0);
    expect(commands).toEqual([]);
    expect(dc.status().state).toBe('waiting-for-datastore');
    feed.emit({ type: 'in-sync', revision: feed.rev });
    await dc.ready();
    expect([...kernel.fib.values()].map((r) => [r.dst, r.protocol, r.scope, r.metric, r.nextHops[0]?.ifindex])).toEqual([['198.18.0.2/32', 202, 'link', 1024, 5]]);
    expect(proc.files.get('/proc/sys/net/ipv4/conf/cali1/proxy_arp')).toBe('1');
    expect(proc.files.get('/proc/sys/net/ipv4/neigh/cali1/proxy_delay')).toBe('0');
    const restores = commands.filter((c) => c.argv[0] === 'iptables-nft-restore');
    expect(restores.length).toBeGreaterThan(0);
    expect(restores.map((c) => c.input).join('')).toContain('-A ttn-tw-cali1');
    expect(commands.some((c) => c.argv[0]?.startsWith('ip6tables'))).toBe(false);
    const st = dc.status();
    expect(st).toMatchObject({ state: 'in-sync', datastoreInSync: true, localWorkloads: 1, revision: 2, lastError: null });
    expect(st.policy.applies).toBe(1);
  });

  test('a deleted endpoint loses its route; an interface appearing later gets its sysctls', async () => {
    await dc.start();
    const a = wep('a', 'n1', 'cali1', '198.18.0.2');
    feed.put('/wep/a', a);
    feed.put('/wep/c', wep('c', 'n1', 'cali2', '198.18.0.4'));
    feed.emit({ type: 'in-sync', revision: feed.rev });
    await dc.ready();
    expect(dc.status().sysctls.pendingInterfaces).toEqual(['cali2']);
    expect(dc.status().routes.skipped).toBe(1);
    proc.addIface('cali2');
    kernel.links.push({ index: 6, name: 'cali2', adminUp: true, operUp: true });
    events.emit({ kind: 'link', action: 'new', link: { index: 6, name: 'cali2', adminUp: true, operUp: true } });
    await until(() => proc.files.get('/proc/sys/net/ipv4/conf/cali2/proxy_arp') === '1' && kernel.fib.has('198.18.0.4/32'));
    feed.del('/wep/a', a);
    await until(() => !kernel.fib.has('198.18.0.2/32'));
    await dc.settle();
    expect(dc.status().localWorkloads).toBe(1);
  });

  test('invalid policy keeps the previous dataplane and reports a stable error code', async () => {
    await dc.start();
    feed.put('/wep/a', wep('a', 'n1', 'cali1', '198.18.0.2'));
    feed.emit({ type: 'in-sync', revision: feed.rev });
    await dc.ready();
    const before = commands.length;
    feed.put('/gnp/bad', { apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name: 'bad' }, spec: { selector: "a == 'x" } });
    await until(() => dc.status().lastError !== null);
    expect(dc.status().lastError?.code).toBe('SELECTOR_INVALID');
    expect(commands.filter((c, i) => i >= before && c.argv[0] === 'iptables-nft-restore')).toEqual([]);
  });

  test('a FelixConfiguration change after start asks for a restart', async () => {
    const why: string[] = [];
    dc.stop();
    dc = new DataplaneController({ nodeName: 'n1', feed, routeDriver: kernel, events, sysctlIo: proc, coalesceMs: 1, policy: { enabled: false }, onRestartRequired: (w) => why.push(w) });
    await dc.start();
    feed.emit({ type: 'in-sync', revision: 0 });
    await dc.ready();
    feed.put('/fc/default', { apiVersion: 'projectcalico.org/v3', kind: 'FelixConfiguration', metadata: { name: 'default' }, spec: { ipv4NormalRoutePriority: 5 } });
    expect(dc.status().restartRequired).toBe(true);
    expect(why).toHaveLength(1);
  });
});

describe('SysctlManager', () => {
  test('writes only differing values; a value changed later counts as a repair', async () => {
    const proc = new FakeProc();
    proc.addIface('cali1');
    const m = new SysctlManager(proc);
    m.setDesired(new Map([['cali1', [{ path: '/proc/sys/net/ipv4/conf/cali1/proxy_arp', value: '1' }]]]));
    expect((await m.sync()).written).toBe(1);
    expect((await m.sync(true)).written).toBe(0);
    proc.files.set('/proc/sys/net/ipv4/conf/cali1/proxy_arp', '0');
    expect((await m.sync(true)).written).toBe(1);
    expect(m.counters).toEqual({ writes: 2, repairs: 1, errors: 0 });
  });
});

describe('ControllerState', () => {
  test('dirtiness: remote endpoints touch policy only; FelixConfiguration touches config', () => {
    const s = new ControllerState('n1');
    expect(s.apply({ type: 'added', key: 'k', value: wep('b', 'n2', 'x', '198.18.0.3'), revision: 1 })).toEqual({ routes: false, policy: true, config: false });
    expect(s.apply({ type: 'added', key: 'k2', value: wep('a', 'n1', 'x', '198.18.0.2'), revision: 2 })).toEqual({ routes: true, policy: true, config: false });
    expect(s.apply({ type: 'in-sync', revision: 2 })).toEqual({ routes: true, policy: true, config: true });
    expect(s.apply({ type: 'in-sync', revision: 2 })).toBeNull();
    const problems: never[] = [];
    const a = s.policyInput(problems);
    const b = s.policyInput(problems);
    expect(a.workloadEndpoints[0]).toBe(b.workloadEndpoints[0]); // memoised: same object while unchanged
  });
});
