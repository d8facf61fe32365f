/**
 * Time, injected. Sessions never call `Date.now()` or `setTimeout` directly,
 * so unit tests drive hold, keepalive and retry timers with a fake clock.
 */

import { TIMER_JITTER_MIN } from './defaults';

/** Opaque handle returned by Clock.setTimeout. */
export type TimerHandle = object;

export interface Clock {
  /** Milliseconds since the Unix epoch (wall time: peers report "since" from it). */
  now(): number;
  /** Milliseconds from an arbitrary start that never jumps (for deadlines: wall time may be stepped). */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The process clock. Timers are not unref'd: a running session should keep the daemon alive. */
export const realClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** RFC 4271 §10: a jittered interval is the nominal one times a factor in [0.75, 1.0]. */
export function jittered(ms: number, random: () => number): number {
  return ms * (TIMER_JITTER_MIN + (1 - TIMER_JITTER_MIN) * random());
}
