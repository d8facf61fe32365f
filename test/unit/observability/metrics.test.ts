import { TartanMetrics, startMetricsServer, trackSyncer, type BgpSnapshot, type ObservedPeer } from '../../../src/observability';
import type { Syncer, SyncStatus } from '../../../src/datastore';
import { VERSION } from '../../../src/version';

function peer(address: string, over: Partial<ObservedPeer> = {}): ObservedPeer {
  return {
    name: address, address, port: 179, asNumber: 65000, localAsNumber: 64512, peerType: 'node specific', session: 'ebgp', enabled: true, passive: false,
    state: 'Established', since: '2026-01-01T00:00:00Z',
    families: [{ family: 'ipv4-unicast', received: 10, accepted: 8, advertised: 3 }],
    messages: { received: 100, sent: 90, updatesReceived: 20, updatesSent: 5, notificationsReceived: 3, notificationsSent: 1 },
    ...over,
  };
}

const bgp: BgpSnapshot = {
  nodeName: 'n1', asNumber: 64512, routerId: '192.0.2.1', version: '0.1.0', pid: 1, startedAt: '2026-01-01T00:00:00Z',
  peers: [
    peer('192.0.2.2', { withdrawals: { received: 4, sent: 2 } }),
    peer('192.0.2.3', { state: 'Active', families: [], messages: { received: 0, sent: 0, updatesReceived: 0, updatesSent: 0, notificationsReceived: 0, notificationsSent: 0 } }),
    peer('192.0.2.4', { enabled: false, state: 'Idle' }),
  ],
  notifications: [
    { peer: '192.0.2.2', direction: 'received', code: 6, subcode: 2, count: 2 },
    { peer: '192.0.2.2', direction: 'sent', code: 4, subcode: 0, count: 1 },
  ],
};

function lines(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

describe('tartan_ metrics', () => {
  let counters = { adds: 5, replaces: 1, deletes: 2, errors: 1, repairs: 3, resyncs: 7 };
  const metrics = new TartanMetrics({
    bgp: () => bgp,
    fib: () => ({ table: 254, counters, routes: 42 }),
    policy: () => ({ chains: 12, rules: 40, ipsets: 3, repairs: 2, resyncs: 9, iptables: { saveCalls: 4, saveErrors: 0, restoreCalls: 6, restoreErrors: 1, linesExecuted: 120 } }),
    datastore: () => ({ state: 'connected', revision: 77, lag: 0, synced: true, reconnects: 2 }),
  });

  it('exports sessions by state, routes per peer and table, and message counters', async () => {
    const text = await metrics.text();
    expect(lines(text, 'tartan_build_info')).toEqual([`tartan_build_info{version="${VERSION}"} 1`]);
    expect(lines(text, 'tartan_bgp_sessions')).toEqual([
      'tartan_bgp_sessions{state="Idle"} 0', 'tartan_bgp_sessions{state="Connect"} 0', 'tartan_bgp_sessions{state="Active"} 1', 'tartan_bgp_sessions{state="OpenSent"} 0',
      'tartan_bgp_sessions{state="OpenConfirm"} 0', 'tartan_bgp_sessions{state="Established"} 1', 'tartan_bgp_sessions{state="Disabled"} 1',
    ]);
    expect(text).toContain('# TYPE tartan_bgp_routes gauge');
    expect(lines(text, 'tartan_bgp_routes').slice(0, 3)).toEqual([
      'tartan_bgp_routes{peer="192.0.2.2",family="ipv4-unicast",table="received"} 10',
      'tartan_bgp_routes{peer="192.0.2.2",family="ipv4-unicast",table="accepted"} 8',
      'tartan_bgp_routes{peer="192.0.2.2",family="ipv4-unicast",table="advertised"} 3',
    ]);
    expect(text).toContain('# TYPE tartan_bgp_updates_total counter');
    expect(lines(text, 'tartan_bgp_updates_total')).toContain('tartan_bgp_updates_total{peer="192.0.2.2",direction="in"} 20');
    expect(lines(text, 'tartan_bgp_withdrawals_total')).toEqual(['tartan_bgp_withdrawals_total{peer="192.0.2.2",direction="in"} 4', 'tartan_bgp_withdrawals_total{peer="192.0.2.2",direction="out"} 2']);
    expect(lines(text, 'tartan_bgp_peer_established')).toContain('tartan_bgp_peer_established{peer="192.0.2.3",peer_as="65000",peer_type="ebgp"} 0');
  });

  it('splits NOTIFICATIONs by code, the rest as unknown', async () => {
    const text = await metrics.text();
    const n = lines(text, 'tartan_bgp_notifications_total').filter((l) => l.includes('192.0.2.2'));
    expect(n).toEqual([
      'tartan_bgp_notifications_total{peer="192.0.2.2",direction="in",code="6",subcode="2",error="cease"} 2',
      'tartan_bgp_notifications_total{peer="192.0.2.2",direction="in",code="unknown",subcode="unknown",error="unknown"} 1',
      'tartan_bgp_notifications_total{peer="192.0.2.2",direction="out",code="4",subcode="0",error="hold_timer_expired"} 1',
    ]);
  });

  it('exports FIB, policy and datastore figures, re-read at every scrape', async () => {
    let text = await metrics.text();
    expect(lines(text, 'tartan_fib_operations_total')).toEqual([
      'tartan_fib_operations_total{table="254",op="add"} 5', 'tartan_fib_operations_total{table="254",op="replace"} 1', 'tartan_fib_operations_total{table="254",op="delete"} 2',
    ]);
    expect(lines(text, 'tartan_fib_errors_total')).toEqual(['tartan_fib_errors_total{table="254"} 1']);
    expect(lines(text, 'tartan_fib_routes')).toEqual(['tartan_fib_routes{table="254"} 42']);
    expect(lines(text, 'tartan_iptables_chains')).toEqual(['tartan_iptables_chains 12']);
    expect(lines(text, 'tartan_ipsets')).toEqual(['tartan_ipsets 3']);
    expect(lines(text, 'tartan_policy_repairs_total')).toEqual(['tartan_policy_repairs_total 2']);
    expect(lines(text, 'tartan_iptables_lines_executed_total')).toEqual(['tartan_iptables_lines_executed_total 120']);
    expect(lines(text, 'tartan_datastore_synced')).toEqual(['tartan_datastore_synced 1']);
    expect(lines(text, 'tartan_datastore_watch_lag_revisions')).toEqual(['tartan_datastore_watch_lag_revisions 0']);
    expect(lines(text, 'tartan_datastore_reconnects_total')).toEqual(['tartan_datastore_reconnects_total 2']);
    expect(lines(text, 'tartan_datastore_state')).toContain('tartan_datastore_state{state="connected"} 1');
    counters = { ...counters, adds: 9 };
    text = await metrics.text();
    expect(lines(text, 'tartan_fib_operations_total')[0]).toBe('tartan_fib_operations_total{table="254",op="add"} 9');
  });

  it('includes process metrics under the tartan_ prefix, and only tartan_ names', async () => {
    const text = await metrics.text();
    expect(text).toMatch(/^tartan_process_cpu_seconds_total \d/m);
    expect(text).toMatch(/^tartan_nodejs_heap_size_used_bytes \d/m);
    const names = text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]!);
    expect(names.filter((n) => !n.startsWith('tartan_'))).toEqual([]);
  });

  it('times iptables-restore and counts failures through the wrapped runner', async () => {
    const m = new TartanMetrics({}, { processMetrics: false });
    const run = m.instrumentRunner(async (argv) => ({ code: argv.includes('--bad') ? 1 : 0, stdout: '', stderr: '' }));
    await run(['iptables-nft-restore', '--noflush']);
    await run(['/usr/sbin/ip6tables-restore', '--bad']);
    await run(['ipset', 'restore']);
    await run(['iptables-save', '-t', 'filter']);
    const text = await m.text();
    expect(lines(text, 'tartan_iptables_restore_calls_total')).toEqual(['tartan_iptables_restore_calls_total{family="4"} 1', 'tartan_iptables_restore_calls_total{family="6"} 1']);
    expect(lines(text, 'tartan_iptables_restore_errors_total')).toEqual(['tartan_iptables_restore_errors_total{family="6"} 1']);
    expect(lines(text, 'tartan_iptables_restore_duration_seconds_count')).toEqual(['tartan_iptables_restore_duration_seconds_count{family="4"} 1', 'tartan_iptables_restore_duration_seconds_count{family="6"} 1']);
    expect(lines(text, 'tartan_ipset_calls_total')).toEqual(['tartan_ipset_calls_total 1']);
    // Nothing from absent providers.
    expect(lines(text, 'tartan_bgp_sessions')).toEqual([]);
  });

  it('passes a long-lived restore session through, each batch counted as one restore', async () => {
    const m = new TartanMetrics({}, { processMetrics: false });
    const batches: string[] = [];
    const base = Object.assign(async () => ({ code: 0, stdout: '', stderr: '' }), {
      session: (argv: readonly string[]) => ({
        run: async (input: string) => {
          batches.push(`${argv[0]}:${input}`);
          return input === 'unsupported' ? { code: -1, stdout: '', stderr: '', unsupported: true } : { code: input === 'bad' ? 1 : 0, stdout: '', stderr: '' };
        },
        close: async () => undefined,
      }),
    });
    const run = m.instrumentRunner(base);
    const s = run.session?.(['iptables-nft-restore', '--noflush', '--verbose']);
    expect(s).toBeDefined();
    expect(await s?.run('ok')).toEqual({ code: 0, stdout: '', stderr: '' });
    await s?.run('bad');
    // A session that could not start ran nothing: not a restore (the one-shot run that follows is).
    await s?.run('unsupported');
    expect(batches).toEqual(['iptables-nft-restore:ok', 'iptables-nft-restore:bad', 'iptables-nft-restore:unsupported']);
    const text = await m.text();
    expect(lines(text, 'tartan_iptables_restore_calls_total')).toEqual(['tartan_iptables_restore_calls_total{family="4"} 2']);
    expect(lines(text, 'tartan_iptables_restore_errors_total')).toEqual(['tartan_iptables_restore_errors_total{family="4"} 1']);
    expect(lines(text, 'tartan_iptables_restore_duration_seconds_count')).toEqual(['tartan_iptables_restore_duration_seconds_count{family="4"} 2']);
    expect(m.instrumentRunner(async () => ({ code: 0, stdout: '', stderr: '' })).session).toBeUndefined();
  });

  it('serves /metrics over HTTP', async () => {
    const srv = await startMetricsServer(metrics, { host: '127.0.0.1', port: 0 });
    try {
      const res = await fetch(`http://127.0.0.1:${srv.port}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      expect(await res.text()).toContain('tartan_bgp_sessions{state="Established"} 1');
      expect((await fetch(`http://127.0.0.1:${srv.port}/other`)).status).toBe(404);
    } finally {
      await srv.close();
    }
  });
});

describe('trackSyncer', () => {
  it('counts reconnects after outages and reports synced once in sync', async () => {
    type Listener = Parameters<Syncer<unknown>['on']>[0];
    let listener: Listener = () => undefined;
    let status: SyncStatus = { state: 'connecting', revision: 0, lag: 0 };
    let ready!: () => void;
    const fake = {
      status: () => status,
      on: (l: Listener) => ((listener = l), () => undefined),
      ready: () => new Promise<void>((r) => (ready = r)),
    };
    // The real Syncer fits the parameter type.
    const real: Parameters<typeof trackSyncer>[0] = null as unknown as Syncer<unknown>;
    void real;
    const t = trackSyncer(fake);
    expect(t.snapshot()).toMatchObject({ synced: false, reconnects: 0 });
    status = { state: 'connected', revision: 5, lag: 0 };
    ready();
    await Promise.resolve();
    expect(t.snapshot()).toMatchObject({ synced: true, reconnects: 0, revision: 5 });
    for (const state of ['disconnected', 'connecting', 'connected'] as const) listener({ type: 'status', status: { state, revision: 5, lag: 0 } });
    expect(t.snapshot().reconnects).toBe(1);
  });
});
