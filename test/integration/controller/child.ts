/**
 * Runs a DataplaneController INSIDE a node namespace (started with `ip netns
 * exec` by controller-proc.ts: a process cannot change its own netns). etcd
 * lives in the root namespace, unreachable from here over TCP, so the child
 * listens on its own 127.0.0.1 and relays each connection to a Unix socket
 * (filesystem sockets cross network namespaces) that the test relays on to
 * etcd. Commands arrive as JSON lines on stdin; one JSON line answers each.
 */
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { EtcdKv, Syncer, resourceSources } from '../../../src/datastore';
import { CONTROLLER_KINDS, DataplaneController, type DataplaneControllerOptions } from '../../../src/dataplane/controller';
import { createLogger } from '../../../src/util/log';

interface ChildConfig {
  unixPath: string;
  nodeName: string;
  options: Omit<DataplaneControllerOptions, 'nodeName' | 'feed' | 'log'>;
}

const cfg = JSON.parse(process.env['TT_CONTROLLER'] ?? '{}') as ChildConfig;

async function main(): Promise<void> {
  const relay = createServer((c) => {
    const u = createConnection(cfg.unixPath);
    c.pipe(u).pipe(c);
    c.on('error', () => u.destroy());
    u.on('error', () => c.destroy());
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
  const port = (relay.address() as AddressInfo).port;
  const kv = new EtcdKv({ endpoints: [`http://127.0.0.1:${port}`] });
  const syncer = new Syncer(kv, resourceSources(CONTROLLER_KINDS), { minBackoffMs: 100, maxBackoffMs: 1000 });
  const log = createLogger({ level: 'debug', format: 'json', stream: process.stderr });
  const dc = new DataplaneController({ nodeName: cfg.nodeName, feed: syncer, log, ...cfg.options });
  await dc.start();

  const handle = async (cmd: string): Promise<unknown> => {
    switch (cmd) {
      case 'status':
        return dc.status();
      case 'ready':
        await dc.ready();
        return true;
      case 'settle':
        await dc.settle();
        return dc.status();
      case 'resync':
        await dc.resync();
        return dc.status();
      case 'exit':
        dc.stop();
        kv.close();
        relay.close();
        setImmediate(() => process.exit(0));
        return true;
      default:
        throw new Error(`unknown command ${cmd}`);
    }
  };
  createInterface({ input: process.stdin }).on('line', (line) => {
    const c = JSON.parse(line) as { id: number; cmd: string };
    handle(c.cmd).then(
      (result) => process.stdout.write(`${JSON.stringify({ id: c.id, ok: true, result })}\n`),
      (e: unknown) => process.stdout.write(`${JSON.stringify({ id: c.id, ok: false, message: String((e as Error).message ?? e) })}\n`),
    );
  });
  process.stdin.on('end', () => process.exit(0));
  process.stdout.write(`${JSON.stringify({ id: 0, ok: true, result: 'ready' })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`controller child failed: ${String((e as Error).stack ?? e)}\n`);
  process.exit(1);
});
