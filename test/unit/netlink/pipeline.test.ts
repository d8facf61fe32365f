import { decodeRoute, forEachMessage } from '../../../src/netlink/codec';
import { RequestPipeline, type RequestStream } from '../../../src/netlink/pipeline';
import { encodeRouteRequest } from '../../../src/netlink/codec';
import type { DatagramTransport } from '../../../src/netlink/transport';
import { TartanError } from '../../../src/errors';
import type { KernelRoute, RouteOp } from '../../../src/netlink/types';

/**
 * A fake kernel: answers each datagram like rtnetlink does — an NLMSG_ERROR
 * for every failed request, plus one for every request with NLM_F_ACK — on
 * the next tick, in order.
 */
class FakeKernel implements DatagramTransport {
  datagrams: Buffer[] = [];
  maxUnacked = 0;
  private unacked = 0;
  private onData: ((d: Buffer) => void) | undefined;
  private onErr: ((e: TartanError) => void) | undefined;
  /** Return an errno to fail a request. */
  failWith: (r: KernelRoute) => number = () => 0;
  /** Set to drop all replies (simulates a lost fence). */
  silent = false;

  send(d: Buffer, done: (err?: TartanError) => void): void {
    this.datagrams.push(d);
    const replies: Buffer[] = [];
    forEachMessage(d, (off, h) => {
      this.unacked++;
      const r = decodeRoute(d, off, h.len) as KernelRoute;
      const errno = this.failWith(r);
      if (errno !== 0 || h.flags & 4) {
        const m = Buffer.alloc(36);
        m.writeUInt32LE(36, 0);
        m.writeUInt16LE(2, 4);
        m.writeUInt32LE(h.seq, 8);
        m.writeInt32LE(-errno, 16);
        replies.push(m);
      }
    });
    this.maxUnacked = Math.max(this.maxUnacked, this.unacked);
    setImmediate(() => {
      done();
      if (this.silent) return;
      this.unacked = 0;
      this.onData?.(Buffer.concat(replies));
    });
  }
  onDatagram(fn: (d: Buffer) => void): void {
    this.onData = fn;
  }
  onError(fn: (e: TartanError) => void): void {
    this.onErr = fn;
  }
  overrun(): void {
    this.onErr?.(new TartanError('NETLINK_ENOBUFS', 'overrun'));
  }
  recvBufferSize(): number {
    return 1 << 20;
  }
  sendBufferSize(): number {
    return 1 << 20;
  }
  setRef(): void {}
  close(): void {}
}

function route(i: number): KernelRoute {
  return {
    family: 4,
    dst: `198.19.${(i >> 8) & 255}.${i & 255}/32`,
    table: 254,
    protocol: 201,
    type: 'unicast',
    scope: 'universe',
    metric: 1024,
    nextHops: [{ gateway: '198.18.0.2' }],
  };
}

function ops(n: number): RouteOp[] {
  return Array.from({ length: n }, (_, i) => ({ kind: 'replace' as const, route: route(i) }));
}

describe('netlink/pipeline', () => {
  test('packs many requests per datagram and reports only failures, by route', async () => {
    const k = new FakeKernel();
    k.failWith = (r) => (r.dst === '198.19.0.7/32' ? 17 : r.dst === '198.19.1.0/32' ? 101 : 0);
    const p = new RequestPipeline(k, { maxDatagramBytes: 4096, windowMessages: 256 });
    const res = await p.submit(ops(1000));
    expect(res.ok).toBe(998);
    expect(res.failed.map((f) => [f.op.route.dst, f.error.code])).toEqual([
      ['198.19.0.7/32', 'NETLINK_EEXIST'],
      ['198.19.1.0/32', 'NETLINK_ENETUNREACH'],
    ]);
    // 4096-byte datagrams of 60-byte requests: ~68 per datagram, not 1000 datagrams.
    expect(k.datagrams.length).toBeLessThan(20);
    expect(k.maxUnacked).toBeLessThanOrEqual(256);
  });

  test('only the last request of each datagram asks for an ACK', async () => {
    const k = new FakeKernel();
    const p = new RequestPipeline(k, { maxDatagramBytes: 1024, windowMessages: 1000 });
    await p.submit(ops(50));
    for (const d of k.datagrams) {
      const flags: number[] = [];
      forEachMessage(d, (_off, h) => flags.push(h.flags & 4));
      expect(flags.slice(0, -1).every((f) => f === 0)).toBe(true);
      expect(flags[flags.length - 1]).toBe(4);
    }
  });

  test('an unencodable route fails alone', async () => {
    const k = new FakeKernel();
    const p = new RequestPipeline(k);
    const bad: RouteOp = { kind: 'add', route: { ...route(1), nextHops: [{ gateway: 'not-an-ip' }] } };
    const res = await p.submit([{ kind: 'add', route: route(0) }, bad, { kind: 'add', route: route(2) }]);
    expect(res.ok).toBe(2);
    expect(res.failed).toEqual([expect.objectContaining({ op: bad })]);
    expect(res.failed[0]?.error.code).toBe('NETLINK_BAD_ROUTE');
  });

  test('an overrun fails the in-flight requests as outcome unknown, and later batches still work', async () => {
    const k = new FakeKernel();
    k.silent = true;
    const p = new RequestPipeline(k, { maxDatagramBytes: 2048, windowMessages: 64 });
    const pending = p.submit(ops(200));
    await new Promise((r) => setImmediate(r));
    k.overrun();
    k.silent = false;
    const res = await pending;
    expect(res.ok + res.failed.length).toBe(200);
    expect(res.failed.length).toBeGreaterThan(0);
    expect(res.failed.every((f) => f.error.code === 'NETLINK_ENOBUFS')).toBe(true);
    expect((await p.submit(ops(10))).ok).toBe(10);
  });

  test('empty batch resolves at once; closed pipeline fails everything', async () => {
    const p = new RequestPipeline(new FakeKernel());
    expect(await p.submit([])).toEqual({ ok: 0, failed: [] });
    p.close();
    const res = await p.submit(ops(3));
    expect(res.failed.map((f) => f.error.code)).toEqual(['NETLINK_CLOSED', 'NETLINK_CLOSED', 'NETLINK_CLOSED']);
  });
});

/** A stream of `n` replace requests for route(i), recording what the pipeline reports. */
function stream(n: number): RequestStream & { written: number; errors: Map<number, unknown>; done: number[]; finished: Promise<void> } {
  let finish: () => void = () => undefined;
  const st = {
    written: 0,
    errors: new Map<number, unknown>(),
    done: [] as number[],
    finished: new Promise<void>((r) => (finish = r)),
    next(buf: Buffer, off: number, end: number, seq: number): number {
      if (st.written >= n) return off;
      const tmp = Buffer.alloc(256);
      const len = encodeRouteRequest(tmp, 0, 'replace', seq, false, route(st.written));
      if (off + len > end) return off;
      tmp.copy(buf, off, 0, len);
      st.written++;
      return off + len;
    },
    onError(index: number, error: unknown): void {
      st.errors.set(index, error);
    },
    onDone(first: number, count: number): void {
      for (let i = first; i < first + count; i++) st.done.push(i);
      if (st.done.length === n) finish();
    },
  };
  return st;
}

describe('netlink/pipeline streams', () => {
  test('pulls requests while the window has room; outcomes come back by request index', async () => {
    const k = new FakeKernel();
    k.failWith = (r) => (r.dst === '198.19.0.9/32' ? 17 : 0);
    const p = new RequestPipeline(k, { maxDatagramBytes: 2048, windowMessages: 200 });
    const s = stream(1000);
    p.openStream(s).wake();
    await s.finished;
    expect(s.done.sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect([...s.errors.keys()]).toEqual([9]);
    expect(s.errors.get(9)).toBe(17);
    expect(k.maxUnacked).toBeLessThanOrEqual(200);
    // ~34 requests of 60 bytes per 2 KiB datagram, no trickle of tiny ones.
    expect(k.datagrams.length).toBeLessThan(40);
  });

  test('an overrun fails the unanswered requests of a stream as outcome unknown', async () => {
    const k = new FakeKernel();
    k.silent = true;
    const p = new RequestPipeline(k, { maxDatagramBytes: 2048, windowMessages: 64 });
    const s = stream(50);
    p.openStream(s).wake();
    await new Promise((r) => setImmediate(r));
    k.overrun();
    k.silent = false;
    await s.finished;
    expect(s.errors.size).toBe(50);
    expect([...s.errors.values()].every((e) => (e as TartanError).code === 'NETLINK_ENOBUFS')).toBe(true);
  });

  test('batches go first; a closed stream is not pulled again', async () => {
    const k = new FakeKernel();
    const p = new RequestPipeline(k, { maxDatagramBytes: 2048, windowMessages: 1000 });
    const s = stream(10);
    const h = p.openStream(s);
    h.close();
    h.wake();
    expect((await p.submit(ops(5))).ok).toBe(5);
    expect(s.written).toBe(0);
  });
});
