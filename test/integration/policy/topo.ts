/**
 * Routed Calico-style topology for policy tests, all inside namespaces the
 * test creates and deletes:
 *
 *   pod ns (eth0, /32) ══veth══ node ns (tt<pod>, proxy-ARP-style static neigh, /32 route)
 *   node n1 ══ nx0 (198.19.0.1/30 ↔ .2) ══ node n2, no routes of its own: startSpeaker()
 *   runs a real tartan-node (dist/) in each node namespace, originating the node's
 *   pod CIDR over iBGP, and the other node's pod CIDR reaches the kernel as a BGP
 *   route (protocol 201), as BIRD/confd do it for Calico's IPAM blocks
 *
 * Pod addresses: 198.18.<10*node>.x (podCidr()). As Calico, a pod's default route points
 * at 169.254.1.1, resolved to the fixed MAC the host side of every veth
 * carries (ee:ee:ee:ee:ee:ee). Names use the harness scheme (tt<pid36>_<n>-role)
 * so the harness's stale-lab cleanup recognises leftovers of a dead run.
 * Processes are started detached and stopped by their own PID/process group.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { run, type ProcessHandle } from '../harness/exec';
import { Host } from '../harness/host';
import { startTartan, type TartanNode, type TartanPeer } from '../tartan/tartan-node';
import { addNamespace, deleteNamespace, ipIn, newRunId, nsRun, sysctl } from '../harness/netns';
import { cleanupStale, processStartTime, removeState, STATE_ROOT, writeState } from '../harness/stale';
import { PolicyDataplane, processRunner, type PolicyDataplaneOptions } from '../../../src/dataplane/policy';
import { ECHO_SERVER, HOLD_CLIENT, PROBE } from './scripts';

export const WL_PREFIX = 'tt';
const HOST_MAC = 'ee:ee:ee:ee:ee:ee';
/** The nodes' AS: one AS for the cluster, iBGP between nodes (Calico's default node-to-node mesh). */
export const NODE_AS = 64512;

/** A node's pod CIDR (its IPAM block in Calico terms): 198.18.<10*index>.0/24. */
export function podCidr(node: NodeNs): string {
  return `198.18.${node.index * 10}.0/24`;
}

export interface NodeNs {
  name: string;
  ns: string;
  index: number;
  /** Address on the node-to-node link. */
  linkIp: string | null;
}

export interface Pod {
  name: string;
  ns: string;
  node: NodeNs;
  ip: string;
  iface: string;
}

export class PolicyLab {
  readonly nodes = new Map<string, NodeNs>();
  readonly pods = new Map<string, Pod>();
  private readonly namespaces: string[] = [];
  private readonly procs: ChildProcessWithoutNullStreams[] = [];
  /** Daemons started through a harness Host (tartan-node), stopped gracefully by destroy(). */
  private readonly handles: ProcessHandle[] = [];
  /** Scratch directory of this lab (removed by destroy). */
  readonly dir: string;

  private constructor(readonly runId: string) {
    this.dir = join(STATE_ROOT, runId);
    mkdirSync(this.dir, { recursive: true });
  }

  static async create(): Promise<PolicyLab> {
    await cleanupStale();
    return new PolicyLab(newRunId());
  }

  private save(): void {
    writeState({
      runId: this.runId,
      label: 'policy',
      pid: process.pid,
      pidStartTime: processStartTime(process.pid),
      namespaces: this.namespaces,
      spawnedPids: [...this.procs.map((p) => p.pid ?? 0), ...this.handles.map((h) => h.pid)],
      dir: this.dir,
    });
  }

  private async ns(role: string): Promise<string> {
    const ns = `tt${this.runId}-${role}`;
    this.namespaces.push(ns);
    this.save();
    await addNamespace(ns);
    await ipIn(ns, ['link', 'set', 'lo', 'up']);
    return ns;
  }

  /** A bare tracked namespace (lo up), e.g. an outside host. */
  addHost(role: string): Promise<string> {
    return this.ns(role);
  }

  async addNode(name: string): Promise<NodeNs> {
    const ns = await this.ns(name);
    for (const [k, v] of [
      ['net.ipv4.ip_forward', '1'],
      ['net.ipv4.conf.all.rp_filter', '0'],
      ['net.ipv4.conf.default.rp_filter', '0'],
    ] as const) {
      await sysctl(ns, k, v);
    }
    const node: NodeNs = { name, ns, index: this.nodes.size + 1, linkIp: null };
    this.nodes.set(name, node);
    return node;
  }

  /**
   * Join two nodes with a veth (198.19.0.1/30 ↔ .2). Only the connected /30:
   * each node's pod CIDR reaches the other by BGP (startSpeaker).
   */
  async linkNodes(a: NodeNs, b: NodeNs): Promise<void> {
    await ipIn(a.ns, ['link', 'add', 'nx0', 'type', 'veth', 'peer', 'name', 'nx0', 'netns', b.ns]);
    a.linkIp = '198.19.0.1';
    b.linkIp = '198.19.0.2';
    await ipIn(a.ns, ['addr', 'add', '198.19.0.1/30', 'dev', 'nx0']);
    await ipIn(b.ns, ['addr', 'add', '198.19.0.2/30', 'dev', 'nx0']);
    await ipIn(a.ns, ['link', 'set', 'nx0', 'up']);
    await ipIn(b.ns, ['link', 'set', 'nx0', 'up']);
  }

  /**
   * A real tartan-node (standalone: peers and prefixes from its file) in the
   * node's namespace: router ID and next hop are the node's nx0 address, an
   * iBGP session to each of `peers` over nx0, and the node's pod CIDR
   * originated. Learned routes go into the node's kernel with protocol 201.
   * Resolves once the control API answers (not yet Established).
   */
  async startSpeaker(node: NodeNs, peers: NodeNs[]): Promise<TartanNode> {
    if (node.linkIp === null) throw new Error(`node ${node.name} is not linked (linkNodes first)`);
    const dir = join(this.dir, node.name);
    mkdirSync(dir, { recursive: true });
    const host = new Host(node.name, node.ns, 'nx0', node.linkIp, undefined, dir, (h) => {
      this.handles.push(h);
      this.save();
    });
    return startTartan(host, {
      asn: NODE_AS,
      peers: peers.map((p): TartanPeer => {
        if (p.linkIp === null) throw new Error(`node ${p.name} is not linked (linkNodes first)`);
        return { address: p.linkIp, asn: NODE_AS, families: ['ipv4-unicast'] };
      }),
      originate: [{ prefix: podCidr(node) }],
      // Retry a refused connect (the other node not listening yet) after 1 s instead of the default.
      extra: { bgp: { connectRetryTime: 1 } },
    });
  }

  /** A pod behind a veth; `route: false` leaves the node's /32 route to whoever programs routes (the controller). */
  async addPod(node: NodeNs, name: string, opts: { route?: boolean } = {}): Promise<Pod> {
    const ns = await this.ns(name);
    const iface = `${WL_PREFIX}${name}`;
    const ip = `198.18.${node.index * 10}.${this.pods.size + 2}`;
    await ipIn(node.ns, ['link', 'add', iface, 'address', HOST_MAC, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await ipIn(ns, ['addr', 'add', `${ip}/32`, 'dev', 'eth0']);
    await ipIn(ns, ['link', 'set', 'eth0', 'up']);
    await ipIn(node.ns, ['link', 'set', iface, 'up']);
    await ipIn(ns, ['route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
    await ipIn(ns, ['route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0']);
    await ipIn(ns, ['neigh', 'add', '169.254.1.1', 'lladdr', HOST_MAC, 'dev', 'eth0', 'nud', 'permanent']);
    if (opts.route !== false) await ipIn(node.ns, ['route', 'add', `${ip}/32`, 'dev', iface]);
    const pod: Pod = { name, ns, node, ip, iface };
    this.pods.set(name, pod);
    return pod;
  }

  pod(name: string): Pod {
    const p = this.pods.get(name);
    if (p === undefined) throw new Error(`no pod ${name}`);
    return p;
  }

  /** Track a process started elsewhere (detached, own process group): killed by destroy(), found by stale cleanup. */
  adopt(child: ChildProcessWithoutNullStreams): void {
    this.procs.push(child);
    this.save();
  }

  /** Spawn a tracked, detached process in `ns`. */
  spawnIn(ns: string, argv: string[]): ChildProcessWithoutNullStreams {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    this.procs.push(child);
    this.save();
    return child;
  }

  /** TCP+UDP echo servers on `ports` inside `ns`; resolves once listening. */
  async startEcho(ns: string, ports: number[]): Promise<void> {
    const child = this.spawnIn(ns, [process.execPath, '-e', ECHO_SERVER, ...ports.map(String)]);
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready')) resolve();
      });
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('exit', (c) => reject(new Error(`echo server exited ${c}: ${out}`)));
    });
  }

  /** True iff a TCP/UDP echo or an ICMP echo reply came back from `ip`. */
  async probe(from: string, proto: 'tcp' | 'udp' | 'icmp', ip: string, port = 0): Promise<boolean> {
    if (proto === 'icmp') {
      const r = await nsRun(from, ['ping', '-c', '1', '-W', '1', ip], { allowFailure: true });
      return r.code === 0;
    }
    const r = await nsRun(from, [process.execPath, '-e', PROBE, proto, ip, String(port), '1500'], { allowFailure: true });
    return r.code === 0 && r.stdout.includes('OK');
  }

  holdClient(from: string, ip: string, port: number): ChildProcessWithoutNullStreams {
    return this.spawnIn(from, [process.execPath, '-e', HOLD_CLIENT, ip, String(port)]);
  }

  dataplane(node: NodeNs, opts: PolicyDataplaneOptions = {}): PolicyDataplane {
    return new PolicyDataplane({
      runner: processRunner(['ip', 'netns', 'exec', node.ns]),
      families: [4],
      ...opts,
      config: { workloadIfacePrefix: WL_PREFIX, failsafeInbound: [], failsafeOutbound: [], ...(opts.config ?? {}) },
    });
  }

  /** Run argv in a namespace and return stdout. */
  async exec(ns: string, argv: string[]): Promise<string> {
    return (await nsRun(ns, argv)).stdout;
  }

  async destroy(): Promise<void> {
    await Promise.all(this.handles.map((h) => h.stop(2_000)));
    for (const p of this.procs) {
      if (p.pid !== undefined && p.exitCode === null) {
        try {
          process.kill(-p.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    for (const ns of [...this.namespaces].reverse()) await deleteNamespace(ns);
    removeState(this.runId);
    await run(['rm', '-rf', this.dir]);
  }
}
