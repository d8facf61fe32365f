/**
 * Per-interface sysctls, written through /proc/sys of the network namespace
 * this process runs in (a process's /proc/sys/net is its own netns').
 *
 * `setDesired` replaces the wanted entries per interface; `sync` reads each
 * entry and writes it only when the value differs. An interface that does
 * not exist yet (the CNI plugin may still be creating it) is left pending
 * and retried on the next `sync` (the controller calls it on link events and
 * on every periodic resync). A value found changed behind our back on an
 * interface we had already configured counts as a repair.
 */
import { promises as fs } from 'node:fs';
import { TartanError } from '../../errors';
import type { SysctlEntry } from './convert';

export interface SysctlIo {
  read(path: string): Promise<string>;
  write(path: string, value: string): Promise<void>;
}

export const procSysIo: SysctlIo = {
  read: async (p) => (await fs.readFile(p, 'utf8')).trim(),
  write: (p, v) => fs.writeFile(p, v),
};

export interface SysctlCounters {
  writes: number;
  repairs: number;
  errors: number;
}

export interface SysctlSyncResult {
  written: number;
  /** Interfaces not present (yet). */
  pending: string[];
  failed: Array<{ path: string; error: TartanError }>;
}

function isMissing(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

export class SysctlManager {
  readonly counters: SysctlCounters = { writes: 0, repairs: 0, errors: 0 };
  private desired = new Map<string, SysctlEntry[]>();
  /** Interfaces whose entries were all seen correct or written. */
  private readonly done = new Set<string>();

  constructor(private readonly io: SysctlIo = procSysIo) {}

  setDesired(byIface: ReadonlyMap<string, SysctlEntry[]>): void {
    for (const i of [...this.done]) {
      const before = JSON.stringify(this.desired.get(i));
      if (!byIface.has(i) || JSON.stringify(byIface.get(i)) !== before) this.done.delete(i);
    }
    this.desired = new Map(byIface);
  }

  /** Interfaces wanted but not (yet) configured. */
  pending(): string[] {
    return [...this.desired.keys()].filter((i) => !this.done.has(i)).sort();
  }

  /** Forget that `ifname` was configured (it was re-created: its sysctls are back to defaults). */
  invalidate(ifname: string): void {
    this.done.delete(ifname);
  }

  /** Check every wanted entry (all: true) or only interfaces not yet configured. */
  async sync(all = false): Promise<SysctlSyncResult> {
    const res: SysctlSyncResult = { written: 0, pending: [], failed: [] };
    for (const [iface, entries] of this.desired) {
      if (!all && this.done.has(iface)) continue;
      const wasDone = this.done.has(iface);
      let ok = true;
      for (const e of entries) {
        try {
          const cur = await this.io.read(e.path);
          if (cur === e.value) continue;
          await this.io.write(e.path, e.value);
          res.written++;
          this.counters.writes++;
          if (wasDone) this.counters.repairs++;
        } catch (err) {
          ok = false;
          if (isMissing(err)) {
            res.pending.push(iface);
            break;
          }
          this.counters.errors++;
          res.failed.push({ path: e.path, error: new TartanError('SYSCTL_WRITE_FAILED', `${e.path}: ${(err as Error).message}`, { cause: err }) });
        }
      }
      if (ok) this.done.add(iface);
      else this.done.delete(iface);
    }
    return res;
  }
}
