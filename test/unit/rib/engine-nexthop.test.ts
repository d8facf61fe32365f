/** RFC 4271 §9.1.2: a route whose NEXT_HOP does not resolve is no candidate. */
import { RibEngine, type SourceInfo } from '../../../src/bgp/rib/engine';
import { addressSortKey, ipv4ToNumber } from '../../../src/bgp/rib/decision';
import type { RouteAttributes } from '../../../src/bgp/rib/route-attributes';

function source(name: string): SourceInfo {
  return {
    name,
    summary: { local: false, ibgp: true, routerId: ipv4ToNumber(name), addressKey: addressSortKey(name) },
    origin: { local: false, ibgp: true, fromRrClient: false, peerRouterId: name, localAs: 64512 },
  };
}

const attrs = (nextHop: string, localPref: number): RouteAttributes => ({ origin: 0, asPath: [], nextHops: [nextHop], localPref });

describe('RibEngine next-hop reachability', () => {
  it('skips routes with unreachable next hops, and re-decides when reachability changes', async () => {
    const reachable = new Set(['192.0.2.2']);
    const fib: string[] = [];
    const e = new RibEngine({
      me: { routerId: '192.0.2.10', clusterId: '192.0.2.10' },
      decision: { alwaysCompareMed: false },
      nextHopReachable: (a) => reachable.has(a),
      fib: { update: (_f, _k, len, hops) => fib.push(`${len} ${hops.join(',')}`) },
    });
    const a = e.addSource(source('192.0.2.1'));
    const b = e.addSource(source('192.0.2.2'));
    // a's route is better (LOCAL_PREF 200) but its next hop resolves nowhere.
    e.announce(a, 'ipv4-unicast', attrs('203.0.113.9', 200), { list: [{ prefix: '10.5.0.0/16' }] });
    e.announce(b, 'ipv4-unicast', attrs('192.0.2.2', 100), { list: [{ prefix: '10.5.0.0/16' }] });
    e.announce(a, 'ipv4-unicast', attrs('203.0.113.9', 200), { list: [{ prefix: '10.6.0.0/16' }] });
    await e.idle();
    expect(e.best('ipv4-unicast').map((r) => `${r.prefix} ${r.attrs.nextHops[0]}`)).toEqual(['10.5.0.0/16 192.0.2.2']);
    expect(e.received(a, 'ipv4-unicast').every((r) => r.nextHopUnreachable)).toBe(true);
    expect(e.unresolvedCount(a, 'ipv4-unicast')).toBe(2);
    expect(fib).toEqual(['16 192.0.2.2']);

    // A route to the next hop appears: both of a's routes become candidates and a wins.
    reachable.add('203.0.113.9');
    expect(e.nextHopsChanged()).toBe(2);
    await e.idle();
    expect(e.best('ipv4-unicast').map((r) => `${r.prefix} ${r.attrs.nextHops[0]}`).sort()).toEqual(['10.5.0.0/16 203.0.113.9', '10.6.0.0/16 203.0.113.9']);

    // And goes again.
    reachable.delete('203.0.113.9');
    e.nextHopsChanged();
    await e.idle();
    expect(e.best('ipv4-unicast').map((r) => `${r.prefix} ${r.attrs.nextHops[0]}`)).toEqual(['10.5.0.0/16 192.0.2.2']);
    // Nothing changed: nothing queued.
    expect(e.nextHopsChanged()).toBe(0);
  });
});
