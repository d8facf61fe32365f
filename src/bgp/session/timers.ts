/**
 * Named one-shot timers over a Clock. Starting a running timer restarts it;
 * a timer that was stopped or restarted never fires its old callback.
 */

import type { Clock, TimerHandle } from './clock';

export class TimerSet<Name extends string> {
  private readonly running = new Map<Name, TimerHandle>();

  constructor(private readonly clock: Clock) {}

  start(name: Name, ms: number, fire: () => void): void {
    this.stop(name);
    const handle = this.clock.setTimeout(() => {
      // Only the handle we armed may fire; a restart replaced it.
      if (this.running.get(name) !== handle) return;
      this.running.delete(name);
      fire();
    }, ms);
    this.running.set(name, handle);
  }

  stop(name: Name): void {
    const handle = this.running.get(name);
    if (handle === undefined) return;
    this.clock.clearTimeout(handle);
    this.running.delete(name);
  }

  stopAll(): void {
    for (const name of [...this.running.keys()]) this.stop(name);
  }

  isRunning(name: Name): boolean {
    return this.running.has(name);
  }
}
