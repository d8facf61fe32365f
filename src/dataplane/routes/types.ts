/**
 * Desired-state types of the route reconciler. A target names interfaces,
 * not ifindexes: the reconciler resolves names against the live link table,
 * skips targets whose interface is missing or down, and retries them when
 * the link comes up.
 */
import type { RouteType } from '../../netlink/types';

export interface TargetNextHop {
  /** Next router's address (same family as the prefix). */
  gateway?: string;
  /** Output interface name (e.g. a workload's host-side veth). */
  ifname?: string;
  /** ECMP weight 1..256, default 1. */
  weight?: number;
  onlink?: boolean;
}

export interface RouteTarget {
  /** Default 'unicast'. blackhole/unreachable/prohibit take no next hops. */
  type?: RouteType;
  /** One hop = plain route; several = ECMP (RTA_MULTIPATH). A hop without gateway is a device route (scope link). */
  nextHops?: readonly TargetNextHop[];
  /** RTA_PRIORITY; default the table's `defaultMetric`. */
  metric?: number;
}

/** Monotonic counters, for metrics. */
export interface RouteTableCounters {
  /** Routes created (RTM_NEWROUTE with NLM_F_CREATE|NLM_F_EXCL) that succeeded. */
  adds: number;
  /** Routes changed in place (NLM_F_REPLACE) that succeeded. */
  replaces: number;
  /** Routes of ours removed. */
  deletes: number;
  /** Failed operations (each also reported in the apply result). */
  errors: number;
  /** Operations that fixed drift (a route changed/removed behind our back, found by resync or events). */
  repairs: number;
  /** Full resyncs (dump + diff) done. */
  resyncs: number;
}

/** Why a desired route is not in the kernel right now. */
export type SkipReason = 'interface-missing' | 'interface-down';
