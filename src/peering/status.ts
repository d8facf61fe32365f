/**
 * What this node tells the cluster about itself, every reportInterval:
 *
 * - a Felix-style liveness key, `/calico/felix/v2/no-region/host/<node>/status`,
 *   `{"time","uptime","first_update"}`, attached to an etcd lease with
 *   reportTTL seconds (it vanishes when the node stops reporting), plus the
 *   same value without TTL at `.../last_reported_status`
 *   (`libcalico-go/lib/backend/model/statusreports.go`, `felix/daemon`);
 * - a CalicoNodeStatus named after the node (created if absent, spec kept if
 *   an operator made one) whose status carries the BGP agent and every
 *   peer's type, state and since, as calico-node fills it.
 *
 * `nodeStatusResource` and `livenessValue` are pure. Reports that fail
 * (etcd away) are logged once per outage and retried at the next tick; they
 * never affect routing.
 */
import { Etcd3, type Lease } from 'etcd3';
import { API_VERSION, Datastore, RESOURCE_NOT_FOUND, type CalicoNodeStatus, type CalicoNodeStatusPeer, type CalicoNodeStatusStatus } from '../datastore';
import { etcdOptions, type DatastoreConfig } from '../datastore/config';
import type { NodeStatus, PeerStatus } from '../control/types';
import { errorMessage, isTartanError } from '../errors';
import type { Logger } from '../util/log';
import { isIP } from 'node:net';

export const LIVENESS_PREFIX = '/calico/felix/v2/no-region/host/';

export function livenessKey(node: string): string {
  return `${LIVENESS_PREFIX}${node}/status`;
}
export function lastReportedKey(node: string): string {
  return `${LIVENESS_PREFIX}${node}/last_reported_status`;
}

export function livenessValue(now: Date, startedAt: Date, firstUpdate: boolean): string {
  return JSON.stringify({ time: now.toISOString().replace(/\.\d{3}Z$/, 'Z'), uptime: Math.round((now.getTime() - startedAt.getTime()) / 1000), first_update: firstUpdate });
}

const PEER_TYPE: Record<string, CalicoNodeStatusPeer['type']> = { 'node-to-node mesh': 'NodeMesh', global: 'GlobalPeer', 'node specific': 'NodePeer' };

function peerEntry(p: PeerStatus): CalicoNodeStatusPeer {
  return { peerIP: p.address, type: PEER_TYPE[p.peerType] ?? 'NodePeer', state: p.state, since: p.since };
}

/** The status block of this node's CalicoNodeStatus, from the control API's view. */
export function nodeStatusBlock(s: NodeStatus, now: Date, reconfiguredAt: Date | undefined): CalicoNodeStatusStatus {
  const v4 = s.peers.filter((p) => isIP(p.address) === 4);
  const v6 = s.peers.filter((p) => isIP(p.address) === 6);
  const up = (ps: PeerStatus[]): number => ps.filter((p) => p.state === 'Established').length;
  const agent = { state: 'Ready' as const, version: s.version, routerID: s.routerId, lastBootTime: s.startedAt, ...(reconfiguredAt ? { lastReconfigurationTime: reconfiguredAt.toISOString() } : {}) };
  return {
    lastUpdated: now.toISOString(),
    agent: { birdV4: agent, birdV6: agent },
    bgp: {
      numberEstablishedV4: up(v4),
      numberNotEstablishedV4: v4.length - up(v4),
      numberEstablishedV6: up(v6),
      numberNotEstablishedV6: v6.length - up(v6),
      peersV4: v4.map(peerEntry),
      peersV6: v6.map(peerEntry),
    },
  };
}

export function nodeStatusResource(existing: CalicoNodeStatus | undefined, node: string, status: CalicoNodeStatusStatus, periodSeconds: number): CalicoNodeStatus {
  const base: CalicoNodeStatus = existing ?? {
    apiVersion: API_VERSION,
    kind: 'CalicoNodeStatus',
    metadata: { name: node },
    spec: { node, classes: ['Agent', 'BGP'], updatePeriodSeconds: periodSeconds },
  };
  return { ...base, status };
}

export interface StatusReporterOptions {
  nodeName: string;
  etcd: DatastoreConfig;
  datastore: Datastore;
  intervalSeconds: number;
  ttlSeconds: number;
  status: () => NodeStatus;
  reconfiguredAt: () => Date | undefined;
  log: Logger;
}

export class StatusReporter {
  private readonly client: Etcd3;
  private lease: Lease | undefined;
  private timer: NodeJS.Timeout | undefined;
  private first = true;
  private failing = false;
  private running = false;
  private readonly startedAt = new Date();
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly o: StatusReporterOptions) {
    this.client = new Etcd3(etcdOptions(o.etcd));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.tick();
  }

  /** Report now (also on a timer). */
  report(): Promise<void> {
    this.inFlight = this.inFlight.then(() => this.reportOnce());
    return this.inFlight;
  }

  private tick(): void {
    if (!this.running) return;
    void this.report().finally(() => {
      if (this.running) this.timer = setTimeout(() => this.tick(), this.o.intervalSeconds * 1000);
    });
  }

  private async reportOnce(): Promise<void> {
    try {
      const now = new Date();
      const value = livenessValue(now, this.startedAt, this.first);
      // A fresh lease each report, the old one revoked after: the key is never without one,
      // and a lease lost while etcd was away is simply replaced.
      const lease = this.client.lease(this.o.ttlSeconds, { autoKeepAlive: false });
      lease.on('lost', () => undefined);
      await lease.put(livenessKey(this.o.nodeName)).value(value);
      await this.client.put(lastReportedKey(this.o.nodeName)).value(value);
      const old = this.lease;
      this.lease = lease;
      if (old) await old.revoke().catch(() => undefined);
      await this.writeNodeStatus(now);
      this.first = false;
      if (this.failing) this.o.log.info('status reports to etcd resumed');
      this.failing = false;
    } catch (e) {
      if (!this.failing) this.o.log.warn(`cannot report status to etcd (will retry every ${this.o.intervalSeconds} s): ${errorMessage(e)}`);
      this.failing = true;
    }
  }

  private async writeNodeStatus(now: Date): Promise<void> {
    const ds = this.o.datastore;
    let existing: CalicoNodeStatus | undefined;
    try {
      existing = await ds.get('CalicoNodeStatus', this.o.nodeName);
    } catch (e) {
      if (!isTartanError(e, RESOURCE_NOT_FOUND)) throw e;
    }
    const res = nodeStatusResource(existing, this.o.nodeName, nodeStatusBlock(this.o.status(), now, this.o.reconfiguredAt()), this.o.intervalSeconds);
    if (existing) await ds.update(res);
    else await ds.create(res);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight.catch(() => undefined);
    // Leave the keys: the TTL retires the liveness key, like a Felix that stopped.
    this.client.close();
  }
}
