/**
 * A recording TCP proxy between two BGP daemons, living in its own lab host.
 * Daemon A peers with the proxy host's address (and connects), daemon B peers
 * with the proxy host's address too (passive); the proxy relays A→B and B→A
 * and records every byte. `messages()` returns the recorded streams cut into
 * BGP messages by the length field of the 19-byte header (RFC 4271 §4.1).
 *
 * The relay is a separate node process because a process cannot join another
 * network namespace; it is `recording-proxy-child.ts`, transpiled on the fly
 * with the project's `typescript` (or used as .js when this file itself was
 * compiled, e.g. by the capture script's build).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcessHandle } from './exec';
import type { Host } from './host';
import { tailFile } from './daemon-common';
import { waitFor } from './wait-for';

export interface ProxyRoute {
  listenHost: string;
  listenPort: number;
  targetHost: string;
  targetPort: number;
}

export interface RecordedMessage {
  /** Index of the accepted TCP connection (a session reset gives a new one). */
  conn: number;
  /** Index into the routes the proxy was started with. */
  route: number;
  /** c2s: from the connecting daemon to the listening one; s2c: the reverse. */
  dir: 'c2s' | 's2c';
  /** The whole message, header included. */
  bytes: Buffer;
}

const BGP_HEADER_LEN = 19;

function childScript(outDir: string): string {
  const js = join(__dirname, 'recording-proxy-child.js');
  if (existsSync(js)) return js;
  // Under ts-jest only the .ts exists: transpile it (no type check needed, tsc covers that).
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const ts = require('typescript') as typeof import('typescript');
  const src = readFileSync(join(__dirname, 'recording-proxy-child.ts'), 'utf8');
  const out = ts.transpileModule(src, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const file = join(outDir, 'recording-proxy-child.js');
  writeFileSync(file, out);
  return file;
}

export class RecordingProxy {
  private constructor(
    readonly host: Host,
    readonly routes: readonly ProxyRoute[],
    readonly recordFile: string,
    private readonly proc: ProcessHandle,
  ) {}

  static async start(host: Host, routes: readonly ProxyRoute[], name = 'proxy'): Promise<RecordingProxy> {
    const recordFile = join(host.dir, `${name}.jsonl`);
    const logFile = join(host.dir, `${name}.log`);
    writeFileSync(recordFile, '');
    const proc = host.spawn([process.execPath, childScript(host.dir), JSON.stringify(routes), recordFile], { logFile });
    await waitFor(
      () => {
        if (!proc.running) throw new Error(`proxy exited: ${tailFile(logFile)}`);
        return readFileSync(logFile, 'utf8').includes('ready');
      },
      { what: `recording proxy in ${host.name} to listen`, timeoutMs: 10_000, intervalMs: 50 },
    );
    return new RecordingProxy(host, routes, recordFile, proc);
  }

  /** All complete BGP messages recorded so far, in wire order per connection and direction. */
  messages(): RecordedMessage[] {
    const streams = new Map<string, { conn: number; route: number; dir: 'c2s' | 's2c'; chunks: Buffer[] }>();
    for (const line of readFileSync(this.recordFile, 'utf8').split('\n')) {
      if (!line) continue;
      const r = JSON.parse(line) as { conn: number; route: number; dir: 'c2s' | 's2c'; hex: string };
      const key = `${r.conn}/${r.dir}`;
      const s = streams.get(key) ?? { conn: r.conn, route: r.route, dir: r.dir, chunks: [] };
      s.chunks.push(Buffer.from(r.hex, 'hex'));
      streams.set(key, s);
    }
    const out: RecordedMessage[] = [];
    for (const s of streams.values()) {
      for (const bytes of splitBgpMessages(Buffer.concat(s.chunks))) out.push({ conn: s.conn, route: s.route, dir: s.dir, bytes });
    }
    return out;
  }

  async stop(): Promise<void> {
    await this.proc.stop();
  }
}

/** Cut a TCP byte stream into BGP messages; a trailing partial message is dropped. */
export function splitBgpMessages(stream: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  while (stream.length - off >= BGP_HEADER_LEN) {
    const len = stream.readUInt16BE(off + 16);
    if (len < BGP_HEADER_LEN) throw new Error(`bad BGP length ${len} at offset ${off}`);
    if (stream.length - off < len) break;
    out.push(Buffer.from(stream.subarray(off, off + len)));
    off += len;
  }
  return out;
}
