/**
 * sd_notify(3) for Type=notify units: READY=1, STATUS=…, STOPPING=1 and
 * WATCHDOG=1 pings at half of WATCHDOG_USEC.
 *
 * Node cannot send on an AF_UNIX SOCK_DGRAM socket, so each message is sent
 * by running `systemd-notify VAR=VALUE…` (Debian package `systemd`), with
 * NOTIFY_SOCKET passed through. The unit needs NotifyAccess=all, because the
 * datagram comes from that child, not from the main PID. systemd-notify
 * (v246+) waits until the manager has processed the message (a BARRIER=1
 * round trip), so the short-lived sender is still alive when systemd maps
 * it to the unit's cgroup. Run as root with CAP_SYS_ADMIN it even sends
 * with our PID as the credentials; without, with its own, which
 * NotifyAccess=all accepts.
 *
 * Everything is a no-op when NOTIFY_SOCKET is unset (not under systemd).
 * Messages are sent one at a time, in call order.
 */
import { execFile } from 'node:child_process';

export type NotifyExec = (file: string, args: readonly string[], env: NodeJS.ProcessEnv) => Promise<{ code: number; stderr: string }>;

export const defaultNotifyExec: NotifyExec = (file, args, env) =>
  new Promise((resolve, reject) => {
    execFile(file, [...args], { env, timeout: 10_000 }, (err, _stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error(`${file} not found: install the Debian package "systemd" (it ships systemd-notify) or unset NOTIFY_SOCKET`));
        return;
      }
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stderr: String(stderr) });
    });
  });

export interface NotifierOptions {
  env?: NodeJS.ProcessEnv;
  /** Default "systemd-notify" (found on PATH). */
  binary?: string;
  exec?: NotifyExec;
  /** Told about failed sends (they never throw into the daemon). */
  onError?: (err: Error) => void;
  pid?: number;
}

export class SystemdNotifier {
  readonly enabled: boolean;
  private readonly env: NodeJS.ProcessEnv;
  private readonly binary: string;
  private readonly exec: NotifyExec;
  private readonly onError: (err: Error) => void;
  private readonly pid: number;
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: NotifierOptions = {}) {
    this.env = opts.env ?? process.env;
    this.enabled = Boolean(this.env['NOTIFY_SOCKET']);
    this.binary = opts.binary ?? 'systemd-notify';
    this.exec = opts.exec ?? defaultNotifyExec;
    this.onError = opts.onError ?? (() => undefined);
    this.pid = opts.pid ?? process.pid;
  }

  /** Send raw assignments, e.g. notify({ READY: '1', STATUS: 'up' }). Resolves when sent (never rejects). */
  notify(vars: Record<string, string>): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    const args = Object.entries(vars).map(([k, v]) => {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(k)) throw new Error(`invalid sd_notify variable name ${JSON.stringify(k)}`);
      // One message is newline-separated VAR=VALUE lines; a newline in a value would start a new variable.
      return `${k}=${v.replace(/\n/g, ' ')}`;
    });
    const send = async (): Promise<void> => {
      try {
        const res = await this.exec(this.binary, args, this.env);
        if (res.code !== 0) this.onError(new Error(`${this.binary} ${args.join(' ')} exited ${res.code}: ${res.stderr.trim()}`));
      } catch (e) {
        this.onError(e instanceof Error ? e : new Error(String(e)));
      }
    };
    this.queue = this.queue.then(send);
    return this.queue;
  }

  ready(status?: string): Promise<void> {
    return this.notify(status === undefined ? { READY: '1' } : { READY: '1', STATUS: status });
  }

  status(text: string): Promise<void> {
    return this.notify({ STATUS: text });
  }

  /** Before shutting down (then systemd does not count the exit as a crash while stopping). */
  stopping(status?: string): Promise<void> {
    this.stopWatchdog();
    return this.notify(status === undefined ? { STOPPING: '1' } : { STOPPING: '1', STATUS: status });
  }

  watchdog(): Promise<void> {
    return this.notify({ WATCHDOG: '1' });
  }

  /**
   * The ping interval, half of WATCHDOG_USEC as sd_watchdog_enabled(3)
   * recommends, or undefined when the watchdog is off or meant for another
   * process (WATCHDOG_PID).
   */
  watchdogIntervalMs(): number | undefined {
    if (!this.enabled) return undefined;
    const usec = Number(this.env['WATCHDOG_USEC']);
    if (!Number.isInteger(usec) || usec <= 0) return undefined;
    const forPid = this.env['WATCHDOG_PID'];
    if (forPid !== undefined && forPid !== '' && Number(forPid) !== this.pid) return undefined;
    return Math.max(1, Math.floor(usec / 2000));
  }

  /**
   * Ping every half WATCHDOG_USEC while `healthy()` says so; a daemon whose
   * loop is stuck stops pinging and systemd restarts it. Returns whether
   * the watchdog is on.
   */
  startWatchdog(healthy: () => boolean = () => true): boolean {
    const every = this.watchdogIntervalMs();
    if (every === undefined || this.timer) return every !== undefined;
    const tick = (): void => {
      if (healthy()) void this.watchdog();
    };
    tick();
    this.timer = setInterval(tick, every);
    this.timer.unref();
    return true;
  }

  stopWatchdog(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Resolves when every message queued so far has been sent. */
  flush(): Promise<void> {
    return this.queue;
  }
}
