/**
 * Transport over node:net: the only file of the session layer that touches
 * sockets (besides the listener, which only accepts them). Connections with
 * TCP-MD5 or TTL security start from a socket made by src/netsock.
 */

import { EventEmitter } from 'node:events';
import { isIP, type Socket, connect as netConnect } from 'node:net';
import { TartanError, errorMessage } from '../../errors';
import { securedSocket } from '../../netsock';
import type { Connector, Transport, TransportEvents } from './transport';

/**
 * How long close() waits for the peer to close its side after our FIN before
 * destroying the socket. The NOTIFICATION we just sent is in flight; an
 * immediate close() could answer the peer's late bytes with a RST that makes
 * its kernel drop our NOTIFICATION unread.
 */
export const CLOSE_LINGER_MS = 3000;

/** Stable code of connection failures (errno text in the message, original as cause). */
export const CONNECT_FAILED = 'BGP_CONNECT_FAILED';

const MAPPED_V4 = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

/**
 * One spelling per address, so configured peers match socket addresses:
 * IPv4-mapped IPv6 (from a dual-stack listener) becomes IPv4, and IPv6 gets
 * the RFC 5952 compressed form (via the WHATWG URL serializer). A zone
 * ("%eth0") is kept as is.
 */
export function canonicalAddress(address: string): string {
  const mapped = MAPPED_V4.exec(address);
  if (mapped !== null) return mapped[1] as string;
  const [ip, zone] = address.split('%', 2) as [string, string | undefined];
  if (isIP(ip) !== 6) return address;
  const canonical = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  return zone === undefined ? canonical : `${canonical}%${zone}`;
}

export class TcpTransport extends EventEmitter<TransportEvents> implements Transport {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  private error: Error | undefined;
  private isClosed = false;
  private linger: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly socket: Socket) {
    super();
    // Read the addresses now: Node forgets them once the socket is closed.
    this.remoteAddress = canonicalAddress(socket.remoteAddress ?? '');
    this.remotePort = socket.remotePort ?? 0;
    this.localAddress = canonicalAddress(socket.localAddress ?? '');
    this.localPort = socket.localPort ?? 0;
    // BGP messages are small and latency matters (KEEPALIVE, NOTIFICATION); bulk UPDATEs are written in large chunks anyway.
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.emit('data', chunk));
    socket.on('drain', () => this.emit('drain'));
    socket.on('error', (err) => {
      this.error ??= err;
    });
    socket.on('close', () => {
      this.isClosed = true;
      if (this.linger !== undefined) clearTimeout(this.linger);
      this.emit('close', this.error);
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  write(chunk: Buffer): boolean {
    if (this.socket.destroyed || this.socket.writableEnded) return false;
    return this.socket.write(chunk);
  }

  close(): void {
    if (this.socket.destroyed) return;
    this.socket.end();
    this.linger ??= setTimeout(() => this.socket.destroy(), CLOSE_LINGER_MS);
    this.linger.unref();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** The real Connector: one TCP connection with optional source address and port, timeout and abort. */
export const connectTcp: Connector = (opts) =>
  new Promise<Transport>((resolve, reject) => {
    const where = `${opts.host} port ${opts.port}`;
    if (opts.signal.aborted) {
      reject(new TartanError(CONNECT_FAILED, `connect to ${where}: aborted`));
      return;
    }
    const target = {
      host: opts.host,
      port: opts.port,
      ...(opts.localAddress !== undefined ? { localAddress: opts.localAddress } : {}),
      ...(opts.localPort !== undefined ? { localPort: opts.localPort } : {}),
    };
    let socket: Socket;
    if (opts.security?.tcpMd5Key !== undefined || opts.security?.ttlSecurity !== undefined) {
      // Our own socket, its TCP-MD5 key and TTLs set before the SYN; node:net binds and connects it.
      let secured: Socket | undefined;
      try {
        secured = securedSocket(opts.host, opts.security);
        socket = secured.connect(target);
      } catch (err) {
        secured?.destroy();
        reject(new TartanError(CONNECT_FAILED, `connect to ${where}: ${errorMessage(err)}`, { cause: err }));
        return;
      }
    } else {
      socket = netConnect(target);
    }
    const timer = setTimeout(() => fail(new Error(`timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs);
    const onAbort = (): void => fail(new Error('aborted'));
    const cleanup = (): void => {
      clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      socket.off('error', fail);
      socket.off('connect', onConnect);
    };
    function fail(err: Error): void {
      cleanup();
      socket.destroy();
      reject(new TartanError(CONNECT_FAILED, `connect to ${where}: ${errorMessage(err)}`, { cause: err }));
    }
    function onConnect(): void {
      cleanup();
      resolve(new TcpTransport(socket));
    }
    opts.signal.addEventListener('abort', onAbort);
    socket.once('error', fail);
    socket.once('connect', onConnect);
  });
