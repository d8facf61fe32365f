/**
 * errno → TartanError, once, at the netlink edge. Codes are
 * `NETLINK_<ERRNO NAME>` (NETLINK_EEXIST, NETLINK_ENETUNREACH, NETLINK_EPERM,
 * NETLINK_ESRCH, NETLINK_ENODEV, ...), so callers match on a stable string.
 * Driver-level conditions use their own codes: NETLINK_TIMEOUT (no answer),
 * NETLINK_CLOSED, NETLINK_BAD_ROUTE (could not encode), NETLINK_DUMP_INTR.
 */
import { constants } from 'node:os';
import { TartanError } from '../errors';

const ERRNO_NAMES = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  if (!ERRNO_NAMES.has(value)) ERRNO_NAMES.set(value, name);
}

/** Symbolic name of a positive errno ("EEXIST"), or "E<n>" when unknown. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `E${errno}`;
}

/** Short human explanations for the errors route programming meets. */
const HINTS: Record<string, string> = {
  EEXIST: 'a route with this destination and metric already exists (maybe of another protocol)',
  ESRCH: 'no such route',
  ENETUNREACH: 'gateway is not reachable through a connected route',
  EHOSTUNREACH: 'gateway is not reachable',
  ENODEV: 'no such interface',
  ENETDOWN: 'interface is down',
  EPERM: 'operation not permitted (needs CAP_NET_ADMIN)',
  EINVAL: 'invalid route',
  ENOBUFS: 'netlink buffer overrun: outcome unknown',
};

/** A TartanError for errno `errno` (positive) while doing `what`. */
export function netlinkError(errno: number, what: string, cause?: unknown): TartanError {
  const name = errnoName(errno);
  const hint = HINTS[name];
  return new TartanError(`NETLINK_${name}`, `${what}: ${name}${hint ? ` (${hint})` : ''}`, { cause });
}

/** Translate an error thrown/emitted by the `netlink` package (it carries `errno`). */
export function fromLibraryError(err: unknown, what: string): TartanError {
  if (err instanceof TartanError) return err;
  const errno = typeof err === 'object' && err !== null && 'errno' in err ? (err as { errno: unknown }).errno : undefined;
  if (typeof errno === 'number') return netlinkError(Math.abs(errno), what, err);
  return new TartanError('NETLINK_IO', `${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
