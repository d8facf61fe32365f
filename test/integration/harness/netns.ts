/**
 * Thin wrappers over iproute2 network-namespace commands, plus the naming
 * scheme that lets a later run recognise our leftovers.
 *
 * Naming: every lab has a run id `<pid base36>_<n>` (the creating PID is in the
 * name, so ownership survives even if /tmp is wiped). Namespaces are
 * `tt<runId>-<role>`; interfaces are `tt<runId><suffix>` and stay within the
 * 15-byte IFNAMSIZ limit. All links are created directly inside lab namespaces
 * (`ip -n NS link add ... peer ... netns OTHER`), so the root namespace never
 * sees a lab interface.
 */
import { run, type ExecResult } from './exec';

export const NAME_PREFIX = 'tt';

/** `tt<pid36>_<n>-<role>` → { pid, runId }; null for names that are not ours. */
export function parseNamespaceName(name: string): { runId: string; pid: number } | null {
  const m = /^tt([0-9a-z]{1,7})_([0-9a-z]{1,2})-/.exec(name);
  if (!m || m[1] === undefined) return null;
  const pid = parseInt(m[1], 36);
  return Number.isSafeInteger(pid) && pid > 0 ? { runId: `${m[1]}_${m[2]}`, pid } : null;
}

let labCounter = 0;
/** A run id unique within this process and, through the PID, across processes. */
export function newRunId(): string {
  const n = labCounter++;
  return `${process.pid.toString(36)}_${n.toString(36)}`;
}

export async function listNamespaces(): Promise<string[]> {
  const { stdout } = await run(['ip', '-j', 'netns', 'list']);
  if (!stdout.trim()) return [];
  const parsed = JSON.parse(stdout) as Array<{ name: string }>;
  return parsed.map((e) => e.name);
}

export async function addNamespace(name: string): Promise<void> {
  await run(['ip', 'netns', 'add', name]);
}

/** Delete a namespace; a missing one is not an error (teardown is idempotent). */
export async function deleteNamespace(name: string): Promise<void> {
  const res = await run(['ip', 'netns', 'delete', name], { allowFailure: true });
  if (res.code !== 0 && !/No such file|not found|Cannot remove/i.test(res.stderr)) {
    throw new Error(`ip netns delete ${name}: ${res.stderr.trim()}`);
  }
}

/** PIDs of processes whose network namespace is `name`. */
export async function namespacePids(name: string): Promise<number[]> {
  const res = await run(['ip', 'netns', 'pids', name], { allowFailure: true });
  if (res.code !== 0) return [];
  return res.stdout
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isSafeInteger(n) && n > 0);
}

/** Run argv inside namespace `ns` (iproute2 `ip netns exec`). */
export function nsRun(ns: string, argv: readonly string[], opts?: Parameters<typeof run>[1]): Promise<ExecResult> {
  return run(['ip', 'netns', 'exec', ns, ...argv], opts);
}

/** `ip -n NS ...` (iproute2 acting on namespace NS without entering it). */
export function ipIn(ns: string, args: readonly string[]): Promise<ExecResult> {
  return run(['ip', '-n', ns, ...args]);
}

export async function sysctl(ns: string, key: string, value: string): Promise<void> {
  await nsRun(ns, ['sysctl', '-q', '-w', `${key}=${value}`]);
}
