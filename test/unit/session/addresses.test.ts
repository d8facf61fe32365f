import { canonicalAddress } from '../../../src/bgp/session/tcp-transport';

describe('canonicalAddress', () => {
  it.each([
    ['::ffff:127.0.0.2', '127.0.0.2'],
    ['::FFFF:10.1.2.3', '10.1.2.3'],
    ['192.0.2.1', '192.0.2.1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:DB8::A', '2001:db8::a'],
    ['fe80:0:0:0:0:0:0:1%eth0', 'fe80::1%eth0'],
    ['::1', '::1'],
  ])('%s -> %s', (input, out) => {
    expect(canonicalAddress(input)).toBe(out);
  });
});
