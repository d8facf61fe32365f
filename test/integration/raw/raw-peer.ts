/**
 * A raw BGP endpoint driven by the test: a TCP connection inside a lab host
 * whose bytes the test writes by hand and whose received bytes are framed
 * and decoded here, in the parent, with Tartan's own codec (src/bgp/wire).
 *
 *   const p = await RawPeer.connect(r, { to: tartanAddr, localAddress: '198.18.1.101' });
 *   p.sendMessage(open);                        // or p.send(handMadeBytes)
 *   const n = await p.nextNotification(5_000);  // what Tartan put on the wire
 *   await p.waitClosed(5_000);
 *
 * A process cannot join another network namespace, so the socket lives in a
 * child process (`raw-peer-child.ts`, transpiled at run time like the
 * recording proxy's child) started through `ip netns exec`; parent and child
 * talk JSON lines over stdio with hex payloads. Every child is killed by PID
 * in `close()`, and `RawPeer.closeAll()` (call it in afterAll) kills any left.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Host } from '../harness';
import {
  type BgpMessage,
  type CodecOptions,
  decodeMessage,
  DEFAULT_CODEC_OPTIONS,
  describeNotification,
  encodeMessage,
  MAX_EXTENDED_MESSAGE_LENGTH,
  MessageFramer,
  MessageType,
  type NotificationMessage,
} from '../../../src/bgp/wire';

/** One message as received: the exact bytes, and the decoded form (or why it did not decode). */
export interface ReceivedFrame {
  raw: Buffer;
  message?: BgpMessage;
  decodeError?: string;
}

type ChildEvent =
  | { ev: 'listening' }
  | { ev: 'connected'; localAddress: string; localPort: number; remoteAddress: string; remotePort: number }
  | { ev: 'data'; hex: string }
  | { ev: 'end' }
  | { ev: 'close'; hadError: boolean }
  | { ev: 'error'; message: string };

export interface ConnectionInfo {
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
}

const live = new Set<RawPeer>();

/** Last resort if the runner exits without afterAll: SIGKILL our children by PID (synchronous). */
process.once('exit', () => {
  for (const p of live) p.killNow();
});

/** The child as plain JS, transpiled once into `dir` (a lab host's scratch dir, removed with the lab). */
function childScript(dir: string): string {
  const js = join(__dirname, 'raw-peer-child.js');
  if (existsSync(js)) return js;
  const file = join(dir, 'raw-peer-child.js');
  if (existsSync(file)) return file;
  // Under ts-jest only the .ts exists: transpile it (no type check needed, tsc covers that).
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const ts = require('typescript') as typeof import('typescript');
  const src = readFileSync(join(__dirname, 'raw-peer-child.ts'), 'utf8');
  const out = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
  writeFileSync(file, out);
  return file;
}

function label(m: BgpMessage): string {
  if (m.type === MessageType.NOTIFICATION) return `NOTIFICATION ${describeNotification(m.code, m.subcode, m.data)}`;
  return MessageType[m.type] ?? `type ${String(m.type)}`;
}

export class RawPeer {
  /** Codec options for decoding what Tartan sends (set after OPEN when 4-octet AS was negotiated). */
  decodeOptions: CodecOptions = DEFAULT_CODEC_OPTIONS;
  /** Codec options `sendMessage` encodes with unless told otherwise. */
  encodeOptions: CodecOptions = DEFAULT_CODEC_OPTIONS;
  /** Every message received, in order (consumed or not). */
  readonly received: ReceivedFrame[] = [];
  connection: ConnectionInfo | undefined;

  private readonly framer = new MessageFramer(MAX_EXTENDED_MESSAGE_LENGTH);
  private framingError: string | undefined;
  private readIndex = 0;
  private endSeen = false;
  private closeSeen = false;
  private errors: string[] = [];
  private listening = false;
  private stdoutBuf = '';
  private readonly stderr: string[] = [];
  private wake: (() => void)[] = [];
  private readonly exited: Promise<void>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcessWithoutNullStreams,
  ) {
    live.add(this);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s: string) => this.onStdout(s));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => this.stderr.push(s));
    child.stdin.on('error', () => undefined); // the child may be gone already
    this.exited = new Promise((resolve) => {
      child.on('close', () => {
        live.delete(this);
        this.notify();
        resolve();
      });
    });
  }

  private static spawnChild(host: Host, config: Record<string, unknown>, name: string): RawPeer {
    const child = spawn('ip', ['netns', 'exec', host.ns, process.execPath, childScript(host.dir), JSON.stringify(config)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    if (child.pid === undefined) throw new Error(`raw peer ${name}: spawn failed`);
    return new RawPeer(name, child);
  }

  /** Open a TCP connection from `host` (optionally from `localAddress`) to `to:port`; resolves once connected. */
  static async connect(host: Host, opts: { to: string; port?: number; localAddress?: string; timeoutMs?: number }): Promise<RawPeer> {
    const name = `${opts.localAddress ?? host.name} -> ${opts.to}:${opts.port ?? 179}`;
    const p = RawPeer.spawnChild(host, { mode: 'connect', host: opts.to, port: opts.port ?? 179, localAddress: opts.localAddress }, name);
    try {
      await p.waitConnected(opts.timeoutMs ?? 10_000);
    } catch (e) {
      await p.close();
      throw e;
    }
    return p;
  }

  /** Listen on `address:port` in `host`; resolves once bound. The first connection accepted is this peer's. */
  static async listen(host: Host, opts: { address: string; port?: number; timeoutMs?: number }): Promise<RawPeer> {
    const name = `listener ${opts.address}:${opts.port ?? 179}`;
    const p = RawPeer.spawnChild(host, { mode: 'listen', address: opts.address, port: opts.port ?? 179 }, name);
    try {
      await p.until(() => p.listening, opts.timeoutMs ?? 10_000, 'to listen');
    } catch (e) {
      await p.close();
      throw e;
    }
    return p;
  }

  /** Kill every raw peer child still running (for afterAll). */
  static async closeAll(): Promise<void> {
    await Promise.all([...live].map((p) => p.close()));
  }

  /** Wait for the TCP connection (for a listener: until it accepted one). */
  async waitConnected(timeoutMs: number): Promise<ConnectionInfo> {
    await this.until(() => this.connection !== undefined, timeoutMs, 'the TCP connection');
    return this.connection as ConnectionInfo;
  }

  /** Write raw bytes (one write, so one message usually leaves in one segment). */
  send(bytes: Buffer): void {
    this.command({ op: 'send', hex: bytes.toString('hex') });
  }

  /** Encode with the codec (default `encodeOptions`) and send. */
  sendMessage(msg: BgpMessage, opts?: CodecOptions): void {
    this.send(encodeMessage(msg, opts ?? this.encodeOptions));
  }

  /** Half-close our side (FIN). */
  end(): void {
    this.command({ op: 'end' });
  }

  /** The next received message not yet consumed, with its bytes. */
  async nextFrame(timeoutMs: number): Promise<ReceivedFrame> {
    await this.until(() => this.readIndex < this.received.length, timeoutMs, 'a message', () => this.closed || this.framingError !== undefined);
    return this.received[this.readIndex++] as ReceivedFrame;
  }

  /** The next received message, decoded; throws if it did not decode. */
  async nextMessage(timeoutMs: number): Promise<BgpMessage> {
    const f = await this.nextFrame(timeoutMs);
    if (f.message === undefined) throw new Error(`${this.name}: received an undecodable message ${f.raw.toString('hex')}: ${f.decodeError}`);
    return f.message;
  }

  /** The next message, which must be of `type`. */
  async expectMessage<T extends MessageType>(type: T, timeoutMs: number): Promise<Extract<BgpMessage, { type: T }>> {
    const m = await this.nextMessage(timeoutMs);
    if (m.type !== type) throw new Error(`${this.name}: expected ${MessageType[type]}, got ${label(m)}`);
    return m as Extract<BgpMessage, { type: T }>;
  }

  /**
   * Skip messages until a NOTIFICATION; returns it with the raw frame and the
   * types skipped on the way (KEEPALIVEs, UPDATEs...).
   */
  async nextNotification(timeoutMs: number): Promise<{ notification: NotificationMessage; raw: Buffer; skipped: MessageType[] }> {
    const deadline = Date.now() + timeoutMs;
    const skipped: MessageType[] = [];
    for (;;) {
      const f = await this.nextFrame(Math.max(1, deadline - Date.now())).catch((e: Error) => {
        throw new Error(`${e.message} (waiting for a NOTIFICATION; skipped ${skipped.map((t) => MessageType[t]).join(', ') || 'nothing'})`);
      });
      if (f.message === undefined) throw new Error(`${this.name}: undecodable message before any NOTIFICATION: ${f.decodeError}`);
      if (f.message.type === MessageType.NOTIFICATION) return { notification: f.message, raw: f.raw, skipped };
      skipped.push(f.message.type);
    }
  }

  /** Messages received and not consumed yet (consumes them). */
  drain(): ReceivedFrame[] {
    const out = this.received.slice(this.readIndex);
    this.readIndex = this.received.length;
    return out;
  }

  /** True once the remote end closed (FIN or reset) or the child is gone. */
  get closed(): boolean {
    return this.endSeen || this.closeSeen || this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Wait until Tartan closes the connection (FIN or RST). */
  async waitClosed(timeoutMs: number): Promise<void> {
    await this.until(() => this.closed, timeoutMs, 'the connection to close');
  }

  /** Kill the child (by its PID) and wait for it. Idempotent. */
  async close(): Promise<void> {
    this.killNow();
    await this.exited;
  }

  /** SIGKILL the child by PID if it still runs (`ip netns exec` execs node, so the PID is the child itself). */
  killNow(): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null || this.child.pid === undefined) return;
    try {
      process.kill(this.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  describe(): string {
    const got = this.received.map((f) => (f.message ? label(f.message) : `undecodable(${f.decodeError})`));
    return (
      `${this.name}: received [${got.join(', ')}], consumed ${this.readIndex}` +
      `${this.endSeen ? ', got FIN' : ''}${this.closeSeen ? ', closed' : ''}` +
      `${this.errors.length ? `, errors: ${this.errors.join('; ')}` : ''}` +
      `${this.framingError ? `, framing error: ${this.framingError}` : ''}` +
      `${this.stderr.length ? `, child stderr: ${this.stderr.join('').trim()}` : ''}`
    );
  }

  // --- internals -------------------------------------------------------------

  private command(c: Record<string, unknown>): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`${this.name}: child has exited`);
    this.child.stdin.write(`${JSON.stringify(c)}\n`);
  }

  private onStdout(s: string): void {
    this.stdoutBuf += s;
    let nl = this.stdoutBuf.indexOf('\n');
    while (nl >= 0) {
      const line = this.stdoutBuf.slice(0, nl);
      this.stdoutBuf = this.stdoutBuf.slice(nl + 1);
      if (line.trim()) this.onEvent(JSON.parse(line) as ChildEvent);
      nl = this.stdoutBuf.indexOf('\n');
    }
    this.notify();
  }

  private onEvent(e: ChildEvent): void {
    switch (e.ev) {
      case 'listening':
        this.listening = true;
        return;
      case 'connected':
        this.connection = { localAddress: e.localAddress, localPort: e.localPort, remoteAddress: e.remoteAddress, remotePort: e.remotePort };
        return;
      case 'data':
        this.onData(Buffer.from(e.hex, 'hex'));
        return;
      case 'end':
        this.endSeen = true;
        return;
      case 'close':
        this.closeSeen = true;
        return;
      case 'error':
        this.errors.push(e.message);
        return;
    }
  }

  private onData(chunk: Buffer): void {
    if (this.framingError !== undefined) return;
    let raws: Buffer[];
    try {
      raws = this.framer.push(chunk);
    } catch (e) {
      this.framingError = e instanceof Error ? e.message : String(e);
      return;
    }
    for (const r of raws) {
      const raw = Buffer.from(r);
      try {
        this.received.push({ raw, message: decodeMessage(raw, this.decodeOptions) });
      } catch (e) {
        this.received.push({ raw, decodeError: e instanceof Error ? e.message : String(e) });
      }
    }
  }

  private notify(): void {
    for (const w of this.wake.splice(0)) w();
  }

  /** Resolve when `cond()` holds; reject after timeoutMs, or at once when `hopeless()` holds. */
  private until(cond: () => boolean, timeoutMs: number, what: string, hopeless?: () => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (cond()) {
          clearTimeout(timer);
          resolve();
          return true;
        }
        if (this.errors.length > 0 && this.connection === undefined) {
          clearTimeout(timer);
          reject(new Error(`${this.name}: failed waiting for ${what}: ${this.describe()}`));
          return true;
        }
        // Events arrive in socket order, so once the stream ended nothing more can come.
        if (hopeless?.() === true || this.child.exitCode !== null || this.child.signalCode !== null) {
          clearTimeout(timer);
          reject(new Error(`${this.name}: connection closed while waiting for ${what}: ${this.describe()}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        this.wake = this.wake.filter((w) => w !== loop);
        reject(new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${what}: ${this.describe()}`));
      }, timeoutMs);
      const loop = (): void => {
        if (!check()) this.wake.push(loop);
      };
      loop();
    });
  }
}
