/**
 * FIB programming benchmark: Tartan's rtnetlink driver vs `ip -batch`.
 *
 * For each N (argv, default 100000), in a FRESH network namespace per run
 * (veth pair up, 198.18.0.1/24 on it, next hop 198.18.0.2), install N
 * IPv4 /32 routes (10.0.0.0 upwards) with protocol 201, metric 1024, and
 * measure the wall time until the whole batch is acknowledged. The count is
 * then verified independently from /proc/net/fib_triestat ("Main: Prefixes")
 * of the namespace. Peak RSS is the Tartan worker's VmHWM.
 *
 *   npx tsc -p bench/fib/tsconfig.json
 *   node bench/fib/build/bench/fib/fib.js 100000 1000000
 *
 * Needs root (ip netns). Namespaces are named ttfib<pid>-<k> and are always
 * deleted, also on SIGINT/SIGTERM.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const created = new Set<string>();
let counter = 0;

function sh(argv: string[]): string {
  return execFileSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function makeNamespace(): string {
  const ns = `ttfib${process.pid.toString(36)}-${counter++}`;
  sh(['ip', 'netns', 'add', ns]);
  created.add(ns);
  sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  sh(['ip', '-n', ns, 'link', 'add', 'bench0', 'type', 'veth', 'peer', 'name', 'bench0p']);
  sh(['ip', '-n', ns, 'link', 'set', 'bench0', 'up']);
  sh(['ip', '-n', ns, 'link', 'set', 'bench0p', 'up']);
  sh(['ip', '-n', ns, 'addr', 'add', '198.18.0.1/24', 'dev', 'bench0']);
  return ns;
}

function deleteNamespace(ns: string): void {
  spawnSync('ip', ['netns', 'delete', ns]);
  created.delete(ns);
}

function cleanupAll(): void {
  for (const ns of [...created]) deleteNamespace(ns);
}
process.on('exit', cleanupAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    cleanupAll();
    process.exit(130);
  });
}

/** "Prefixes" of the Main trie in the namespace's /proc/net/fib_triestat. */
function fibPrefixes(ns: string): number {
  const text = sh(['ip', 'netns', 'exec', ns, 'cat', '/proc/net/fib_triestat']);
  const main = text.slice(text.indexOf('Main:'));
  const m = /Prefixes:\s+(\d+)/.exec(main);
  if (!m) throw new Error(`cannot read fib_triestat in ${ns}`);
  return Number(m[1]);
}

interface Row {
  tool: string;
  n: number;
  seconds: number;
  installed: number;
  peakRssMb: number | null;
}

function runTartan(mode: 'driver' | 'routetable' | 'bgpfib' | 'bgpfib-nh', n: number): Row {
  const ns = makeNamespace();
  try {
    const base = fibPrefixes(ns);
    const worker = join(__dirname, 'fib-worker.js');
    const t0 = process.hrtime.bigint();
    const res = spawnSync('ip', ['netns', 'exec', ns, process.execPath, worker, mode, String(n)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    if (res.status !== 0) throw new Error(`worker failed: ${res.stderr}`);
    const out = JSON.parse(res.stdout.trim().split('\n').pop() as string) as { ms: number; ok: number; failed: number; peakRssMb: number };
    if (res.stderr.trim()) process.stderr.write(res.stderr);
    const installed = fibPrefixes(ns) - base;
    process.stderr.write(`  tartan ${mode} n=${n}: ${out.ms.toFixed(0)} ms in-process, ${wallMs.toFixed(0)} ms incl. node start, ok=${out.ok} failed=${out.failed}\n`);
    return { tool: `tartan (${mode})`, n, seconds: out.ms / 1000, installed, peakRssMb: out.peakRssMb };
  } finally {
    deleteNamespace(ns);
  }
}

async function runIpBatch(n: number): Promise<Row> {
  const ns = makeNamespace();
  const dir = mkdtempSync(join(tmpdir(), 'ttfib-'));
  try {
    const file = join(dir, 'routes.batch');
    const out = createWriteStream(file);
    for (let i = 0; i < n; i++) {
      out.write(`route add 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32 via 198.18.0.2 proto 201 metric 1024\n`);
    }
    await new Promise<void>((r) => out.end(r));
    const base = fibPrefixes(ns);
    const t0 = process.hrtime.bigint();
    const res = spawnSync('ip', ['-n', ns, '-batch', file], { encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (res.status !== 0) throw new Error(`ip -batch failed: ${res.stderr.slice(0, 500)}`);
    return { tool: 'ip -batch', n, seconds: ms / 1000, installed: fibPrefixes(ns) - base, peakRssMb: null };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    deleteNamespace(ns);
  }
}

function printTable(rows: Row[]): void {
  const lines = ['| N | tool | time (s) | routes/s | installed (fib_triestat) | peak RSS (MB) | speed-up vs ip -batch |', '|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    const ref = rows.find((x) => x.n === r.n && x.tool === 'ip -batch');
    const ratio = ref && r.tool !== 'ip -batch' ? `${(ref.seconds / r.seconds).toFixed(1)}x` : '';
    lines.push(
      `| ${r.n} | ${r.tool} | ${r.seconds.toFixed(2)} | ${Math.round(r.n / r.seconds)} | ${r.installed}${r.installed === r.n ? '' : ' (MISMATCH)'} | ${r.peakRssMb === null ? '-' : r.peakRssMb.toFixed(0)} | ${ratio} |`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  writeFileSync(join(tmpdir(), 'ttfib-last.md'), `${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  const sizes = process.argv.slice(2).map(Number).filter((x) => x > 0);
  if (sizes.length === 0) sizes.push(100_000);
  const rows: Row[] = [];
  for (const n of sizes) {
    rows.push(runTartan('driver', n));
    rows.push(runTartan('routetable', n));
    rows.push(runTartan('bgpfib', n));
    rows.push(runTartan('bgpfib-nh', n));
    rows.push(await runIpBatch(n));
  }
  printTable(rows);
}

main().catch((e: unknown) => {
  console.error(e);
  cleanupAll();
  process.exit(1);
});
