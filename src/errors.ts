/**
 * One base class for every error Tartan raises on purpose.
 *
 * Callers match on `code` (a stable string such as `BGP_UPDATE_MESSAGE_ERROR`
 * or `CONFIG_INVALID`), never on the message text. Foreign errors (socket
 * errno, etcd, netlink, iptables exit status) are translated into a
 * TartanError once, at the driver edge, with the original kept as `cause`.
 */
export class TartanError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** True for any TartanError, optionally with a given code. */
export function isTartanError(err: unknown, code?: string): err is TartanError {
  return err instanceof TartanError && (code === undefined || err.code === code);
}

/** Best-effort message of an unknown thrown value, for logs. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
