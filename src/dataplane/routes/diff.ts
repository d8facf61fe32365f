/**
 * The pure core of route reconciliation: resolve a desired target to a
 * kernel route, compare it with the routes of OUR protocol found in the
 * kernel, and produce the minimal operations. No I/O, no clock.
 *
 * Kernel facts this relies on:
 * - A route's identity is (table, dst, tos, metric): IPv4 fib_table_insert
 *   looks up the alias by tos and priority, and IPv6 fib6_add_rt2node by
 *   metric. So a changed metric is a new route plus a delete of the old one;
 *   anything else is changed in place with NLM_F_REPLACE (no blackout).
 * - The kernel fills in fields we may leave out: the output interface of a
 *   gateway route, `ifindex` of lo on IPv6 blackhole/unreachable routes, and
 *   scope universe for every IPv6 route (IPv6 has no route scope). Equality
 *   ignores exactly those.
 */
import type { KernelRoute, LinkInfo, NextHop, RouteOp } from '../../netlink/types';
import type { IpFamily } from '../../netlink/addr';
import type { RouteTarget, SkipReason } from './types';

export interface ResolveContext {
  table: number;
  protocol: number;
  defaultMetric: number;
  /** Live links by name. */
  links: ReadonlyMap<string, LinkInfo>;
}

export type Resolved = { ok: true; route: KernelRoute } | { ok: false; reason: SkipReason; ifname: string };

/** A link can carry routes when it is admin-up and operationally up (Felix: "up" = both). */
export function linkUsable(l: LinkInfo | undefined): boolean {
  return l !== undefined && l.adminUp && l.operUp;
}

/** Turn a desired target into the exact kernel route, or say why it must wait. */
export function resolveTarget(family: IpFamily, dst: string, target: RouteTarget, ctx: ResolveContext): Resolved {
  const type = target.type ?? 'unicast';
  const nextHops: NextHop[] = [];
  if (type === 'unicast') {
    for (const h of target.nextHops ?? []) {
      const hop: NextHop = {};
      if (h.gateway !== undefined) hop.gateway = h.gateway;
      if (h.weight !== undefined && h.weight !== 1) hop.weight = h.weight;
      if (h.onlink) hop.onlink = true;
      if (h.ifname !== undefined) {
        const link = ctx.links.get(h.ifname);
        if (!link) return { ok: false, reason: 'interface-missing', ifname: h.ifname };
        if (!linkUsable(link)) return { ok: false, reason: 'interface-down', ifname: h.ifname };
        hop.ifindex = link.index;
      }
      nextHops.push(hop);
    }
  }
  // Device routes (no gateway on any hop) are scope link, as `ip route add X dev Y` makes them.
  const device = type === 'unicast' && nextHops.length > 0 && nextHops.every((h) => h.gateway === undefined);
  return {
    ok: true,
    route: {
      family,
      dst,
      table: ctx.table,
      protocol: ctx.protocol,
      type,
      scope: family === 4 && device ? 'link' : 'universe',
      metric: target.metric ?? ctx.defaultMetric,
      nextHops,
    },
  };
}

function hopKey(h: NextHop, withIfindex: boolean): string {
  return `${h.gateway ?? ''}|${withIfindex ? (h.ifindex ?? 0) : '*'}|${h.weight ?? 1}|${h.onlink ? 1 : 0}`;
}

/** True when the kernel's `actual` already is `desired` (see the header for ignored fields). */
export function routesEqual(desired: KernelRoute, actual: KernelRoute): boolean {
  if (
    desired.family !== actual.family ||
    desired.dst !== actual.dst ||
    desired.table !== actual.table ||
    desired.protocol !== actual.protocol ||
    desired.type !== actual.type ||
    desired.metric !== actual.metric
  ) {
    return false;
  }
  if (desired.family === 4 && desired.scope !== actual.scope) return false;
  if (desired.type !== 'unicast') return true;
  const d = desired.nextHops;
  const a = actual.nextHops;
  if (d.length !== a.length) return false;
  const single = d.length === 1;
  // Hops named without an interface let the kernel pick it; then compare without ifindex.
  const withIf = d.every((h) => h.ifindex !== undefined);
  // Weight means nothing on a single-path route.
  const key = (h: NextHop): string => hopKey(single ? { ...h, weight: 1 } : h, withIf);
  const dKeys = d.map(key).sort();
  const aKeys = a.map(key).sort();
  for (let i = 0; i < dKeys.length; i++) if (dKeys[i] !== aKeys[i]) return false;
  return true;
}

/**
 * Operations that turn `actual` (our routes for one prefix) into `desired`
 * (undefined = we want none). Correct routes yield no operation at all.
 */
export function diffPrefix(desired: KernelRoute | undefined, actual: readonly KernelRoute[]): RouteOp[] {
  const ops: RouteOp[] = [];
  let matched: KernelRoute | undefined;
  if (desired) matched = actual.find((a) => a.metric === desired.metric);
  if (desired) {
    if (!matched) ops.push({ kind: 'add', route: desired });
    else if (!routesEqual(desired, matched)) ops.push({ kind: 'replace', route: desired });
  }
  for (const a of actual) if (a !== matched) ops.push({ kind: 'delete', route: a });
  return ops;
}

export interface GraceInput {
  /** When each stale prefix was first seen stale (ms). Updated in place by the caller from the result. */
  staleSince: ReadonlyMap<string, number>;
  now: number;
  graceMs: number;
  /** Whether a stale route sits on a workload interface (and so deserves a grace period). */
  graced: (route: KernelRoute) => boolean;
}

export interface GraceResult {
  /** Operations to run now. */
  ops: RouteOp[];
  /** Stale prefixes kept for now, with the time they were first seen stale. */
  deferred: Map<string, number>;
  /** Earliest time a deferred prefix becomes deletable, if any. */
  nextDeadline: number | undefined;
}

/**
 * Hold back deletes of stale routes (prefix not desired at all) on workload
 * interfaces until they have been stale for `graceMs`: the CNI plugin may
 * have created the interface and route before the desired state reached us
 * (Felix: routeCleanupGracePeriod, 10 s).
 */
export function applyGrace(prefix: string, desired: boolean, ops: RouteOp[], g: GraceInput, out: GraceResult): void {
  if (desired) {
    for (const op of ops) out.ops.push(op);
    return;
  }
  const graced = ops.filter((o) => o.kind === 'delete' && g.graced(o.route));
  if (graced.length === 0) {
    out.ops.push(...ops);
    return;
  }
  const since = g.staleSince.get(prefix) ?? g.now;
  const deadline = since + g.graceMs;
  if (g.now >= deadline) {
    out.ops.push(...ops);
    return;
  }
  out.ops.push(...ops.filter((o) => !graced.includes(o)));
  out.deferred.set(prefix, since);
  out.nextDeadline = out.nextDeadline === undefined ? deadline : Math.min(out.nextDeadline, deadline);
}
