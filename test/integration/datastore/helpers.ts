import type { SyncEvent } from '../../../src/datastore';
import { waitFor } from '../harness';

/** Poll until `cond()` holds (the harness's waitFor: a generous deadline against hangs, not a timing assertion). */
export async function until(cond: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(cond, { what, timeoutMs, intervalMs: 25 });
}

/** Collects a syncer's events for assertions. */
export class Recorder<T> {
  readonly events: Array<SyncEvent<T>> = [];
  readonly listener = (e: SyncEvent<T>): void => {
    this.events.push(e);
  };

  since(mark: number): Array<SyncEvent<T>> {
    return this.events.slice(mark);
  }

  get mark(): number {
    return this.events.length;
  }

  has(pred: (e: SyncEvent<T>) => boolean, from = 0): boolean {
    return this.events.slice(from).some(pred);
  }
}
