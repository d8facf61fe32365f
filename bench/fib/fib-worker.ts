/**
 * Benchmark worker: runs INSIDE the benchmark namespace (started with
 * `ip netns exec`), installs N /32 routes and prints one JSON line:
 * { mode, n, ok, failed, ms, peakRssMb }.
 *
 * Modes:
 *   driver     RouteDriver.replace over a generator: the raw programming path
 *              (like BIRD's kernel protocol pushing its table).
 *   routetable RouteTable: desired Map of N prefixes → start() (dump of our
 *              protocol, diff, pipelined apply): the full reconciler path.
 *   bgpfib     FibReconciler (the BGP kernel FIB's compact reconciler, here on
 *              this process's main thread): N prefixes as the RIB hands them
 *              over (key words + next hops) → start() → until idle; routes
 *              name their gateways.
 *   bgpfib-nh  the same, routes naming a kernel nexthop object (RTA_NH_ID,
 *              tartan-node's default, fib.nexthopObjects).
 */
import { readFileSync } from 'node:fs';
import { RouteDriver, RTPROT_TARTAN_BGP, type KernelRoute, type NextHop } from '../../src/netlink';
import { RouteTable, type RouteTarget } from '../../src/dataplane/routes';
import { FibReconciler } from '../../src/bgp/fib/fib-reconciler';

function prefix(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`;
}

function peakRssMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function main(): Promise<void> {
  const [mode = 'driver', nText = '100000', gateway = '198.18.0.2'] = process.argv.slice(2);
  const n = Number(nText);
  const driver = RouteDriver.open();
  let ok = 0;
  let failed = 0;
  const t0 = process.hrtime.bigint();
  if (mode === 'driver') {
    const nextHops: readonly NextHop[] = [{ gateway }];
    const routes = function* (): Generator<KernelRoute> {
      for (let i = 0; i < n; i++) {
        yield { family: 4, dst: prefix(i), table: 254, protocol: RTPROT_TARTAN_BGP, type: 'unicast', scope: 'universe', metric: 1024, nextHops };
      }
    };
    const res = await driver.replace(routes());
    ok = res.ok;
    failed = res.failed.length;
    if (res.failed[0]) console.error(`first failure: ${res.failed[0].op.route.dst}: ${res.failed[0].error.message}`);
  } else if (mode === 'bgpfib' || mode === 'bgpfib-nh') {
    const fib = new FibReconciler({ driver, protocol: RTPROT_TARTAN_BGP, table: 254, metric: 1024, resyncIntervalMs: 0, ...(mode === 'bgpfib-nh' ? { nexthops: driver } : {}) });
    const key = new Uint32Array(1);
    const hops = [gateway];
    for (let i = 0; i < n; i++) {
      key[0] = (0x0a000000 + i) >>> 0;
      fib.update(0, key, 32, hops);
    }
    const res = await fib.start();
    fib.stop();
    ok = res.adds + res.replaces;
    failed = res.failed;
  } else {
    const table = new RouteTable({ driver, protocol: RTPROT_TARTAN_BGP, families: [4], resyncIntervalMs: 0 });
    const target: RouteTarget = { nextHops: [{ gateway }] };
    const desired = function* (): Generator<[string, RouteTarget]> {
      for (let i = 0; i < n; i++) yield [prefix(i), target];
    };
    table.replaceAll(desired());
    const res = await table.start();
    table.stop();
    ok = res.adds + res.replaces;
    failed = res.failed.length;
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  driver.close();
  process.stdout.write(`${JSON.stringify({ mode, n, ok, failed, ms, peakRssMb: peakRssMb(), limits: driver.limits })}\n`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
