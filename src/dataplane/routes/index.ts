/** Public surface of the route reconciler. */
export { RouteTable, type RouteTableOptions, type ApplyResult, type Clock, type EventSource } from './route-table';
export { diffPrefix, routesEqual, resolveTarget, applyGrace, linkUsable } from './diff';
export type { RouteTarget, TargetNextHop, RouteTableCounters, SkipReason } from './types';
