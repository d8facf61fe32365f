import { isIPv6 } from 'node:net';
import fc from 'fast-check';
import { Address6 } from 'ip-address';
import { canonicalAddress, canonicalPrefix, formatIpv6, parseAddress, parsePrefix } from '../../../src/netlink/addr';

describe('netlink/addr', () => {
  test.each([
    ['198.18.0.1', '198.18.0.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['fd00:7a7a::1', 'fd00:7a7a::1'],
    ['FD00:7A7A:0:0:0:0:0:1', 'fd00:7a7a::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // RFC 5952 §4.2.3: first longest run
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // §4.2.2: a single 0 group is not compressed
    ['::ffff:198.18.0.1', '::ffff:c612:1'],
  ])('canonical %s → %s', (input, want) => {
    expect(canonicalAddress(input)).toBe(want);
  });

  test.each(['256.0.0.1', '1.2.3', '1.2.3.4.5', '1..2.3', 'a.b.c.d', '1:2:3:4:5:6:7:8:9', '1::2::3', ':1', '1:', '12345::', 'g::'])(
    'rejects %s',
    (bad) => {
      expect(parseAddress(bad)).toBeNull();
    },
  );

  test('prefixes clear host bits and keep the length', () => {
    expect(canonicalPrefix('198.18.7.9/16')).toBe('198.18.0.0/16');
    expect(canonicalPrefix('198.18.7.9')).toBe('198.18.7.9/32');
    expect(canonicalPrefix('fd00:7a7a:1:2::5/48')).toBe('fd00:7a7a:1::/48');
    expect(canonicalPrefix('fd00::/129')).toBeNull();
    expect(parsePrefix('10.0.0.0/x')).toBeNull();
  });

  test('IPv6 formatting matches ip-address correctForm for random addresses', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 7 }), (bytes, zeroRun) => {
        // Bias towards zero runs, where compression rules matter.
        for (let i = 0; i < zeroRun * 2; i++) bytes[(i + zeroRun) % 16] = 0;
        const text = formatIpv6(bytes);
        expect(isIPv6(text)).toBe(true);
        expect(text).toBe(new Address6(text).correctForm());
        const back = parseAddress(text);
        expect(back && Array.from(back.bytes)).toEqual(Array.from(bytes));
      }),
    );
  });
});
