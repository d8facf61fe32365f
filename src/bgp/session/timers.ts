/**
 * Named one-shot timers over a Clock. Starting a running timer restarts it;
 * a timer that was stopped or restarted never fires its old callback.
 *
 * A restart to a later deadline keeps the timeout already armed and only
 * moves the deadline; when that timeout goes off before the deadline it
 * re-arms for the rest. Why: the hold timer restarts on every UPDATE and
 * KEEPALIVE (RFC 4271 §8.2.2), tens of thousands of times a second while a
 * peer sends its table, and clearing and re-arming a Node timer each time
 * took a few percent of a table load.
 */

import type { Clock, TimerHandle } from './clock';

interface Armed {
  handle: TimerHandle;
  /** When the armed timeout goes off (monotonic ms). */
  firesAt: number;
  /** When the timer expires (monotonic ms): at or after firesAt. */
  due: number;
  fire: () => void;
}

export class TimerSet<Name extends string> {
  private readonly running = new Map<Name, Armed>();

  constructor(private readonly clock: Clock) {}

  start(name: Name, ms: number, fire: () => void): void {
    const due = this.clock.monotonic() + ms;
    const armed = this.running.get(name);
    if (armed !== undefined && armed.firesAt <= due) {
      armed.due = due;
      armed.fire = fire;
      return;
    }
    this.stop(name);
    const entry: Armed = { handle: {}, firesAt: due, due, fire };
    entry.handle = this.clock.setTimeout(() => this.expire(name, entry), ms);
    this.running.set(name, entry);
  }

  stop(name: Name): void {
    const armed = this.running.get(name);
    if (armed === undefined) return;
    this.clock.clearTimeout(armed.handle);
    this.running.delete(name);
  }

  stopAll(): void {
    for (const name of [...this.running.keys()]) this.stop(name);
  }

  isRunning(name: Name): boolean {
    return this.running.has(name);
  }

  private expire(name: Name, entry: Armed): void {
    // Only the entry we armed may fire; a stop or an earlier restart replaced it.
    if (this.running.get(name) !== entry) return;
    const left = entry.due - this.clock.monotonic();
    if (left > 0) {
      entry.firesAt = entry.due;
      entry.handle = this.clock.setTimeout(() => this.expire(name, entry), left);
      return;
    }
    this.running.delete(name);
    entry.fire();
  }
}
