/**
 * The datastore side of peering: one Syncer (list + watch, resume,
 * relist on compaction, backoff) over what Calico's BGP syncer watches
 * (`bgpsyncer.go`): Nodes, BGPPeers, BGPConfigurations, BGPFilters, IPPools,
 * this node's block affinities — plus WorkloadEndpoints, for borrowed
 * addresses. Every burst of events becomes one fresh `ClusterSnapshot`
 * handed to `onSnapshot`; while etcd is away nothing is emitted, so the
 * consumer keeps serving the last known state.
 */
import { resourceSource, Syncer, type Kv, type Resource, type SyncEvent, type SyncSource, type SyncStatus } from '../datastore';
import { affinitySource, type NodeBlockAffinity } from '../ipam';
import type { Logger } from '../util/log';
import type { ClusterSnapshot } from './snapshot';

type Item = { t: 'resource'; r: Resource } | { t: 'affinity'; a: NodeBlockAffinity };

const KINDS = ['Node', 'BGPPeer', 'BGPConfiguration', 'BGPFilter', 'IPPool', 'WorkloadEndpoint'] as const;

function sources(nodeName: string): SyncSource<Item>[] {
  const res = KINDS.map((k): SyncSource<Item> => {
    const s = resourceSource(k);
    return { prefix: s.prefix, decode: (kv) => { const d = s.decode(kv); return d.ok ? { ok: true, value: { t: 'resource', r: d.value } } : d; } };
  });
  const aff = ([4, 6] as const).map((v): SyncSource<Item> => {
    const s = affinitySource(nodeName, v);
    return { prefix: s.prefix, decode: (kv) => { const d = s.decode(kv); return d.ok ? { ok: true, value: { t: 'affinity', a: d.value } } : d; } };
  });
  return [...res, ...aff];
}

/** Build the snapshot from the syncer's current view. Pure. */
export function snapshotOf(nodeName: string, items: Iterable<Item>): ClusterSnapshot {
  const s = { nodeName, nodes: [], bgpPeers: [], bgpConfigurations: [], bgpFilters: [], ipPools: [], affinities: [], workloadEndpoints: [] } as {
    [K in keyof ClusterSnapshot]: ClusterSnapshot[K] extends readonly (infer E)[] ? E[] : ClusterSnapshot[K];
  };
  for (const it of items) {
    if (it.t === 'affinity') {
      s.affinities.push(it.a);
      continue;
    }
    const r = it.r;
    switch (r.kind) {
      case 'Node': s.nodes.push(r); break;
      case 'BGPPeer': s.bgpPeers.push(r); break;
      case 'BGPConfiguration': s.bgpConfigurations.push(r); break;
      case 'BGPFilter': s.bgpFilters.push(r); break;
      case 'IPPool': s.ipPools.push(r); break;
      case 'WorkloadEndpoint': s.workloadEndpoints.push(r); break;
      default: break;
    }
  }
  return s;
}

export interface PeeringWatcherOptions {
  kv: Kv;
  nodeName: string;
  log: Logger;
  onSnapshot: (s: ClusterSnapshot) => void;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export class PeeringWatcher {
  private readonly syncer: Syncer<Item>;
  private scheduled = false;
  private synced = false;

  constructor(private readonly o: PeeringWatcherOptions) {
    this.syncer = new Syncer<Item>(o.kv, sources(o.nodeName), { minBackoffMs: o.minBackoffMs, maxBackoffMs: o.maxBackoffMs });
    this.syncer.on((e) => this.onEvent(e));
  }

  start(): void {
    this.syncer.start();
  }

  /** Resolves after the first complete list. */
  ready(): Promise<void> {
    return this.syncer.ready();
  }

  snapshot(): ClusterSnapshot {
    return snapshotOf(this.o.nodeName, this.syncer.snapshot().values());
  }

  status(): SyncStatus {
    return this.syncer.status();
  }

  stop(): void {
    this.syncer.stop();
  }

  private onEvent(e: SyncEvent<Item>): void {
    const log = this.o.log;
    switch (e.type) {
      case 'corrupt':
        log.warn(`skipping a corrupt value at ${e.key} (revision ${e.revision}): ${e.reason}`);
        return;
      case 'status':
        if (e.status.state === 'disconnected') log.warn(`datastore unreachable, keeping the last known peers and routes: ${e.status.reason ?? ''}`);
        else if (e.status.state === 'resyncing') log.warn(`datastore watch lost its history (${e.status.reason ?? ''}): listing everything again`);
        else if (e.status.state === 'connected') log.info(`datastore watch connected at revision ${e.status.revision}`);
        return;
      case 'in-sync':
        this.synced = true;
        log.info(`datastore in sync at revision ${e.revision}`);
        this.schedule();
        return;
      default:
        if (this.synced) this.schedule();
    }
  }

  /** Coalesce one burst of events (a relist, a batch) into one snapshot. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      try {
        this.o.onSnapshot(this.snapshot());
      } catch (err) {
        this.o.log.error(`applying the datastore state failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      }
    });
  }
}
