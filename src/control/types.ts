/**
 * The daemon's local control API: plain JSON shapes served over HTTP on a
 * unix socket (default /run/tartan/tartan.sock). tartanctl reads these; so
 * can an operator with `curl --unix-socket /run/tartan/tartan.sock http://tartan/v1/status`.
 */

export const API_PREFIX = '/v1';

export interface NodeStatus {
  nodeName: string;
  asNumber: number;
  routerId: string;
  version: string;
  pid: number;
  /** ISO-8601 start time of the daemon. */
  startedAt: string;
  peers: PeerStatus[];
  /** Best routes per family (the Loc-RIB, after the decision process). */
  locRib?: { 'ipv4-unicast': number; 'ipv6-unicast': number };
  /** Bytes held by the RIB's route tables (Loc-RIB and every Adj-RIB-In). */
  ribTableBytes?: number;
}

export type PeerState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

export interface PeerStatus {
  name: string;
  address: string;
  port: number;
  asNumber: number;
  localAsNumber: number;
  /** How the peer came to be configured, as calicoctl names it: "node-to-node mesh", "global", "node specific". */
  peerType: string;
  /** "ibgp" or "ebgp". */
  session: 'ibgp' | 'ebgp';
  enabled: boolean;
  passive: boolean;
  state: PeerState;
  /** ISO-8601 time of the last state change. */
  since: string;
  /** Why the session last went down, or a connect failure, in words. */
  lastError?: string;
  /** The peer is restarting (RFC 4724) and its routes are kept as stale: counts as ready. */
  gracefulRestart?: boolean;
  /** Routes kept stale for the restarting peer. */
  staleRoutes?: number;
  /** What OPEN negotiated, present while Established. */
  negotiated?: NegotiatedSummary;
  families: FamilyCounters[];
  messages: { received: number; sent: number; updatesReceived: number; updatesSent: number; notificationsReceived: number; notificationsSent: number };
}

export interface NegotiatedSummary {
  holdTime: number;
  keepaliveTime: number;
  peerRouterId: string;
  fourOctetAs: boolean;
  families: string[];
  /** Every capability the peer advertised, in words (unknown ones included). */
  peerCapabilities: string[];
  localAddress?: string;
  localPort?: number;
  remotePort?: number;
}

export interface FamilyCounters {
  family: string;
  received: number;
  accepted: number;
  advertised: number;
}

/** in: Adj-RIB-In (received), loc: Loc-RIB (best paths), out: Adj-RIB-Out (advertised). */
export type RouteTable = 'in' | 'loc' | 'out';

export interface RouteQuery {
  table?: RouteTable;
  peer?: string;
  prefix?: string;
}

/** One route, as `birdc show route all` would describe it. */
export interface RouteView {
  family: string;
  prefix: string;
  pathId?: number;
  /** Received, but its NEXT_HOP resolves through no kernel route: not a candidate (RFC 4271 §9.1.2). */
  nextHopUnreachable?: boolean;
  /** "in": received from `peer`; "out": advertised to `peer`. */
  table: RouteTable;
  peer: string;
  /** Why a received route was rejected on import (it is kept, but not a candidate). */
  rejected?: string;
  /** The received route is the best path for its prefix (in the Loc-RIB). */
  best?: boolean;
  /** Loc-RIB: the best path is one of several equal paths installed together (ECMP). */
  multipath?: boolean;
  /** Kept from a restarting peer's previous session (RFC 4724), not yet sent again. */
  stale?: boolean;
  attributes: RouteAttributesView;
  /** ISO-8601 time the route was learned or advertised. */
  since: string;
}

export interface RouteAttributesView {
  origin?: string;
  asPath?: string;
  nextHop?: string[];
  med?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  aggregator?: string;
  communities?: string[];
  largeCommunities?: string[];
  extendedCommunities?: string[];
  originatorId?: string;
  clusterList?: string[];
  unknown?: string[];
}

export interface ApiError {
  error: { code: string; message: string };
}
