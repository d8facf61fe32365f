import { AdjRibIn, AttributeInterner, applyUpdate } from '../../../src/bgp/rib';
import { BgpWireError, MessageType, Origin, type UpdateMessage, type Family } from '../../../src/bgp/wire';

const both = new Set<Family>(['ipv4-unicast', 'ipv6-unicast']);

function update(u: Partial<UpdateMessage>): UpdateMessage {
  return { type: MessageType.UPDATE, withdrawn: [], nlri: [], attributes: {}, ...u };
}

const base = { origin: Origin.IGP, asPath: [{ type: 'sequence' as const, asns: [65001] }] };

describe('Adj-RIB-In', () => {
  it('stores classic IPv4 NLRI with NEXT_HOP and MP_REACH IPv6 NLRI with its next hops', () => {
    const rib = new AdjRibIn(new AttributeInterner());
    applyUpdate(rib, update({ nlri: [{ prefix: '10.0.0.0/24' }, { prefix: '10.0.1.0/24' }], attributes: { ...base, nextHop: '192.0.2.1' } }), both, 1);
    applyUpdate(rib, update({ attributes: { ...base, mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1', 'fe80::1'], nlri: [{ prefix: '2001:db8:1::/48' }] } } }), both, 2);
    expect(rib.count('ipv4-unicast')).toBe(2);
    expect(rib.count('ipv6-unicast')).toBe(1);
    const v6 = [...rib.routes('ipv6-unicast')][0]!;
    expect(v6.attrs.nextHops).toEqual(['2001:db8::1', 'fe80::1']);
    expect(v6.attrs).not.toHaveProperty('mpReach');
  });

  it('shares one attribute object between routes with equal attributes (interning)', () => {
    const interner = new AttributeInterner();
    const rib = new AdjRibIn(interner);
    applyUpdate(rib, update({ nlri: [{ prefix: '10.0.0.0/24' }], attributes: { ...base, nextHop: '192.0.2.1', communities: [1] } }), both, 1);
    applyUpdate(rib, update({ nlri: [{ prefix: '10.0.1.0/24' }], attributes: { ...base, nextHop: '192.0.2.1', communities: [1] } }), both, 1);
    const [a, b] = [...rib.routes('ipv4-unicast')];
    expect(a!.attrs).toBe(b!.attrs);
    expect(interner.size).toBe(1);
    rib.clear();
    expect(interner.size).toBe(0);
  });

  it('implicit withdraw: a re-announcement replaces the route and releases the old attributes', () => {
    const interner = new AttributeInterner();
    const rib = new AdjRibIn(interner);
    applyUpdate(rib, update({ nlri: [{ prefix: '10.0.0.0/24' }], attributes: { ...base, nextHop: '192.0.2.1' } }), both, 1);
    applyUpdate(rib, update({ nlri: [{ prefix: '10.0.0.0/24' }], attributes: { ...base, nextHop: '192.0.2.2' } }), both, 2);
    expect(rib.count('ipv4-unicast')).toBe(1);
    expect([...rib.routes('ipv4-unicast')][0]!.attrs.nextHops).toEqual(['192.0.2.2']);
    expect(interner.size).toBe(1);
  });

  it('withdraws classic and MP_UNREACH prefixes; ADD-PATH ids are distinct routes', () => {
    const rib = new AdjRibIn(new AttributeInterner());
    applyUpdate(rib, update({ nlri: [{ prefix: '10.0.0.0/24', pathId: 1 }, { prefix: '10.0.0.0/24', pathId: 2 }], attributes: { ...base, nextHop: '192.0.2.1' } }), both, 1);
    applyUpdate(rib, update({ attributes: { ...base, mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1'], nlri: [{ prefix: '2001:db8::/32' }] } } }), both, 1);
    expect(rib.count('ipv4-unicast')).toBe(2);
    const e1 = applyUpdate(rib, update({ withdrawn: [{ prefix: '10.0.0.0/24', pathId: 1 }] }), both, 2);
    const e2 = applyUpdate(rib, update({ attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [{ prefix: '2001:db8::/32' }] } } }), both, 2);
    expect(e1.withdrawn + e2.withdrawn).toBe(2);
    expect(rib.count('ipv4-unicast')).toBe(1);
    expect(rib.count('ipv6-unicast')).toBe(0);
  });

  it('RFC 7606 treat-as-withdraw removes the announced prefixes instead of installing them', () => {
    const rib = new AdjRibIn(new AttributeInterner());
    applyUpdate(rib, update({ nlri: [{ prefix: '10.0.0.0/24' }], attributes: { ...base, nextHop: '192.0.2.1' } }), both, 1);
    const err = new BgpWireError('bad ORIGIN', { code: 3, subcode: 6 }, 'treat-as-withdraw', 1);
    const effect = applyUpdate(rib, update({ nlri: [{ prefix: '10.0.0.0/24' }, { prefix: '10.9.0.0/16' }], attributes: { ...base, nextHop: '192.0.2.1' }, errors: [err] }), both, 2);
    expect(effect.treatedAsWithdraw).toBe(2);
    expect(effect.announced).toBe(0);
    expect(rib.count('ipv4-unicast')).toBe(0);
  });

  it('ignores families the session did not negotiate and says so', () => {
    const rib = new AdjRibIn(new AttributeInterner());
    const effect = applyUpdate(rib, update({ attributes: { ...base, mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1'], nlri: [{ prefix: '2001:db8::/32' }] } } }), new Set(['ipv4-unicast']), 1);
    expect(effect.ignoredFamilies).toEqual(['afi 2 safi 1']);
    expect(rib.count('ipv6-unicast')).toBe(0);
  });

  it('a withdrawal and re-announcement in one UPDATE leaves the prefix announced', () => {
    const rib = new AdjRibIn(new AttributeInterner());
    applyUpdate(rib, update({ withdrawn: [{ prefix: '10.0.0.0/24' }], nlri: [{ prefix: '10.0.0.0/24' }], attributes: { ...base, nextHop: '192.0.2.1' } }), both, 1);
    expect(rib.count('ipv4-unicast')).toBe(1);
  });
});
