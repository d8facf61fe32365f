import { Etcd3 } from 'etcd3';
import {
  Datastore, EtcdKv, Syncer, resourceSources, RESOURCE_PREFIX, type BGPPeer, type Resource, type SyncEvent,
} from '../../../src/datastore';
import { startEtcd, type EtcdServer } from './etcd-server';
import { startProxy, type TcpProxy } from './tcp-proxy';
import { Recorder, until } from './helpers';

const v3 = 'projectcalico.org/v3' as const;
const peer = (name: string, asNumber = 64600): BGPPeer => ({ apiVersion: v3, kind: 'BGPPeer', metadata: { name }, spec: { peerIP: '192.0.2.1', asNumber } });
const nameOf = (e: SyncEvent<Resource>): string =>
  e.type === 'added' || e.type === 'updated' ? e.value.metadata.name : e.type === 'deleted' ? e.previous.metadata.name : '';
const summary = (events: Array<SyncEvent<Resource>>): string[] =>
  events
    .filter((e) => e.type === 'added' || e.type === 'updated' || e.type === 'deleted')
    .map((e) => `${e.type}${e.type === 'deleted' && e.synthetic ? '(synthetic)' : ''} ${nameOf(e)}`);

describe('list + watch syncer against a real etcd', () => {
  let etcd: EtcdServer;
  let writer: Datastore;
  const started: Array<{ stop(): void }> = [];

  function syncer(endpoint: string, keepaliveMs?: number): { syncer: Syncer<Resource>; rec: Recorder<Resource>; kv: EtcdKv } {
    const kv = new EtcdKv({ endpoints: [endpoint], requestTimeoutMs: 2000, ...(keepaliveMs ? { keepaliveMs } : {}) });
    const s = new Syncer(kv, resourceSources(['BGPPeer', 'Node']), { minBackoffMs: 100, maxBackoffMs: 1000 });
    const rec = new Recorder<Resource>();
    s.on(rec.listener);
    s.start();
    started.push({ stop: () => (s.stop(), kv.close()) });
    return { syncer: s, rec, kv };
  }

  beforeAll(async () => {
    etcd = await startEtcd();
    writer = Datastore.connect({ endpoints: [etcd.endpoint] });
  });
  afterAll(async () => {
    for (const s of started) s.stop();
    writer?.close();
    await etcd?.stop();
  });
  afterEach(async () => {
    const { items } = await writer.list('BGPPeer');
    for (const p of items) await writer.delete('BGPPeer', p.metadata.name);
  });

  it('lists, reports in-sync, then delivers typed changes', async () => {
    await writer.create(peer('a'));
    const { syncer: s, rec } = syncer(etcd.endpoint);
    await s.ready();
    expect(summary(rec.events)).toEqual(['added a']);
    const inSync = rec.events.find((e) => e.type === 'in-sync');
    expect(inSync).toBeDefined();

    const mark = rec.mark;
    const b = await writer.create(peer('b'));
    await writer.update({ ...b, spec: { ...b.spec, asNumber: 65001 } });
    await writer.delete('BGPPeer', 'a');
    await until(() => summary(rec.since(mark)).length === 3, 'three events');
    expect(summary(rec.since(mark))).toEqual(['added b', 'updated b', 'deleted a']);
    const upd = rec.since(mark).find((e) => e.type === 'updated');
    expect(upd?.type === 'updated' && (upd.value as BGPPeer).spec.asNumber).toBe(65001);
    expect(upd?.type === 'updated' && (upd.previous as BGPPeer).spec.asNumber).toBe(64600);
    expect(s.snapshot().size).toBe(1);
    expect(s.status()).toMatchObject({ state: 'connected', lag: 0 });
  });

  it('a corrupt value is reported; it replaces the good one as a delete; the syncer carries on', async () => {
    const { syncer: s, rec } = syncer(etcd.endpoint);
    await s.ready();
    await writer.create(peer('c'));
    await until(() => rec.has((e) => e.type === 'added'), 'added c');
    const raw = new Etcd3({ hosts: etcd.endpoint });
    try {
      const mark = rec.mark;
      await raw.put(`${RESOURCE_PREFIX}bgppeers/c`).value('garbage');
      await raw.put(`${RESOURCE_PREFIX}bgppeers/d`).value(JSON.stringify({ apiVersion: v3, kind: 'BGPPeer', metadata: { name: 'd' }, spec: { peerIP: 'nope' } }));
      await writer.create(peer('e'));
      await until(() => rec.has((e) => e.type === 'added' && nameOf(e) === 'e', mark), 'added e');
      const evs = rec.since(mark);
      expect(evs.filter((e) => e.type === 'corrupt').map((e) => e.type === 'corrupt' && e.key.split('/').pop())).toEqual(['c', 'd']);
      expect(summary(evs)).toEqual(['deleted c', 'added e']);
    } finally {
      await raw.delete().key(`${RESOURCE_PREFIX}bgppeers/c`);
      await raw.delete().key(`${RESOURCE_PREFIX}bgppeers/d`);
      raw.close();
    }
  });

  describe('behind a partition', () => {
    let proxy: TcpProxy;
    beforeEach(async () => {
      proxy = await startProxy(etcd.endpoint);
    });
    afterEach(async () => {
      await proxy.close();
    });

    it('resumes from its last revision: changes made meanwhile arrive as ordinary events', async () => {
      await writer.create(peer('keep'));
      await writer.create(peer('change'));
      await writer.create(peer('remove'));
      const { syncer: s, rec } = syncer(proxy.endpoint);
      await s.ready();
      proxy.cut();
      await until(() => s.status().state === 'disconnected', 'disconnected');
      const mark = rec.mark;
      const change = await writer.get('BGPPeer', 'change');
      await writer.update({ ...change, spec: { ...change.spec, asNumber: 65100 } });
      await writer.delete('BGPPeer', 'remove');
      await writer.create(peer('new'));
      // While partitioned nothing is retracted: the last known state stays.
      expect([...s.snapshot().keys()].map((k) => k.split('/').pop()).sort()).toEqual(['change', 'keep', 'remove']);
      proxy.restore();
      await until(() => summary(rec.since(mark)).length === 3, 'the three changes');
      expect(summary(rec.since(mark))).toEqual(['updated change', 'deleted remove', 'added new']);
      const states = rec.since(mark).flatMap((e) => (e.type === 'status' ? [e.status.state] : []));
      expect(states).toContain('connected');
      expect(states).not.toContain('resyncing');
      expect(rec.has((e) => e.type === 'in-sync', mark)).toBe(false);
      await until(() => s.status().state === 'connected', 'connected');
    });

    it('survives compaction of its resume revision: relists and emits the difference', async () => {
      await writer.create(peer('keep'));
      await writer.create(peer('change'));
      await writer.create(peer('remove'));
      const { syncer: s, rec } = syncer(proxy.endpoint);
      await s.ready();
      proxy.cut();
      await until(() => s.status().state === 'disconnected', 'disconnected');
      const mark = rec.mark;
      const change = await writer.get('BGPPeer', 'change');
      await writer.update({ ...change, spec: { ...change.spec, asNumber: 65200 } });
      await writer.delete('BGPPeer', 'remove');
      await writer.create(peer('new'));
      const head = await etcd.revision();
      await etcd.compact(head);
      proxy.restore();
      await until(() => rec.has((e) => e.type === 'in-sync', mark), 'in-sync after relist');
      const evs = rec.since(mark);
      expect(summary(evs).sort()).toEqual(['added new', 'deleted(synthetic) remove', 'updated change']);
      const states = evs.flatMap((e) => (e.type === 'status' ? [e.status.state] : []));
      expect(states).toContain('resyncing');
      const inSync = evs.find((e) => e.type === 'in-sync');
      expect(inSync?.type === 'in-sync' && inSync.revision).toBeGreaterThanOrEqual(head);
      // And it keeps watching afterwards.
      const m2 = rec.mark;
      await writer.create(peer('after'));
      await until(() => rec.has((e) => e.type === 'added' && nameOf(e) === 'after', m2), 'added after');
    });
  });

  it('survives a real etcd restart and catches up on writes made after it', async () => {
    await writer.create(peer('before'));
    const { syncer: s, rec } = syncer(etcd.endpoint);
    await s.ready();
    await etcd.kill();
    await until(() => s.status().state === 'disconnected', 'disconnected');
    const mark = rec.mark;
    await etcd.start();
    await writer.create(peer('after-restart')).catch(async () => {
      // The writer's own client may still be backing off; one retry after it reconnects.
      await new Promise((r) => setTimeout(r, 3000));
      return writer.create(peer('after-restart'));
    });
    await until(() => rec.has((e) => e.type === 'added' && nameOf(e) === 'after-restart', mark), 'added after-restart');
    // Nothing was retracted across the outage.
    expect(rec.has((e) => e.type === 'deleted', mark)).toBe(false);
    expect(s.snapshot().size).toBe(2);
    await until(() => s.status().state === 'connected', 'connected');
  });

  it('notices a hung etcd (SIGSTOP) through keepalives and catches up after SIGCONT', async () => {
    const { syncer: s, rec } = syncer(etcd.endpoint, 6000);
    await s.ready();
    etcd.pause();
    try {
      await until(() => s.status().state === 'disconnected', 'disconnected by keepalive timeout');
    } finally {
      etcd.resume();
    }
    const mark = rec.mark;
    await writer.create(peer('after-pause'));
    await until(() => rec.has((e) => e.type === 'added' && nameOf(e) === 'after-pause', mark), 'added after-pause');
    await until(() => s.status().state === 'connected', 'connected');
  });
});
