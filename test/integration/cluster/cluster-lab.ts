/**
 * A Tartan cluster in a lab: one host runs etcd (inside its namespace, on
 * its lab address, so every node reaches it over the LAN), the others run
 * tartan-node in cluster mode. The test process itself lives in the root
 * namespace, where lab addresses are not routed; it reaches etcd through a
 * relay: a tiny node process in the etcd host's namespace listens on a unix
 * socket (a file, visible from every namespace) and connects to etcd over
 * TCP, and a local TCP listener on 127.0.0.1 forwards to that socket. The
 * Datastore/Ipam clients of the test use the local listener.
 *
 * Everything spawned goes through host.spawn, so lab.destroy() stops it.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, waitFor, type Host, type ProcessHandle, type KernelRoute } from '../harness';
import { startTartan, type TartanNode } from '../tartan/tartan-node';
import { Datastore } from '../../../src/datastore';

const ETCD = process.env['ETCD_BINARY'] ?? '/usr/bin/etcd';
export const AS = 64512;

const RELAY = `'use strict';
const net = require('node:net');
const fs = require('node:fs');
const [sock, host, port] = process.argv.slice(2);
try { fs.unlinkSync(sock); } catch {}
net.createServer((c) => {
  const u = net.connect(Number(port), host);
  c.pipe(u); u.pipe(c);
  c.on('error', () => u.destroy()); u.on('error', () => c.destroy());
  c.on('close', () => u.destroy()); u.on('close', () => c.destroy());
}).listen(sock, () => process.stdout.write('relay ready\\n'));
`;

export class EtcdInLab {
  private proc: ProcessHandle | undefined;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** http://127.0.0.1:PORT, for clients in the root namespace (the test). */
  localEndpoint = '';

  constructor(readonly host: Host) {}

  /** What nodes use: etcd on the lab LAN. */
  get endpoint(): string {
    return `http://${this.host.addr('ipv4')}:2379`;
  }

  async start(): Promise<void> {
    const ip = this.host.addr('ipv4');
    const dataDir = join(this.host.dir, 'etcd-data');
    mkdirSync(dataDir, { recursive: true });
    this.proc = this.host.spawn(
      [
        ETCD, '--name', 'lab', '--data-dir', dataDir,
        '--listen-client-urls', `http://${ip}:2379`, '--advertise-client-urls', `http://${ip}:2379`,
        '--listen-peer-urls', `http://${ip}:2380`, '--initial-advertise-peer-urls', `http://${ip}:2380`,
        '--initial-cluster', `lab=http://${ip}:2380`, '--log-level', 'warn', '--logger', 'zap',
      ],
      { logFile: join(this.host.dir, 'etcd.log'), env: { ...process.env, ETCD_UNSUPPORTED_ARCH: process.env['ETCD_UNSUPPORTED_ARCH'] ?? '' } },
    );
    if (!this.server) await this.startRelay();
    await waitFor(
      async () => {
        if (!this.proc?.running) throw new Error('etcd exited (see etcd.log in the etcd host dir)');
        const res = await fetch(`${this.localEndpoint}/health`);
        return res.ok && ((await res.json()) as { health?: string }).health === 'true';
      },
      { what: 'etcd in the lab to become healthy', timeoutMs: 20_000 },
    );
  }

  private async startRelay(): Promise<void> {
    const script = join(this.host.dir, 'etcd-relay.js');
    const sock = join(this.host.dir, 'etcd-relay.sock');
    writeFileSync(script, RELAY);
    this.host.spawn([process.execPath, script, sock, this.host.addr('ipv4'), '2379'], { logFile: join(this.host.dir, 'etcd-relay.log') });
    const server = createServer((c) => {
      this.sockets.add(c);
      const u = connect(sock);
      c.pipe(u);
      u.pipe(c);
      const end = (): void => {
        c.destroy();
        u.destroy();
        this.sockets.delete(c);
      };
      c.on('error', end);
      u.on('error', end);
      c.on('close', end);
      u.on('close', end);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const addr = server.address();
    this.localEndpoint = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    this.server = server;
    await waitFor(() => existsSync(sock), { what: 'etcd relay socket' });
  }

  /** Stop etcd (SIGTERM); the data dir stays for start(). */
  async stop(): Promise<void> {
    await this.proc?.stop(5000);
    this.proc = undefined;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

export interface ClusterLab {
  lab: Lab;
  etcd: EtcdInLab;
  hosts: Host[];
  /** The test's own datastore client (through the relay). */
  ds: Datastore;
}

export async function createClusterLab(label: string, names: string[]): Promise<ClusterLab> {
  const lab = await Lab.create(label);
  try {
    const etcdHost = await lab.addHost('etcd', { ipv6: false });
    const hosts: Host[] = [];
    for (const n of names) hosts.push(await lab.addHost(n, { ipv6: false }));
    const etcd = new EtcdInLab(etcdHost);
    await etcd.start();
    const ds = Datastore.connect({ endpoints: [etcd.localEndpoint], requestTimeoutMs: 3000 });
    return { lab, etcd, hosts, ds };
  } catch (e) {
    await lab.destroy();
    throw e;
  }
}

export async function destroyClusterLab(c: ClusterLab | undefined): Promise<void> {
  if (!c) return;
  c.ds.close();
  await c.lab.destroy();
  await c.etcd.close();
}

/** tartan-node in cluster mode on `host`. */
export function startClusterNode(host: Host, etcd: EtcdInLab, extra: Record<string, unknown> = {}): Promise<TartanNode> {
  return startTartan(host, {
    asn: AS,
    peers: [],
    datastore: { endpoints: [etcd.endpoint], reportIntervalSeconds: 2, reportTTLSeconds: 10 },
    extra: { bgp: { holdTime: 30, connectRetryTime: 1 }, fib: { startupHoldSeconds: 3 }, ...extra },
  });
}

/** Kernel routes by destination. */
export async function kernelRoutes(h: Host): Promise<Map<string, KernelRoute>> {
  const out = new Map<string, KernelRoute>();
  for (const r of await h.routes('ipv4')) out.set(r.dst.includes('/') ? r.dst : `${r.dst}/32`, r);
  return out;
}

/** `prefix` is in `h`'s kernel via `gateway` (a BGP route, protocol 201). */
export async function hasRouteVia(h: Host, prefix: string, gateway: string): Promise<boolean> {
  const r = (await kernelRoutes(h)).get(prefix);
  return r !== undefined && r.gateway === gateway;
}

/** Peer address → {type, state} as the node's control API shows it. */
export async function peerTable(n: TartanNode): Promise<Record<string, string>> {
  const s = await n.status();
  return Object.fromEntries(s.peers.map((p) => [p.address, `${p.peerType}/${p.state}`]));
}

export async function waitPeers(n: TartanNode, want: Record<string, string>, what: string, timeoutMs = 30_000): Promise<void> {
  const wantText = JSON.stringify(Object.fromEntries(Object.entries(want).sort()));
  await waitFor(async () => JSON.stringify(Object.fromEntries(Object.entries(await peerTable(n)).sort())) === wantText, { what: `${what}: ${wantText}`, timeoutMs }).catch((e: Error) => {
    throw new Error(`${e.message}\n--- ${n.host.name} log ---\n${n.logTail(40)}`);
  });
}
