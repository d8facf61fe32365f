/**
 * What the observability layer reads from the daemon: plain snapshots,
 * asked for at scrape / probe time (pull), so nothing here holds state
 * that can drift from the daemon's own. The shapes match what the daemon
 * already has: NodeStatus from the control API, RouteTableCounters from the
 * kernel FIB, PolicyDataplane.stats()/repairs, and Syncer.status().
 */
import type { NodeStatus, PeerStatus } from '../control/types';
import type { RouteTableCounters } from '../dataplane/routes/types';
import type { SyncStatus } from '../datastore';

/** One NOTIFICATION count (RFC 4271 §4.5 error code and subcode). */
export interface NotificationCount {
  peer: string;
  direction: 'sent' | 'received';
  code: number;
  subcode: number;
  count: number;
}

/** A peer as the control API reports it, plus what only metrics/health need. */
export type ObservedPeer = PeerStatus & {
  /** The peer restarted and we keep its routes as stale (RFC 4724 helper): counts as ready. */
  gracefulRestart?: boolean;
  /** Withdrawn prefixes, if the speaker counts them. */
  withdrawals?: { received: number; sent: number };
};

export type BgpSnapshot = Omit<NodeStatus, 'peers'> & {
  peers: ObservedPeer[];
  /** NOTIFICATIONs by code; what is not listed here is exported with code "unknown". */
  notifications?: NotificationCount[];
};

export interface FibSnapshot {
  /** Kernel routing table id (254 = main). */
  table: number | string;
  counters: RouteTableCounters;
  /** Routes currently owned in that table, if known. */
  routes?: number;
}

export interface IptablesCounters {
  saveCalls: number;
  saveErrors: number;
  restoreCalls: number;
  restoreErrors: number;
  linesExecuted: number;
}

/** PolicyDataplane.stats() plus its `repairs`/`resyncs` counters. */
export interface PolicySnapshot {
  chains: number;
  rules: number;
  ipsets: number;
  repairs: number;
  resyncs?: number;
  /** If the daemon reads the drivers' own counters; otherwise use MetricsCollector.instrumentRunner. */
  iptables?: IptablesCounters;
}

/** Syncer.status() plus whether the first full sync is done and how often it reconnected. */
export type DatastoreSnapshot = SyncStatus & {
  /** The first list completed and nothing is pending (ready to serve). Default: state === 'connected'. */
  synced?: boolean;
  /** Times the watch reconnected after an outage (see trackSyncer). */
  reconnects?: number;
};

export interface SnapshotProviders {
  bgp?: () => BgpSnapshot | undefined;
  fib?: () => FibSnapshot | FibSnapshot[] | undefined;
  policy?: () => PolicySnapshot | undefined;
  datastore?: () => DatastoreSnapshot | undefined;
}
