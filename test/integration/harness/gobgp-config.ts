/**
 * gobgpd TOML generation (GoBGP 3.x). Routes are not in the file: the driver
 * adds them with `gobgp global rib add` after start, the same way it does at
 * run time, so there is one code path for originating.
 */
import type { DaemonConfig, PeerConfig } from './daemon-types';
import { peerFamilies } from './daemon-common';

function q(s: string): string {
  return JSON.stringify(s); // a TOML basic string is JSON-compatible for our inputs
}

function neighbor(p: PeerConfig): string {
  const l: string[] = ['[[neighbors]]', '  [neighbors.config]'];
  l.push(`    neighbor-address = ${q(p.address)}`);
  l.push(`    peer-as = ${p.asn}`);
  if (p.localAsn !== undefined) l.push(`    local-as = ${p.localAsn}`);
  l.push('  [neighbors.timers.config]');
  // Short retry so sessions come up within a second or two of both ends running.
  l.push('    connect-retry = 1');
  l.push('    idle-hold-time-after-reset = 1');
  if (p.holdTime !== undefined) {
    l.push(`    hold-time = ${p.holdTime}`);
    l.push(`    keepalive-interval = ${Math.max(1, Math.floor(p.holdTime / 3))}`);
  }
  if (p.passive || p.port !== undefined) {
    l.push('  [neighbors.transport.config]');
    if (p.passive) l.push('    passive-mode = true');
    if (p.port !== undefined) l.push(`    remote-port = ${p.port}`);
  }
  if (p.rrClient) {
    l.push('  [neighbors.route-reflector.config]');
    l.push('    route-reflector-client = true');
    if (p.clusterId) l.push(`    route-reflector-cluster-id = ${q(p.clusterId)}`);
  }
  for (const fam of peerFamilies(p)) {
    l.push('  [[neighbors.afi-safis]]');
    l.push('    [neighbors.afi-safis.config]');
    l.push(`      afi-safi-name = ${q(fam)}`);
    if (p.addPath) {
      l.push('    [neighbors.afi-safis.add-paths.config]');
      l.push('      receive = true');
      l.push('      send-max = 8');
    }
  }
  return l.join('\n');
}

export function gobgpConfig(cfg: DaemonConfig, localAddresses: readonly string[]): string {
  const g = ['[global.config]', `  as = ${cfg.asn}`, `  router-id = ${q(cfg.routerId)}`];
  g.push(`  port = ${cfg.listenPort ?? 179}`);
  g.push(`  local-address-list = [${localAddresses.map(q).join(', ')}]`);
  return [g.join('\n'), ...cfg.peers.map(neighbor), ''].join('\n\n');
}
