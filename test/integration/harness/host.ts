/**
 * One lab host: a network namespace with one interface on the lab LAN.
 * Commands run through `ip netns exec`, so they see only this namespace's
 * interfaces, routes and loopback.
 */
import { join } from 'node:path';
import { type ExecOptions, type ProcessHandle, spawnTracked } from './exec';
import { nsRun } from './netns';

export type Family = 'ipv4' | 'ipv6';

/** One row of `ip -j route show`; iproute2 emits more keys than listed here. */
export interface KernelRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  type?: string;
  metric?: number;
  flags?: string[];
  nexthops?: Array<{ gateway?: string; dev?: string; weight?: number; flags?: string[] }>;
  [key: string]: unknown;
}

export interface HostSpawnOptions {
  /** Defaults to `<host dir>/<argv0 basename>.log`. */
  logFile?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Callback the Lab gives each host so spawned processes are torn down with the lab. */
export type SpawnTracker = (handle: ProcessHandle) => void;

export class Host {
  constructor(
    readonly name: string,
    /** Network namespace name. */
    readonly ns: string,
    /** Interface name inside `ns` facing the lab switch. */
    readonly ifname: string,
    readonly ipv4: string | undefined,
    readonly ipv6: string | undefined,
    /** Per-host scratch directory (configs, sockets, logs). */
    readonly dir: string,
    private readonly track: SpawnTracker,
  ) {}

  /** Run argv in this namespace; resolves stdout, throws ExecError with stderr on non-zero exit. */
  async exec(argv: readonly string[], opts?: ExecOptions): Promise<string> {
    return (await nsRun(this.ns, argv, opts)).stdout;
  }

  /** Start a background process in this namespace; it is stopped by `lab.destroy()`. */
  spawn(argv: readonly string[], opts: HostSpawnOptions = {}): ProcessHandle {
    const base = (argv[0] ?? 'proc').split('/').pop() ?? 'proc';
    const handle = spawnTracked(['ip', 'netns', 'exec', this.ns, ...argv], {
      logFile: opts.logFile ?? join(this.dir, `${base}.log`),
      env: opts.env,
      cwd: opts.cwd,
    });
    this.track(handle);
    return handle;
  }

  /** The kernel routing table (main table) of this namespace. */
  async routes(family: Family): Promise<KernelRoute[]> {
    const out = await this.exec(['ip', '-j', family === 'ipv4' ? '-4' : '-6', 'route', 'show']);
    return out.trim() ? (JSON.parse(out) as KernelRoute[]) : [];
  }

  /** Address of this host in the given family; throws if the host has none. */
  addr(family: Family): string {
    const a = family === 'ipv4' ? this.ipv4 : this.ipv6;
    if (a === undefined) throw new Error(`host ${this.name} has no ${family} address`);
    return a;
  }
}
