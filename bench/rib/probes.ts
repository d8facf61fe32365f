/**
 * Cheap probes the benchmark polls while a daemon loads routes. Everything
 * here avoids spawning a process per poll where it can (a spawned CLI costs
 * tens of ms of CPU on a 2-core box, which is stolen from the daemon):
 *
 * - RSS: /proc/<pid>/status (VmRSS, VmHWM) of the daemon process(es).
 * - FIB size: /proc/<pid>/net/fib_triestat read from the parent; /proc/<pid>/net
 *   is the network namespace of <pid>, so no `ip netns exec` is needed. The
 *   kernel walks the whole trie for this file (about 45 ms of system time at
 *   1M routes on the reference box), so callers poll it adaptively.
 * - BIRD: its control-socket protocol spoken directly (what birdc does).
 * - FRR: the vtysh <-> daemon unix-socket protocol spoken directly (what vtysh
 *   does: command + NUL, reply ends with three NULs and a status byte).
 */
import { readFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';

export interface MemSample {
  rssKb: number;
  hwmKb: number;
}

/** VmRSS and VmHWM of one process, in KiB. */
export function readMem(pid: number): MemSample {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const get = (k: string): number => {
    const m = new RegExp(`^${k}:\\s+(\\d+)\\s+kB`, 'm').exec(s);
    if (!m?.[1]) throw new Error(`no ${k} in /proc/${pid}/status`);
    return Number(m[1]);
  };
  return { rssKb: get('VmRSS'), hwmKb: get('VmHWM') };
}

/**
 * Number of IPv4 prefixes in the FIB of <pid>'s network namespace: "Prefixes"
 * of the first table section ("Main:") of /proc/<pid>/net/fib_triestat. With
 * no policy rules the kernel merges the local and main tables into one trie,
 * so this includes local/connected routes: callers subtract a baseline taken
 * before the sender connects.
 */
export function fibPrefixes(pid: number): number {
  const s = readFileSync(`/proc/${pid}/net/fib_triestat`, 'utf8');
  const m = /Prefixes:\s+(\d+)/.exec(s);
  if (!m?.[1]) throw new Error(`no Prefixes in /proc/${pid}/net/fib_triestat`);
  return Number(m[1]);
}

/** A persistent request/response client over a unix stream socket. */
abstract class SocketClient {
  private sock: Socket | undefined;
  private buf = '';
  private waiter: ((s: string) => void) | undefined;
  private failer: ((e: Error) => void) | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(protected readonly path: string) {}

  /** Given the text received so far, the complete reply and the rest, or null if incomplete. */
  protected abstract split(buf: string): [string, string] | null;
  protected abstract frame(cmd: string): string;
  /** Called once after connecting (e.g. to read a greeting). */
  protected async greet(): Promise<void> {
    return Promise.resolve();
  }

  private async open(): Promise<void> {
    if (this.sock && !this.sock.destroyed) return;
    this.buf = '';
    await new Promise<void>((resolve, reject) => {
      const s = createConnection(this.path);
      s.setEncoding('latin1');
      s.once('connect', () => resolve());
      s.once('error', reject);
      s.on('data', (d: string) => {
        this.buf += d;
        this.deliver();
      });
      s.on('error', (e) => this.failer?.(e));
      s.on('close', () => this.failer?.(new Error(`socket ${this.path} closed`)));
      this.sock = s;
    });
    await this.greet();
  }

  private deliver(): void {
    if (!this.waiter) return;
    const r = this.split(this.buf);
    if (!r) return;
    this.buf = r[1];
    const w = this.waiter;
    this.waiter = undefined;
    this.failer = undefined;
    w(r[0]);
  }

  protected readReply(): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      this.waiter = resolve;
      this.failer = (e) => {
        this.waiter = undefined;
        this.failer = undefined;
        this.sock?.destroy();
        reject(e);
      };
      this.deliver();
    });
  }

  /** Send one command and resolve its full reply (commands are serialised). */
  command(cmd: string): Promise<string> {
    const run = async (): Promise<string> => {
      await this.open();
      const reply = this.readReply();
      (this.sock as Socket).write(this.frame(cmd), 'latin1');
      return reply;
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  close(): void {
    this.sock?.destroy();
    this.sock = undefined;
  }
}

/**
 * BIRD control socket: lines "NNNN-text" (more follows), " text" (continuation)
 * and a final "NNNN text" (code + space) that ends the reply.
 */
export class BirdSocket extends SocketClient {
  protected split(buf: string): [string, string] | null {
    const re = /^\d{4} .*\n/gm;
    const m = re.exec(buf);
    if (!m) return null;
    const end = m.index + m[0].length;
    return [buf.slice(0, end), buf.slice(end)];
  }
  protected frame(cmd: string): string {
    return `${cmd}\n`;
  }
  protected override async greet(): Promise<void> {
    await this.readReply(); // "0001 BIRD x.y.z ready."
  }
}

/** FRR vty over the daemon's unix socket, as vtysh speaks it. */
export class FrrVtySocket extends SocketClient {
  protected split(buf: string): [string, string] | null {
    for (let i = 0; i + 3 < buf.length; i++) {
      if (buf.charCodeAt(i) === 0 && buf.charCodeAt(i + 1) === 0 && buf.charCodeAt(i + 2) === 0) {
        return [buf.slice(0, i), buf.slice(i + 4)];
      }
    }
    return null;
  }
  protected frame(cmd: string): string {
    return `${cmd}\0`;
  }
}
