/**
 * Ownership records and stale-lab cleanup.
 *
 * A lab writes /tmp/tartan-test/<runId>.json with its creator PID, that PID's
 * start time (guards against PID reuse) and the PIDs it spawned. A namespace
 * is stale only when its name carries our prefix AND its creator is dead; only
 * then do we kill the processes still inside it (they can only be ones a
 * harness started, since nothing else runs in a `tt*` namespace) and delete it.
 * Namespaces of live runs, e.g. a parallel CI job, are left alone.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deleteNamespace, listNamespaces, namespacePids, parseNamespaceName } from './netns';

export const STATE_ROOT = '/tmp/tartan-test';

export interface LabState {
  runId: string;
  label: string;
  pid: number;
  /** Field 22 of /proc/<pid>/stat, to tell a reused PID from the creator. */
  pidStartTime: string | null;
  namespaces: string[];
  spawnedPids: number[];
  dir: string;
}

export function stateFile(runId: string): string {
  return join(STATE_ROOT, `${runId}.json`);
}

export function writeState(state: LabState): void {
  mkdirSync(STATE_ROOT, { recursive: true });
  writeFileSync(stateFile(state.runId), JSON.stringify(state, null, 2));
}

export function readState(runId: string): LabState | null {
  try {
    return JSON.parse(readFileSync(stateFile(runId), 'utf8')) as LabState;
  } catch {
    return null;
  }
}

export function removeState(runId: string): void {
  rmSync(stateFile(runId), { force: true });
}

export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces; fields after the closing paren are plain.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? null; // field 22 overall
  } catch {
    return null;
  }
}

function isAlive(pid: number, startTime: string | null): boolean {
  if (!existsSync(`/proc/${pid}`)) return false;
  if (startTime === null) return true;
  return processStartTime(pid) === startTime;
}

export interface StaleCleanupReport {
  namespaces: string[];
  killedPids: number[];
}

/** Remove leftovers of harness runs whose creating process is dead. */
export async function cleanupStale(): Promise<StaleCleanupReport> {
  const report: StaleCleanupReport = { namespaces: [], killedPids: [] };
  const deadRuns = new Set<string>();
  for (const ns of await listNamespaces()) {
    const parsed = parseNamespaceName(ns);
    if (!parsed) continue;
    const state = readState(parsed.runId);
    if (isAlive(parsed.pid, state?.pidStartTime ?? null)) continue;
    for (const pid of await namespacePids(ns)) {
      try {
        process.kill(pid, 'SIGKILL');
        report.killedPids.push(pid);
      } catch {
        // already gone
      }
    }
    await deleteNamespace(ns);
    report.namespaces.push(ns);
    deadRuns.add(parsed.runId);
  }
  // State files (and temp dirs) of dead runs, including runs whose namespaces are already gone.
  if (existsSync(STATE_ROOT)) {
    for (const f of readdirSync(STATE_ROOT)) {
      const m = /^(.+)\.json$/.exec(f);
      if (!m || m[1] === undefined) continue;
      const state = readState(m[1]);
      if (state && !isAlive(state.pid, state.pidStartTime)) deadRuns.add(m[1]);
    }
  }
  for (const runId of deadRuns) {
    const state = readState(runId);
    if (state && !process.env['TARTAN_KEEP_LOGS']) rmSync(state.dir, { recursive: true, force: true });
    removeState(runId);
  }
  return report;
}
