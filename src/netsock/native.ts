/**
 * The libc calls node:net does not offer (socket, setsockopt, getsockopt,
 * close), through the koffi FFI, loaded on first use. This is the edge where
 * errno becomes a TartanError: code SOCKOPT_FAILED, the errno name and a hint
 * in the message, `errno` kept on the error.
 */
import { constants } from 'node:os';
import { TartanError } from '../errors';

/** The FFI or libc could not be loaded: no socket option beyond node:net is available. */
export const SOCKOPT_UNAVAILABLE = 'SOCKOPT_UNAVAILABLE';
/** A socket(2)/setsockopt(2)/getsockopt(2) call failed; the message names the errno. */
export const SOCKOPT_FAILED = 'SOCKOPT_FAILED';

export class SockoptError extends TartanError {
  constructor(
    message: string,
    /** errno name, e.g. ENOPROTOOPT. */
    readonly errno: string,
  ) {
    super(SOCKOPT_FAILED, message);
  }
}

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, length: number): number;
  getsockopt(fd: number, level: number, name: number, value: Buffer, length: number[]): number;
  getsockname(fd: number, addr: Buffer, length: number[]): number;
  close(fd: number): number;
  errno(): number;
}

let libc: Libc | TartanError | undefined;

function load(): Libc {
  if (libc === undefined) {
    try {
      // Loaded lazily: without it Tartan still runs, only these options are refused.
      const koffi = require('koffi') as typeof import('koffi');
      // The C library node itself is linked with (glibc or musl), not a file name.
      const lib = koffi.load(null);
      libc = {
        socket: lib.func('int socket(int domain, int type, int protocol)'),
        setsockopt: lib.func('int setsockopt(int fd, int level, int optname, const void *optval, uint32_t optlen)'),
        getsockopt: lib.func('int getsockopt(int fd, int level, int optname, _Out_ void *optval, _Inout_ uint32_t *optlen)'),
        getsockname: lib.func('int getsockname(int fd, _Out_ void *addr, _Inout_ uint32_t *addrlen)'),
        close: lib.func('int close(int fd)'),
        errno: () => koffi.errno(),
      };
    } catch (err) {
      libc = new TartanError(SOCKOPT_UNAVAILABLE, `socket options beyond node:net (TCP-MD5, TTL security) are unavailable: cannot reach libc through koffi: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
  if (libc instanceof TartanError) throw libc;
  return libc;
}

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

const HINTS: Record<string, string> = {
  ENOPROTOOPT: 'the kernel does not support this option (TCP-MD5 needs CONFIG_TCP_MD5SIG)',
  EPERM: 'not permitted',
  EINVAL: 'invalid argument',
  EBADF: 'the socket is closed',
  ENOENT: 'no such key',
  ENOMEM: 'out of socket option memory (net.core.optmem_max)',
};

function fail(what: string): SockoptError {
  const n = load().errno();
  const name = ERRNO_NAMES.get(n) ?? `errno ${n}`;
  const hint = HINTS[name];
  return new SockoptError(`${what}: ${name}${hint ? ` (${hint})` : ''}`, name);
}

/** A new non-blocking, close-on-exec TCP socket of `family` (AF_INET or AF_INET6). */
export function tcpSocket(family: number, what = 'socket'): number {
  const fd = load().socket(family, 1 | 0o4000 | 0o2000000, 0);
  if (fd < 0) throw fail(what);
  return fd;
}

export function setOption(fd: number, level: number, name: number, value: Buffer, what: string): void {
  if (load().setsockopt(fd, level, name, value, value.length) < 0) throw fail(what);
}

/** Read an option into a buffer of its size; returns the bytes the kernel wrote. */
export function getOption(fd: number, level: number, name: number, size: number, what: string): Buffer {
  const out = Buffer.alloc(size);
  const len = [size];
  if (load().getsockopt(fd, level, name, out, len) < 0) throw fail(what);
  return out.subarray(0, len[0]);
}

/** The socket's own address (getsockname(2)) as raw sockaddr bytes, or undefined if `fd` is no socket. */
export function sockName(fd: number): Buffer | undefined {
  const out = Buffer.alloc(128);
  const len = [out.length];
  if (load().getsockname(fd, out, len) < 0) return undefined;
  return out.subarray(0, len[0]);
}

/** Close a descriptor that was never handed to node:net (errors ignored: nothing useful to do). */
export function closeFd(fd: number): void {
  load().close(fd);
}
