/**
 * Polling helper. Integration tests wait on real daemons, so every wait must
 * say, when it times out, what it was waiting for and what it saw last:
 * "timed out after 10000 ms waiting for bird peer 198.18.0.2 Established
 * (last: Active)" is debuggable, a bare jest timeout is not.
 */
import { sleep } from './exec';

export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Human description of the condition, used in the timeout error. */
  what: string;
}

export class WaitTimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
    readonly lastValue: unknown,
    readonly lastError: unknown,
  ) {
    const last = lastError !== undefined ? `last error: ${describe(lastError)}` : `last value: ${describe(lastValue)}`;
    super(`timed out after ${timeoutMs} ms waiting for ${what} (${last})`);
    this.name = 'WaitTimeoutError';
  }
}

function describe(v: unknown): string {
  if (v instanceof Error) return v.message;
  let s: string;
  try {
    s = typeof v === 'string' ? v : JSON.stringify(v);
  } catch {
    s = String(v);
  }
  return s === undefined ? 'undefined' : s.length > 2000 ? `${s.slice(0, 2000)}…` : s;
}

/**
 * Poll `fn` until it returns a truthy value (resolved with it). Errors thrown by
 * `fn` count as "not yet" (a daemon's CLI often fails while it starts) and are
 * reported if the wait times out.
 */
export async function waitFor<T>(fn: () => Promise<T> | T, opts: WaitForOptions): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const intervalMs = opts.intervalMs ?? 200;
  const deadline = Date.now() + timeoutMs;
  let lastValue: unknown;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      lastValue = v;
      lastError = undefined;
      if (v) return v as NonNullable<T>;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) throw new WaitTimeoutError(opts.what, timeoutMs, lastValue, lastError);
    await sleep(intervalMs);
  }
}
