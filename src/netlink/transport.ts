/**
 * The datagram transport under the request pipeline: a NETLINK_ROUTE socket
 * from the `netlink` package (`RawNetlinkSocket`, N-API). The pipeline only
 * sees this narrow interface, so unit tests drive it with a fake kernel.
 */
import { Protocol, RawNetlinkSocket } from 'netlink';
import { TartanError } from '../errors';
import { disableNetlinkOverrunErrors } from '../netsock';
import { fromLibraryError } from './errors';

export interface DatagramTransport {
  /** Queue one datagram to the kernel; `done` gets the sendmsg error, if any. */
  send(datagram: Buffer, done: (err?: TartanError) => void): void;
  /** Every datagram received (possibly several netlink messages). */
  onDatagram(fn: (datagram: Buffer) => void): void;
  /** Socket errors, e.g. NETLINK_ENOBUFS when the receive buffer overflowed and messages were lost. */
  onError(fn: (err: TartanError) => void): void;
  /** Effective SO_RCVBUF in bytes (the kernel doubles what was asked). */
  recvBufferSize(): number;
  /** Effective SO_SNDBUF in bytes. */
  sendBufferSize(): number;
  /** Keep the event loop alive (true) or not (false) while open. */
  setRef(ref: boolean): void;
  close(): void;
}

export interface RawSocketOptions {
  /** SO_RCVBUF to ask for (capped by net.core.rmem_max; the kernel doubles it). */
  recvBufferBytes: number;
  /** SO_SNDBUF to ask for (capped by net.core.wmem_max; the kernel doubles it). */
  sendBufferBytes: number;
  /** Multicast groups to join (RTNLGRP_*), for event sockets. */
  groups?: readonly number[];
}

/** Open a NETLINK_ROUTE socket in the calling process's network namespace. */
export function openRouteSocket(opts: RawSocketOptions): DatagramTransport {
  let sock: RawNetlinkSocket;
  try {
    sock = new RawNetlinkSocket(Protocol.ROUTE, {
      recvBufferSize: opts.recvBufferBytes,
      sendBufferSize: opts.sendBufferBytes,
    });
    for (const g of opts.groups ?? []) sock.addMembership(g);
  } catch (e) {
    throw fromLibraryError(e, 'open NETLINK_ROUTE socket');
  }
  if ((opts.groups ?? []).length > 0) {
    // An event socket: an overflow must not become an error the package cannot survive (see netlink-guard).
    try {
      if (!disableNetlinkOverrunErrors(sock.address().port)) throw new Error('its descriptor was not found');
    } catch (e) {
      sock.close();
      throw new TartanError('NETLINK_IO', `netlink event socket: cannot set NETLINK_NO_ENOBUFS: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
  let closed = false;
  return {
    send(datagram, done) {
      if (closed) return;
      sock.send(datagram, {}, (err) => done(err ? fromLibraryError(err, 'netlink sendmsg') : undefined));
    },
    onDatagram(fn) {
      sock.on('message', (msg) => fn(msg));
      // Message peeking sizes the buffer first, so truncation cannot happen;
      // treat it as a lost message all the same.
      sock.on('truncatedMessage', () => fn(Buffer.alloc(0)));
    },
    onError(fn) {
      sock.on('error', (err) => fn(fromLibraryError(err, 'netlink recvmsg')));
    },
    recvBufferSize: () => sock.getRecvBufferSize(),
    sendBufferSize: () => sock.getSendBufferSize(),
    setRef(ref) {
      if (ref) sock.ref();
      else sock.unref();
    },
    close() {
      if (closed) return;
      closed = true;
      sock.close();
    },
  };
}
