import { HealthAggregator, startHealthServer, type BgpSnapshot, type DatastoreSnapshot, type ObservedPeer } from '../../../src/observability';

function peer(address: string, state: ObservedPeer['state'], over: Partial<ObservedPeer> = {}): ObservedPeer {
  return {
    name: address, address, port: 179, asNumber: 64512, localAsNumber: 64512, peerType: 'global', session: 'ibgp', enabled: true, passive: false, state,
    since: '2026-01-01T00:00:00Z', families: [], messages: { received: 0, sent: 0, updatesReceived: 0, updatesSent: 0, notificationsReceived: 0, notificationsSent: 0 },
    ...over,
  };
}

describe('health', () => {
  let peers: ObservedPeer[] = [];
  let ds: DatastoreSnapshot = { state: 'connected', revision: 10, lag: 0, synced: true };
  const bgp = (): BgpSnapshot => ({ nodeName: 'n', asNumber: 64512, routerId: '192.0.2.1', version: '0', pid: 1, startedAt: '', peers });
  const agg = new HealthAggregator({ bgp, datastore: () => ds });

  it('is ready with no peers, and with every peer Established or in graceful restart', () => {
    peers = [];
    expect(agg.report().ready).toBe(true);
    peers = [peer('10.0.0.1', 'Established'), peer('10.0.0.2', 'Active', { gracefulRestart: true }), peer('10.0.0.3', 'Idle', { enabled: false })];
    const r = agg.report();
    expect(r.ready).toBe(true);
    expect(r.components.find((c) => c.name === 'bgp')?.detail).toBe('1/2 peers established, 1 in graceful restart');
  });

  it('is not ready while a peer is down or the datastore is not in sync, but stays live', () => {
    peers = [peer('10.0.0.1', 'Established'), peer('10.0.0.2', 'Active')];
    let r = agg.report();
    expect(r).toMatchObject({ live: true, ready: false });
    expect(r.components.find((c) => c.name === 'bgp')?.detail).toBe('1/2 peers established; BGP not established with 10.0.0.2 (Active)');
    peers = [];
    ds = { state: 'disconnected', revision: 10, lag: 3, reason: 'etcd unavailable' };
    r = agg.report();
    expect(r).toMatchObject({ live: true, ready: false });
    expect(r.components.find((c) => c.name === 'datastore')?.detail).toBe('disconnected: etcd unavailable (revision 10, 3 behind)');
    ds = { state: 'connected', revision: 11, lag: 0, synced: true };
  });

  it('marks a pushed component that stops reporting as neither live nor ready', () => {
    let now = 1000;
    const a = new HealthAggregator({}, () => now);
    const report = a.register('fib', { timeoutSeconds: 30 });
    expect(a.report()).toMatchObject({ live: false, ready: false });
    report({ live: true, ready: true, detail: 'synced' });
    expect(a.report()).toMatchObject({ live: true, ready: true });
    now += 31_000;
    expect(a.report()).toMatchObject({ live: false, ready: false });
    expect(a.report().components[0]?.detail).toBe('no report for more than 30s');
  });

  it('serves /liveness and /readiness with 200/503 and a detail table on request', async () => {
    const srv = await startHealthServer(agg, { host: '127.0.0.1', port: 0 });
    const get = async (path: string): Promise<{ status: number; body: string }> => {
      const res = await fetch(`http://127.0.0.1:${srv.port}${path}`);
      return { status: res.status, body: await res.text() };
    };
    try {
      peers = [peer('10.0.0.1', 'Established')];
      expect(await get('/readiness')).toEqual({ status: 200, body: 'ready\n' });
      expect(await get('/liveness')).toEqual({ status: 200, body: 'live\n' });
      peers = [peer('10.0.0.1', 'Established'), peer('10.0.0.2', 'Connect')];
      const bad = await get('/readiness');
      expect(bad).toEqual({ status: 503, body: 'not ready: bgp: 1/2 peers established; BGP not established with 10.0.0.2 (Connect)\n' });
      expect((await get('/liveness')).status).toBe(200);
      const detail = await get('/readiness?detail=true');
      expect(detail.status).toBe(503);
      expect(detail.body.split('\n').slice(1, 7)).toEqual([
        '+-----------+---------+----------------+---------------------+--------------------------------------------------------------------+',
        '| COMPONENT | TIMEOUT | LIVENESS       | READINESS           | DETAIL                                                             |',
        '+-----------+---------+----------------+---------------------+--------------------------------------------------------------------+',
        '| datastore | -       | reporting live | reporting ready     | in sync at revision 11                                             |',
        '| bgp       | -       | reporting live | reporting non-ready | 1/2 peers established; BGP not established with 10.0.0.2 (Connect) |',
        '+-----------+---------+----------------+---------------------+--------------------------------------------------------------------+',
      ]);
      expect((await get('/readiness?verbose')).body).toContain('| COMPONENT |');
      const json = JSON.parse((await get('/readiness?format=json')).body);
      expect(json.ready).toBe(false);
      expect(json.components.map((c: { name: string }) => c.name)).toEqual(['datastore', 'bgp']);
      expect((await get('/nope')).status).toBe(404);
    } finally {
      await srv.close();
    }
  });
});
