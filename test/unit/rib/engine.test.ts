import { RibEngine, type SourceInfo, type TargetInfo } from '../../../src/bgp/rib/engine';
import { addressSortKey, ipv4ToNumber } from '../../../src/bgp/rib/decision';
import { decodeMessage, endOfRibFamily, type CodecOptions, type Family, type UpdateMessage } from '../../../src/bgp/wire';
import type { RouteAttributes } from '../../../src/bgp/rib/route-attributes';

const codec: CodecOptions = { fourOctetAs: true, extendedMessage: false, addPath: new Set() };
const LOCAL_AS = 64512;

function source(name: string, over: { ibgp?: boolean; rrClient?: boolean; local?: boolean; routerId?: string } = {}): SourceInfo {
  const routerId = over.routerId ?? name;
  return {
    name,
    summary: { local: over.local ?? false, ibgp: over.ibgp ?? false, routerId: ipv4ToNumber(routerId), addressKey: addressSortKey(name) },
    origin: { local: over.local ?? false, ibgp: over.ibgp ?? false, fromRrClient: over.rrClient ?? false, peerRouterId: routerId, localAs: LOCAL_AS },
  };
}

/** A target that decodes what it is sent into announcements/withdrawals. */
function recorder(over: Partial<TargetInfo> = {}): { target: TargetInfo; announced: Map<string, UpdateMessage['attributes']>; withdrawn: string[]; eor: Family[]; messages: number } {
  const rec = { announced: new Map<string, UpdateMessage['attributes']>(), withdrawn: [] as string[], eor: [] as Family[], messages: 0 };
  const target: TargetInfo = {
    ibgp: false,
    rrClient: false,
    localAs: LOCAL_AS,
    nextHopMode: 'auto',
    nextHopSelf: { ipv4: '192.0.2.10', ipv6: '2001:db8::10' },
    families: ['ipv4-unicast', 'ipv6-unicast'],
    codec,
    ...over,
    send: async (buffers) => {
      for (const b of buffers) {
        rec.messages++;
        const u = decodeMessage(b, codec) as UpdateMessage;
        const eor = endOfRibFamily(u);
        if (eor) {
          rec.eor.push(eor);
          continue;
        }
        for (const n of [...u.withdrawn, ...(u.attributes.mpUnreach?.withdrawn ?? [])]) {
          rec.withdrawn.push(n.prefix);
          rec.announced.delete(n.prefix);
        }
        for (const n of [...u.nlri, ...(u.attributes.mpReach?.nlri ?? [])]) {
          const { mpReach: _r, ...attrs } = u.attributes;
          rec.announced.set(n.prefix, { ...attrs, ...(u.attributes.mpReach ? { nextHop: u.attributes.mpReach.nextHops[0] } : {}) });
        }
      }
    },
  };
  return { target, ...rec, get announced() { return rec.announced; }, get withdrawn() { return rec.withdrawn; }, get eor() { return rec.eor; }, get messages() { return rec.messages; } };
}

const attrs = (asns: number[], nextHop: string, extra: Partial<RouteAttributes> = {}): RouteAttributes => ({
  origin: 0,
  asPath: asns.length ? [{ type: 'sequence', asns }] : [],
  nextHops: [nextHop],
  ...extra,
});

function engine(fibLog?: string[]): RibEngine {
  return new RibEngine({
    me: { routerId: '192.0.2.10', clusterId: '192.0.2.10' },
    decision: { alwaysCompareMed: false },
    fib: fibLog ? { update: (family, key, len, hops) => fibLog.push(`${family === 'ipv4-unicast' ? key[0]!.toString(16) : 'v6'}/${len} ${hops.join(',')}`) } : undefined,
  });
}

describe('RibEngine', () => {
  it('selects the best route and exports it to eBGP peers with our AS prepended', async () => {
    const e = engine();
    const a = e.addSource(source('192.0.2.1'));
    const b = e.addSource(source('192.0.2.2'));
    const out = e.addSource(source('192.0.2.3'));
    const rec = recorder();
    await e.setTarget(out, rec.target);
    expect(rec.eor).toEqual(['ipv4-unicast', 'ipv6-unicast']);
    e.announce(a, 'ipv4-unicast', attrs([65001, 65009], '192.0.2.1'), { list: [{ prefix: '10.0.0.0/24' }, { prefix: '10.0.1.0/24' }] });
    e.announce(b, 'ipv4-unicast', attrs([65002], '192.0.2.2'), { list: [{ prefix: '10.0.0.0/24' }] });
    await e.idle();
    expect(e.locSize('ipv4-unicast')).toBe(2);
    expect(rec.announced.get('10.0.0.0/24')).toMatchObject({ asPath: [{ type: 'sequence', asns: [LOCAL_AS, 65002] }], nextHop: '192.0.2.10' });
    expect(rec.announced.get('10.0.1.0/24')).toMatchObject({ asPath: [{ type: 'sequence', asns: [LOCAL_AS, 65001, 65009] }] });
    expect(e.received(b, 'ipv4-unicast')).toEqual([expect.objectContaining({ prefix: '10.0.0.0/24', best: true })]);
    expect(e.received(a, 'ipv4-unicast').find((r) => r.prefix === '10.0.0.0/24')?.best).toBe(false);

    // The better route goes away: the other one becomes best and is announced instead.
    e.withdraw(b, 'ipv4-unicast', { list: [{ prefix: '10.0.0.0/24' }] });
    await e.idle();
    expect(rec.announced.get('10.0.0.0/24')).toMatchObject({ asPath: [{ type: 'sequence', asns: [LOCAL_AS, 65001, 65009] }] });
    // Every route of a source goes: withdrawals reach the target.
    e.clearSource(a);
    await e.idle();
    expect(rec.announced.size).toBe(0);
    expect(rec.withdrawn.sort()).toEqual(['10.0.0.0/24', '10.0.1.0/24']);
  });

  it('never sends a route back to the peer it came from, and withdraws there when that peer becomes best', async () => {
    const e = engine();
    const a = e.addSource(source('192.0.2.1'));
    const b = e.addSource(source('192.0.2.2'));
    const ra = recorder();
    await e.setTarget(a, ra.target);
    e.announce(b, 'ipv4-unicast', attrs([65002, 65003], '192.0.2.2'), { list: [{ prefix: '10.9.0.0/16' }] });
    await e.idle();
    expect(ra.announced.has('10.9.0.0/16')).toBe(true);
    e.announce(a, 'ipv4-unicast', attrs([65001], '192.0.2.1'), { list: [{ prefix: '10.9.0.0/16' }] });
    await e.idle();
    expect(ra.announced.has('10.9.0.0/16')).toBe(false);
    expect(ra.withdrawn).toEqual(['10.9.0.0/16']);
  });

  it('applies iBGP split horizon, and reflects client routes when it is a route reflector', async () => {
    const e = engine();
    const client = e.addSource(source('192.0.2.1', { ibgp: true, rrClient: true }));
    const nonClient = e.addSource(source('192.0.2.2', { ibgp: true }));
    const other = e.addSource(source('192.0.2.3', { ibgp: true }));
    const toNonClient = recorder({ ibgp: true });
    const toClient = recorder({ ibgp: true, rrClient: true });
    await e.setTarget(other, toNonClient.target);
    await e.setTarget(client, toClient.target);
    e.announce(client, 'ipv4-unicast', attrs([], '192.0.2.1'), { list: [{ prefix: '10.1.0.0/24' }] });
    e.announce(nonClient, 'ipv4-unicast', attrs([], '192.0.2.2'), { list: [{ prefix: '10.2.0.0/24' }] });
    await e.idle();
    // Client route: reflected to the non-client with ORIGINATOR_ID and CLUSTER_LIST.
    expect(toNonClient.announced.get('10.1.0.0/24')).toMatchObject({ originatorId: '192.0.2.1', clusterList: ['192.0.2.10'], nextHop: '192.0.2.1', localPref: 100 });
    // Non-client route: to clients only.
    expect(toNonClient.announced.has('10.2.0.0/24')).toBe(false);
    expect(toClient.announced.get('10.2.0.0/24')).toMatchObject({ originatorId: '192.0.2.2', clusterList: ['192.0.2.10'] });
  });

  it('rejects looped routes on import but keeps them visible', async () => {
    const e = engine();
    const a = e.addSource(source('192.0.2.1'));
    e.announce(a, 'ipv4-unicast', attrs([65001, LOCAL_AS], '192.0.2.1'), { list: [{ prefix: '10.7.0.0/16' }] });
    e.announce(a, 'ipv4-unicast', attrs([], '192.0.2.1', { originatorId: '192.0.2.10' }), { list: [{ prefix: '10.8.0.0/16' }] });
    await e.idle();
    expect(e.counts(a, 'ipv4-unicast')).toEqual({ received: 2, accepted: 0 });
    expect(e.locSize('ipv4-unicast')).toBe(0);
    expect(e.received(a, 'ipv4-unicast').every((r) => r.rejected)).toBe(true);
    e.withdraw(a, 'ipv4-unicast', { list: [{ prefix: '10.7.0.0/16' }] });
    expect(e.counts(a, 'ipv4-unicast')).toEqual({ received: 1, accepted: 0 });
  });

  it('sends equal-cost paths to the FIB as one multipath route', async () => {
    const fib: string[] = [];
    const e = engine(fib);
    const a = e.addSource(source('192.0.2.1'));
    const b = e.addSource(source('192.0.2.2'));
    e.announce(a, 'ipv4-unicast', attrs([65001], '192.0.2.1'), { list: [{ prefix: '10.5.0.0/16' }] });
    await e.idle();
    e.announce(b, 'ipv4-unicast', attrs([65001], '192.0.2.2'), { list: [{ prefix: '10.5.0.0/16' }] });
    await e.idle();
    expect(fib).toEqual(['a050000/16 192.0.2.1', 'a050000/16 192.0.2.1,192.0.2.2']);
    e.clearSource(a);
    e.clearSource(b);
    await e.idle();
    expect(fib.at(-1)).toBe('a050000/16 ');
  });

  it('dumps the Loc-RIB to a new target, packing routes that share attributes into few UPDATEs', async () => {
    const e = engine();
    const a = e.addSource(source('192.0.2.1'));
    const list = Array.from({ length: 5000 }, (_, i) => ({ prefix: `10.${i >> 8}.${i & 255}.0/24` }));
    e.announce(a, 'ipv4-unicast', attrs([65001], '192.0.2.1'), { list });
    e.announce(a, 'ipv6-unicast', attrs([65001], '2001:db8::1'), { list: [{ prefix: '2001:db8:1::/48' }] });
    await e.idle();
    const late = e.addSource(source('192.0.2.9'));
    const rec = recorder();
    await e.setTarget(late, rec.target);
    expect(rec.announced.size).toBe(5001);
    expect(rec.announced.get('2001:db8:1::/48')).toMatchObject({ nextHop: '2001:db8::10' });
    expect(rec.eor).toEqual(['ipv4-unicast', 'ipv6-unicast']);
    // 5000 /24s at 4 bytes each fit ~1000 per 4096-byte UPDATE.
    expect(rec.messages).toBeLessThan(10);
    expect(e.attributeSets).toBe(2);
  });

  it('accepts NLRI in wire form', async () => {
    const e = engine();
    const a = e.addSource(source('192.0.2.1'));
    e.announce(a, 'ipv4-unicast', attrs([65001], '192.0.2.1'), { packed: Buffer.from([24, 10, 1, 2, 32, 10, 0, 0, 1]), addPath: false });
    await e.idle();
    expect(e.received(a, 'ipv4-unicast').map((r) => r.prefix).sort()).toEqual(['10.0.0.1/32', '10.1.2.0/24']);
  });
});

describe('RibEngine with BGPFilter', () => {
  const { compileFilters } = require('../../../src/bgp/policy/bgp-filter') as typeof import('../../../src/bgp/policy/bgp-filter');

  it('rejects imports by rule and re-evaluates the kept Adj-RIB-In when the filter changes', async () => {
    const e = engine();
    const a = e.addSource(source('192.0.2.1'));
    const list = [{ prefix: '10.0.0.0/24' }, { prefix: '10.1.0.0/16' }, { prefix: '10.2.0.0/28' }];
    e.setImportFilter(a, compileFilters([{ name: 'no-long', spec: { importV4: [{ action: 'Reject', cidr: '10.0.0.0/8', matchOperator: 'In', prefixLength: { min: 25 } }] } }], 'import'));
    e.announce(a, 'ipv4-unicast', attrs([65001], '192.0.2.1'), { list });
    await e.idle();
    expect(e.counts(a, 'ipv4-unicast')).toEqual({ received: 3, accepted: 2 });
    expect(e.received(a, 'ipv4-unicast').find((r) => r.prefix === '10.2.0.0/28')?.rejected).toBe('rejected by import filter');
    expect(e.locSize('ipv4-unicast')).toBe(2);
    // A stricter filter: replayed over what the peer already sent, no refresh needed.
    e.setImportFilter(a, compileFilters([{ name: 'only-16', spec: { importV4: [{ action: 'Accept', cidr: '10.1.0.0/16', matchOperator: 'Equal' }, { action: 'Reject', cidr: '0.0.0.0/0', matchOperator: 'In' }] } }], 'import'));
    await e.idle();
    expect(e.counts(a, 'ipv4-unicast')).toEqual({ received: 3, accepted: 1 });
    expect(e.locSize('ipv4-unicast')).toBe(1);
    e.setImportFilter(a, undefined);
    await e.idle();
    expect(e.counts(a, 'ipv4-unicast')).toEqual({ received: 3, accepted: 3 });
  });

  it('filters exports with operations, and a changed export filter sends only the difference', async () => {
    const e = engine();
    const a = e.addSource(source('192.0.2.1'));
    const out = e.addSource(source('192.0.2.3'));
    e.announce(a, 'ipv4-unicast', attrs([65001], '192.0.2.1'), { list: [{ prefix: '10.0.0.0/24' }, { prefix: '10.9.0.0/24' }] });
    await e.idle();
    const rec = recorder({
      exportFilter: compileFilters([{ name: 'tag', spec: { exportV4: [{ action: 'Reject', cidr: '10.9.0.0/24', matchOperator: 'Equal' }, { action: 'Accept', cidr: '10.0.0.0/8', matchOperator: 'In', operations: [{ addCommunity: { value: '64512:7' } }, { prependASPath: { prefix: [64512, 64512] } }] }] } }], 'export'),
    });
    await e.setTarget(out, rec.target);
    expect([...rec.announced.keys()]).toEqual(['10.0.0.0/24']);
    expect(rec.announced.get('10.0.0.0/24')).toMatchObject({ communities: [64512 * 65536 + 7], asPath: [{ type: 'sequence', asns: [64512, 64512, 64512, 65001] }] });
    const before = rec.messages;
    e.setExportFilter(out, compileFilters([{ name: 'drop-10.0', spec: { exportV4: [{ action: 'Reject', cidr: '10.0.0.0/24', matchOperator: 'Equal' }] } }], 'export'));
    await e.idle();
    expect([...rec.announced.keys()]).toEqual(['10.9.0.0/24']);
    expect(rec.withdrawn).toEqual(['10.0.0.0/24']);
    expect(rec.announced.get('10.9.0.0/24')).toMatchObject({ asPath: [{ type: 'sequence', asns: [64512, 65001] }] });
    expect(rec.messages - before).toBe(2);
  });
});

describe('RibEngine Loc-RIB view', () => {
  it('lists the best route per prefix with its source and multipath flag', async () => {
    const e = engine();
    const a = e.addSource(source('192.0.2.1'));
    const b = e.addSource(source('192.0.2.2'));
    e.announce(a, 'ipv4-unicast', attrs([65001], '192.0.2.1'), { list: [{ prefix: '10.5.0.0/16' }, { prefix: '10.6.0.0/16' }] });
    e.announce(b, 'ipv4-unicast', attrs([65001], '192.0.2.2'), { list: [{ prefix: '10.5.0.0/16' }] });
    await e.idle();
    const best = e.best('ipv4-unicast').sort((x, y) => x.prefix.localeCompare(y.prefix));
    expect(best.map((r) => [r.prefix, r.source, r.multipath])).toEqual([
      ['10.5.0.0/16', '192.0.2.1', true],
      ['10.6.0.0/16', '192.0.2.1', false],
    ]);
    expect(e.best('ipv4-unicast', '10.6.0.0/16')).toHaveLength(1);
  });
});

describe('RibEngine advertised counts', () => {
  it('counts what each target has been sent, through announcements, withdrawals and filter changes', async () => {
    const { compileFilters } = require('../../../src/bgp/policy/bgp-filter') as typeof import('../../../src/bgp/policy/bgp-filter');
    const e = engine();
    const a = e.addSource(source('192.0.2.1'));
    const out = e.addSource(source('192.0.2.3'));
    e.announce(a, 'ipv4-unicast', attrs([65001], '192.0.2.1'), { list: [{ prefix: '10.0.0.0/24' }] });
    await e.idle();
    const rec = recorder();
    await e.setTarget(out, rec.target);
    expect(e.advertisedCount(out, 'ipv4-unicast')).toBe(1);
    e.announce(a, 'ipv4-unicast', attrs([65001], '192.0.2.1'), { list: [{ prefix: '10.1.0.0/24' }, { prefix: '10.2.0.0/24' }] });
    await e.idle();
    expect(e.advertisedCount(out, 'ipv4-unicast')).toBe(3);
    e.announce(a, 'ipv4-unicast', attrs([65001, 65002], '192.0.2.1'), { list: [{ prefix: '10.1.0.0/24' }] });
    e.withdraw(a, 'ipv4-unicast', { list: [{ prefix: '10.2.0.0/24' }] });
    await e.idle();
    expect(e.advertisedCount(out, 'ipv4-unicast')).toBe(2);
    e.setExportFilter(out, compileFilters([{ name: 'x', spec: { exportV4: [{ action: 'Reject', cidr: '10.0.0.0/24', matchOperator: 'Equal' }] } }], 'export'));
    await e.idle();
    expect(e.advertisedCount(out, 'ipv4-unicast')).toBe(2 - 1);
    expect(e.advertisedCount(out, 'ipv4-unicast')).toBe(rec.announced.size);
  });
});

describe('RibEngine graceful restart (RFC 4724 §4.2)', () => {
  it('keeps a restarting peer\'s routes as stale candidates, replaces the resent ones, and purges the rest', async () => {
    const fib: string[] = [];
    const e = engine(fib);
    const a = e.addSource(source('192.0.2.1'));
    const out = e.addSource(source('192.0.2.3'));
    e.announce(a, 'ipv4-unicast', attrs([65001], '192.0.2.1'), { list: [{ prefix: '10.0.0.0/24' }, { prefix: '10.1.0.0/24' }] });
    await e.idle();
    const rec = recorder();
    await e.setTarget(out, rec.target);
    const fibBefore = fib.length;

    expect(e.markStale(a)).toBe(2);
    await e.idle();
    // Nothing withdrawn anywhere: still best, still in the FIB, still advertised.
    expect(e.locSize('ipv4-unicast')).toBe(2);
    expect(fib.length).toBe(fibBefore);
    expect(rec.withdrawn).toEqual([]);
    expect(e.received(a, 'ipv4-unicast').every((r) => r.stale)).toBe(true);
    expect(e.counts(a, 'ipv4-unicast').received).toBe(2);

    // The peer is back and resends one route (with new attributes); the other stays stale.
    e.announce(a, 'ipv4-unicast', attrs([65001, 65009], '192.0.2.1'), { list: [{ prefix: '10.0.0.0/24' }] });
    await e.idle();
    expect(e.staleCount(a)).toBe(1);
    expect(e.received(a, 'ipv4-unicast').find((r) => r.prefix === '10.0.0.0/24')?.stale).toBeUndefined();

    // End-of-RIB: what was not resent is withdrawn.
    expect(e.purgeStale(a, 'ipv4-unicast')).toBe(1);
    await e.idle();
    expect(e.locSize('ipv4-unicast')).toBe(1);
    expect(rec.withdrawn).toEqual(['10.1.0.0/24']);
    expect(e.staleCount(a)).toBe(0);
  });
});

describe('RibEngine table memory', () => {
  it('a peer going down shrinks nothing and grows nothing: the Loc-RIB keeps its size for the withdrawals', async () => {
    const e = engine();
    const a = e.addSource(source('192.0.2.1'));
    const n = 50_000;
    const buf = Buffer.alloc(n * 5);
    for (let i = 0; i < n; i++) {
      buf[i * 5] = 32;
      buf.writeUInt32BE((0x0a000000 + i) >>> 0, i * 5 + 1);
    }
    e.announce(a, 'ipv4-unicast', attrs([65001], '192.0.2.1'), { packed: buf, addPath: false });
    await e.idle();
    expect(e.locSize('ipv4-unicast')).toBe(n);
    const locAndAdjIn = e.tableBytes();
    expect(locAndAdjIn).toBeGreaterThan(0);
    // A second peer with the same table: its Adj-RIB-In is added, the Loc-RIB stays as it is.
    const b = e.addSource(source('192.0.2.2'));
    e.announce(b, 'ipv4-unicast', attrs([65002, 65003], '192.0.2.2'), { packed: buf, addPath: false });
    await e.idle();
    const withB = e.tableBytes();
    // The first peer goes: n withdrawals are queued at once; deciding them must not grow the Loc-RIB.
    e.removeSource(a);
    await e.idle();
    expect(e.locSize('ipv4-unicast')).toBe(n);
    // What is left: the Loc-RIB as it was, and the second peer's table (the same size as the first's).
    expect(e.tableBytes()).toBe(locAndAdjIn);
  });
});
