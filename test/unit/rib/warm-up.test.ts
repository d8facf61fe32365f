import { RibEngine, type FibSink, type SourceInfo } from '../../../src/bgp/rib/engine';
import { addressSortKey, ipv4ToNumber } from '../../../src/bgp/rib/decision';
import { warmUpRib } from '../../../src/bgp/rib/warm-up';
import { Origin, type Family } from '../../../src/bgp/wire';

const peer = (name: string): SourceInfo => ({
  name,
  summary: { local: false, ibgp: false, routerId: ipv4ToNumber(name), addressKey: addressSortKey(name) },
  origin: { local: false, ibgp: false, fromRrClient: false, peerRouterId: name, localAs: 65000 },
});

describe('warmUpRib', () => {
  it('runs the whole import path: every prefix sent is stored, decided and withdrawn again', async () => {
    const r = await warmUpRib(2, 256);
    // Both families, `prefixes` each, in every round after the priming one.
    expect(r.sent).toBeGreaterThanOrEqual(2 * 256 * 2);
    expect(r.announced).toBe(r.sent);
    expect(r.decided).toBe(r.sent);
    expect(r.withdrawn).toBe(r.sent);
    expect(r.remaining).toBe(0);
    // Exports went to the scratch peers (at least the End-of-RIBs of both families to both).
    expect(r.exported).toBeGreaterThan(4);
  });

  it('holds with the defaults, with the priming round alone, and with counts that do not fill the last UPDATE', async () => {
    for (const r of [await warmUpRib(), await warmUpRib(0), await warmUpRib(3, 101), await warmUpRib(1, 5)]) {
      expect(r.sent).toBeGreaterThan(0);
      expect(r).toEqual({ sent: r.sent, announced: r.sent, decided: r.sent, withdrawn: r.sent, remaining: 0, exported: r.exported });
    }
    const three = await warmUpRib(3, 101);
    const none = await warmUpRib(0, 101);
    expect(three.sent - none.sent).toBe(3 * 101 * 2);
    // The bulk phase: IPv4 only, every prefix stored, decided and withdrawn too.
    const bulk = await warmUpRib(0, 64, 1000);
    const noBulk = await warmUpRib(0, 64, 0);
    expect(bulk).toEqual({ ...noBulk, sent: noBulk.sent + 1000, announced: noBulk.announced + 1000, decided: noBulk.decided + 1000, withdrawn: noBulk.withdrawn + 1000, exported: bulk.exported });
  });

  it('gives the same result every time (nothing carried over between runs)', async () => {
    const a = await warmUpRib(1, 64);
    const b = await warmUpRib(1, 64);
    expect(b).toEqual(a);
  });

  it('leaves a fresh engine behaving normally', async () => {
    await warmUpRib(1, 128);
    const fibLog: string[] = [];
    const fib: FibSink = { update: (family, key, len, hops) => fibLog.push(`${family} ${key[0]!.toString(16)}/${len} ${hops.join(',')}`) };
    const e = new RibEngine({ me: { routerId: '192.0.2.1', clusterId: '192.0.2.1' }, decision: { alwaysCompareMed: false }, fib, nextHopReachable: () => true });
    expect(e.attributeSets).toBe(0);
    expect(e.locSize('ipv4-unicast')).toBe(0);
    const src = e.addSource(peer('198.51.100.7'));
    const v4: Family = 'ipv4-unicast';
    const n = e.announce(src, v4, { origin: Origin.IGP, asPath: [{ type: 'sequence', asns: [65100] }], nextHops: ['198.51.100.7'] }, { list: [{ prefix: '10.0.0.1/32' }, { prefix: '10.0.0.2/32' }] });
    expect(n).toBe(2);
    await e.decided();
    expect(e.locSize(v4)).toBe(2);
    expect(e.counts(src, v4)).toEqual({ received: 2, accepted: 2 });
    expect(e.best(v4).map((b) => [b.prefix, b.source]).sort()).toEqual([
      ['10.0.0.1/32', '198.51.100.7'],
      ['10.0.0.2/32', '198.51.100.7'],
    ]);
    expect(e.withdraw(src, v4, { list: [{ prefix: '10.0.0.1/32' }] })).toBe(1);
    await e.idle();
    expect(e.locSize(v4)).toBe(1);
    expect(e.withdrawalCounts(src)).toEqual({ received: 1, sent: 0 });
    expect(fibLog).toEqual([`${v4} a000001/32 198.51.100.7`, `${v4} a000002/32 198.51.100.7`, `${v4} a000001/32 `]);
  });
});
