/**
 * The BGP listening socket: accepts TCP connections and hands each one to
 * the configured Peer with that remote address. A connection from an
 * address with no configured peer gets NOTIFICATION Cease/5 (Connection
 * Rejected, RFC 4486 §4) and is closed; the daemon hears about it through a
 * `rejected` event so it can log who knocked.
 */

import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { TartanError } from '../../errors';
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
  }

  removePeer(peer: Peer): void {
    const key = canonicalAddress(peer.config.address);
    const list = (this.peers.get(key) ?? []).filter((p) => p !== peer);
    if (list.length === 0) this.peers.delete(key);
    else this.peers.set(key, list);
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
    this.emit('event', { type: 'accepted', remoteAddress, remotePort, peer: peer.identity });
    peer.acceptConnection(transport);
  }
}
