import { compareCandidates, selectBest, summarizeAttributes, addressSortKey, asPathLength, type Candidate, type SourceSummary } from '../../../src/bgp/rib/decision';
import type { RouteAttributes } from '../../../src/bgp/rib/route-attributes';

const opts = { alwaysCompareMed: false };

function src(over: Partial<SourceSummary> & { address?: string } = {}): SourceSummary {
  return { local: false, ibgp: false, routerId: 0x0a000001, addressKey: addressSortKey(over.address ?? '192.0.2.1'), ...over };
}
function cand(attrs: Partial<RouteAttributes>, source: SourceSummary = src()): Candidate {
  return { attrs: summarizeAttributes({ nextHops: ['192.0.2.1'], origin: 0, asPath: [{ type: 'sequence', asns: [65001] }], ...attrs }), source };
}

describe('decision process (RFC 4271 §9.1.2.2, RFC 4456 §9)', () => {
  it.each<[string, Candidate, Candidate]>([
    ['locally originated over learned', cand({}, src({ local: true })), cand({ localPref: 500 })],
    ['higher LOCAL_PREF', cand({ localPref: 200 }), cand({ localPref: 100 })],
    ['missing LOCAL_PREF counts as 100', cand({ localPref: 101 }), cand({})],
    ['shorter AS_PATH', cand({ asPath: [{ type: 'sequence', asns: [1, 2] }] }), cand({ asPath: [{ type: 'sequence', asns: [1, 2, 3] }] })],
    ['AS_SET counts as one', cand({ asPath: [{ type: 'sequence', asns: [1] }, { type: 'set', asns: [5, 6, 7] }] }), cand({ asPath: [{ type: 'sequence', asns: [1, 2, 3] }] })],
    ['lower ORIGIN', cand({ origin: 0 }), cand({ origin: 2 })],
    ['lower MED from the same neighbour AS', cand({ med: 5 }), cand({ med: 10 })],
    ['missing MED is the lowest', cand({}), cand({ med: 1 })],
    ['eBGP over iBGP', cand({}, src({ ibgp: false, routerId: 9 })), cand({}, src({ ibgp: true, routerId: 1 }))],
    ['lower router ID', cand({}, src({ routerId: 1 })), cand({}, src({ routerId: 2 }))],
    ['ORIGINATOR_ID stands in for the router ID', cand({ originatorId: '10.0.0.1' }, src({ routerId: 0xffffffff })), cand({}, src({ routerId: 0x0a000002 }))],
    ['shorter CLUSTER_LIST', cand({ clusterList: ['1.1.1.1'] }), cand({ clusterList: ['1.1.1.1', '2.2.2.2'] })],
    ['lower peer address', cand({}, src({ address: '192.0.2.9' })), cand({}, src({ address: '192.0.2.10' }))],
  ])('prefers %s', (_name, better, worse) => {
    expect(compareCandidates(better, worse, opts)).toBeLessThan(0);
    expect(compareCandidates(worse, better, opts)).toBeGreaterThan(0);
  });

  it('does not compare MED across neighbour ASes unless always-compare-med', () => {
    const a = cand({ asPath: [{ type: 'sequence', asns: [65001] }], med: 50 }, src({ routerId: 1 }));
    const b = cand({ asPath: [{ type: 'sequence', asns: [65002] }], med: 10 }, src({ routerId: 2 }));
    expect(compareCandidates(a, b, opts)).toBeLessThan(0); // decided by router ID
    expect(compareCandidates(a, b, { alwaysCompareMed: true })).toBeGreaterThan(0);
  });

  it('selects multipath routes equal through eBGP/iBGP from the same neighbour AS', () => {
    const c = [
      cand({}, src({ routerId: 3, address: '192.0.2.3' })),
      cand({}, src({ routerId: 1, address: '192.0.2.1' })),
      cand({ med: 5 }, src({ routerId: 2, address: '192.0.2.2' })),
      cand({ asPath: [{ type: 'sequence', asns: [65009] }] }, src({ routerId: 4, address: '192.0.2.4' })),
    ];
    expect(selectBest(c, opts)).toEqual({ best: 1, multipath: [1, 0] });
    expect(selectBest([], opts)).toEqual({ best: -1, multipath: [] });
  });

  it('orders addresses numerically', () => {
    expect(addressSortKey('10.0.0.9') < addressSortKey('10.0.0.10')).toBe(true);
    expect(addressSortKey('2001:db8::9') < addressSortKey('2001:db8::a')).toBe(true);
    expect(addressSortKey('255.255.255.255') < addressSortKey('::1')).toBe(true);
    expect(asPathLength([{ type: 'confed-sequence', asns: [1, 2] }, { type: 'sequence', asns: [3] }])).toBe(1);
  });
});
