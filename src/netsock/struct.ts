/**
 * Linux socket-option structures as bytes (pure: no I/O). The native layer
 * (native.ts) hands these buffers to setsockopt(2) as they are.
 *
 * Layouts, from the kernel's UAPI headers (x86-64 and arm64 alike; integers
 * other than the port are in host byte order):
 *
 *   struct sockaddr_in   { u16 family; be16 port; u8 addr[4]; u8 zero[8]; }        16 bytes
 *   struct sockaddr_in6  { u16 family; be16 port; u32 flowinfo; u8 addr[16]; u32 scope_id; }  28 bytes
 *   struct tcp_md5sig    { sockaddr_storage addr (128); u8 flags; u8 prefixlen;
 *                          u16 keylen; s32 ifindex; u8 key[80]; }                   216 bytes
 */
import { isIP } from 'node:net';
import { endianness } from 'node:os';
import { Address6 } from 'ip-address';
import { TartanError } from '../errors';

export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_STREAM = 1;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;

export const SOL_IP = 0;
export const IPPROTO_TCP = 6;
export const IPPROTO_IPV6 = 41;

/** Outgoing unicast TTL; -1 restores the system default (net.ipv4.ip_default_ttl). */
export const IP_TTL = 2;
/** Packets with a smaller TTL are dropped (RFC 5082 GTSM). */
export const IP_MINTTL = 21;
/** IPv6 outgoing hop limit; -1 restores the default. */
export const IPV6_UNICAST_HOPS = 16;
/** The IPv6 counterpart of IP_MINTTL. */
export const IPV6_MINHOPCOUNT = 73;
/** RFC 2385 TCP-MD5 signature key for one peer address. */
export const TCP_MD5SIG = 14;

/** TCP_MD5SIG_MAXKEYLEN: the longest key the kernel takes. */
export const TCP_MD5_MAX_KEY_LENGTH = 80;
export const TCP_MD5SIG_SIZE = 216;
const SOCKADDR_STORAGE_SIZE = 128;

/** Stable code of an address or key these structures cannot hold. */
export const SOCKOPT_INVALID = 'SOCKOPT_INVALID';

const LE = endianness() === 'LE';

function writeU16(b: Buffer, v: number, at: number): void {
  if (LE) b.writeUInt16LE(v, at);
  else b.writeUInt16BE(v, at);
}

/** The 4 or 16 address bytes of an IP literal (no zone: a scoped address needs an ifindex we do not resolve). */
export function addressBytes(address: string): Buffer {
  const v = address.includes('%') ? 0 : isIP(address);
  if (v === 4) return Buffer.from(address.split('.').map(Number));
  if (v === 6) {
    const groups = new Address6(address).canonicalForm().split(':');
    const b = Buffer.alloc(16);
    groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
    return b;
  }
  throw new TartanError(SOCKOPT_INVALID, `"${address}" is not an IP address without a zone`);
}

/**
 * sockaddr_in for an IPv4 address, sockaddr_in6 for an IPv6 one. With
 * `family` AF_INET6 an IPv4 address becomes its IPv4-mapped IPv6 form
 * (::ffff:a.b.c.d), which is how a dual-stack (AF_INET6) socket names IPv4
 * peers.
 */
export function packSockaddr(address: string, port = 0, family: number = isIP(address) === 6 ? AF_INET6 : AF_INET): Buffer {
  const bytes = addressBytes(address);
  if (family === AF_INET) {
    if (bytes.length !== 4) throw new TartanError(SOCKOPT_INVALID, `an IPv4 socket cannot name the IPv6 address ${address}`);
    const b = Buffer.alloc(16);
    writeU16(b, AF_INET, 0);
    b.writeUInt16BE(port, 2);
    bytes.copy(b, 4);
    return b;
  }
  const b = Buffer.alloc(28);
  writeU16(b, AF_INET6, 0);
  b.writeUInt16BE(port, 2);
  if (bytes.length === 4) {
    b.writeUInt16BE(0xffff, 18);
    bytes.copy(b, 20);
  } else {
    bytes.copy(b, 8);
  }
  return b;
}

/**
 * struct tcp_md5sig for TCP_MD5SIG: the key for one peer address, as seen by
 * a socket of `family`. No key (or an empty one) deletes the address's key.
 */
export function packMd5Sig(address: string, key: Buffer | undefined, family: number): Buffer {
  if (key !== undefined && key.length > TCP_MD5_MAX_KEY_LENGTH) {
    throw new TartanError(SOCKOPT_INVALID, `a TCP-MD5 key is at most ${TCP_MD5_MAX_KEY_LENGTH} bytes, got ${key.length}`);
  }
  const b = Buffer.alloc(TCP_MD5SIG_SIZE);
  const addr = packSockaddr(address, 0, family);
  addr.copy(b, 0);
  // flags 0 (no prefix, no ifindex): the key is for exactly this address.
  if (key !== undefined) {
    writeU16(b, key.length, SOCKADDR_STORAGE_SIZE + 2);
    key.copy(b, SOCKADDR_STORAGE_SIZE + 8);
  }
  return b;
}

/** An int option value. */
export function packInt(value: number): Buffer {
  const b = Buffer.alloc(4);
  if (LE) b.writeInt32LE(value);
  else b.writeInt32BE(value);
  return b;
}

export function unpackInt(b: Buffer): number {
  return LE ? b.readInt32LE(0) : b.readInt32BE(0);
}

/** The address family a socket for this peer address uses. */
export function familyOf(address: string): number {
  return isIP(address) === 6 ? AF_INET6 : AF_INET;
}

/**
 * GTSM (RFC 5082 §3): send with TTL 255; accept only what came at most
 * `hops` hops: TTL ≥ 256 - hops (BIRD `ttl security on` + `multihop hops`;
 * 1 = directly connected, TTL 255 only).
 */
export function gtsmMinTtl(hops: number): number {
  if (!Number.isInteger(hops) || hops < 1 || hops > 255) throw new TartanError(SOCKOPT_INVALID, `TTL security hops must be 1..255, got ${hops}`);
  return 256 - hops;
}
