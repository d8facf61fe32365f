/**
 * A guard for rtnetlink event sockets of the `netlink` package.
 *
 * When a multicast group floods an event socket (a million routes of our own
 * being programmed), the kernel drops what does not fit and flags the socket
 * with ENOBUFS, which epoll reports as an error; the package's native poll
 * handler then builds its error object with a null syscall name and throws
 * from C++, which aborts the process ("terminate called after throwing an
 * instance of 'Napi::Error'"). NETLINK_NO_ENOBUFS (netlink(7)) tells the
 * kernel not to flag the socket: overflowing notifications are dropped
 * silently, and the consumers' periodic resyncs repair what they missed.
 *
 * The package exposes no descriptor, so it is found by the socket's netlink
 * port id among the process's descriptors.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { setOption, sockName } from './native';
import { packInt } from './struct';

const AF_NETLINK = 16;
const SOL_NETLINK = 270;
const NETLINK_NO_ENOBUFS = 5;

/** This process's netlink socket bound to `portId` (struct sockaddr_nl nl_pid), or undefined. */
export function netlinkSocketFd(portId: number): number | undefined {
  for (const name of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${name}`);
    } catch {
      continue;
    }
    if (!target.startsWith('socket:')) continue;
    const fd = Number(name);
    const addr = sockName(fd);
    if (addr && addr.length >= 12 && addr.readUInt16LE(0) === AF_NETLINK && addr.readUInt32LE(4) === portId >>> 0) return fd;
  }
  return undefined;
}

/** Set NETLINK_NO_ENOBUFS on the event socket bound to `portId`; false if no such socket was found. */
export function disableNetlinkOverrunErrors(portId: number): boolean {
  const fd = netlinkSocketFd(portId);
  if (fd === undefined) return false;
  setOption(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, packInt(1), 'NETLINK_NO_ENOBUFS');
  return true;
}
