/**
 * A fake rtnetlink kernel at the datagram level, for the compact FIB
 * reconciler's tests: the real RouteDriver and RequestPipeline run over it.
 * It decodes every request with the driver's codec, applies it to an
 * in-memory FIB with the kernel's rules (identity = family, table, dst,
 * metric; add = CREATE|EXCL fails with EEXIST; replace overwrites whatever
 * has that identity; delete must match the protocol, else ESRCH), answers
 * like netlink_rcv_skb (an error for every failure, an ACK only where asked),
 * and answers dump requests with RTM_NEWROUTE messages and NLMSG_DONE.
 */
import { decodeRoute, encodeRouteRequest, forEachMessage } from '../../../src/netlink/codec';
import { RouteDriver } from '../../../src/netlink/route-driver';
import type { DatagramTransport } from '../../../src/netlink/transport';
import type { TartanError } from '../../../src/errors';
import type { KernelRoute, RouteOpKind } from '../../../src/netlink/types';

const RTM_NEWROUTE = 24;
const RTM_DELROUTE = 25;
const RTM_GETROUTE = 26;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLM_F_MULTI = 2;
const NLM_F_ACK = 4;
const NLM_F_DUMP_INTR = 0x10;
const NLM_F_EXCL = 0x200;
const NLM_F_REPLACE = 0x100;
export const EEXIST = 17;
export const ESRCH = 3;
export const ENETUNREACH = 101;

export interface AppliedOp {
  kind: RouteOpKind;
  route: KernelRoute;
  errno: number;
}

export class FakeNetlinkKernel implements DatagramTransport {
  readonly fib = new Map<string, KernelRoute>();
  readonly applied: AppliedOp[] = [];
  datagrams = 0;
  /** Most requests sent and not yet answered at any time. */
  maxUnanswered = 0;
  /** Return an errno to fail a request. */
  failWith: (kind: RouteOpKind, r: KernelRoute) => number = () => 0;
  /** Flag the next N dumps NLM_F_DUMP_INTR. */
  interruptDumps = 0;
  /** Report ECMP routes of IPv6 one message per next hop (as some kernels dump siblings). */
  splitV6Multipath = false;
  /** Hold answers until release() (to test requests in flight). */
  hold = false;
  private held: Buffer[] = [];
  private unanswered = 0;
  private onData: ((d: Buffer) => void) | undefined;

  static key(r: { family: number; table: number; dst: string; metric: number }): string {
    return `${r.family}|${r.table}|${r.dst}|${r.metric}`;
  }

  driver(): RouteDriver {
    return RouteDriver.withTransport(this, { maxDatagramBytes: 8192, windowMessages: 512 });
  }

  put(r: Partial<KernelRoute> & { dst: string }): void {
    const route: KernelRoute = { family: r.dst.includes(':') ? 6 : 4, table: 254, protocol: 201, type: 'unicast', scope: 'universe', metric: 32, nextHops: [], ...r };
    this.fib.set(FakeNetlinkKernel.key(route), route);
  }

  get(dst: string, metric = 32, table = 254): KernelRoute | undefined {
    return this.fib.get(FakeNetlinkKernel.key({ family: dst.includes(':') ? 6 : 4, table, dst, metric }));
  }

  /** Routes of a protocol, as "dst via gw,gw" lines, sorted. */
  summary(protocol = 201): string[] {
    return [...this.fib.values()]
      .filter((r) => r.protocol === protocol)
      .map((r) => `${r.dst} m${r.metric} ${r.type === 'unicast' ? `via ${r.nextHops.map((h) => h.gateway).join(',')}` : r.type}`)
      .sort();
  }

  ops(kind?: RouteOpKind): AppliedOp[] {
    return this.applied.filter((o) => kind === undefined || o.kind === kind);
  }

  release(): void {
    this.hold = false;
    const held = this.held;
    this.held = [];
    for (const d of held) this.reply(d);
  }

  send(d: Buffer, done: (err?: TartanError) => void): void {
    this.datagrams++;
    const replies: Buffer[] = [];
    forEachMessage(d, (off, h) => {
      if (h.type === RTM_GETROUTE) {
        replies.push(this.dump(d[off + 16] === 2 ? 4 : 6, h.seq));
        return;
      }
      this.unanswered++;
      const r = decodeRoute(d, off, h.len) as KernelRoute;
      const kind: RouteOpKind = h.type === RTM_DELROUTE ? 'delete' : h.flags & NLM_F_EXCL ? 'add' : 'replace';
      if (h.type !== RTM_NEWROUTE && h.type !== RTM_DELROUTE) throw new Error(`unexpected message type ${h.type}`);
      if (kind !== 'add' && !(h.flags & NLM_F_REPLACE) && kind !== 'delete') throw new Error('NEWROUTE without EXCL or REPLACE');
      let errno = this.failWith(kind, r);
      if (errno === 0) errno = this.apply(kind, r);
      this.applied.push({ kind, route: r, errno });
      if (errno !== 0 || h.flags & NLM_F_ACK) replies.push(errorMessage(h.seq, errno));
    });
    this.maxUnanswered = Math.max(this.maxUnanswered, this.unanswered);
    const out = Buffer.concat(replies);
    setImmediate(() => {
      done();
      if (this.hold) this.held.push(out);
      else this.reply(out);
    });
  }

  private reply(out: Buffer): void {
    this.unanswered = 0;
    if (out.length > 0) this.onData?.(out);
  }

  private apply(kind: RouteOpKind, r: KernelRoute): number {
    const k = FakeNetlinkKernel.key(r);
    const cur = this.fib.get(k);
    if (kind === 'delete') {
      if (!cur || (r.protocol !== 0 && cur.protocol !== r.protocol)) return ESRCH;
      this.fib.delete(k);
      return 0;
    }
    if (kind === 'add' && cur) return EEXIST;
    this.fib.set(k, r);
    return 0;
  }

  private dump(family: 4 | 6, seq: number): Buffer {
    const parts: Buffer[] = [];
    const flags = NLM_F_MULTI | (this.interruptDumps > 0 ? NLM_F_DUMP_INTR : 0);
    if (this.interruptDumps > 0) this.interruptDumps--;
    const buf = Buffer.alloc(4096);
    const emit = (r: KernelRoute): void => {
      const end = encodeRouteRequest(buf, 0, 'replace', seq, false, r);
      buf.writeUInt16LE(flags, 6);
      parts.push(Buffer.from(buf.subarray(0, end)));
    };
    for (const r of this.fib.values()) {
      if (r.family !== family) continue;
      if (this.splitV6Multipath && family === 6 && r.nextHops.length > 1) for (const h of r.nextHops) emit({ ...r, nextHops: [h] });
      else emit(r);
    }
    const done = Buffer.alloc(20);
    done.writeUInt32LE(20, 0);
    done.writeUInt16LE(NLMSG_DONE, 4);
    done.writeUInt16LE(flags, 6);
    done.writeUInt32LE(seq, 8);
    parts.push(done);
    return Buffer.concat(parts);
  }

  onDatagram(fn: (d: Buffer) => void): void {
    this.onData = fn;
  }
  onError(): void {}
  recvBufferSize(): number {
    return 1 << 20;
  }
  sendBufferSize(): number {
    return 1 << 20;
  }
  setRef(): void {}
  close(): void {}
}

function errorMessage(seq: number, errno: number): Buffer {
  const m = Buffer.alloc(36);
  m.writeUInt32LE(36, 0);
  m.writeUInt16LE(NLMSG_ERROR, 4);
  m.writeUInt32LE(seq, 8);
  m.writeInt32LE(-errno, 16);
  return m;
}
