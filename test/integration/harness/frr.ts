/**
 * FRR 8.x driver: runs zebra + bgpd in a lab host, each instance with its own
 * zserv socket (`-z`), pid files, vty socket directory (`--vty_socket`) and
 * logs, so it never meets a system-wide FRR. vtysh reaches bgpd with
 * `--vty_socket <dir> -d bgpd`.
 * Why zebra and not `bgpd -Z`: standalone bgpd knows no interfaces, so it
 * rejects every IPv6 UPDATE whose next hop includes a link-local address
 * ("sent a v6 LL next-hop and there's no peer interface information"), which
 * BIRD (and most speakers) send on a shared LAN. With zebra, learned routes
 * are also installed in the host namespace's kernel table (`host.routes()`).
 *
 * Supports: IPv4/IPv6 unicast, iBGP/eBGP, 4-octet ASNs, per-peer local AS
 * (`local-as N no-prepend replace-as`), passive, ports, hold time, ADD-PATH
 * (FRR always offers receive; `addpath-tx-all-paths` adds send), RR client and
 * cluster id (global in FRR: the first peer's clusterId wins).
 * 2-octet-only: FRR has no knob that drops only the AS4 capability (maintainers
 * confirm, FRRouting/frr#16890). `twoOctetOnly` maps to
 * `dont-capability-negotiate`, which sends an OPEN with no capabilities at all,
 * so the session is IPv4-unicast only, without route refresh or ADD-PATH.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcessHandle } from './exec';
import type { Host } from './host';
import type { AddressFamily, DaemonConfig, DaemonHandle, OriginateRoute, PeerState, RouteEntry } from './daemon-types';
import { frrConfig, frrRouteMap, frrRouteMapName } from './frr-config';
import { frrDetailToRoutes, splitJsonDocuments, type FrrPrefixDetail } from './frr-parse';
import { canonicalIp, normaliseState, prefixFamily, sortRoutes, tailFile, waitPeerEstablished } from './daemon-common';
import { waitFor } from './wait-for';

export const FRR_SUPPORTS_2_OCTET_ONLY = 'ipv4-only (dont-capability-negotiate)';
const BGPD = '/usr/lib/frr/bgpd';
const ZEBRA = '/usr/lib/frr/zebra';

let instance = 0;

function chownToFrr(dir: string): void {
  const uid = Number(execFileSync('id', ['-u', 'frr']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'frr']).toString().trim());
  chownSync(dir, uid, gid);
  for (const f of readdirSync(dir)) chownSync(join(dir, f), uid, gid);
}

function afiWord(f: AddressFamily): string {
  return f === 'ipv4-unicast' ? 'ipv4' : 'ipv6';
}

export class FrrDaemon implements DaemonHandle {
  readonly kind = 'frr' as const;

  private constructor(
    private readonly host: Host,
    readonly config: DaemonConfig,
    readonly dir: string,
    private readonly proc: ProcessHandle,
    private readonly zebra: ProcessHandle,
  ) {}

  get pid(): number {
    return this.proc.pid;
  }
  get logFile(): string {
    return join(this.dir, 'bgpd.log');
  }

  static async start(host: Host, config: DaemonConfig): Promise<FrrDaemon> {
    const dir = join(host.dir, `frr-${instance++}`);
    mkdirSync(dir, { recursive: true });
    const zserv = join(dir, 'zserv.api');
    writeFileSync(join(dir, 'zebra.conf'), `hostname ${host.name}\nlog file ${join(dir, 'zebra.log')}\n`);
    writeFileSync(join(dir, 'bgpd.conf'), frrConfig(config, join(dir, 'bgpd.log')));
    // zebra refuses to run as root unless root is in the `frrvty` group, and has
    // no -S; so it runs as the packaged `frr` user, which must own `dir`.
    chownToFrr(dir);
    // -P 0: no TCP vty (unix sockets in `dir` suffice).
    const common = ['--vty_socket', dir, '-P', '0'];
    const zebra = host.spawn([ZEBRA, '-f', join(dir, 'zebra.conf'), '-i', join(dir, 'zebra.pid'), '-z', zserv, ...common], {
      logFile: join(dir, 'zebra.stderr.log'),
      cwd: dir,
    });
    await waitFor(() => existsSync(zserv), { what: `zebra in ${host.name} to create ${zserv}`, timeoutMs: 10_000, intervalMs: 50 });
    // bgpd -S: skip the user switch and stay root (no privilege juggling needed).
    const argv = [BGPD, '-S', '-f', join(dir, 'bgpd.conf'), '-i', join(dir, 'bgpd.pid'), '-z', zserv, ...common];
    argv.push('-p', String(config.listenPort ?? 179));
    const proc = host.spawn(argv, { logFile: join(dir, 'bgpd.stderr.log'), cwd: dir });
    const d = new FrrDaemon(host, config, dir, proc, zebra);
    await waitFor(
      async () => {
        if (!proc.running) throw new Error(`bgpd exited: ${tailFile(join(dir, 'bgpd.stderr.log'))}\n${d.logTail()}`);
        return (await d.vtysh(['show bgp summary json'])).includes('{');
      },
      { what: `bgpd in ${host.name} to accept vtysh`, timeoutMs: 10_000, intervalMs: 100 },
    );
    return d;
  }

  /** Run vtysh commands against this bgpd; throws when FRR reports "% ..." errors. */
  async vtysh(commands: readonly string[]): Promise<string> {
    const argv = ['vtysh', '--vty_socket', this.dir, '-d', 'bgpd'];
    for (const c of commands) argv.push('-c', c);
    const out = await this.host.exec(argv);
    const err = out.split('\n').find((l) => /^% (Unknown|Ambiguous|Command incomplete|Invalid|Specified|Can't|Cannot)/i.test(l));
    if (err) throw new Error(`vtysh ${commands.join(' ; ')}: ${err}`);
    return out;
  }

  async peerState(address: string): Promise<PeerState | string> {
    const peer = canonicalIp(address);
    const out = JSON.parse(await this.vtysh([`show bgp neighbors ${peer} json`])) as Record<string, { bgpState?: string }>;
    const entry = out[peer] ?? Object.values(out)[0];
    return normaliseState(entry?.bgpState ?? 'Idle');
  }

  waitEstablished(address: string, timeoutMs?: number): Promise<void> {
    return waitPeerEstablished('frr', (a) => this.peerState(a), address, () => this.logTail(), timeoutMs);
  }

  async receivedRoutes(family: AddressFamily): Promise<RouteEntry[]> {
    const afi = afiWord(family);
    const table = JSON.parse(await this.vtysh([`show bgp ${afi} unicast json`])) as { routes?: Record<string, unknown> };
    const prefixes = Object.keys(table.routes ?? {});
    if (prefixes.length === 0) return [];
    const out = await this.vtysh(prefixes.map((p) => `show bgp ${afi} unicast ${p} json`));
    const routes = splitJsonDocuments(out).flatMap((doc) => frrDetailToRoutes(JSON.parse(doc) as FrrPrefixDetail));
    return sortRoutes(routes);
  }

  async announce(route: OriginateRoute): Promise<void> {
    await this.vtysh([
      'configure terminal',
      `no route-map ${frrRouteMapName(route.prefix)}`,
      ...frrRouteMap(route),
      `router bgp ${this.config.asn}`,
      `address-family ${afiWord(prefixFamily(route.prefix))} unicast`,
      `network ${route.prefix} route-map ${frrRouteMapName(route.prefix)}`,
    ]);
  }

  async withdraw(prefix: string): Promise<void> {
    await this.vtysh(['configure terminal', `router bgp ${this.config.asn}`, `address-family ${afiWord(prefixFamily(prefix))} unicast`, `no network ${prefix}`]);
  }

  /** Administrative shutdown with an RFC 8203 message (Cease, subcode 2). */
  async disablePeer(address: string, message?: string): Promise<void> {
    const cmd = `neighbor ${canonicalIp(address)} shutdown${message !== undefined ? ` message ${message}` : ''}`;
    await this.vtysh(['configure terminal', `router bgp ${this.config.asn}`, cmd]);
  }

  async enablePeer(address: string): Promise<void> {
    await this.vtysh(['configure terminal', `router bgp ${this.config.asn}`, `no neighbor ${canonicalIp(address)} shutdown`]);
  }

  /** Send ROUTE-REFRESH to the peer (`clear bgp X soft in`). */
  async refreshIn(address: string, family: AddressFamily = 'ipv4-unicast'): Promise<void> {
    await this.vtysh([`clear bgp ${afiWord(family)} unicast ${canonicalIp(address)} soft in`]);
  }

  logTail(lines = 40): string {
    return tailFile(this.logFile, lines);
  }

  async stop(): Promise<void> {
    await this.proc.stop();
    await this.zebra.stop();
  }
}

export function startFrr(host: Host, config: DaemonConfig): Promise<FrrDaemon> {
  return FrrDaemon.start(host, config);
}
