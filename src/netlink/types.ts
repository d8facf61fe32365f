/**
 * Plain data types of the rtnetlink route driver. A `KernelRoute` is what one
 * RTM_NEWROUTE message carries (and what a dump returns), in canonical text
 * form so it can be compared and used as a map key.
 */
import type { TartanError } from '../errors';
import type { IpFamily } from './addr';

export type { IpFamily } from './addr';

/** rtm_type values Tartan programs (rtnetlink.h RTN_*). */
export type RouteType = 'unicast' | 'blackhole' | 'unreachable' | 'prohibit';

/** rtm_scope values Tartan programs (rtnetlink.h RT_SCOPE_*). */
export type RouteScope = 'universe' | 'link' | 'host';

/** One path of a route (RTA_GATEWAY/RTA_OIF, or one struct rtnexthop in RTA_MULTIPATH). */
export interface NextHop {
  /** Canonical address of the next router; absent for a device route. */
  gateway?: string;
  /** Output interface index (RTA_OIF / rtnh_ifindex). */
  ifindex?: number;
  /** ECMP weight 1..256 (rtnh_hops + 1); only meaningful with 2+ next hops. Default 1. */
  weight?: number;
  /** RTNH_F_ONLINK: use the gateway even if no connected route covers it. */
  onlink?: boolean;
}

export interface KernelRoute {
  family: IpFamily;
  /** Canonical "addr/len" (host bits clear). */
  dst: string;
  /** Routing table id (254 = main). */
  table: number;
  /** rtm_protocol: who owns the route (Tartan: 201 BGP, 202 workload). */
  protocol: number;
  type: RouteType;
  /** IPv6 has no route scope; the kernel reports 'universe' for every IPv6 route. */
  scope: RouteScope;
  /** RTA_PRIORITY. Part of the route's key: same dst with another metric is another route. */
  metric: number;
  /** Empty for blackhole/unreachable/prohibit. */
  nextHops: readonly NextHop[];
  /** Name a kernel nexthop object (RTA_NH_ID) instead of writing `nextHops` (requests only). */
  nexthopId?: number;
}

/**
 * `add` = NLM_F_CREATE|NLM_F_EXCL (fails with EEXIST rather than overwrite a
 * route someone else owns), `replace` = NLM_F_CREATE|NLM_F_REPLACE (in place:
 * the kernel swaps the fib entry with the same dst/tos/metric, no window
 * without a route), `delete` = RTM_DELROUTE matched on dst, table, metric and
 * protocol, so it can never remove a route of another protocol.
 */
export type RouteOpKind = 'add' | 'replace' | 'delete';

export interface RouteOp {
  kind: RouteOpKind;
  route: KernelRoute;
}

export interface RouteOpFailure {
  op: RouteOp;
  /** Code NETLINK_<ERRNO> (e.g. NETLINK_EEXIST), NETLINK_ENOBUFS when the outcome is unknown. */
  error: TartanError;
}

export interface BatchResult {
  /** Operations the kernel accepted. */
  ok: number;
  /** Operations that failed, each with its own error; the rest of the batch is unaffected. */
  failed: RouteOpFailure[];
}

/** Filter for a route dump (applied to each message as it is parsed). */
export interface RouteDumpFilter {
  family: IpFamily;
  /** Only this table (default: any). */
  table?: number;
  /** Only this rtm_protocol (default: any). */
  protocol?: number;
  /** Every rtm_protocol but this one (checked before the attributes are decoded). */
  excludeProtocol?: number;
}

/** One network interface as seen by RTM_GETLINK / RTM_NEWLINK. */
export interface LinkInfo {
  index: number;
  name: string;
  /** IFF_UP (admin up). */
  adminUp: boolean;
  /** IFF_RUNNING (operationally up: carrier present). */
  operUp: boolean;
}

/** Events from the rtnetlink multicast groups. */
export type NetlinkEvent =
  | { kind: 'route'; action: 'new' | 'del'; route: KernelRoute }
  | { kind: 'link'; action: 'new' | 'del'; link: LinkInfo }
  /** An interface address came or went (only with MonitorOptions.addresses). */
  | { kind: 'address'; action: 'new' | 'del' }
  /** The event socket overflowed (ENOBUFS): events were lost, resync everything. */
  | { kind: 'overrun' };
