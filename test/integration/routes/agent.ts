/**
 * Route agent: runs INSIDE a test network namespace (a process cannot switch
 * its own netns in Node, so the test starts this with `ip netns exec`). It
 * owns a RouteDriver, a NetlinkMonitor and a RouteTable and obeys JSON-line
 * commands on stdin, answering one JSON line per command on stdout.
 */
import { createInterface } from 'node:readline';
import { NetlinkMonitor, RouteDriver, type KernelRoute, type RouteOp } from '../../../src/netlink';
import { RouteTable, type RouteTarget } from '../../../src/dataplane/routes';

interface OpenArgs {
  protocol: number;
  table?: number;
  families?: Array<4 | 6>;
  resyncIntervalMs?: number;
  graceMs?: number;
  workloadPrefix?: string;
  /** Subscribe to route events too (default true); links are always watched. */
  routeEvents?: boolean;
}

type Command =
  | { id: number; cmd: 'open'; args: OpenArgs }
  | { id: number; cmd: 'set'; args: { prefix: string; target: RouteTarget } }
  | { id: number; cmd: 'del'; args: { prefix: string } }
  | { id: number; cmd: 'start' | 'apply' | 'resync' | 'counters' | 'skipped' | 'exit' }
  | { id: number; cmd: 'driverApply'; args: { ops: RouteOp[] } }
  | { id: number; cmd: 'dump'; args: { family: 4 | 6; protocol?: number; table?: number } };

const driver = RouteDriver.open();
let monitor: NetlinkMonitor | undefined;
let table: RouteTable | undefined;

function need(): RouteTable {
  if (!table) throw new Error('open first');
  return table;
}

function brief(r: { failed: Array<{ op: RouteOp; error: { code: string; message: string } }> }): Array<{ dst: string; kind: string; code: string }> {
  return r.failed.map((f) => ({ dst: f.op.route.dst, kind: f.op.kind, code: f.error.code }));
}

async function handle(c: Command): Promise<unknown> {
  switch (c.cmd) {
    case 'open': {
      const a = c.args;
      monitor = NetlinkMonitor.open({ routes: a.routeEvents !== false });
      const prefix = a.workloadPrefix;
      table = new RouteTable({
        driver,
        events: monitor,
        protocol: a.protocol,
        table: a.table,
        families: a.families,
        resyncIntervalMs: a.resyncIntervalMs,
        graceMs: a.graceMs,
        coalesceMs: 2,
        isWorkloadInterface: prefix ? (n) => n.startsWith(prefix) : undefined,
      });
      return true;
    }
    case 'set':
      need().setDesired(c.args.prefix, c.args.target);
      return true;
    case 'del':
      need().delete(c.args.prefix);
      return true;
    case 'start': {
      const r = await need().start();
      return { ...r, failed: brief(r) };
    }
    case 'apply': {
      const r = await need().apply();
      return { ...r, failed: brief(r) };
    }
    case 'resync': {
      const r = await need().resync();
      return { ...r, failed: brief(r) };
    }
    case 'counters':
      return need().counters;
    case 'skipped':
      return Object.fromEntries(need().skippedPrefixes());
    case 'driverApply': {
      const r = await driver.apply(c.args.ops);
      return { ok: r.ok, failed: brief(r) };
    }
    case 'dump': {
      const out: KernelRoute[] = [];
      await driver.forEachRoute(c.args, (r) => out.push(r));
      return out;
    }
    case 'exit':
      table?.stop();
      monitor?.close();
      driver.close();
      setImmediate(() => process.exit(0));
      return true;
  }
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const c = JSON.parse(line) as Command;
  handle(c).then(
    (result) => process.stdout.write(`${JSON.stringify({ id: c.id, ok: true, result })}\n`),
    (e: unknown) => {
      const err = e as { code?: string; message?: string };
      process.stdout.write(`${JSON.stringify({ id: c.id, ok: false, code: err.code ?? 'ERROR', message: err.message ?? String(e) })}\n`);
    },
  );
});
rl.on('close', () => process.exit(0));
process.stdout.write(`${JSON.stringify({ id: 0, ok: true, result: 'ready' })}\n`);
