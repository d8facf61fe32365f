/**
 * Policy dataplane benchmark: render + apply for 1,000 local workload
 * endpoints and 100 policies from scratch, then a one-endpoint change.
 * Runs against a scratch network namespace it creates and deletes (iptables
 * and ipsets are per namespace); needs root. The measuring half re-runs
 * itself INSIDE that namespace (as the controller runs in its node's
 * namespace), so commands are run directly, not through `ip netns exec`.
 *
 *   node -r ./bench/rib/ts-hook.js bench/policy/bench.ts [--endpoints 1000] [--policies 100] [--repeat 5] [--backend nft|legacy] [--per-batch] [--gap-ms 0]
 *
 * --per-batch runs one iptables-restore process per batch instead of the
 * nft backend's long-lived one (the legacy backend always does). --gap-ms
 * pauses before each measured change, so that it does not start while the
 * kernel is still releasing the previous one (see BENCHMARKS.md).
 * BENCH_VERBOSE=1 adds each change's times and the restore process's CPU.
 *
 * Prints JSON: from-scratch render/apply ms, one-endpoint change render/apply
 * ms (median of --repeat) with the part spent inside iptables-restore, and
 * the chains/sets each change touched. Only IPv4 is enabled, as in the
 * integration tests (the renderer renders enabled families only).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { PolicyDataplane, type Policy, type PolicyInput, type WorkloadEndpoint } from '../../src/dataplane/policy';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const N_EP = arg('endpoints', 1000);
/** Pause before each measured change (0: back to back, as before). */
const GAP_MS = arg('gap-ms', 0);
const N_POL = arg('policies', 100);
const REPEAT = arg('repeat', 5);
const BACKEND = ((): 'nft' | 'legacy' => {
  const i = process.argv.indexOf('--backend');
  return i >= 0 && process.argv[i + 1] === 'legacy' ? 'legacy' : 'nft';
})();

function endpoint(i: number): WorkloadEndpoint {
  return {
    name: `pod${i}`,
    namespace: `ns${i % 10}`,
    node: 'bench',
    interfaceName: `tt${i.toString(16).padStart(6, '0')}`,
    ipNetworks: [`198.18.${Math.floor(i / 250)}.${(i % 250) + 2}/32`],
    labels: { app: `app${i % 50}`, tier: i % 3 === 0 ? 'fe' : 'be' },
    profiles: [`kns.ns${i % 10}`],
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
  };
}

function policy(j: number): Policy {
  const spec = {
    order: j,
    selector: `app == 'app${j % 50}'`,
    ingress: [
      { action: 'Allow' as const, protocol: 'TCP', source: { selector: `tier == 'fe' && app == 'app${(j + 1) % 50}'` }, destination: { ports: [80, '1000:2000', 'http'] } },
      { action: 'Deny' as const, protocol: 'UDP', source: { nets: ['198.19.0.0/16'] } },
    ],
    egress: [{ action: 'Allow' as const, destination: { notNets: ['198.19.255.0/24'] } }],
  };
  return j % 2 === 0
    ? { kind: 'NetworkPolicy', name: `np${j}`, namespace: `ns${j % 10}`, spec }
    : { kind: 'GlobalNetworkPolicy', name: `gnp${j}`, spec };
}

function input(eps: WorkloadEndpoint[]): PolicyInput {
  return {
    localNode: 'bench',
    policies: Array.from({ length: N_POL }, (_, j) => policy(j)),
    profiles: Array.from({ length: 10 }, (_, k) => ({ name: `kns.ns${k}`, ingress: [{ action: 'Allow' as const }], egress: [{ action: 'Allow' as const }] })),
    namespaces: Array.from({ length: 10 }, (_, k) => ({ name: `ns${k}`, labels: { idx: String(k) } })),
    workloadEndpoints: eps,
    hostEndpoints: [],
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

const PER_BATCH = process.argv.includes('--per-batch');
const VERBOSE = process.env.BENCH_VERBOSE !== undefined;

/** BENCH_VERBOSE: on-CPU and run-queue ms of the long-lived restore process (Linux schedstat), per change. */
const sched: Array<{ cpu: number; runq: number } | null> = [];
function restoreSched(): { pid: number; cpu: number; runq: number } | null {
  if (!VERBOSE) return null;
  try {
    for (const pid of readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/)) {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'iptables-nft-re') continue;
      const [cpu, runq] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ').map(Number);
      return { pid: Number(pid), cpu: (cpu ?? 0) / 1e6, runq: (runq ?? 0) / 1e6 };
    }
  } catch {
    // no such process (per-batch mode, or it exited)
  }
  return null;
}
function schedDelta(a: ReturnType<typeof restoreSched>, b: ReturnType<typeof restoreSched>): { cpu: number; runq: number } | null {
  if (a === null || b === null || a.pid !== b.pid) return null;
  return { cpu: +(b.cpu - a.cpu).toFixed(1), runq: +(b.runq - a.runq).toFixed(1) };
}

async function inner(): Promise<void> {
  const dp = new PolicyDataplane({ families: [4], backend: BACKEND, config: { workloadIfacePrefix: 'tt' }, restoreSession: !PER_BATCH });
  const eps = Array.from({ length: N_EP }, (_, i) => endpoint(i));
  const restoreMs = (): number => dp.counters().restoreMs;
  let r0 = restoreMs();
  const scratch = await dp.apply(input(eps));
  const scratchRestore = restoreMs() - r0;
  const stats = dp.stats();
  const change: Array<{ renderMs: number; applyMs: number; restoreMs: number; touched: string[]; sets: string[] }> = [];
  for (let r = 0; r < REPEAT; r++) {
    // One endpoint changes labels (moves into another app group) — and back on the next round.
    const i = 7;
    const changed = eps.map((e, k) => (k === i ? { ...e, labels: { ...e.labels, app: r % 2 === 0 ? 'app49' : `app${i % 50}` } } : e));
    if (GAP_MS > 0) await new Promise((res) => setTimeout(res, GAP_MS));
    r0 = restoreMs();
    const s0 = restoreSched();
    const rep = await dp.apply(input(changed));
    if (VERBOSE) sched.push(schedDelta(s0, restoreSched()));
    const t = rep.tables['v4/filter'];
    change.push({
      renderMs: rep.renderMs,
      applyMs: rep.applyMs,
      restoreMs: restoreMs() - r0,
      touched: [...(t?.created ?? []), ...(t?.rewritten ?? []), ...(t?.deleted ?? [])],
      sets: [...rep.ipsets.created, ...rep.ipsets.updated, ...rep.ipsets.destroyed],
    });
  }
  // Back to the original labels, then one endpoint more.
  await dp.apply(input(eps));
  r0 = restoreMs();
  const add = await dp.apply(input([...eps, endpoint(N_EP)]));
  const addRestore = restoreMs() - r0;
  const ta = add.tables['v4/filter'];
  const ms = (x: number): number => +x.toFixed(1);
  const med = (f: (c: (typeof change)[number]) => number): number => ms(median(change.map(f)));
  console.log(
    JSON.stringify(
      {
        endpoints: N_EP,
        policies: N_POL,
        backend: BACKEND,
        restore: BACKEND === 'nft' && !PER_BATCH ? 'session' : 'per-batch',
        programmed: stats,
        fromScratch: { renderMs: ms(scratch.renderMs), applyMs: ms(scratch.applyMs), restoreMs: ms(scratchRestore), totalMs: ms(scratch.renderMs + scratch.applyMs) },
        oneEndpointLabelChange: {
          repeat: REPEAT,
          gapMs: GAP_MS,
          medianRenderMs: med((c) => c.renderMs),
          medianApplyMs: med((c) => c.applyMs),
          medianRestoreMs: med((c) => c.restoreMs),
          medianOwnMs: med((c) => c.renderMs + c.applyMs - c.restoreMs),
          medianTotalMs: med((c) => c.renderMs + c.applyMs),
          ...(VERBOSE ? { each: change.map((c, k) => ({ render: ms(c.renderMs), apply: ms(c.applyMs), restore: ms(c.restoreMs), restoreProcess: sched[k] })) } : {}),
          touchedChains: change[0]?.touched,
          touchedSets: change[0]?.sets,
        },
        oneEndpointAdded: {
          renderMs: ms(add.renderMs),
          applyMs: ms(add.applyMs),
          restoreMs: ms(addRestore),
          touchedChains: [...(ta?.created ?? []), ...(ta?.rewritten ?? []), ...(ta?.deleted ?? [])],
          touchedSets: [...add.ipsets.created, ...add.ipsets.updated, ...add.ipsets.destroyed],
        },
      },
      null,
      2,
    ),
  );
  dp.stop();
}

function main(): void {
  if (process.argv.includes('--inner')) {
    inner().catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
    return;
  }
  const ns = `tt${process.pid.toString(36)}_b-bench`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, ...process.execArgv, ...process.argv.slice(1), '--inner'], { stdio: 'inherit' });
    process.exitCode = r.status ?? 1;
  } finally {
    execFileSync('ip', ['netns', 'delete', ns]);
  }
}

main();
