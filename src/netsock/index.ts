/**
 * TCP socket protections node:net has no API for, as the BGP session layer
 * uses them (BIRD's sysdep/linux semantics):
 *
 * - TCP-MD5 signatures (RFC 2385): a key per peer address, on the outgoing
 *   socket before connect() and on the listening socket (inherited by the
 *   sockets it accepts). The kernel then drops unsigned or wrongly signed
 *   segments from that address, and signs ours.
 * - GTSM / TTL security (RFC 5082): send with TTL (hop limit) 255 and have the
 *   kernel drop what arrives with a TTL below 256 - hops.
 *
 * Outgoing sockets are created here (socket(2) + setsockopt(2)) and handed to
 * `new net.Socket({ fd })`, which node:net then binds and connects as usual.
 * Listening and accepted sockets are node:net's; their descriptor is read
 * from the handle.
 */
import { isIP, Socket, type Server } from 'node:net';
import { TartanError } from '../errors';
import { closeFd, getOption, setOption, SockoptError, tcpSocket } from './native';
import {
  AF_INET6,
  familyOf,
  gtsmMinTtl,
  IP_MINTTL,
  IP_TTL,
  IPPROTO_IPV6,
  IPPROTO_TCP,
  IPV6_MINHOPCOUNT,
  IPV6_UNICAST_HOPS,
  packInt,
  packMd5Sig,
  SOL_IP,
  TCP_MD5SIG,
  unpackInt,
} from './struct';

export { SOCKOPT_FAILED, SOCKOPT_UNAVAILABLE, SockoptError } from './native';
export { AF_INET, AF_INET6, SOCKOPT_INVALID, TCP_MD5_MAX_KEY_LENGTH, familyOf, gtsmMinTtl } from './struct';

/** Protections of the connections with one peer. */
export interface SocketSecurity {
  /** TCP-MD5 key (RFC 2385), 1..80 bytes. */
  tcpMd5Key?: Buffer;
  /** GTSM (RFC 5082): the peer is at most this many hops away (1..255). */
  ttlSecurity?: number;
}

/** No descriptor behind a node:net object (not connected or listening yet, or closed). */
export const SOCKOPT_NO_FD = 'SOCKOPT_NO_FD';

/** The descriptor of a node:net socket or server (Linux; read from its libuv handle). */
export function fdOf(s: Socket | Server): number {
  const fd = (s as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new TartanError(SOCKOPT_NO_FD, 'the socket has no descriptor (not open)');
  return fd;
}

/** Option level and names for the TTL options of traffic with `peer`. */
function ttlOptions(peer: string): { level: number; ttl: number; min: number; name: string; minName: string } {
  return isIP(peer) === 6
    ? { level: IPPROTO_IPV6, ttl: IPV6_UNICAST_HOPS, min: IPV6_MINHOPCOUNT, name: 'IPV6_UNICAST_HOPS', minName: 'IPV6_MINHOPCOUNT' }
    : { level: SOL_IP, ttl: IP_TTL, min: IP_MINTTL, name: 'IP_TTL', minName: 'IP_MINTTL' };
}

/**
 * Set (or, with no key, delete) the TCP-MD5 key for `peer` on a socket of
 * `socketFamily`. Deleting a key that is not there is not an error.
 */
export function setMd5Key(fd: number, socketFamily: number, peer: string, key: Buffer | undefined): void {
  const what = `TCP_MD5SIG ${key === undefined ? 'delete' : 'set'} for ${peer}`;
  try {
    setOption(fd, IPPROTO_TCP, TCP_MD5SIG, packMd5Sig(peer, key, socketFamily), what);
  } catch (err) {
    if (key === undefined && err instanceof SockoptError && err.errno === 'ENOENT') return;
    throw err;
  }
}

/**
 * GTSM on a socket for traffic with `peer`: TTL 255 out, minimum TTL
 * 256 - hops in. With `hops` undefined: the system default TTL and no minimum.
 */
export function setTtlSecurity(fd: number, peer: string, hops: number | undefined): void {
  const o = ttlOptions(peer);
  if (hops === undefined) {
    setOption(fd, o.level, o.min, packInt(0), `${o.minName} 0 for ${peer}`);
    setOption(fd, o.level, o.ttl, packInt(-1), `${o.name} default for ${peer}`);
    return;
  }
  const min = gtsmMinTtl(hops);
  // The minimum first: nothing of ours leaves before it is in force.
  setOption(fd, o.level, o.min, packInt(min), `${o.minName} ${min} for ${peer}`);
  setOption(fd, o.level, o.ttl, packInt(255), `${o.name} 255 for ${peer}`);
}

/**
 * A listening socket sends SYN-ACKs with its own TTL: 255, so that a GTSM
 * peer connecting to us accepts them (BIRD's listening socket does the
 * same). A dual-stack socket gets it for IPv4 and IPv6.
 */
export function raiseListenerTtl(fd: number, socketFamily: number): void {
  setOption(fd, SOL_IP, IP_TTL, packInt(255), 'IP_TTL 255 on the listening socket');
  if (socketFamily === AF_INET6) setOption(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, packInt(255), 'IPV6_UNICAST_HOPS 255 on the listening socket');
}

/** TTL and minimum TTL of a socket for traffic with `peer` (diagnostics and tests). */
export function ttlOf(fd: number, peer: string): { ttl: number; minTtl: number } {
  const o = ttlOptions(peer);
  return {
    ttl: unpackInt(getOption(fd, o.level, o.ttl, 4, `get ${o.name}`)),
    minTtl: unpackInt(getOption(fd, o.level, o.min, 4, `get ${o.minName}`)),
  };
}

/**
 * A new TCP socket for a connection to `peer`, its protections in place
 * before any packet leaves. The caller wraps it: `new net.Socket({ fd })`
 * and connect(); on error the descriptor is closed here.
 */
export function openSecuredSocket(peer: string, security: SocketSecurity): number {
  const family = familyOf(peer);
  const fd = tcpSocket(family, `socket for ${peer}`);
  try {
    if (security.tcpMd5Key !== undefined) setMd5Key(fd, family, peer, security.tcpMd5Key);
    if (security.ttlSecurity !== undefined) setTtlSecurity(fd, peer, security.ttlSecurity);
  } catch (err) {
    closeFd(fd);
    throw err;
  }
  return fd;
}

/** openSecuredSocket wrapped in a node:net Socket, ready for connect() (binding a source address there works as usual). */
export function securedSocket(peer: string, security: SocketSecurity): Socket {
  const fd = openSecuredSocket(peer, security);
  try {
    return new Socket({ fd });
  } catch (err) {
    closeFd(fd);
    throw err;
  }
}
export { disableNetlinkOverrunErrors, netlinkSocketFd } from './netlink-guard';
