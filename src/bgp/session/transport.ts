/**
 * The I/O seam (after nats.js `core/src/transport.ts`): the session sees a
 * byte stream with Node's backpressure contract and nothing else, so unit
 * tests run the whole session over a fake and no sockets.
 */
import type { SocketSecurity } from '../../netsock';

/** Events a transport emits. `close` comes exactly once, last; `error` is set when it closed because of one. */
export interface TransportEvents {
  data: [chunk: Buffer];
  /** The write buffer emptied after write() returned false. */
  drain: [];
  close: [error: Error | undefined];
}

export interface Transport {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** Queue bytes; false means "buffer full, wait for 'drain'" (the data is still queued). */
  write(chunk: Buffer): boolean;
  /** Flush what is queued, then close (FIN). Used after a NOTIFICATION so it reaches the peer. */
  close(): void;
  /** Close now, dropping anything unsent. */
  destroy(): void;
  /** True once 'close' has been emitted. */
  readonly closed: boolean;
  on<E extends keyof TransportEvents>(event: E, listener: (...args: TransportEvents[E]) => void): this;
  off<E extends keyof TransportEvents>(event: E, listener: (...args: TransportEvents[E]) => void): this;
}

/** Where and how to open an outgoing connection. */
export interface ConnectOptions {
  host: string;
  port: number;
  /** Source address (BIRD `source address`, Calico `sourceAddress: UseNodeIP`). */
  localAddress?: string;
  localPort?: number;
  /** TCP-MD5 key and TTL security, set on the socket before its SYN; none = a plain socket. */
  security?: SocketSecurity;
  /** Give up after this long, ms. */
  timeoutMs: number;
  /** Aborting cancels the attempt; the promise then rejects. */
  signal: AbortSignal;
}

/** Opens outgoing connections; resolves once the TCP handshake is complete. */
export type Connector = (opts: ConnectOptions) => Promise<Transport>;
