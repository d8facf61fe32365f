/**
 * bgpd.conf generation for FRR 8.x running bgpd standalone (`-Z`, no zebra).
 *
 * Without zebra, `network` statements need `no bgp network import-check`
 * (there is no RIB to check against) and FRR 8's default eBGP policy
 * requirement is switched off so routes flow without route-maps. Each
 * originated route gets its own route-map carrying its attributes.
 */
import type { DaemonConfig, OriginateRoute, PeerConfig } from './daemon-types';
import { peerFamilies, prefixFamily } from './daemon-common';

export function frrRouteMapName(prefix: string): string {
  return `TT-ORIG-${prefix.replace(/[^0-9a-fA-F]/g, '_')}`;
}

/** Commands (config-mode lines) that define the route-map for one originated route. */
export function frrRouteMap(r: OriginateRoute): string[] {
  const l = [`route-map ${frrRouteMapName(r.prefix)} permit 10`];
  if (r.communities?.length) l.push(` set community ${r.communities.join(' ')}`);
  if (r.largeCommunities?.length) l.push(` set large-community ${r.largeCommunities.join(' ')}`);
  for (const c of r.extCommunities ?? []) {
    const [kind, ...rest] = c.split(':');
    l.push(` set extcommunity ${kind === 'ro' ? 'soo' : 'rt'} ${rest.join(':')}`);
  }
  if (r.med !== undefined) l.push(` set metric ${r.med}`);
  if (r.nextHop) l.push(prefixFamily(r.prefix) === 'ipv4-unicast' ? ` set ip next-hop ${r.nextHop}` : ` set ipv6 next-hop global ${r.nextHop}`);
  l.push('exit');
  return l;
}

function neighborLines(p: PeerConfig): string[] {
  const n = ` neighbor ${p.address}`;
  const l = [`${n} remote-as ${p.asn}`];
  if (p.port !== undefined) l.push(`${n} port ${p.port}`);
  if (p.passive) l.push(`${n} passive`);
  // no-prepend replace-as: present only the local AS to the peer, like BIRD/GoBGP local-as.
  if (p.localAsn !== undefined) l.push(`${n} local-as ${p.localAsn} no-prepend replace-as`);
  if (p.holdTime !== undefined) l.push(`${n} timers ${Math.max(1, Math.floor(p.holdTime / 3))} ${p.holdTime}`);
  l.push(`${n} timers connect 1`);
  l.push(`${n} advertisement-interval 0`);
  // FRR cannot drop only the AS4 capability; this sends an OPEN with no capabilities at all.
  if (p.twoOctetOnly) l.push(`${n} dont-capability-negotiate`);
  return l;
}

export function frrConfig(cfg: DaemonConfig, logFile: string): string {
  const l: string[] = ['frr defaults traditional', `hostname tt${cfg.routerId.replace(/\./g, '-')}`, `log file ${logFile}`, '!'];
  l.push(`router bgp ${cfg.asn}`);
  l.push(` bgp router-id ${cfg.routerId}`);
  l.push(' no bgp ebgp-requires-policy');
  l.push(' no bgp network import-check');
  l.push(' no bgp default ipv4-unicast');
  const cluster = cfg.peers.find((p) => p.clusterId)?.clusterId;
  if (cluster) l.push(` bgp cluster-id ${cluster}`);
  // FRR closes its sessions without a NOTIFICATION when it stops, which a graceful-restart
  // helper (RFC 4724) must read as a restart: a short restart time keeps such tests quick.
  const grTime = cfg.peers.find((p) => p.gracefulRestartTime !== undefined)?.gracefulRestartTime;
  if (grTime !== undefined) l.push(` bgp graceful-restart restart-time ${grTime}`);
  for (const p of cfg.peers) l.push(...neighborLines(p));
  for (const fam of ['ipv4-unicast', 'ipv6-unicast'] as const) {
    l.push(` address-family ${fam === 'ipv4-unicast' ? 'ipv4' : 'ipv6'} unicast`);
    for (const r of cfg.originate.filter((o) => prefixFamily(o.prefix) === fam)) {
      l.push(`  network ${r.prefix} route-map ${frrRouteMapName(r.prefix)}`);
    }
    for (const p of cfg.peers.filter((x) => peerFamilies(x).includes(fam))) {
      l.push(`  neighbor ${p.address} activate`);
      if (p.addPath) l.push(`  neighbor ${p.address} addpath-tx-all-paths`);
      if (p.rrClient) l.push(`  neighbor ${p.address} route-reflector-client`);
    }
    l.push(' exit-address-family');
  }
  l.push('exit', '!');
  for (const r of cfg.originate) l.push(...frrRouteMap(r), '!');
  return `${l.join('\n')}\n`;
}
