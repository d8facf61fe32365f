/**
 * Write-to-kernel latency of the cluster path (see README.md): a
 * WorkloadEndpoint written to etcd on node A with an address borrowed from
 * node B's block, until that /32 appears in B's kernel. The address is
 * outside A's blocks, so it travels as its own BGP route: etcd watch on A →
 * peering watcher → speaker → UPDATE → B's engine → B's kernel FIB.
 *
 * Each sample: create the WEP (t0 = just before the etcd request), see the
 * route in `ip monitor route` in B's namespace (t1 = when the line arrives
 * here), then delete the WEP and wait for the route to go (also timed:
 * withdraw latency) before the next sample.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';
import { createClusterLab, destroyClusterLab, startClusterNode, hasRouteVia, type ClusterLab } from '../../test/integration/cluster/cluster-lab';
import { waitFor } from '../../test/integration/harness';
import { API_VERSION, type WorkloadEndpoint } from '../../src/datastore';
import { Ipam, blockCidrFor } from '../../src/ipam';

interface Options {
  n: number;
  out?: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { n: 200 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--n') o.n = Number(argv[++i]);
    else if (argv[i] === '--out') o.out = argv[++i];
    else throw new Error(`unknown option ${argv[i]} (use --n N, --out FILE)`);
  }
  if (!Number.isInteger(o.n) || o.n < 1) throw new Error('--n must be a positive integer');
  return o;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function summary(xs: number[]): { n: number; p50: number; p90: number; p99: number; max: number; mean: number } {
  const s = [...xs].sort((a, b) => a - b);
  const r = (v: number): number => Math.round(v * 100) / 100;
  return { n: s.length, p50: r(pct(s, 50)), p90: r(pct(s, 90)), p99: r(pct(s, 99)), max: r(s[s.length - 1]!), mean: r(s.reduce((a, b) => a + b, 0) / s.length) };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  let c: ClusterLab | undefined;
  let monitorPid: number | undefined;
  try {
    c = await createClusterLab('latency', ['a', 'b']);
    const [a, b] = c.hosts as [NonNullable<ClusterLab['hosts'][0]>, NonNullable<ClusterLab['hosts'][0]>];
    await Promise.all([startClusterNode(a, c.etcd, { log: { level: 'info', format: 'json' } }), startClusterNode(b, c.etcd, { log: { level: 'info', format: 'json' } })]);
    await c.ds.create({ apiVersion: API_VERSION, kind: 'IPPool', metadata: { name: 'pool' }, spec: { cidr: '10.80.0.0/16', blockSize: 26 } });
    await waitFor(async () => (await c!.ds.list('Node')).items.length === 2, { what: 'both nodes registered' });
    const ipam = new Ipam(c.ds);
    const blockA = blockCidrFor((await ipam.autoAssign({ node: 'a', handleId: 'a0', num4: 1 })).ipv4[0]!, 26)!;
    const blockB = blockCidrFor((await ipam.autoAssign({ node: 'b', handleId: 'b0', num4: 1 })).ipv4[0]!, 26)!;
    await waitFor(() => hasRouteVia(b, blockA, a.addr('ipv4')), { what: "A's block in B's kernel", timeoutMs: 30_000 });

    // ip monitor in B's namespace; lines timed on arrival.
    const mon = spawn('ip', ['netns', 'exec', b.ns, 'ip', 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'inherit'] });
    monitorPid = mon.pid;
    const waiters = new Map<string, (t: number) => void>();
    let buf = '';
    mon.stdout.on('data', (chunk: Buffer) => {
      const now = performance.now();
      buf += chunk.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        const deleted = line.startsWith('Deleted ');
        const dst = (deleted ? line.slice(8) : line).split(' ')[0]!;
        const w = waiters.get(`${deleted ? '-' : '+'}${dst}`);
        if (w) w(now);
      }
    });
    await new Promise((r) => setTimeout(r, 300));
    const seen = (key: string): Promise<number> => new Promise((resolve) => waiters.set(key, (t) => { waiters.delete(key); resolve(t); }));

    const base = blockB.split('/')[0]!.split('.').map(Number);
    const add: number[] = [];
    const ack: number[] = [];
    const del: number[] = [];
    for (let i = 0; i < opts.n; i++) {
      const ip = `${base[0]}.${base[1]}.${base[2]}.${base[3]! + 10 + (i % 50)}`;
      const name = `a-k8s-bench${i}-eth0`;
      const wep: WorkloadEndpoint = { apiVersion: API_VERSION, kind: 'WorkloadEndpoint', metadata: { name, namespace: 'default' }, spec: { node: 'a', orchestrator: 'k8s', workload: `bench${i}`, pod: `bench${i}`, endpoint: 'eth0', interfaceName: 'calibench', ipNetworks: [`${ip}/32`] } };
      const up = seen(`+${ip}`);
      const t0 = performance.now();
      await c.ds.create(wep);
      ack.push(performance.now() - t0);
      add.push((await withTimeout(up, 10_000, `route ${ip} in B's kernel`)) - t0);
      const down = seen(`-${ip}`);
      const t2 = performance.now();
      await c.ds.delete('WorkloadEndpoint', name, { namespace: 'default' });
      del.push((await withTimeout(down, 10_000, `route ${ip} gone from B's kernel`)) - t2);
    }
    const result = { samples: opts.n, addMs: summary(add), etcdAckMs: summary(ack), withdrawMs: summary(del), raw: { add, ack, del } };
    process.stdout.write(
      `etcd write of a WorkloadEndpoint on A (borrowed /32) -> route in B's kernel, ${opts.n} samples\n` +
        `  announce: p50 ${result.addMs.p50} ms  p90 ${result.addMs.p90} ms  p99 ${result.addMs.p99} ms  max ${result.addMs.max} ms  mean ${result.addMs.mean} ms\n` +
        `  (etcd acknowledged the write: p50 ${result.etcdAckMs.p50} ms  p99 ${result.etcdAckMs.p99} ms; the route can only follow the commit)\n` +
        `  withdraw: p50 ${result.withdrawMs.p50} ms  p90 ${result.withdrawMs.p90} ms  p99 ${result.withdrawMs.p99} ms  max ${result.withdrawMs.max} ms  mean ${result.withdrawMs.mean} ms\n`,
    );
    if (opts.out) writeFileSync(opts.out, JSON.stringify({ ...result, node: process.version, date: new Date().toISOString() }, null, 2));
  } finally {
    if (monitorPid) process.kill(monitorPid, 'SIGTERM');
    await destroyClusterLab(c);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, rej) => (t = setTimeout(() => rej(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)))]).finally(() => clearTimeout(t));
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
