/**
 * One raw TCP endpoint inside a lab namespace, remote-controlled by
 * `raw-peer.ts` over stdio (`ip netns exec NS node raw-peer-child.js <json>`).
 * It must stay self-contained (node: imports only): it is transpiled on its
 * own and runs outside jest. It knows nothing about BGP; it moves bytes.
 *
 * argv[2]: JSON { mode: "connect", host, port, localAddress? }
 *        | JSON { mode: "listen", address, port }   (accepts ONE connection, then stops listening)
 *
 * stdin, one JSON object per line:
 *   { op: "send", hex }   write these bytes
 *   { op: "end" }         half-close (send FIN)
 *   { op: "destroy" }     close at once
 * stdout, one JSON object per line, in socket order:
 *   { ev: "listening" } | { ev: "connected", localAddress, localPort, remoteAddress, remotePort }
 *   { ev: "data", hex } | { ev: "end" } | { ev: "close", hadError } | { ev: "error", message }
 *
 * The child exits when stdin closes (the parent is gone) or on SIGTERM.
 */
import { createConnection, createServer, type Socket } from 'node:net';

type Config =
  | { mode: 'connect'; host: string; port: number; localAddress?: string }
  | { mode: 'listen'; address: string; port: number };

const cfgArg = process.argv[2];
if (cfgArg === undefined) {
  process.stderr.write('usage: raw-peer-child <config-json>\n');
  process.exit(2);
}
const cfg = JSON.parse(cfgArg) as Config;

function emit(obj: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

let socket: Socket | undefined;
/** Commands that arrive before the connection exists wait here. */
const pending: string[] = [];

function attach(s: Socket): void {
  socket = s;
  s.setNoDelay(true);
  emit({ ev: 'connected', localAddress: s.localAddress, localPort: s.localPort, remoteAddress: s.remoteAddress, remotePort: s.remotePort });
  s.on('data', (b: Buffer) => emit({ ev: 'data', hex: b.toString('hex') }));
  s.on('end', () => emit({ ev: 'end' }));
  s.on('error', (e: Error) => emit({ ev: 'error', message: e.message }));
  s.on('close', (hadError: boolean) => emit({ ev: 'close', hadError }));
  for (const line of pending.splice(0)) command(line);
}

function command(line: string): void {
  if (!line.trim()) return;
  if (socket === undefined) {
    pending.push(line);
    return;
  }
  const c = JSON.parse(line) as { op: string; hex?: string };
  if (c.op === 'send' && c.hex !== undefined) {
    if (!socket.destroyed && socket.writable) socket.write(Buffer.from(c.hex, 'hex'));
  } else if (c.op === 'end') {
    socket.end();
  } else if (c.op === 'destroy') {
    socket.destroy();
  }
}

let buffered = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  buffered += chunk;
  let nl = buffered.indexOf('\n');
  while (nl >= 0) {
    command(buffered.slice(0, nl));
    buffered = buffered.slice(nl + 1);
    nl = buffered.indexOf('\n');
  }
});
process.stdin.on('end', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));

if (cfg.mode === 'connect') {
  const s = createConnection({
    host: cfg.host,
    port: cfg.port,
    ...(cfg.localAddress !== undefined ? { localAddress: cfg.localAddress } : {}),
  });
  s.once('connect', () => attach(s));
  s.once('error', (e: Error) => {
    if (socket === undefined) emit({ ev: 'error', message: e.message });
  });
} else {
  const server = createServer((s) => {
    // One connection only: a later one is not ours to handle.
    server.close();
    attach(s);
  });
  server.on('error', (e: Error) => emit({ ev: 'error', message: e.message }));
  server.listen({ host: cfg.address, port: cfg.port, exclusive: true }, () => emit({ ev: 'listening' }));
}
