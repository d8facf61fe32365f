/**
 * Policy dataplane benchmark: render + apply for 1,000 local workload
 * endpoints and 100 policies from scratch, then a one-endpoint change.
 * Runs against a scratch network namespace it creates and deletes (iptables
 * and ipsets are per namespace); needs root.
 *
 *   node -r ./bench/rib/ts-hook.js bench/policy/bench.ts [--endpoints 1000] [--policies 100] [--repeat 5]
 *
 * Prints JSON: from-scratch render/apply ms, one-endpoint change render/apply
 * ms (median of --repeat), and the chains/sets that change touched.
 */
import { execFileSync } from 'node:child_process';
import { PolicyDataplane, processRunner, type Policy, type PolicyInput, type WorkloadEndpoint } from '../../src/dataplane/policy';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const N_EP = arg('endpoints', 1000);
const N_POL = arg('policies', 100);
const REPEAT = arg('repeat', 5);

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

async function main(): Promise<void> {
  const ns = `tt${process.pid.toString(36)}_b-bench`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const dp = new PolicyDataplane({ runner: processRunner(['ip', 'netns', 'exec', ns]), families: [4], config: { workloadIfacePrefix: 'tt' } });
    const eps = Array.from({ length: N_EP }, (_, i) => endpoint(i));
    const scratch = await dp.apply(input(eps));
    const stats = dp.stats();
    const change: Array<{ renderMs: number; applyMs: number; touched: string[]; sets: string[] }> = [];
    for (let r = 0; r < REPEAT; r++) {
      // One endpoint changes labels (moves into another app group) — and back on the next round.
      const i = 7;
      const changed = eps.map((e, k) => (k === i ? { ...e, labels: { ...e.labels, app: r % 2 === 0 ? 'app49' : `app${i % 50}` } } : e));
      const rep = await dp.apply(input(changed));
      const t = rep.tables['v4/filter'];
      change.push({
        renderMs: rep.renderMs,
        applyMs: rep.applyMs,
        touched: [...(t?.created ?? []), ...(t?.rewritten ?? []), ...(t?.deleted ?? [])],
        sets: [...rep.ipsets.created, ...rep.ipsets.updated, ...rep.ipsets.destroyed],
      });
    }
    const add = await dp.apply(input([...eps, endpoint(N_EP)]));
    const ta = add.tables['v4/filter'];
    console.log(
      JSON.stringify(
        {
          endpoints: N_EP,
          policies: N_POL,
          programmed: stats,
          fromScratch: { renderMs: +scratch.renderMs.toFixed(1), applyMs: +scratch.applyMs.toFixed(1), totalMs: +(scratch.renderMs + scratch.applyMs).toFixed(1) },
          oneEndpointLabelChange: {
            medianRenderMs: +median(change.map((c) => c.renderMs)).toFixed(1),
            medianApplyMs: +median(change.map((c) => c.applyMs)).toFixed(1),
            medianTotalMs: +median(change.map((c) => c.renderMs + c.applyMs)).toFixed(1),
            touchedChains: change[0]?.touched,
            touchedSets: change[0]?.sets,
          },
          oneEndpointAdded: {
            renderMs: +add.renderMs.toFixed(1),
            applyMs: +add.applyMs.toFixed(1),
            touchedChains: [...(ta?.created ?? []), ...(ta?.rewritten ?? [])],
            touchedSets: [...add.ipsets.created, ...add.ipsets.updated],
          },
        },
        null,
        2,
      ),
    );
  } finally {
    execFileSync('ip', ['netns', 'delete', ns]);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
