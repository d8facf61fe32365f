/**
 * A lab: one LAN of hosts, each in its own network namespace, joined by a
 * bridge that lives in the lab's own "switch" namespace. Nothing is created in
 * the root namespace and nothing is routed out: addresses come from the
 * RFC 2544 benchmarking range (198.18.<lab>.0/24) and ULA (fd00:7a7a:<lab>::/64).
 *
 *   const lab = await Lab.create('bgp-basic');
 *   try { const r1 = await lab.addHost('r1'); ... } finally { await lab.destroy(); }
 *
 * `destroy()` is idempotent, stops every process spawned through the lab's
 * hosts (by process group) and deletes every namespace (which also deletes the
 * veth pairs and the bridge inside them). A process 'exit' hook does the same
 * synchronously if a test runner dies before `destroy()`, and `Lab.create`
 * first reaps leftovers of dead runs (`cleanupStale`).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { ProcessHandle } from './exec';
import { Host } from './host';
import { addNamespace, deleteNamespace, ipIn, NAME_PREFIX, newRunId, sysctl } from './netns';
import { cleanupStale, processStartTime, removeState, STATE_ROOT, writeState, type LabState } from './stale';

export interface AddHostOptions {
  /** Assign an IPv4 address (default true). */
  ipv4?: boolean;
  /** Assign an IPv6 address (default true). */
  ipv6?: boolean;
}

const MAX_HOSTS = 200;
let labIndex = 0;

export class Lab {
  readonly hosts = new Map<string, Host>();
  private readonly processes: ProcessHandle[] = [];
  private readonly namespaces: string[] = [];
  private destroyed = false;
  private readonly exitHook = (): void => this.destroySync();

  private constructor(
    readonly label: string,
    readonly runId: string,
    /** Third octet of 198.18.X.0/24 and the third group of fd00:7a7a:X::/64. */
    readonly subnetIndex: number,
    /** Scratch directory for configs, sockets and logs of this lab. */
    readonly dir: string,
  ) {}

  get switchNs(): string {
    return `${NAME_PREFIX}${this.runId}-sw`;
  }
  get bridge(): string {
    return `${NAME_PREFIX}${this.runId}br`;
  }
  get ipv4Prefix(): string {
    return `198.18.${this.subnetIndex}.0/24`;
  }
  get ipv6Prefix(): string {
    return `fd00:7a7a:${this.subnetIndex.toString(16)}::/64`;
  }

  static async create(label: string): Promise<Lab> {
    await cleanupStale();
    const runId = newRunId();
    const dir = join(STATE_ROOT, runId);
    mkdirSync(dir, { recursive: true });
    // 1..255: index 0 would give the non-canonical "fd00:7a7a:0::1" spelling.
    const lab = new Lab(label, runId, (labIndex++ % 255) + 1, dir);
    process.once('exit', lab.exitHook);
    lab.saveState();
    try {
      await lab.addNamespace(lab.switchNs);
      // The switch only bridges frames; keep IPv6 off so it sends nothing itself.
      await sysctl(lab.switchNs, 'net.ipv6.conf.all.disable_ipv6', '1');
      await sysctl(lab.switchNs, 'net.ipv6.conf.default.disable_ipv6', '1');
      await ipIn(lab.switchNs, ['link', 'add', lab.bridge, 'type', 'bridge', 'stp_state', '0']);
      await ipIn(lab.switchNs, ['link', 'set', lab.bridge, 'up']);
    } catch (e) {
      await lab.destroy();
      throw e;
    }
    return lab;
  }

  /** Create a host namespace attached to the lab LAN. */
  async addHost(name: string, opts: AddHostOptions = {}): Promise<Host> {
    if (this.destroyed) throw new Error('lab already destroyed');
    if (!/^[a-z0-9]{1,8}$/.test(name)) throw new Error(`host name must be 1-8 [a-z0-9]: ${name}`);
    if (this.hosts.has(name)) throw new Error(`duplicate host ${name}`);
    const idx = this.hosts.size + 1;
    if (idx > MAX_HOSTS) throw new Error('too many hosts');
    const ns = `${NAME_PREFIX}${this.runId}-${name}`;
    const ifname = `${NAME_PREFIX}${this.runId}e`;
    const swPort = `${NAME_PREFIX}${this.runId}p${idx.toString(36)}`;
    await this.addNamespace(ns);

    // DAD off before the interface exists so its addresses are usable at once;
    // forwarding on because the hosts act as routers.
    for (const [k, v] of [
      ['net.ipv6.conf.all.accept_dad', '0'],
      ['net.ipv6.conf.default.accept_dad', '0'],
      ['net.ipv6.conf.all.forwarding', '1'],
      ['net.ipv4.ip_forward', '1'],
    ] as const) {
      await sysctl(ns, k, v);
    }
    await ipIn(ns, ['link', 'set', 'lo', 'up']);
    // Created inside the switch namespace, peer end placed straight into the host namespace.
    await ipIn(this.switchNs, ['link', 'add', swPort, 'type', 'veth', 'peer', 'name', ifname, 'netns', ns]);
    await ipIn(this.switchNs, ['link', 'set', swPort, 'master', this.bridge]);
    await ipIn(this.switchNs, ['link', 'set', swPort, 'up']);

    const ipv4 = opts.ipv4 === false ? undefined : `198.18.${this.subnetIndex}.${idx}`;
    const ipv6 = opts.ipv6 === false ? undefined : `fd00:7a7a:${this.subnetIndex.toString(16)}::${idx.toString(16)}`;
    if (ipv4) await ipIn(ns, ['addr', 'add', `${ipv4}/24`, 'dev', ifname]);
    if (ipv6) await ipIn(ns, ['-6', 'addr', 'add', `${ipv6}/64`, 'dev', ifname, 'nodad']);
    await ipIn(ns, ['link', 'set', ifname, 'up']);

    const hostDir = join(this.dir, name);
    mkdirSync(hostDir, { recursive: true });
    const host = new Host(name, ns, ifname, ipv4, ipv6, hostDir, (h) => this.trackProcess(h));
    this.hosts.set(name, host);
    return host;
  }

  host(name: string): Host {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no host ${name} in lab ${this.label}`);
    return h;
  }

  /** Stop all processes and delete all namespaces. Safe to call more than once. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    process.removeListener('exit', this.exitHook);
    const errors: unknown[] = [];
    await Promise.all(this.processes.map((p) => p.stop(2_000).catch((e: unknown) => errors.push(e))));
    // Hosts first, switch last, so no veth end is orphaned mid-teardown.
    for (const ns of [...this.namespaces].reverse()) {
      await deleteNamespace(ns).catch((e: unknown) => errors.push(e));
    }
    if (!process.env['TARTAN_KEEP_LOGS']) rmSync(this.dir, { recursive: true, force: true });
    removeState(this.runId);
    if (errors.length > 0) throw new AggregateError(errors, `lab ${this.label} teardown had errors`);
  }

  /** Last-resort synchronous teardown for process exit (no awaiting possible there). */
  private destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const p of this.processes) {
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    for (const ns of [...this.namespaces].reverse()) spawnSync('ip', ['netns', 'delete', ns]);
    removeState(this.runId);
  }

  private async addNamespace(ns: string): Promise<void> {
    // Record before creating, so a crash in between still leaves a findable record.
    this.namespaces.push(ns);
    this.saveState();
    await addNamespace(ns);
  }

  private trackProcess(handle: ProcessHandle): void {
    this.processes.push(handle);
    this.saveState();
  }

  private saveState(): void {
    const state: LabState = {
      runId: this.runId,
      label: this.label,
      pid: process.pid,
      pidStartTime: processStartTime(process.pid),
      namespaces: this.namespaces,
      spawnedPids: this.processes.map((p) => p.pid),
      dir: this.dir,
    };
    writeState(state);
  }
}
