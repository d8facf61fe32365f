/**
 * GoBGP 3.x driver: runs gobgpd in a lab host with its gRPC API on the
 * namespace's own loopback (so the `gobgp` CLI must run in the same
 * namespace), one API port per instance within a host.
 *
 * Supports: IPv4/IPv6 unicast, iBGP/eBGP, 4-octet ASNs, per-peer local AS,
 * passive, ports, hold time, ADD-PATH (receive + send-max 8), RR client and
 * cluster id. NOT supported: a 2-octet-only mode; GoBGP always advertises the
 * 4-octet AS capability and has no knob to suppress it (it does interoperate
 * with 2-octet peers, i.e. it can be the NEW side of an AS4_PATH session).
 * Originated routes always carry ORIGIN IGP, like BIRD statics and FRR
 * `network` routes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcessHandle } from './exec';
import type { Host } from './host';
import type { AddressFamily, DaemonConfig, DaemonHandle, OriginateRoute, PeerState, RouteEntry } from './daemon-types';
import { gobgpConfig } from './gobgp-config';
import { parseGobgpRib } from './gobgp-parse';
import { canonicalIp, normaliseState, prefixFamily, sortRoutes, tailFile, waitPeerEstablished } from './daemon-common';
import { waitFor } from './wait-for';

export const GOBGP_SUPPORTS_2_OCTET_ONLY = false;

const FIRST_API_PORT = 50051;
/** Next free API port per namespace (ports only need to be unique within one). */
const nextPort = new Map<string, number>();
let instance = 0;

/** gobgp's numeric session_state enum (api.PeerState.SessionState). */
const SESSION_STATES = ['Unknown', 'Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'];

function afiArg(family: AddressFamily): string {
  return family === 'ipv4-unicast' ? 'ipv4' : 'ipv6';
}

export class GobgpDaemon implements DaemonHandle {
  readonly kind = 'gobgp' as const;

  private constructor(
    private readonly host: Host,
    readonly config: DaemonConfig,
    readonly dir: string,
    readonly apiPort: number,
    private readonly proc: ProcessHandle,
  ) {}

  get pid(): number {
    return this.proc.pid;
  }
  get logFile(): string {
    return join(this.dir, 'gobgpd.log');
  }

  static async start(host: Host, config: DaemonConfig): Promise<GobgpDaemon> {
    if (config.peers.some((p) => p.twoOctetOnly)) throw new Error('gobgp cannot disable the 4-octet AS capability');
    const dir = join(host.dir, `gobgp-${instance++}`);
    mkdirSync(dir, { recursive: true });
    const apiPort = nextPort.get(host.ns) ?? FIRST_API_PORT;
    nextPort.set(host.ns, apiPort + 1);
    const local = [host.ipv4, host.ipv6].filter((a): a is string => a !== undefined);
    writeFileSync(join(dir, 'gobgpd.toml'), gobgpConfig(config, local));
    const proc = host.spawn(
      ['gobgpd', '-f', join(dir, 'gobgpd.toml'), '-t', 'toml', '-p', '--pprof-disable', `--api-hosts=127.0.0.1:${apiPort}`],
      { logFile: join(dir, 'gobgpd.log'), cwd: dir },
    );
    const d = new GobgpDaemon(host, config, dir, apiPort, proc);
    await waitFor(
      async () => {
        if (!proc.running) throw new Error(`gobgpd exited: ${d.logTail()}`);
        await d.gobgp(['global']);
        return true;
      },
      { what: `gobgpd in ${host.name} to answer on API port ${apiPort}`, timeoutMs: 10_000, intervalMs: 100 },
    );
    for (const r of config.originate) await d.announce(r);
    return d;
  }

  gobgp(args: readonly string[]): Promise<string> {
    return this.host.exec(['gobgp', '-u', '127.0.0.1', '-p', String(this.apiPort), ...args]);
  }

  async peerState(address: string): Promise<PeerState | string> {
    const out = JSON.parse(await this.gobgp(['neighbor', canonicalIp(address), '-j'])) as {
      state?: { session_state?: number | string; admin_state?: number | string };
    };
    const s = out.state?.session_state;
    if (typeof s === 'number') return SESSION_STATES[s] === 'Unknown' ? 'Idle' : (SESSION_STATES[s] ?? String(s));
    return normaliseState(String(s ?? 'Idle'));
  }

  waitEstablished(address: string, timeoutMs?: number): Promise<void> {
    return waitPeerEstablished('gobgp', (a) => this.peerState(a), address, () => this.logTail(), timeoutMs);
  }

  async receivedRoutes(family: AddressFamily): Promise<RouteEntry[]> {
    return sortRoutes(parseGobgpRib(await this.gobgp(['global', 'rib', '-a', afiArg(family), '-j'])));
  }

  async announce(route: OriginateRoute): Promise<void> {
    const args = ['global', 'rib', 'add', route.prefix, 'origin', 'igp'];
    if (route.nextHop) args.push('nexthop', route.nextHop);
    if (route.communities?.length) args.push('community', route.communities.join(','));
    if (route.largeCommunities?.length) args.push('large-community', route.largeCommunities.join(','));
    if (route.med !== undefined) args.push('med', String(route.med));
    // gobgp's CLI takes route targets as "rt <asn:val>..." (route-origin is not offered).
    const rts = (route.extCommunities ?? []).filter((c) => c.startsWith('rt:')).map((c) => c.slice(3));
    if (rts.length) args.push('rt', ...rts);
    await this.gobgp([...args, '-a', afiArg(prefixFamily(route.prefix))]);
  }

  async withdraw(prefix: string): Promise<void> {
    await this.gobgp(['global', 'rib', 'del', prefix, '-a', afiArg(prefixFamily(prefix))]);
  }

  /**
   * Administratively shut the session, sending Cease/Administrative Shutdown.
   * gobgp 3.10's `disable` drops `--reason`; the deprecated `shutdown` verb
   * (ShutdownPeer API) is the one that carries the RFC 8203 message.
   */
  async disablePeer(address: string, message?: string): Promise<void> {
    const addr = canonicalIp(address);
    if (message === undefined) await this.gobgp(['neighbor', addr, 'disable']);
    else await this.gobgp(['neighbor', addr, 'shutdown', '--reason', message]);
  }

  async enablePeer(address: string): Promise<void> {
    await this.gobgp(['neighbor', canonicalIp(address), 'enable']);
  }

  /**
   * Soft reset inbound. NOTE: GoBGP 3.10 re-applies policy to its stored
   * Adj-RIB-In and does NOT send a ROUTE-REFRESH message (seen on the wire).
   */
  async refreshIn(address: string, family: AddressFamily = 'ipv4-unicast'): Promise<void> {
    await this.gobgp(['neighbor', canonicalIp(address), 'softresetin', '-a', afiArg(family)]);
  }

  logTail(lines = 40): string {
    return tailFile(this.logFile, lines);
  }

  async stop(): Promise<void> {
    await this.proc.stop();
  }
}

export function startGobgp(host: Host, config: DaemonConfig): Promise<GobgpDaemon> {
  return GobgpDaemon.start(host, config);
}
