import { bgpIdToUint32, resolveCollision } from '../../../src/bgp/session/collision';

describe('bgpIdToUint32', () => {
  it.each([
    ['0.0.0.1', 1],
    ['10.0.0.1', 0x0a000001],
    ['128.0.0.0', 0x80000000],
    ['255.255.255.255', 0xffffffff],
  ])('%s -> %d (unsigned)', (id, n) => {
    expect(bgpIdToUint32(id)).toBe(n);
  });

  it.each(['1.2.3', '1.2.3.256', 'a.b.c.d', '1.2.3.4.5'])('rejects %s', (id) => {
    expect(() => bgpIdToUint32(id)).toThrow(RangeError);
  });
});

describe('resolveCollision (RFC 4271 §6.8)', () => {
  it.each([
    { local: '10.0.0.2', remote: '10.0.0.1', keep: 'outgoing' },
    { local: '10.0.0.1', remote: '10.0.0.2', keep: 'incoming' },
    // Signed 32-bit comparison would get these two wrong.
    { local: '200.0.0.1', remote: '10.0.0.1', keep: 'outgoing' },
    { local: '10.0.0.1', remote: '200.0.0.1', keep: 'incoming' },
  ])('local $local vs remote $remote keeps $keep', ({ local, remote, keep }) => {
    expect(resolveCollision({ bgpId: local, asn: 65001 }, { bgpId: remote, asn: 65002 })).toBe(keep);
  });

  it('breaks a tie of identifiers on the AS number (RFC 6286 §2.3)', () => {
    expect(resolveCollision({ bgpId: '10.0.0.1', asn: 65002 }, { bgpId: '10.0.0.1', asn: 65001 })).toBe('outgoing');
    expect(resolveCollision({ bgpId: '10.0.0.1', asn: 65001 }, { bgpId: '10.0.0.1', asn: 65002 })).toBe('incoming');
  });
});
