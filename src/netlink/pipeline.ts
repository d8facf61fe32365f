/**
 * Pipelined, batched rtnetlink requests over one NETLINK_ROUTE socket.
 *
 * Design (the reason 1M routes stream in seconds, not minutes):
 * - Many route requests are packed into one datagram (up to
 *   `maxDatagramBytes`, below SO_SNDBUF-32, the limit netlink_sendmsg puts on
 *   one message: "if (len > sk->sk_sndbuf - 32) return -EMSGSIZE").
 *   rtnetlink handles every message of a datagram in order, synchronously in
 *   sendmsg (netlink_unicast_kernel → rtnetlink_rcv → netlink_rcv_skb).
 * - Every request has its own sequence number. Only the last request of a
 *   datagram carries NLM_F_ACK (a "fence"): the kernel answers a request
 *   without NLM_F_ACK only when it fails (netlink_rcv_skb: "if (err ||
 *   nlh->nlmsg_flags & NLM_F_ACK) netlink_ack()"), and answers in order on
 *   the same socket, so once the fence's answer is read every error of that
 *   datagram has been read too. Errors are matched to the failed route by
 *   seq; one failure never affects the rest of the batch.
 * - A window caps requests sent but not yet fenced, sized from SO_RCVBUF so
 *   that even if every one of them failed, all error messages (~1 KiB of
 *   skb truesize each, as the error echoes the request) fit in the receive
 *   buffer: netlink_ack drops a reply that does not fit and the socket only
 *   gets ENOBUFS. If an overrun happens anyway, the requests whose fate is
 *   unknown are reported as failed with NETLINK_ENOBUFS (the reconciler's
 *   resync repairs them); nothing hangs.
 * - Dumps (NLM_F_DUMP) share the socket and are matched by seq too.
 * - Besides batches of RouteOp objects, a RequestStream can feed requests it
 *   encodes itself (the compact BGP FIB reconciler writes from typed arrays
 *   and per-next-hop-set templates, no object per route). It is pulled
 *   whenever the window has room, after the queued batches, and told each
 *   request's outcome by its index in the order it wrote them.
 */
import { TartanError } from '../errors';
import { encodeRouteRequest, forEachMessage, readAckErrno, routeMessageSize, type NlHeader } from './codec';
import { NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, NLM_F_DUMP_INTR } from './constants';
import { netlinkError } from './errors';
import type { DatagramTransport } from './transport';
import type { BatchResult, RouteOp, RouteOpFailure } from './types';

export interface PipelineOptions {
  /** Largest datagram to send (clamped to SO_SNDBUF - 64). Default 128 KiB. */
  maxDatagramBytes?: number;
  /** Max requests sent and not yet fenced. Default: SO_RCVBUF / 1 KiB, at least 64. */
  windowMessages?: number;
  /** Fail a datagram's requests with NETLINK_TIMEOUT if its fence is not answered in time. Default 30 s. */
  timeoutMs?: number;
}

/** Estimated receive-buffer cost of one NLMSG_ERROR reply (skb truesize, request echoed). */
const ERROR_REPLY_COST = 1024;
const DEFAULT_MAX_DATAGRAM = 128 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;

interface Batch {
  readonly iter: Iterator<RouteOp>;
  pending: RouteOp | undefined;
  exhausted: boolean;
  outstanding: number;
  ok: number;
  readonly failed: RouteOpFailure[];
  readonly resolve: (r: BatchResult) => void;
}

/**
 * A producer of requests it encodes itself, pulled by the pipeline while the
 * window has room (see RequestPipeline.openStream).
 */
export interface RequestStream {
  /**
   * Write the next request at `off` of `buf` (at most up to `end`) with
   * sequence number `seq` and without NLM_F_ACK; return the offset after it.
   * Return `off` unchanged when there is nothing to send now, or when the
   * next request does not fit before `end` (offer it again on the next call:
   * `end` is the whole datagram limit when `off` is 0).
   */
  next(buf: Buffer, off: number, end: number, seq: number): number;
  /** Request `index` (0-based, in the order next() wrote them) failed: a kernel errno, or an error when its outcome is unknown. */
  onError(index: number, error: number | TartanError): void;
  /** Requests `first` .. `first + count - 1` all have their outcome now (any error was reported before). */
  onDone(first: number, count: number): void;
}

/** Handle of an open stream. */
export interface StreamHandle {
  /** There may be new requests: pull now if the window has room. */
  wake(): void;
  /** Stop pulling (requests already sent still complete). */
  close(): void;
}

interface StreamState {
  readonly stream: RequestStream;
  /** Index the next request written will get. */
  written: number;
}

interface Inflight {
  readonly firstSeq: number;
  /** Requests in this datagram. */
  readonly count: number;
  /** Batch requests: the ops, by position. */
  readonly ops: RouteOp[] | undefined;
  readonly batch: Batch | undefined;
  /** Stream requests: the stream, and the index of the first request. */
  readonly stream: RequestStream | undefined;
  readonly firstIndex: number;
  readonly sentAt: number;
  /** Positions that got an error reply. */
  readonly failedIdx: Set<number>;
}

interface Dump {
  readonly seq: number;
  /** What the request does, for its error message. */
  readonly what: string;
  readonly onMessage: (buf: Buffer, off: number, h: NlHeader) => void;
  interrupted: boolean;
  readonly resolve: (r: { interrupted: boolean }) => void;
  readonly reject: (e: TartanError) => void;
}

export class RequestPipeline {
  private seq = 1;
  private readonly batches: Batch[] = [];
  private readonly streams: StreamState[] = [];
  /** Stream served next (round robin when several have requests). */
  private nextStream = 0;
  private readonly inflight: Inflight[] = [];
  private inflightMessages = 0;
  private readonly dumps = new Map<number, Dump>();
  private readonly maxDatagram: number;
  private readonly window: number;
  private readonly timeoutMs: number;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private sendBuf: Buffer;

  constructor(
    private readonly transport: DatagramTransport,
    opts: PipelineOptions = {},
  ) {
    this.maxDatagram = Math.max(1024, Math.min(opts.maxDatagramBytes ?? DEFAULT_MAX_DATAGRAM, transport.sendBufferSize() - 64));
    this.window = opts.windowMessages ?? Math.max(64, Math.floor(transport.recvBufferSize() / ERROR_REPLY_COST));
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.sendBuf = Buffer.allocUnsafe(this.maxDatagram);
    transport.onDatagram((d) => this.receive(d));
    transport.onError((e) => this.fail(e));
    transport.setRef(false);
  }

  /** Effective limits, for logs and the benchmark. */
  get limits(): { maxDatagramBytes: number; windowMessages: number } {
    return { maxDatagramBytes: this.maxDatagram, windowMessages: this.window };
  }

  /** Send all operations, pipelined; resolves when every one has an outcome. Never rejects. */
  submit(ops: Iterable<RouteOp>): Promise<BatchResult> {
    return new Promise((resolve) => {
      const batch: Batch = { iter: ops[Symbol.iterator](), pending: undefined, exhausted: false, outstanding: 0, ok: 0, failed: [], resolve };
      if (this.closed) {
        this.failRemaining(batch, new TartanError('NETLINK_CLOSED', 'netlink socket is closed'));
        resolve({ ok: 0, failed: batch.failed });
        return;
      }
      this.batches.push(batch);
      this.pump();
    });
  }

  /**
   * Attach a stream: it is pulled (after any queued batches) whenever the
   * window has room — right away, when an answer frees room, and on wake().
   */
  openStream(stream: RequestStream): StreamHandle {
    const st: StreamState = { stream, written: 0 };
    this.streams.push(st);
    return {
      wake: () => this.pump(),
      close: () => {
        const i = this.streams.indexOf(st);
        if (i >= 0) this.streams.splice(i, 1);
      },
    };
  }

  /**
   * Send a dump request built by `build(seq)`; `onMessage` sees every reply
   * message. Resolves at NLMSG_DONE; `interrupted` is true when the kernel
   * flagged NLM_F_DUMP_INTR (the table changed mid-dump: redo it).
   */
  dump(build: (seq: number) => Buffer, onMessage: (buf: Buffer, off: number, h: NlHeader) => void, what = 'route dump'): Promise<{ interrupted: boolean }> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new TartanError('NETLINK_CLOSED', 'netlink socket is closed'));
        return;
      }
      const seq = this.takeSeqs(1);
      this.dumps.set(seq, { seq, what, onMessage, interrupted: false, resolve, reject });
      this.ref();
      this.transport.send(build(seq), (err) => {
        if (!err) return;
        const d = this.dumps.get(seq);
        if (!d) return;
        this.dumps.delete(seq);
        d.reject(err);
        this.unrefIfIdle();
      });
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const err = new TartanError('NETLINK_CLOSED', 'netlink socket closed with requests pending');
    this.streams.length = 0;
    this.fail(err);
    for (const b of this.batches.splice(0)) {
      this.failRemaining(b, err);
      this.finishIfDone(b);
    }
    this.transport.close();
  }

  private takeSeqs(n: number): number {
    if (this.seq + n >= 0xffffffff) this.seq = 1; // wrap, never use 0
    const first = this.seq;
    this.seq += n;
    return first;
  }

  /** Requests are numbered from `seq` before their count is known: wrap first if `n` more would not fit. */
  private wrapSeqsFor(n: number): void {
    if (this.seq + n >= 0xffffffff) this.seq = 1;
  }

  /** Fill the window: encode and send datagrams while there is room. */
  private pump(): void {
    while (!this.closed && this.inflightMessages < this.window) {
      if (this.batches.length > 0) {
        this.pumpBatch(this.batches[0] as Batch);
        continue;
      }
      if (!this.pumpStreams()) return;
    }
  }

  /** One datagram of the first batch (or retire the batch when it has nothing left). */
  private pumpBatch(batch: Batch): void {
    const room = this.window - this.inflightMessages;
    this.wrapSeqsFor(room);
    const ops: RouteOp[] = [];
    let off = 0;
    // Reserve seqs lazily: the number of ops is known only after packing.
    const firstSeq = this.seq;
    while (ops.length < room) {
      const op = batch.pending ?? this.nextOp(batch);
      if (op === undefined) break;
      const size = routeMessageSize(op.kind, op.route);
      if (off + size > this.maxDatagram && ops.length > 0) {
        batch.pending = op;
        break;
      }
      batch.pending = undefined;
      try {
        off = encodeRouteRequest(this.ensureRoom(off, size), off, op.kind, firstSeq + ops.length, false, op.route);
        ops.push(op);
      } catch (e) {
        batch.failed.push({ op, error: e instanceof TartanError ? e : new TartanError('NETLINK_BAD_ROUTE', String(e)) });
      }
    }
    if (ops.length === 0) {
      this.batches.shift();
      this.finishIfDone(batch);
      return;
    }
    batch.outstanding += ops.length;
    this.sendDatagram(off, { firstSeq, count: ops.length, ops, batch, stream: undefined, firstIndex: 0, sentAt: Date.now(), failedIdx: new Set() });
  }

  /** One datagram from the streams, starting with the one whose turn it is; false when none had anything. */
  private pumpStreams(): boolean {
    // With requests unanswered, wait for a useful amount of room rather than
    // send a datagram of a few requests each time an answer frees a little.
    if (this.inflightMessages > 0 && this.window - this.inflightMessages < this.window >>> 2) return false;
    const n = this.streams.length;
    for (let k = 0; k < n; k++) {
      const i = (this.nextStream + k) % n;
      const st = this.streams[i] as StreamState;
      const room = this.window - this.inflightMessages;
      this.wrapSeqsFor(room);
      const firstSeq = this.seq;
      let off = 0;
      let count = 0;
      while (count < room) {
        const next = st.stream.next(this.sendBuf, off, this.maxDatagram, firstSeq + count);
        if (next === off) break;
        if (next > this.maxDatagram) throw new Error('request stream wrote past the end it was given');
        off = next;
        count++;
      }
      if (count === 0) continue;
      this.nextStream = (i + 1) % n;
      const firstIndex = st.written;
      st.written += count;
      this.sendDatagram(off, { firstSeq, count, ops: undefined, batch: undefined, stream: st.stream, firstIndex, sentAt: Date.now(), failedIdx: new Set() });
      return true;
    }
    return false;
  }

  /** Send sendBuf[0, end) as the datagram of `inf` (its seqs start at the current seq). */
  private sendDatagram(end: number, inf: Inflight): void {
    this.takeSeqs(inf.count);
    // The last request of the datagram is the fence: set NLM_F_ACK in place.
    const last = this.lastMessageOffset(end);
    this.sendBuf.writeUInt16LE(this.sendBuf.readUInt16LE(last + 6) | 0x4 /* NLM_F_ACK */, last + 6);
    const datagram = Buffer.from(this.sendBuf.subarray(0, end));
    this.inflight.push(inf);
    this.inflightMessages += inf.count;
    this.ref();
    this.transport.send(datagram, (err) => {
      if (err) this.completeInflight(inf, err);
    });
  }

  private ensureRoom(off: number, size: number): Buffer {
    if (off + size > this.sendBuf.length) {
      // A single huge multipath route larger than the datagram limit: grow once.
      const b = Buffer.allocUnsafe(off + size);
      this.sendBuf.copy(b, 0, 0, off);
      this.sendBuf = b;
    }
    return this.sendBuf;
  }

  private lastMessageOffset(end: number): number {
    let off = 0;
    let last = 0;
    while (off < end) {
      last = off;
      off += this.sendBuf.readUInt32LE(off);
    }
    return last;
  }

  private nextOp(batch: Batch): RouteOp | undefined {
    if (batch.exhausted) return undefined;
    const r = batch.iter.next();
    if (r.done) {
      batch.exhausted = true;
      return undefined;
    }
    return r.value;
  }

  private receive(d: Buffer): void {
    forEachMessage(d, (off, h) => {
      const dump = this.dumps.get(h.seq);
      if (dump) {
        if (h.flags & NLM_F_DUMP_INTR) dump.interrupted = true;
        if (h.type === NLMSG_DONE) {
          this.dumps.delete(h.seq);
          dump.resolve({ interrupted: dump.interrupted });
        } else if (h.type === NLMSG_ERROR) {
          this.dumps.delete(h.seq);
          const errno = readAckErrno(d, off);
          if (errno === 0) dump.resolve({ interrupted: dump.interrupted });
          else dump.reject(netlinkError(errno, dump.what));
        } else {
          dump.onMessage(d, off, h);
        }
        return;
      }
      if (h.type !== NLMSG_ERROR || h.len < NLMSG_HDRLEN + 4) return;
      this.onReply(h.seq, readAckErrno(d, off));
    });
    this.unrefIfIdle();
    this.pump();
  }

  private onReply(seq: number, errno: number): void {
    for (let i = 0; i < this.inflight.length; i++) {
      const inf = this.inflight[i] as Inflight;
      const idx = (seq - inf.firstSeq) >>> 0;
      if (idx >= inf.count) continue;
      if (errno !== 0) {
        inf.failedIdx.add(idx);
        if (inf.stream) inf.stream.onError(inf.firstIndex + idx, errno);
        else {
          const op = (inf.ops as RouteOp[])[idx] as RouteOp;
          (inf.batch as Batch).failed.push({ op, error: netlinkError(errno, `${op.kind} route ${op.route.dst} metric ${op.route.metric}`) });
        }
      }
      if (idx === inf.count - 1) {
        // Fence answered. Replies come in order, so anything sent before it is done too.
        for (const earlier of this.inflight.slice(0, i + 1)) this.completeInflight(earlier);
      }
      return;
    }
  }

  /** Retire a datagram: requests without an error reply succeeded, unless `err` says their fate is unknown. */
  private completeInflight(inf: Inflight, err?: TartanError): void {
    const i = this.inflight.indexOf(inf);
    if (i < 0) return;
    this.inflight.splice(i, 1);
    this.inflightMessages -= inf.count;
    if (inf.stream) {
      if (err) for (let k = 0; k < inf.count; k++) if (!inf.failedIdx.has(k)) inf.stream.onError(inf.firstIndex + k, err);
      inf.stream.onDone(inf.firstIndex, inf.count);
      this.unrefIfIdle();
      return;
    }
    const b = inf.batch as Batch;
    const ops = inf.ops as RouteOp[];
    b.outstanding -= inf.count;
    if (err) {
      ops.forEach((op, k) => {
        if (!inf.failedIdx.has(k)) b.failed.push({ op, error: err });
      });
    } else {
      b.ok += inf.count - inf.failedIdx.size;
    }
    this.finishIfDone(b);
    this.unrefIfIdle();
  }

  private finishIfDone(b: Batch): void {
    if (b.outstanding === 0 && b.exhausted && b.pending === undefined && !this.batches.includes(b)) {
      b.resolve({ ok: b.ok, failed: b.failed });
    }
  }

  private failRemaining(b: Batch, err: TartanError): void {
    for (;;) {
      const op = b.pending ?? this.nextOp(b);
      b.pending = undefined;
      if (op === undefined) return;
      b.failed.push({ op, error: err });
    }
  }

  /** Socket-level failure: every in-flight request and dump has an unknown outcome. */
  private fail(err: TartanError): void {
    for (const inf of [...this.inflight]) this.completeInflight(inf, err);
    for (const d of [...this.dumps.values()]) {
      this.dumps.delete(d.seq);
      d.reject(err);
    }
    this.unrefIfIdle();
    if (!this.closed) this.pump();
  }

  private ref(): void {
    this.transport.setRef(true);
    if (!this.timer) {
      this.timer = setInterval(() => this.checkTimeouts(), Math.min(1000, this.timeoutMs));
      this.timer.unref();
    }
  }

  private unrefIfIdle(): void {
    if (this.inflight.length === 0 && this.dumps.size === 0 && this.batches.length === 0) {
      this.transport.setRef(false);
      if (this.timer) clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private checkTimeouts(): void {
    const now = Date.now();
    for (const inf of [...this.inflight]) {
      if (now - inf.sentAt > this.timeoutMs) {
        this.completeInflight(inf, new TartanError('NETLINK_TIMEOUT', `no answer from the kernel within ${this.timeoutMs} ms`));
      }
    }
    this.pump();
  }
}
