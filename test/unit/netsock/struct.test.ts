import { isTartanError } from '../../../src/errors';
import {
  AF_INET,
  AF_INET6,
  addressBytes,
  familyOf,
  gtsmMinTtl,
  packInt,
  packMd5Sig,
  packSockaddr,
  SOCKOPT_INVALID,
  TCP_MD5SIG_SIZE,
  unpackInt,
} from '../../../src/netsock/struct';

/** The test host is little-endian (x86-64, arm64): host-order fields are checked as LE. */
describe('socket option structures', () => {
  it('packs sockaddr_in: family (host order), port (network order), address', () => {
    const b = packSockaddr('198.18.1.2', 179);
    expect(b).toHaveLength(16);
    expect(b.readUInt16LE(0)).toBe(AF_INET);
    expect(b.readUInt16BE(2)).toBe(179);
    expect([...b.subarray(4, 8)]).toEqual([198, 18, 1, 2]);
    expect(b.subarray(8).every((x) => x === 0)).toBe(true);
  });

  it('packs sockaddr_in6 with the address at offset 8 and zero flowinfo and scope', () => {
    const b = packSockaddr('fd00:7a7a:1::2', 1179);
    expect(b).toHaveLength(28);
    expect(b.readUInt16LE(0)).toBe(AF_INET6);
    expect(b.readUInt16BE(2)).toBe(1179);
    expect(b.readUInt32LE(4)).toBe(0);
    expect(b.subarray(8, 24).toString('hex')).toBe('fd007a7a000100000000000000000002');
    expect(b.readUInt32LE(24)).toBe(0);
  });

  it('names an IPv4 peer by its IPv4-mapped address on an AF_INET6 socket', () => {
    const b = packSockaddr('198.18.1.2', 0, AF_INET6);
    expect(b.readUInt16LE(0)).toBe(AF_INET6);
    expect(b.subarray(8, 24).toString('hex')).toBe('00000000000000000000ffffc6120102');
  });

  it('refuses an IPv6 address on an AF_INET socket, zones and non-addresses', () => {
    for (const f of [() => packSockaddr('fd00::1', 0, AF_INET), () => addressBytes('fe80::1%eth0'), () => addressBytes('host.example')]) {
      expect(f).toThrow();
      try {
        f();
      } catch (err) {
        expect(isTartanError(err, SOCKOPT_INVALID)).toBe(true);
      }
    }
  });

  it('expands every IPv6 spelling to the same 16 bytes', () => {
    expect(addressBytes('2001:db8::1').toString('hex')).toBe('20010db8000000000000000000000001');
    expect(addressBytes('::ffff:10.0.0.1').toString('hex')).toBe('00000000000000000000ffff0a000001');
    expect(addressBytes('::').toString('hex')).toBe('0'.repeat(32));
  });

  it('packs struct tcp_md5sig: 216 bytes, address in sockaddr_storage, keylen at 130, key at 136', () => {
    const key = Buffer.from('s3cret');
    const b = packMd5Sig('198.18.1.2', key, AF_INET);
    expect(b).toHaveLength(TCP_MD5SIG_SIZE);
    expect(b.subarray(0, 16).equals(packSockaddr('198.18.1.2'))).toBe(true);
    expect(b.subarray(16, 128).every((x) => x === 0)).toBe(true);
    expect(b[128]).toBe(0); // flags: exact address, no ifindex
    expect(b[129]).toBe(0); // prefix length (unused without TCP_MD5SIG_FLAG_PREFIX)
    expect(b.readUInt16LE(130)).toBe(6);
    expect(b.readInt32LE(132)).toBe(0); // ifindex
    expect(b.subarray(136, 142).toString()).toBe('s3cret');
    expect(b.subarray(142).every((x) => x === 0)).toBe(true);
  });

  it('packs a delete (keylen 0) and an IPv6 peer on an AF_INET6 socket', () => {
    const del = packMd5Sig('fd00:7a7a:1::2', undefined, AF_INET6);
    expect(del.readUInt16LE(0)).toBe(AF_INET6);
    expect(del.readUInt16LE(130)).toBe(0);
    expect(del.subarray(136).every((x) => x === 0)).toBe(true);
  });

  it('takes keys up to the kernel limit of 80 bytes', () => {
    expect(packMd5Sig('10.0.0.1', Buffer.alloc(80, 0x61), AF_INET).subarray(136).every((x) => x === 0x61)).toBe(true);
    expect(() => packMd5Sig('10.0.0.1', Buffer.alloc(81), AF_INET)).toThrow(/at most 80 bytes/);
  });

  it('packs ints in host order', () => {
    expect(packInt(255).readInt32LE(0)).toBe(255);
    expect(packInt(-1).readInt32LE(0)).toBe(-1);
    expect(unpackInt(packInt(254))).toBe(254);
  });

  it('GTSM minimum TTL is 256 - hops (BIRD ttl security with multihop N; RFC 5082 §3)', () => {
    expect(gtsmMinTtl(1)).toBe(255);
    expect(gtsmMinTtl(2)).toBe(254);
    expect(gtsmMinTtl(255)).toBe(1);
    expect(() => gtsmMinTtl(0)).toThrow(/1..255/);
    expect(() => gtsmMinTtl(256)).toThrow(/1..255/);
  });

  it('chooses the socket family from the peer address', () => {
    expect(familyOf('10.0.0.1')).toBe(AF_INET);
    expect(familyOf('fd00::1')).toBe(AF_INET6);
  });
});
