/**
 * Test driver for tartan-node: writes a node config, starts the built daemon
 * (dist/) inside a lab host's namespace, and reads it back through the same
 * control API and tartanctl an operator would use.
 */
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { Host, ProcessHandle, RouteEntry } from '../harness';
import { waitFor, run } from '../harness';
import { ControlClient, type NodeStatus, type RouteView } from '../../../src/control';

export const REPO = resolve(__dirname, '../../..');
export const DAEMON = join(REPO, 'dist/daemon/main.js');
/** Node flags tartan-node runs with everywhere it is installed (config/tartan-node.service, Dockerfile, demo scripts). */
export const NODE_FLAGS = ['--max-semi-space-size=2'];
export const CLI = join(REPO, 'dist/cli/main.js');

export interface TartanPeer {
  address: string;
  asn: number;
  port?: number;
  passive?: boolean;
  holdTime?: number;
  families?: ('ipv4-unicast' | 'ipv6-unicast')[];
  localAsn?: number;
  name?: string;
  /** Our route-reflector client (needs routeReflectorClusterID in `extra`). */
  rrClient?: boolean;
  nextHopMode?: 'Auto' | 'Self' | 'Keep';
  /** Names of bgpFilters (given in `extra.bgpFilters`). */
  filters?: string[];
  /** TCP-MD5 password: inline text, or a secret in the node's `secretsDir` (set it in `extra`). */
  password?: string | { secretName: string; secretKey: string };
  /** GTSM hop count. */
  ttlSecurity?: number;
  /** ADD-PATH (RFC 7911) offered on this session. */
  addPaths?: 'receive' | 'send' | 'both';
}

export interface TartanOriginate {
  prefix: string;
  nextHop?: string;
  med?: number;
  localPref?: number;
  communities?: string[];
  largeCommunities?: string[];
}

export interface TartanOptions {
  asn: number;
  routerId?: string;
  listenPort?: number;
  peers: TartanPeer[];
  originate?: TartanOriginate[];
  /** Extra top-level config fields. */
  extra?: Record<string, unknown>;
  /** Cluster mode: the `datastore` section (endpoints, reportIntervalSeconds, …); peers and originate then come from etcd. */
  datastore?: Record<string, unknown>;
}

export class TartanNode {
  readonly client: ControlClient;

  constructor(
    readonly host: Host,
    readonly configFile: string,
    readonly socket: string,
    readonly proc: ProcessHandle,
  ) {
    this.client = new ControlClient(socket);
  }

  status(): Promise<NodeStatus> {
    return this.client.status();
  }

  routes(q: { table?: 'in' | 'out'; peer?: string; prefix?: string } = {}): Promise<RouteView[]> {
    return this.client.routes(q);
  }

  async peerState(address: string): Promise<string> {
    const s = await this.status();
    return s.peers.find((p) => p.address === address)?.state ?? 'unknown peer';
  }

  async waitEstablished(address: string, timeoutMs = 30_000): Promise<void> {
    await waitFor(async () => (await this.peerState(address)) === 'Established', {
      what: `tartan-node on ${this.host.name}: peer ${address} Established`,
      timeoutMs,
    }).catch((e: Error) => {
      throw new Error(`${e.message}\n--- tartan-node log ---\n${this.logTail()}`);
    });
  }

  /** Accepted received routes of one family, in the harness's daemon-neutral shape. */
  async receivedRoutes(family: 'ipv4-unicast' | 'ipv6-unicast'): Promise<RouteEntry[]> {
    const views = await this.routes({ table: 'in' });
    // Like `birdc show route`: routes rejected on import (loops, filters) are not "learned".
    return views
      .filter((v) => v.family === family && !v.rejected)
      .map((v) => {
        const a = v.attributes;
        const e: RouteEntry = {
          prefix: v.prefix,
          nextHop: a.nextHop?.[0] ?? '',
          asPath: a.asPath ? a.asPath.split(' ').filter(Boolean).map(Number) : [],
          origin: (a.origin ?? 'IGP').toLowerCase() as RouteEntry['origin'],
          communities: a.communities ?? [],
          largeCommunities: a.largeCommunities ?? [],
          fromPeer: v.peer,
        };
        if (a.med !== undefined) e.med = a.med;
        if (a.localPref !== undefined) e.localPref = a.localPref;
        if (a.originatorId !== undefined) e.originatorId = a.originatorId;
        if (a.clusterList !== undefined) e.clusterList = a.clusterList;
        return e;
      })
      .sort((x, y) => x.prefix.localeCompare(y.prefix) || x.fromPeer.localeCompare(y.fromPeer));
  }

  /** Run tartanctl against this node's socket; resolves {code, stdout, stderr}. */
  async ctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const r = await run(['node', CLI, '--socket', this.socket, ...args], { allowFailure: true });
    return { code: r.code ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  /** Rewrite the config file (e.g. new originate list) and SIGHUP the daemon. */
  reload(opts: TartanOptions): void {
    writeFileSync(this.configFile, renderConfig(this.host, opts, this.socket));
    process.kill(this.proc.pid, 'SIGHUP');
  }

  logTail(lines = 60): string {
    if (!existsSync(this.proc.logFile)) return '(no log)';
    return readFileSync(this.proc.logFile, 'utf8').split('\n').slice(-lines).join('\n');
  }

  /** SIGTERM and wait; resolves with the exit code. */
  async stop(): Promise<number | null> {
    await this.proc.stop(5000);
    return this.proc.exited;
  }
}

function renderConfig(host: Host, opts: TartanOptions, socket: string): string {
  const config: Record<string, unknown> = {
    nodeName: host.name,
    asNumber: opts.asn,
    routerId: opts.routerId ?? host.ipv4,
    controlSocket: socket,
    log: { level: 'debug', format: 'json' },
    listen: { port: opts.listenPort ?? 179 },
    peers: opts.peers.map((p) => ({
      peerIP: p.address,
      asNumber: p.asn,
      ...(p.name ? { name: p.name } : {}),
      ...(p.port ? { port: p.port } : {}),
      ...(p.passive ? { passive: true } : {}),
      ...(p.holdTime !== undefined ? { holdTime: p.holdTime } : {}),
      ...(p.families ? { families: p.families } : {}),
      ...(p.localAsn ? { localASNumber: p.localAsn } : {}),
      ...(p.rrClient ? { routeReflectorClient: true } : {}),
      ...(p.nextHopMode ? { nextHopMode: p.nextHopMode } : {}),
      ...(p.filters ? { filters: p.filters } : {}),
      ...(typeof p.password === 'string' ? { password: p.password } : {}),
      ...(typeof p.password === 'object' ? { password: { secretKeyRef: { name: p.password.secretName, key: p.password.secretKey } } } : {}),
      ...(p.ttlSecurity !== undefined ? { ttlSecurity: p.ttlSecurity } : {}),
      ...(p.addPaths ? { addPaths: p.addPaths } : {}),
    })),
    originate: opts.originate ?? [],
    ...(opts.datastore ? { datastore: { type: 'etcdv3', ...opts.datastore } } : {}),
    ...opts.extra,
  };
  if (host.ipv4) config.ipv4Address = host.ipv4;
  if (host.ipv6) config.ipv6Address = host.ipv6;
  return stringify(config);
}

/** Start tartan-node on `host` and wait until its control API answers. */
export async function startTartan(host: Host, opts: TartanOptions): Promise<TartanNode> {
  if (!existsSync(DAEMON)) throw new Error(`${DAEMON} is missing: run "npm run build" first`);
  const configFile = join(host.dir, 'tartan-node.yaml');
  const socket = join(host.dir, 'tartan.sock');
  writeFileSync(configFile, renderConfig(host, opts, socket));
  const proc = host.spawn(['node', ...NODE_FLAGS, ...(process.env['TARTAN_NODE_ARGS'] ?? '').split(' ').filter(Boolean), DAEMON, '--config', configFile], { logFile: join(host.dir, 'tartan-node.log') });
  const node = new TartanNode(host, configFile, socket, proc);
  await waitFor(
    async () => {
      if (!proc.running) throw new Error(`tartan-node exited: ${node.logTail(20)}`);
      return (await node.status()).nodeName === host.name;
    },
    { what: `tartan-node control API on ${host.name}`, timeoutMs: 15_000 },
  );
  return node;
}
