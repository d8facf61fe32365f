/**
 * Per-peer output queues: a peer whose socket does not drain must not hold
 * back the decision loop or the other peers, until it has more than the
 * high-water mark queued; then the loop waits for it (bounded memory).
 */
import { RibEngine, type SourceInfo, type TargetInfo } from '../../../src/bgp/rib/engine';
import { addressSortKey, ipv4ToNumber } from '../../../src/bgp/rib/decision';
import { decodeMessage, type CodecOptions, type UpdateMessage } from '../../../src/bgp/wire';

const codec: CodecOptions = { fourOctetAs: true, extendedMessage: false, addPath: new Set() };

function source(name: string): SourceInfo {
  return {
    name,
    summary: { local: false, ibgp: false, routerId: ipv4ToNumber(name), addressKey: addressSortKey(name) },
    origin: { local: false, ibgp: false, fromRrClient: false, peerRouterId: name, localAs: 64512 },
  };
}

/** A target that counts announced prefixes; `stall` holds every send until release(). */
function target(stall: boolean): { t: TargetInfo; prefixes: () => number; release: () => void; sends: () => number } {
  let prefixes = 0;
  let sends = 0;
  let held: (() => void)[] = [];
  let released = !stall;
  const t: TargetInfo = {
    ibgp: false,
    rrClient: false,
    localAs: 64512,
    nextHopMode: 'auto',
    nextHopSelf: { ipv4: '192.0.2.10' },
    families: ['ipv4-unicast'],
    codec,
    send: (buffers) => {
      sends++;
      return new Promise<void>((resolve) => {
        const deliver = (): void => {
          for (const b of buffers) prefixes += (decodeMessage(b, codec) as UpdateMessage).nlri.length;
          resolve();
        };
        if (released) deliver();
        else held.push(deliver);
      });
    },
  };
  return {
    t,
    prefixes: () => prefixes,
    sends: () => sends,
    release: () => {
      released = true;
      for (const d of held) d();
      held = [];
    },
  };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}

/** Batches as separate UPDATEs arrive: each in its own turn of the event loop. */
async function announceBatches(e: RibEngine, src: number, batches: number, perBatch: number): Promise<void> {
  for (let b = 0; b < batches; b++) {
    const list = Array.from({ length: perBatch }, (_, i) => ({ prefix: `10.${b}.${i >> 8}.${i & 255}/32` }));
    e.announce(src, 'ipv4-unicast', { origin: 0, asPath: [{ type: 'sequence', asns: [65001] }], nextHops: ['192.0.2.1'] }, { list });
    await new Promise<void>((r) => setImmediate(r));
  }
}

/** One sender, a peer that never drains (until released) and one that does; five batches of 100 announced. */
async function slowAndFast(opts: { outputHighWaterBytes?: number }): Promise<{ e: RibEngine; slow: ReturnType<typeof target>; fast: ReturnType<typeof target>; slowId: number; fastId: number }> {
  const e = new RibEngine({ me: { routerId: '192.0.2.10', clusterId: '192.0.2.10' }, decision: { alwaysCompareMed: false }, sliceSize: 100, ...opts });
  const src = e.addSource(source('192.0.2.1'));
  const slowId = e.addSource(source('192.0.2.2'));
  const fastId = e.addSource(source('192.0.2.3'));
  const slow = target(true);
  const fast = target(false);
  void e.setTarget(slowId, slow.t);
  await e.setTarget(fastId, fast.t);
  await announceBatches(e, src, 5, 100);
  return { e, slow, fast, slowId, fastId };
}

describe('RibEngine output queues', () => {
  it('keeps sending to a fast peer while a slow peer has not taken its first batch', async () => {
    const { e, slow, fast, slowId, fastId } = await slowAndFast({});
    await settle();
    // Five slices decided and sent to the fast peer; the slow one has them queued, unsent.
    expect(fast.prefixes()).toBe(500);
    expect(slow.prefixes()).toBe(0);
    expect(e.queuedBytes(slowId)).toBeGreaterThan(0);
    expect(e.queuedBytes(fastId)).toBe(0);
    let idle = false;
    void e.idle().then(() => (idle = true));
    await settle();
    expect(idle).toBe(false); // idle means taken by every socket
    slow.release();
    await settle();
    expect(idle).toBe(true);
    expect(slow.prefixes()).toBe(500);
    expect(e.queuedBytes(slowId)).toBe(0);
  });

  it('waits for a peer that has more than the high-water mark queued (back-pressure)', async () => {
    const { e, slow, fast } = await slowAndFast({ outputHighWaterBytes: 1000 });
    await settle();
    // 100 /32s are ~500 bytes of NLRI in UPDATEs: over 1000 bytes after the second slice, the loop stops.
    expect(fast.prefixes()).toBeLessThan(500);
    expect(fast.prefixes()).toBeGreaterThanOrEqual(100);
    slow.release();
    await e.idle();
    expect(fast.prefixes()).toBe(500);
    expect(slow.prefixes()).toBe(500);
  });
});

describe('RibEngine shared encoding', () => {
  it('encodes once for peers that get the same output, and apart for a peer with other encoding options', async () => {
    const e = new RibEngine({ me: { routerId: '192.0.2.10', clusterId: '192.0.2.10' }, decision: { alwaysCompareMed: false } });
    const src = e.addSource(source('192.0.2.1'));
    const got = new Map<string, Buffer[]>();
    const make = (name: string, extendedMessage: boolean): TargetInfo => ({
      ibgp: false,
      rrClient: false,
      localAs: 64512,
      nextHopMode: 'auto',
      nextHopSelf: { ipv4: '192.0.2.10' },
      families: ['ipv4-unicast'],
      codec: { ...codec, extendedMessage },
      send: async (buffers) => {
        got.set(name, [...(got.get(name) ?? []), ...buffers]);
      },
    });
    for (const [name, ext] of [['a', false], ['b', false], ['c', true]] as const) await e.setTarget(e.addSource(source(`192.0.2.${name.charCodeAt(0)}`)), make(name, ext));
    got.clear(); // End-of-RIB of the initial dumps
    const before = e.sharedEncodings;
    await announceBatches(e, src, 1, 50);
    await e.idle();
    const [a, b, c] = [got.get('a')!, got.get('b')!, got.get('c')!];
    expect(a.length).toBeGreaterThan(0);
    // The very same Buffer objects: encoded once.
    expect(b.every((buf, i) => buf === a[i])).toBe(true);
    expect(c.some((buf, i) => buf === a[i])).toBe(false);
    expect(c.map((x) => x.toString('hex'))).toEqual(a.map((x) => x.toString('hex'))); // same bytes here, but not shared
    expect(e.sharedEncodings - before).toBe(1);
  });
});

describe('RibEngine decided()', () => {
  it('resolves once everything is decided, while a slow peer still has UPDATEs queued', async () => {
    const fib: number[] = [];
    const e = new RibEngine({
      me: { routerId: '192.0.2.10', clusterId: '192.0.2.10' },
      decision: { alwaysCompareMed: false },
      sliceSize: 10,
      fib: { update: (_f, _k, len) => fib.push(len) },
    });
    const src = e.addSource(source('192.0.2.1'));
    const other = e.addSource(source('192.0.2.3'));
    const slowId = e.addSource(source('192.0.2.2'));
    const slow = target(true);
    void e.setTarget(slowId, slow.t);
    // A second route per prefix goes through the batched queue (the first is decided at import).
    await announceBatches(e, src, 1, 50);
    const list = Array.from({ length: 50 }, (_, i) => ({ prefix: `10.0.${i >> 8}.${i & 255}/32` }));
    e.announce(other, 'ipv4-unicast', { origin: 0, asPath: [{ type: 'sequence', asns: [65009, 65008] }], nextHops: ['192.0.2.3'] }, { list });
    let decided = false;
    let idle = false;
    void e.decided().then(() => (decided = true));
    void e.idle().then(() => (idle = true));
    await settle();
    expect(decided).toBe(true);
    expect(idle).toBe(false);
    expect(fib).toHaveLength(50);
    slow.release();
    await settle();
    expect(idle).toBe(true);
  });
});
