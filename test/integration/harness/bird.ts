/**
 * BIRD 2 driver: runs `bird -f` in a lab host with its own control socket,
 * pid file and log under a per-instance directory, talks to it with birdc.
 *
 * Supports: IPv4/IPv6 unicast, iBGP/eBGP, 4-octet ASNs, per-peer local AS,
 * passive, ports, hold time, ADD-PATH (`add paths on`, rx+tx), RR client and
 * cluster id, TCP-MD5 (`password`), GTSM (`ttl security on`), `multihop`,
 * and a real 2-octet-only mode (`enable as4 off`: no AS4
 * capability, AS_TRANS in OPEN, AS4_PATH on the wire).
 * Run-time announce/withdraw rewrites the static routes and runs
 * `birdc configure` (sessions stay up).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcessHandle } from './exec';
import type { Host } from './host';
import type { AddressFamily, DaemonConfig, DaemonHandle, OriginateRoute, PeerState, RouteEntry } from './daemon-types';
import { birdConfig, birdProtocolName } from './bird-config';
import { parseBirdRoutes } from './bird-parse';
import { canonicalIp, normaliseState, sortRoutes, tailFile, waitPeerEstablished } from './daemon-common';
import { waitFor } from './wait-for';

export const BIRD_SUPPORTS_2_OCTET_ONLY = true;

let instance = 0;

export class BirdDaemon implements DaemonHandle {
  readonly kind = 'bird' as const;
  private readonly originate: OriginateRoute[];

  private constructor(
    private readonly host: Host,
    readonly config: DaemonConfig,
    readonly dir: string,
    private readonly proc: ProcessHandle,
  ) {
    this.originate = [...config.originate];
  }

  get pid(): number {
    return this.proc.pid;
  }
  private get socket(): string {
    return join(this.dir, 'bird.ctl');
  }
  private get confFile(): string {
    return join(this.dir, 'bird.conf');
  }
  get logFile(): string {
    return join(this.dir, 'bird.log');
  }

  static async start(host: Host, config: DaemonConfig): Promise<BirdDaemon> {
    const dir = join(host.dir, `bird-${instance++}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'bird.conf'), birdConfig(config, config.originate, join(dir, 'bird.log')));
    const proc = host.spawn(
      ['bird', '-f', '-c', join(dir, 'bird.conf'), '-s', join(dir, 'bird.ctl'), '-P', join(dir, 'bird.pid')],
      { logFile: join(dir, 'stderr.log'), cwd: dir },
    );
    const d = new BirdDaemon(host, config, dir, proc);
    await waitFor(
      async () => {
        if (!proc.running) throw new Error(`bird exited: ${tailFile(join(dir, 'stderr.log'))}`);
        return (await d.birdc(['show', 'status'])).includes('Daemon is up');
      },
      { what: `bird in ${host.name} to accept birdc`, timeoutMs: 10_000, intervalMs: 100 },
    );
    return d;
  }

  /** Run a birdc command; BIRD reports errors in-band with codes 8xxx/9xxx. */
  async birdc(args: readonly string[]): Promise<string> {
    const out = await this.host.exec(['birdc', '-s', this.socket, ...args]);
    if (/syntax error|unknown command/i.test(out)) throw new Error(`birdc ${args.join(' ')}: ${out}`);
    return out;
  }

  private protocolFor(address: string): string {
    const want = canonicalIp(address);
    const i = this.config.peers.findIndex((p) => canonicalIp(p.address) === want);
    if (i < 0) throw new Error(`bird: no peer ${address} configured`);
    return birdProtocolName(i);
  }

  async peerState(address: string): Promise<PeerState | string> {
    const out = await this.birdc(['show', 'protocols', 'all', this.protocolFor(address)]);
    const m = /BGP state:\s+(\S+)/.exec(out);
    // A disabled or down protocol prints no BGP state line: that is Idle in RFC terms.
    return m?.[1] ? normaliseState(m[1]) : 'Idle';
  }

  waitEstablished(address: string, timeoutMs?: number): Promise<void> {
    return waitPeerEstablished('bird', (a) => this.peerState(a), address, () => this.logTail(), timeoutMs);
  }

  async receivedRoutes(family: AddressFamily): Promise<RouteEntry[]> {
    const table = family === 'ipv4-unicast' ? 'master4' : 'master6';
    const out = await this.birdc(['show', 'route', 'all', 'table', table]);
    const peerOf = (proto: string): string | undefined => {
      const m = /^p(\d+)$/.exec(proto);
      const peer = m ? this.config.peers[Number(m[1])] : undefined;
      return peer ? canonicalIp(peer.address) : undefined;
    };
    return sortRoutes(parseBirdRoutes(out, peerOf));
  }

  async announce(route: OriginateRoute): Promise<void> {
    const i = this.originate.findIndex((r) => r.prefix === route.prefix);
    if (i >= 0) this.originate[i] = route;
    else this.originate.push(route);
    await this.reconfigure();
  }

  async withdraw(prefix: string): Promise<void> {
    const i = this.originate.findIndex((r) => r.prefix === prefix);
    if (i >= 0) this.originate.splice(i, 1);
    await this.reconfigure();
  }

  /** Disable a peer with an RFC 8203 shutdown communication ("Cease, administrative shutdown"). */
  async disablePeer(address: string, message?: string): Promise<void> {
    const args = ['disable', this.protocolFor(address)];
    if (message !== undefined) args.push(`"${message}"`);
    await this.birdc(args);
  }

  async enablePeer(address: string): Promise<void> {
    await this.birdc(['enable', this.protocolFor(address)]);
  }

  /** Ask the peer to resend its routes (ROUTE-REFRESH). */
  async refreshIn(address: string, _family?: AddressFamily): Promise<void> {
    // birdc 2.0.12 takes no channel argument here: this refreshes every family of the session.
    await this.birdc(['reload', 'in', this.protocolFor(address)]);
  }

  private async reconfigure(): Promise<void> {
    writeFileSync(this.confFile, birdConfig(this.config, this.originate, this.logFile));
    const out = await this.birdc(['configure']);
    if (!/Reconfigur/.test(out)) throw new Error(`birdc configure failed: ${out}`);
  }

  logTail(lines = 40): string {
    return tailFile(this.logFile, lines);
  }

  async stop(): Promise<void> {
    await this.proc.stop();
  }
}

export function startBird(host: Host, config: DaemonConfig): Promise<BirdDaemon> {
  return BirdDaemon.start(host, config);
}
