/** Public surface of the rtnetlink layer. */
export { RouteDriver, type RouteDriverOptions, type RouteProgrammer } from './route-driver';
export { NetlinkMonitor, type MonitorOptions, type EventHandler } from './monitor';
export type { PipelineOptions, RequestStream, StreamHandle } from './pipeline';
export type { DatagramTransport } from './transport';
export type { NexthopObject } from './nexthop-codec';
export { RTPROT_TARTAN_BGP, RTPROT_TARTAN_WORKLOAD, RT_TABLE_MAIN } from './constants';
export { canonicalAddress, canonicalPrefix, parsePrefix, type IpFamily } from './addr';
export type {
  BatchResult,
  KernelRoute,
  LinkInfo,
  NetlinkEvent,
  NextHop,
  RouteDumpFilter,
  RouteOp,
  RouteOpFailure,
  RouteOpKind,
  RouteScope,
  RouteType,
} from './types';
