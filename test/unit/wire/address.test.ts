import fc from 'fast-check';
import { formatIpv6, parseIpv4, parseIpv6, parsePrefix, formatPrefix } from '../../../src/bgp/wire/address';

/** WHATWG URL host serialisation is RFC 5952 for everything but the IPv4-mapped range: an independent oracle. */
function whatwg(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

describe('IPv6 text (RFC 5952)', () => {
  test.each([
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // leftmost of equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::', 'fe80::'],
    ['2001:DB8::A', '2001:db8::a'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['::ffff:c000:201', '::ffff:192.0.2.1'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['::192.0.2.1', '::c000:201'],
  ])('%s -> %s', (input, canonical) => {
    const b = parseIpv6(input);
    expect(b).toBeDefined();
    expect(formatIpv6(b as Buffer)).toBe(canonical);
  });

  test.each(['', '1::2::3', '12345::', 'fe80::1%eth0', '1:2:3:4:5:6:7:8:9', '192.0.2.1', 'g::1', '::ffff:300.1.1.1'])('rejects %j', (s) => {
    expect(parseIpv6(s)).toBeUndefined();
  });

  test('agrees with the WHATWG serialiser, and round trips, for random addresses', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 15 }), (raw, zeros) => {
        const b = Buffer.from(raw);
        b.fill(0, zeros, Math.min(16, zeros + 6)); // make zero runs common
        const text = formatIpv6(b);
        if (!text.startsWith('::ffff:') || text.split(':').length !== 3) expect(text).toBe(whatwg(b));
        expect(parseIpv6(text)?.equals(b)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('IPv4 text', () => {
  test.each(['192.0.2.1', '0.0.0.0', '255.255.255.255'])('accepts %s', (s) => {
    expect(parseIpv4(s)?.join('.')).toBe(s);
  });
  test.each(['256.0.0.1', '01.2.3.4', '1.2.3', '1.2.3.4.5', ' 1.2.3.4', '1.2.3.4/32', ''])('rejects %j', (s) => {
    expect(parseIpv4(s)).toBeUndefined();
  });
});

describe('prefixes', () => {
  test('host bits are cleared and the text is canonical', () => {
    const p = parsePrefix('10.1.2.3/8', 4);
    expect(p && formatPrefix(p.address, p.length)).toBe('10.0.0.0/8');
    const q = parsePrefix('2001:DB8:0:0:1::/33', 16);
    expect(q && formatPrefix(q.address, q.length)).toBe('2001:db8::/33');
    const r = parsePrefix('2001:db8:ffff::/33', 16);
    expect(r && formatPrefix(r.address, r.length)).toBe('2001:db8:8000::/33');
  });
  test.each<[string, 4 | 16]>([
    ['10.0.0.0/33', 4],
    ['10.0.0.0', 4],
    ['10.0.0.0/', 4],
    ['10.0.0.0/-1', 4],
    ['10.0.0.0/08x', 4],
    ['::/129', 16],
    ['::/0', 4],
    ['10.0.0.0/8', 16],
  ])('rejects %s (width %i)', (s, w) => {
    expect(parsePrefix(s, w)).toBeUndefined();
  });
});
