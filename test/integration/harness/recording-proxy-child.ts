/**
 * Standalone TCP relay run by `recording-proxy.ts` inside a lab namespace
 * (`ip netns exec NS node recording-proxy-child.js <routes> <recordFile>`).
 * It must stay self-contained (node: imports only) because it is transpiled
 * on its own and run outside jest.
 *
 * routes: JSON array of { listenHost, listenPort, targetHost, targetPort }.
 * Every chunk read from either side is appended to recordFile as one JSON line
 * { conn, route, dir: "c2s" | "s2c", hex }, synchronously, so a record is on
 * disk before the bytes are forwarded (the order in the file is the wire order
 * per direction). Prints "ready" on stdout once all listeners are bound.
 */
import { appendFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';

interface Route {
  listenHost: string;
  listenPort: number;
  targetHost: string;
  targetPort: number;
}

const [routesArg, recordFile] = process.argv.slice(2);
if (routesArg === undefined || recordFile === undefined) {
  process.stderr.write('usage: recording-proxy-child <routes-json> <record-file>\n');
  process.exit(2);
}
const routes = JSON.parse(routesArg) as Route[];
let nextConn = 0;

function record(conn: number, route: number, dir: 'c2s' | 's2c', chunk: Buffer): void {
  appendFileSync(recordFile as string, `${JSON.stringify({ conn, route, dir, hex: chunk.toString('hex') })}\n`);
}

function relay(client: Socket, routeIndex: number, r: Route): void {
  const conn = nextConn++;
  const server = createConnection({ host: r.targetHost, port: r.targetPort });
  // Hold client bytes until the upstream connection exists, so nothing is lost.
  client.pause();
  server.on('connect', () => client.resume());
  client.on('data', (b: Buffer) => {
    record(conn, routeIndex, 'c2s', b);
    server.write(b);
  });
  server.on('data', (b: Buffer) => {
    record(conn, routeIndex, 's2c', b);
    client.write(b);
  });
  client.on('end', () => server.end());
  server.on('end', () => client.end());
  client.on('error', () => server.destroy());
  server.on('error', () => client.destroy());
  client.on('close', () => server.destroy());
  server.on('close', () => client.destroy());
}

let pending = routes.length;
routes.forEach((r, i) => {
  const srv = createServer((c) => relay(c, i, r));
  srv.listen(r.listenPort, r.listenHost, () => {
    if (--pending === 0) process.stdout.write('ready\n');
  });
});
process.on('SIGTERM', () => process.exit(0));
