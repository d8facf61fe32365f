/**
 * The BGP listening socket: accepts TCP connections and hands each one to
 * the configured Peer with that remote address. A connection from an
 * address with no configured peer gets NOTIFICATION Cease/5 (Connection
 * Rejected, RFC 4486 §4) and is closed; the daemon hears about it through a
 * `rejected` event so it can log who knocked.
 *
 * Peers with a TCP-MD5 key (RFC 2385) have it installed on the listening
 * socket for their address, so the kernel completes handshakes from that
 * address only when they are signed with it; keys follow addPeer/removePeer
 * at run time. Sockets accepted for a peer with TTL security (RFC 5082) get
 * TTL 255 and the minimum TTL before our first byte is sent; the listening
 * socket itself sends with TTL 255 once such a peer exists (BIRD does the
 * same), so GTSM peers accept our SYN-ACK.
 */

import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { TartanError, errorMessage } from '../../errors';
import { AF_INET, AF_INET6, fdOf, raiseListenerTtl, setMd5Key, setTtlSecurity } from '../../netsock';
import { BGP_PORT } from './defaults';
import type { PeerIdentity } from './events';
import type { Peer } from './peer';
import { rejectConnection } from './reject';
import { canonicalAddress, TcpTransport } from './tcp-transport';

export interface ListenerOptions {
  /**
   * Address to bind. Default: Node's unspecified address, which is `::`
   * accepting IPv4 too (dual stack) where IPv6 exists, else 0.0.0.0.
   */
  host?: string;
  /** Default 179. Use 0 for an ephemeral port (tests). */
  port?: number;
}

export type ListenerEvent =
  | { type: 'listening'; address: string; port: number }
  | { type: 'accepted'; remoteAddress: string; remotePort: number; peer: PeerIdentity }
  /** No configured peer has this address; it got Cease/5. Refusals by a known peer come as its own event. */
  | { type: 'rejected'; remoteAddress: string; remotePort: number; reason: string }
  | { type: 'error'; error: Error };

export class Listener extends EventEmitter<{ event: [ListenerEvent] }> {
  private readonly server: Server;
  /** Peers by canonical address; several peers on one address (different ports) share the first entry. */
  private readonly peers = new Map<string, Peer[]>();
  /** TCP-MD5 keys installed on the listening socket, by canonical address. */
  private readonly md5Keys = new Map<string, Buffer>();
  /** The listening socket sends with TTL 255 (a TTL-security peer was configured). */
  private ttlRaised = false;

  constructor(private readonly options: ListenerOptions = {}) {
    super();
    this.server = createServer((socket) => this.onConnection(socket));
    this.server.on('error', (error) => this.emit('event', { type: 'error', error }));
  }

  addPeer(peer: Peer): void {
    const key = canonicalAddress(peer.config.address);
    const list = this.peers.get(key) ?? [];
    if (!list.includes(peer)) list.push(peer);
    this.peers.set(key, list);
    this.installSecurity(key);
  }

  removePeer(peer: Peer): void {
    const key = canonicalAddress(peer.config.address);
    const list = (this.peers.get(key) ?? []).filter((p) => p !== peer);
    if (list.length === 0) this.peers.delete(key);
    else this.peers.set(key, list);
    this.installSecurity(key);
  }

  /** Bind and listen; resolves with the bound address (useful with port 0). */
  listen(): Promise<{ address: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen({ port: this.options.port ?? BGP_PORT, ...(this.options.host !== undefined ? { host: this.options.host } : {}) }, () => {
        this.server.off('error', onError);
        const bound = this.address();
        if (bound === undefined) {
          reject(new TartanError('BGP_LISTEN_FAILED', 'listener has no address after listen'));
          return;
        }
        // Before the first accept: keys of the peers added so far.
        for (const address of this.peers.keys()) this.installSecurity(address);
        this.emit('event', { type: 'listening', ...bound });
        resolve(bound);
      });
    });
  }

  /** The bound address and port, once listening. */
  address(): { address: string; port: number } | undefined {
    const a = this.server.address();
    if (a === null || typeof a === 'string') return undefined;
    return { address: a.address, port: a.port };
  }

  /** Stop accepting; established sessions are the peers' business. */
  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.md5Keys.clear();
      this.ttlRaised = false;
      if (!this.server.listening) {
        resolve();
        return;
      }
      this.server.close((err) => (err === undefined ? resolve() : reject(err)));
    });
  }

  private onConnection(socket: Socket): void {
    const transport = new TcpTransport(socket);
    const { remoteAddress, remotePort } = transport;
    const peer = this.peers.get(remoteAddress)?.[0];
    if (peer === undefined) {
      rejectConnection(transport);
      this.emit('event', { type: 'rejected', remoteAddress, remotePort, reason: 'no peer configured for this address' });
      return;
    }
    try {
      this.secureAccepted(socket, peer, remoteAddress);
    } catch (err) {
      // Fail closed: a connection without its peer's protections is dropped unanswered.
      transport.destroy();
      this.emit('event', { type: 'error', error: new TartanError('BGP_SOCKOPT_FAILED', `connection from ${remoteAddress} port ${remotePort} dropped: ${errorMessage(err)}`, { cause: err }) });
      return;
    }
    this.emit('event', { type: 'accepted', remoteAddress, remotePort, peer: peer.identity });
    peer.acceptConnection(transport);
  }

  private socketFamily(): number {
    return this.address()?.address.includes(':') ? AF_INET6 : AF_INET;
  }

  /**
   * Make the listening socket's TCP-MD5 key for `address` that of the peer
   * its connections go to (none: delete it), and raise its TTL once a TTL
   * security peer exists. Failures are reported as listener errors; such a
   * peer's incoming connections are then dropped (see secureAccepted).
   */
  private installSecurity(address: string): void {
    if (!this.server.listening) return;
    const security = this.peers.get(address)?.[0]?.config.security;
    const raise = security?.ttlSecurity !== undefined && !this.ttlRaised;
    const want = security?.tcpMd5Key;
    const have = this.md5Keys.get(address);
    const family = this.socketFamily();
    // An IPv6 peer cannot connect to an IPv4 socket: nothing to key there.
    const rekey = !(family === AF_INET && address.includes(':')) && !(want === have || (want !== undefined && have !== undefined && want.equals(have)));
    if (!raise && !rekey) return;
    try {
      const fd = fdOf(this.server);
      if (raise) {
        raiseListenerTtl(fd, family);
        this.ttlRaised = true;
      }
      if (rekey) {
        this.md5Keys.delete(address);
        // An IPv4 peer on a dual-stack socket is keyed by its IPv4-mapped address (packMd5Sig does that).
        setMd5Key(fd, family, address, want);
        if (want !== undefined) this.md5Keys.set(address, want);
      }
    } catch (err) {
      this.emit('event', { type: 'error', error: new TartanError('BGP_SOCKOPT_FAILED', `peer ${address}: listening socket: ${errorMessage(err)}`, { cause: err }) });
    }
  }

  /**
   * Protections of one accepted connection, before our first byte: the
   * peer's TCP-MD5 key again (a connection the kernel accepted before the key
   * was installed then loses every further unsigned segment) and GTSM, or the
   * default TTL when the listening socket's 255 was inherited.
   */
  private secureAccepted(socket: Socket, peer: Peer, remoteAddress: string): void {
    const { tcpMd5Key, ttlSecurity } = peer.config.security;
    if (tcpMd5Key === undefined && ttlSecurity === undefined && !this.ttlRaised) return;
    const fd = fdOf(socket);
    if (tcpMd5Key !== undefined) setMd5Key(fd, this.socketFamily(), remoteAddress, tcpMd5Key);
    if (ttlSecurity !== undefined || this.ttlRaised) setTtlSecurity(fd, remoteAddress, ttlSecurity);
  }
}
