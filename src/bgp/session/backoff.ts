/**
 * Error-wait backoff (after grpc-js `backoff-timeout.ts`): the delay before
 * a peer may try again after its session failed.
 *
 * It is BIRD's `error wait time min,max` (RFC 4271 §8.1.1 IdleHoldTimer with
 * DampPeerOscillations): the first error waits `min`, each further error
 * doubles the wait up to `max`, and a quiet period of `forget` resets it
 * (BIRD `error forget time`). A peer that answers every OPEN with a Cease
 * therefore cannot make us reconnect in a tight loop (MetalLB #780).
 */

/** Growth per consecutive error. */
export const BACKOFF_MULTIPLIER = 2;
/**
 * Jitter only lengthens the wait, by up to this fraction: the configured
 * minimum is a promise to the peer, and spreading mesh peers that failed
 * together is all jitter is for.
 */
export const BACKOFF_JITTER = 0.2;

export interface BackoffOptions {
  /** First wait, ms. */
  minMs: number;
  /** Largest wait before jitter, ms. */
  maxMs: number;
  /** After this long without an error the wait falls back to minMs, ms. */
  forgetMs: number;
  /** Random source in [0, 1); injected for tests. */
  random?: () => number;
}

export class Backoff {
  /** Wait (before jitter) that the next error will get. */
  private nextMs: number;
  /** When the last error was recorded (clock ms), or undefined before the first. */
  private lastErrorAt: number | undefined;
  private readonly random: () => number;

  constructor(private readonly opts: BackoffOptions) {
    this.nextMs = opts.minMs;
    this.random = opts.random ?? Math.random;
  }

  /** Record an error at `now` and return how long to wait before trying again. */
  onError(now: number): number {
    if (this.lastErrorAt !== undefined && now - this.lastErrorAt > this.opts.forgetMs) this.reset();
    this.lastErrorAt = now;
    const base = this.nextMs;
    this.nextMs = Math.min(this.opts.maxMs, Math.max(base * BACKOFF_MULTIPLIER, 1));
    return base * (1 + BACKOFF_JITTER * this.random());
  }

  /** Forget past errors. */
  reset(): void {
    this.nextMs = this.opts.minMs;
  }

  /** The un-jittered wait the next error would get, for display. */
  get pendingMs(): number {
    return this.nextMs;
  }
}
