/**
 * ADD-PATH (RFC 7911) in the routing engine: several paths per prefix from
 * one peer as decision candidates, and every path (not only the best) sent to
 * targets that negotiated ADD-PATH send, each under its own path id.
 */
import { RibEngine, type SourceInfo, type TargetInfo } from '../../../src/bgp/rib/engine';
import { addressSortKey, ipv4ToNumber } from '../../../src/bgp/rib/decision';
import { decodeMessage, endOfRibFamily, type CodecOptions, type Family, type UpdateMessage } from '../../../src/bgp/wire';
import { encodePackedAnnouncements } from '../../../src/bgp/wire/packed';
import type { RouteAttributes } from '../../../src/bgp/rib/route-attributes';
import type { CompiledFilter } from '../../../src/bgp/policy/bgp-filter';

const LOCAL_AS = 64512;
const plain: CodecOptions = { fourOctetAs: true, extendedMessage: false, addPath: new Set() };
const addPathV4: CodecOptions = { fourOctetAs: true, extendedMessage: false, addPath: new Set<Family>(['ipv4-unicast']) };

function source(name: string, over: { ibgp?: boolean; rrClient?: boolean } = {}): SourceInfo {
  return {
    name,
    summary: { local: false, ibgp: over.ibgp ?? false, routerId: ipv4ToNumber(name), addressKey: addressSortKey(name) },
    origin: { local: false, ibgp: over.ibgp ?? false, fromRrClient: over.rrClient ?? false, peerRouterId: name, localAs: LOCAL_AS },
  };
}

interface Recorded {
  target: TargetInfo;
  /** "prefix#pathId" (or just the prefix without ADD-PATH) → attributes last announced. */
  paths: Map<string, UpdateMessage['attributes'] & { nextHop?: string }>;
  withdrawn: string[];
  eor: Family[];
}

function recorder(codec: CodecOptions, over: Partial<TargetInfo> = {}): Recorded {
  const rec: Recorded = { paths: new Map(), withdrawn: [], eor: [], target: undefined as unknown as TargetInfo };
  const id = (n: { prefix: string; pathId?: number }): string => (n.pathId === undefined ? n.prefix : `${n.prefix}#${n.pathId}`);
  rec.target = {
    ibgp: true,
    rrClient: true,
    localAs: LOCAL_AS,
    nextHopMode: 'auto',
    nextHopSelf: { ipv4: '192.0.2.10', ipv6: '2001:db8::10' },
    families: ['ipv4-unicast'],
    codec,
    ...over,
    send: async (buffers) => {
      for (const b of buffers) {
        const u = decodeMessage(b, codec) as UpdateMessage;
        const eor = endOfRibFamily(u);
        if (eor) {
          rec.eor.push(eor);
          continue;
        }
        for (const n of u.withdrawn) {
          rec.withdrawn.push(id(n));
          rec.paths.delete(id(n));
        }
        for (const n of u.nlri) rec.paths.set(id(n), u.attributes);
      }
    },
  };
  return rec;
}

const attrs = (nextHop: string, extra: Partial<RouteAttributes> = {}): RouteAttributes => ({ origin: 0, asPath: [], nextHops: [nextHop], localPref: 100, ...extra });

function engine(fibLog?: string[]): RibEngine {
  return new RibEngine({
    me: { routerId: '192.0.2.10', clusterId: '192.0.2.10' },
    decision: { alwaysCompareMed: false },
    fib: fibLog ? { update: (_f, key, len, hops) => fibLog.push(`${key[0]!.toString(16)}/${len} ${[...hops].sort().join(',')}`) } : undefined,
  });
}

const P = '10.1.0.0/24';

describe('RibEngine ADD-PATH receive', () => {
  it('keeps every path a peer sends for a prefix as a candidate, and withdraws them one by one', async () => {
    const fib: string[] = [];
    const e = engine(fib);
    const rr = e.addSource(source('192.0.2.1', { ibgp: true }));
    const list = (pathId: number) => ({ list: [{ prefix: P, pathId }], addPath: true });
    e.announce(rr, 'ipv4-unicast', attrs('192.0.2.21', { localPref: 100, originatorId: '192.0.2.21' }), list(7));
    e.announce(rr, 'ipv4-unicast', attrs('192.0.2.22', { localPref: 200, originatorId: '192.0.2.22' }), list(9));
    await e.idle();
    const received = e.received(rr, 'ipv4-unicast');
    expect(received.map((r) => [r.pathId, r.attrs.nextHops[0], r.best]).sort()).toEqual([
      [7, '192.0.2.21', false],
      [9, '192.0.2.22', true],
    ]);
    expect(e.counts(rr, 'ipv4-unicast')).toEqual({ received: 2, accepted: 2 });
    expect(e.best('ipv4-unicast')[0]!.attrs.nextHops).toEqual(['192.0.2.22']);
    expect(fib.at(-1)).toBe('a010000/24 192.0.2.22');

    // The better path goes: the other path of the same peer takes over.
    e.withdraw(rr, 'ipv4-unicast', list(9));
    await e.idle();
    expect(e.best('ipv4-unicast')[0]!.attrs.nextHops).toEqual(['192.0.2.21']);
    expect(fib.at(-1)).toBe('a010000/24 192.0.2.21');
    e.withdraw(rr, 'ipv4-unicast', list(7));
    await e.idle();
    expect(e.locSize('ipv4-unicast')).toBe(0);
    expect(fib.at(-1)).toBe('a010000/24 ');
  });

  it('makes equal paths from one ADD-PATH peer one multipath route', async () => {
    const fib: string[] = [];
    const e = engine(fib);
    const rr = e.addSource(source('192.0.2.1', { ibgp: true }));
    // Equal up to the router-id step (same ORIGINATOR_ID is not required for iBGP multipath here).
    e.announce(rr, 'ipv4-unicast', attrs('192.0.2.21'), { list: [{ prefix: P, pathId: 1 }], addPath: true });
    e.announce(rr, 'ipv4-unicast', attrs('192.0.2.22'), { list: [{ prefix: P, pathId: 2 }], addPath: true });
    await e.idle();
    expect(e.best('ipv4-unicast')[0]!.multipath).toBe(true);
    expect(fib.at(-1)).toBe('a010000/24 192.0.2.21,192.0.2.22');
  });

  it('takes path ids from packed wire NLRI', async () => {
    const e = engine();
    const rr = e.addSource(source('192.0.2.1', { ibgp: true }));
    // Build NLRI bytes with path ids through the encoder, then hand them over as the session would.
    const nlri = Buffer.from([0, 0, 0, 5, 24, 10, 1, 0, 0, 0, 0, 6, 24, 10, 1, 0]);
    const [update] = encodePackedAnnouncements('ipv4-unicast', { origin: 0, asPath: [], localPref: 100 }, '192.0.2.21', nlri, addPathV4);
    const decoded = decodeMessage(update!, { ...addPathV4, packedNlri: true }) as UpdateMessage;
    e.announce(rr, 'ipv4-unicast', attrs('192.0.2.21'), { packed: decoded.packed!.nlri, addPath: true });
    await e.idle();
    expect(e.received(rr, 'ipv4-unicast').map((r) => r.pathId).sort()).toEqual([5, 6]);
    expect(e.locSize('ipv4-unicast')).toBe(1);
  });
});

describe('RibEngine ADD-PATH send', () => {
  async function setup(): Promise<{ e: RibEngine; a: number; b: number; c: number; all: Recorded; bestOnly: Recorded; clientT: number; plainT: number }> {
    const e = engine();
    const a = e.addSource(source('192.0.2.1', { ibgp: true, rrClient: true }));
    const b = e.addSource(source('192.0.2.2', { ibgp: true, rrClient: true }));
    const c = e.addSource(source('192.0.2.3', { ibgp: true, rrClient: true }));
    const clientT = e.addSource(source('192.0.2.4', { ibgp: true, rrClient: true }));
    const plainT = e.addSource(source('192.0.2.5', { ibgp: true, rrClient: true }));
    const all = recorder(addPathV4);
    const bestOnly = recorder(plain);
    await e.setTarget(clientT, all.target);
    await e.setTarget(plainT, bestOnly.target);
    e.announce(a, 'ipv4-unicast', attrs('192.0.2.1', { localPref: 300 }), { list: [{ prefix: P }] });
    e.announce(b, 'ipv4-unicast', attrs('192.0.2.2', { localPref: 200 }), { list: [{ prefix: P }] });
    e.announce(c, 'ipv4-unicast', attrs('192.0.2.3', { localPref: 100 }), { list: [{ prefix: P }] });
    await e.idle();
    return { e, a, b, c, all, bestOnly, clientT, plainT };
  }

  it('sends an ADD-PATH target every path under distinct path ids, and a plain target only the best', async () => {
    const { all, bestOnly, e, clientT, plainT } = await setup();
    expect([...all.paths.keys()].sort()).toEqual([`${P}#1`, `${P}#2`, `${P}#3`]);
    expect([...all.paths.values()].map((x) => x.nextHop).sort()).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3']);
    // Reflected paths carry ORIGINATOR_ID / CLUSTER_LIST like the best path does (RFC 4456).
    expect(all.paths.get(`${P}#2`)).toMatchObject({ originatorId: '192.0.2.2', clusterList: ['192.0.2.10'] });
    expect([...bestOnly.paths.keys()]).toEqual([P]);
    expect(bestOnly.paths.get(P)!.nextHop).toBe('192.0.2.1');
    expect(e.advertisedCount(clientT, 'ipv4-unicast')).toBe(3);
    expect(e.advertisedCount(plainT, 'ipv4-unicast')).toBe(1);
    expect(e.advertised(clientT, 'ipv4-unicast').map((r) => r.pathId).sort()).toEqual([1, 2, 3]);
  });

  it('withdraws one path by its id and leaves the others; the plain target hears nothing while its best stays', async () => {
    const { e, b, all, bestOnly, clientT } = await setup();
    e.withdraw(b, 'ipv4-unicast', { list: [{ prefix: P }] });
    await e.idle();
    expect(all.withdrawn).toEqual([`${P}#2`]);
    expect([...all.paths.keys()].sort()).toEqual([`${P}#1`, `${P}#3`]);
    expect(bestOnly.withdrawn).toEqual([]);
    expect(e.advertisedCount(clientT, 'ipv4-unicast')).toBe(2);
  });

  it('re-announces a changed path under the same id, and sends nothing when a path is re-sent unchanged', async () => {
    const { e, c, all } = await setup();
    const before = all.paths.size;
    e.announce(c, 'ipv4-unicast', attrs('192.0.2.3', { localPref: 100 }), { list: [{ prefix: P }] });
    await e.idle();
    expect(all.paths.size).toBe(before);
    e.announce(c, 'ipv4-unicast', attrs('192.0.2.3', { localPref: 150, communities: [0xfde80001] }), { list: [{ prefix: P }] });
    await e.idle();
    expect(all.paths.get(`${P}#3`)).toMatchObject({ localPref: 150, communities: [0xfde80001] });
    expect(all.withdrawn).toEqual([]);
  });

  it('dumps every path to a new ADD-PATH target, then End-of-RIB', async () => {
    const { e } = await setup();
    const late = e.addSource(source('192.0.2.6', { ibgp: true, rrClient: true }));
    const rec = recorder(addPathV4);
    await e.setTarget(late, rec.target);
    expect(rec.paths.size).toBe(3);
    expect(rec.eor).toEqual(['ipv4-unicast']);
  });

  it('does not send a target its own path back, and withdraws every path of a removed source', async () => {
    const { e, a, all } = await setup();
    const recA = recorder(addPathV4);
    await e.setTarget(a, recA.target);
    expect([...recA.paths.keys()].sort()).toEqual([`${P}#2`, `${P}#3`]);
    e.removeSource(a);
    await e.idle();
    expect(all.withdrawn).toEqual([`${P}#1`]);
  });

  it('numbers paths of an ADD-PATH source apart from other sources', async () => {
    const e = engine();
    const rr = e.addSource(source('192.0.2.1', { ibgp: true }));
    const other = e.addSource(source('192.0.2.2', { ibgp: true, rrClient: true }));
    const t = e.addSource(source('192.0.2.4', { ibgp: true, rrClient: true }));
    const rec = recorder(addPathV4);
    await e.setTarget(t, rec.target);
    e.announce(rr, 'ipv4-unicast', attrs('192.0.2.21', { originatorId: '192.0.2.21' }), { list: [{ prefix: P, pathId: 1 }], addPath: true });
    e.announce(rr, 'ipv4-unicast', attrs('192.0.2.22', { originatorId: '192.0.2.22' }), { list: [{ prefix: P, pathId: 2 }], addPath: true });
    e.announce(other, 'ipv4-unicast', attrs('192.0.2.2'), { list: [{ prefix: P }] });
    await e.idle();
    const ids = [...rec.paths.keys()].map((k) => Number(k.split('#')[1]));
    expect(new Set(ids).size).toBe(3);
    // A non-client's paths are reflected to clients only; the target is a client, so it gets all three.
    expect([...rec.paths.values()].map((x) => x.nextHop).sort()).toEqual(['192.0.2.2', '192.0.2.21', '192.0.2.22']);
    e.withdraw(rr, 'ipv4-unicast', { list: [{ prefix: P, pathId: 2 }], addPath: true });
    await e.idle();
    expect([...rec.paths.values()].map((x) => x.nextHop).sort()).toEqual(['192.0.2.2', '192.0.2.21']);
  });

  it('applies a new export filter per path without a reset', async () => {
    const { e, all, clientT } = await setup();
    // Reject everything from 192.0.2.2's next hop: only that path is withdrawn.
    const filter: CompiledFilter = (_family, _key, _len, subject) =>
      subject.attrs.nextHops[0] === '192.0.2.2' ? { decided: true, accept: false, rule: 0, operations: [] } : { decided: false };
    e.setExportFilter(clientT, filter);
    await e.idle();
    expect(all.withdrawn).toEqual([`${P}#2`]);
    expect(e.advertisedCount(clientT, 'ipv4-unicast')).toBe(2);
    e.setExportFilter(clientT, undefined);
    await e.idle();
    expect(all.paths.has(`${P}#2`)).toBe(true);
    expect(e.advertisedCount(clientT, 'ipv4-unicast')).toBe(3);
  });
});
