import type { SyncEvent } from '../../../src/datastore';

/** Poll until `cond()` holds (no timing assertions: only a generous deadline against hangs). */
export async function until(cond: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
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
