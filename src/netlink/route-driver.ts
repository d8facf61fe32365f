/**
 * The rtnetlink route driver: one NETLINK_ROUTE socket, opened in the
 * caller's network namespace, with pipelined route programming, filtered
 * dumps and link listing. Errors are TartanErrors (`NETLINK_*` codes);
 * per-route failures come back in the BatchResult, never as a throw.
 *
 *   const drv = RouteDriver.open();
 *   const res = await drv.apply(routes.map((route) => ({ kind: 'replace', route })));
 *   for (const f of res.failed) log.warn(`${f.op.route.dst}: ${f.error.code}`);
 */
import { TartanError } from '../errors';
import { decodeRoute, encodeRouteDumpRequest, type NlHeader } from './codec';
import { RTM_NEWLINK, RTM_NEWNEXTHOP, RTM_NEWROUTE } from './constants';
import { decodeNexthop, decodeRouteGetReply, encodeDelNexthop, encodeNewNexthop, encodeNexthopDumpRequest, encodeRouteGet, type NexthopObject } from './nexthop-codec';
import { decodeLink, encodeLinkDumpRequest } from './links';
import { RequestPipeline, type PipelineOptions, type RequestStream, type StreamHandle } from './pipeline';
import { openRouteSocket, type DatagramTransport } from './transport';
import type { BatchResult, KernelRoute, LinkInfo, RouteDumpFilter, RouteOp } from './types';

export interface RouteDriverOptions extends PipelineOptions {
  /** SO_RCVBUF to ask for; default 4 MiB (the kernel doubles it; capped by net.core.rmem_max). */
  recvBufferBytes?: number;
  /** SO_SNDBUF to ask for; default 4 MiB (capped by net.core.wmem_max). */
  sendBufferBytes?: number;
}

const DEFAULT_SOCKET_BUFFER = 4 * 1024 * 1024;
/** Redo a dump the kernel flagged NLM_F_DUMP_INTR at most this many times. */
const MAX_DUMP_ATTEMPTS = 4;

/** What the reconciler needs from a driver (a fake implements it in unit tests). */
export interface RouteProgrammer {
  forEachRoute(filter: RouteDumpFilter, fn: (r: KernelRoute) => void): Promise<number>;
  apply(ops: Iterable<RouteOp>): Promise<BatchResult>;
  listLinks(): Promise<LinkInfo[]>;
}

export class RouteDriver implements RouteProgrammer {
  private readonly pipeline: RequestPipeline;

  private constructor(transport: DatagramTransport, opts: PipelineOptions) {
    this.pipeline = new RequestPipeline(transport, opts);
  }

  /** Open a driver socket in the current network namespace. Throws NETLINK_* on failure. */
  static open(opts: RouteDriverOptions = {}): RouteDriver {
    const transport = openRouteSocket({
      recvBufferBytes: opts.recvBufferBytes ?? DEFAULT_SOCKET_BUFFER,
      sendBufferBytes: opts.sendBufferBytes ?? DEFAULT_SOCKET_BUFFER,
    });
    return new RouteDriver(transport, opts);
  }

  /** For tests: a driver over any transport. */
  static withTransport(transport: DatagramTransport, opts: PipelineOptions = {}): RouteDriver {
    return new RouteDriver(transport, opts);
  }

  get limits(): { maxDatagramBytes: number; windowMessages: number } {
    return this.pipeline.limits;
  }

  /** Program routes; resolves with per-route outcomes once all are answered. */
  apply(ops: Iterable<RouteOp>): Promise<BatchResult> {
    return this.pipeline.submit(ops);
  }

  add(routes: Iterable<KernelRoute>): Promise<BatchResult> {
    return this.apply(mapIter(routes, (route) => ({ kind: 'add', route })));
  }

  replace(routes: Iterable<KernelRoute>): Promise<BatchResult> {
    return this.apply(mapIter(routes, (route) => ({ kind: 'replace', route })));
  }

  delete(routes: Iterable<KernelRoute>): Promise<BatchResult> {
    return this.apply(mapIter(routes, (route) => ({ kind: 'delete', route })));
  }

  /**
   * Stream the routes of one family that pass `filter` to `fn`; resolves with
   * their count. Without NETLINK_GET_STRICT_CHK (the `netlink` package cannot
   * set it) the kernel ignores table/protocol in a dump request, so the
   * filter runs here, on the cheap rtmsg fields first.
   */
  async forEachRoute(filter: RouteDumpFilter, fn: (r: KernelRoute) => void): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      const batch: KernelRoute[] = [];
      const res = await this.pipeline.dump(
        (seq) => encodeRouteDumpRequest(filter.family, seq),
        (buf, off, h) => {
          if (h.type !== RTM_NEWROUTE) return;
          const r = decodeRoute(buf, off, h.len, filter);
          if (r) batch.push(r);
        },
      );
      if (!res.interrupted || attempt >= MAX_DUMP_ATTEMPTS) {
        if (res.interrupted) throw new TartanError('NETLINK_DUMP_INTR', `route dump kept being interrupted by changes (${attempt} attempts)`);
        for (const r of batch) fn(r);
        return batch.length;
      }
    }
  }

  /**
   * One route dump of `family`, raw: `onMessage` sees every RTM_NEWROUTE
   * message in place (no decoding, no object per route; the compact FIB
   * reconciler reads what it needs). Resolves with `interrupted` true when
   * the kernel flagged NLM_F_DUMP_INTR: the caller redoes it.
   */
  dumpRoutesRaw(family: 4 | 6, onMessage: (buf: Buffer, off: number, len: number) => void): Promise<{ interrupted: boolean }> {
    return this.pipeline.dump(
      (seq) => encodeRouteDumpRequest(family, seq),
      (buf: Buffer, off: number, h: NlHeader) => {
        if (h.type === RTM_NEWROUTE) onMessage(buf, off, h.len);
      },
    );
  }

  /**
   * Output interface of `address` (`ip route get`), and whether it is
   * reached through another gateway (then it is no on-link next hop).
   * Rejects NETLINK_ENETUNREACH and the like when there is no route.
   */
  async routeGet(family: 4 | 6, address: string): Promise<{ ifindex: number; viaGateway: boolean }> {
    let out = { ifindex: 0, viaGateway: false };
    await this.pipeline.dump(
      (seq) => encodeRouteGet(family, address, seq),
      (buf, off, h) => {
        if (h.type === RTM_NEWROUTE) out = decodeRouteGetReply(buf, off, h.len);
      },
      `route get ${address}`,
    );
    return out;
  }

  /** Create a nexthop object (never replaces one: an id in use rejects NETLINK_EEXIST). */
  async addNexthop(nh: NexthopObject): Promise<void> {
    await this.pipeline.dump((seq) => encodeNewNexthop(nh, seq), () => undefined, `add nexthop id ${nh.id}`);
  }

  /** Delete a nexthop object (and, in the kernel, every route using it). */
  async deleteNexthop(id: number): Promise<void> {
    await this.pipeline.dump((seq) => encodeDelNexthop(id, seq), () => undefined, `delete nexthop id ${id}`);
  }

  /** Every nexthop object (of any protocol) Tartan can read; rejects on kernels without them. */
  async dumpNexthops(): Promise<NexthopObject[]> {
    for (let attempt = 1; ; attempt++) {
      const out: NexthopObject[] = [];
      const res = await this.pipeline.dump(
        encodeNexthopDumpRequest,
        (buf, off, h) => {
          if (h.type !== RTM_NEWNEXTHOP) return;
          const nh = decodeNexthop(buf, off, h.len);
          if (nh) out.push(nh);
        },
        'nexthop dump',
      );
      if (!res.interrupted || attempt >= MAX_DUMP_ATTEMPTS) return out;
    }
  }

  /** Feed pre-encoded route requests through the pipeline (see RequestStream). */
  openStream(stream: RequestStream): StreamHandle {
    return this.pipeline.openStream(stream);
  }

  async dumpRoutes(filter: RouteDumpFilter): Promise<KernelRoute[]> {
    const out: KernelRoute[] = [];
    await this.forEachRoute(filter, (r) => out.push(r));
    return out;
  }

  async listLinks(): Promise<LinkInfo[]> {
    for (let attempt = 1; ; attempt++) {
      const out: LinkInfo[] = [];
      const res = await this.pipeline.dump(encodeLinkDumpRequest, (buf, off, h) => {
        if (h.type !== RTM_NEWLINK) return;
        const l = decodeLink(buf, off, h.len);
        if (l) out.push(l);
      });
      if (!res.interrupted || attempt >= MAX_DUMP_ATTEMPTS) return out;
    }
  }

  /** Interface index of `name`; throws TartanError NETLINK_ENODEV if there is none. */
  async ifindex(name: string): Promise<number> {
    const l = (await this.listLinks()).find((x) => x.name === name);
    if (!l) throw new TartanError('NETLINK_ENODEV', `no interface named ${name}`);
    return l.index;
  }

  close(): void {
    this.pipeline.close();
  }
}

function* mapIter<A, B>(it: Iterable<A>, fn: (a: A) => B): Generator<B> {
  for (const a of it) yield fn(a);
}
