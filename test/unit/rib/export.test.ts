import { exportOriginated } from '../../../src/bgp/policy/export';
import { parseConfig } from '../../../src/config';

const cfg = parseConfig(`
routerId: 192.0.2.10
originate:
  - 10.65.0.0/26
  - 10.65.1.0/26
  - {prefix: 10.65.2.0/26, med: 5, communities: ["64512:100", no-export], largeCommunities: ["4200000001:1:2"], localPref: 300}
  - {prefix: 10.65.3.0/26, nextHop: 192.0.2.99}
  - 2001:db8:65::/64
`);

describe('export of originated routes (RFC 4271 §5.1)', () => {
  const ctxBase = { families: ['ipv4-unicast', 'ipv6-unicast'] as const, nextHopSelf: { ipv4: '192.0.2.10', ipv6: '2001:db8::10' } };

  it('eBGP: prepends our AS, sends no LOCAL_PREF, groups equal attributes', () => {
    const { groups, skipped } = exportOriginated(cfg.originate, { ...ctxBase, families: [...ctxBase.families], localAs: 4200000001, peerAs: 65001 });
    expect(skipped).toEqual([]);
    const plain = groups.find((g) => g.nlri.length === 2)!;
    expect(plain.nlri.map((n) => n.prefix)).toEqual(['10.65.0.0/26', '10.65.1.0/26']);
    expect(plain.attributes).toEqual({ origin: 0, asPath: [{ type: 'sequence', asns: [4200000001] }] });
    expect(plain.nextHop).toBe('192.0.2.10');
    const tagged = groups.find((g) => g.nlri[0]!.prefix === '10.65.2.0/26')!;
    expect(tagged.attributes).toMatchObject({ med: 5, communities: [64512 * 65536 + 100, 0xffffff01], largeCommunities: [[4200000001, 1, 2]] });
    expect(tagged.attributes.localPref).toBeUndefined();
    expect(groups.find((g) => g.nlri[0]!.prefix === '10.65.3.0/26')!.nextHop).toBe('192.0.2.99');
    expect(groups.find((g) => g.family === 'ipv6-unicast')!.nextHop).toBe('2001:db8::10');
    expect(groups).toHaveLength(4);
  });

  it('iBGP: empty AS_PATH and LOCAL_PREF (default 100, or the configured one)', () => {
    const { groups } = exportOriginated(cfg.originate, { ...ctxBase, families: [...ctxBase.families], localAs: 64512, peerAs: 64512 });
    expect(groups[0]!.attributes).toEqual({ origin: 0, asPath: [], localPref: 100 });
    expect(groups.find((g) => g.nlri[0]!.prefix === '10.65.2.0/26')!.attributes.localPref).toBe(300);
  });

  it('skips families the session lacks, and routes with no next hop of their family', () => {
    const v4only = exportOriginated(cfg.originate, { localAs: 1, peerAs: 2, families: ['ipv4-unicast'], nextHopSelf: { ipv4: '192.0.2.10' } });
    expect(v4only.groups.every((g) => g.family === 'ipv4-unicast')).toBe(true);
    const noV6 = exportOriginated(cfg.originate, { localAs: 1, peerAs: 2, families: ['ipv6-unicast'], nextHopSelf: { ipv4: '192.0.2.10' } });
    expect(noV6.groups).toEqual([]);
    expect(noV6.skipped).toEqual([{ prefix: '2001:db8:65::/64', reason: expect.stringContaining('no IPv6 next hop') }]);
  });
});
