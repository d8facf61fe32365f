/**
 * bird.conf generation for BIRD 2.0.x.
 *
 * Originated routes are `blackhole` static routes whose BGP attributes are set
 * in the static route block. BIRD only keeps a MED or a next hop on export to
 * an eBGP peer when the export filter itself set it ("fresh" attribute), so the
 * fixed export filter re-assigns them. The filter text never changes between
 * reconfigurations: `announce`/`withdraw` only edit static routes, which BIRD
 * applies on `birdc configure` without restarting BGP sessions.
 *
 * Each peer is its own `protocol bgp pN`; `gateway direct` because lab next
 * hops are always on-link and there is no IGP to resolve recursive ones.
 */
import type { DaemonConfig, OriginateRoute, PeerConfig } from './daemon-types';
import { peerFamilies, prefixFamily } from './daemon-common';

export function birdProtocolName(index: number): string {
  return `p${index}`;
}

function staticRoute(r: OriginateRoute): string {
  const sets: string[] = [];
  for (const c of r.communities ?? []) sets.push(`bgp_community.add((${c.split(':').join(',')}));`);
  for (const c of r.largeCommunities ?? []) sets.push(`bgp_large_community.add((${c.split(':').join(',')}));`);
  for (const c of r.extCommunities ?? []) sets.push(`bgp_ext_community.add((${c.split(':').join(',')}));`);
  if (r.med !== undefined) sets.push(`bgp_med = ${r.med};`);
  if (r.nextHop !== undefined) sets.push(`bgp_next_hop = ${r.nextHop};`);
  return `  route ${r.prefix} blackhole${sets.length ? ` { ${sets.join(' ')} }` : ''};`;
}

function peerProtocol(cfg: DaemonConfig, p: PeerConfig, index: number): string {
  const lines: string[] = [];
  const localAs = p.localAsn ?? cfg.asn;
  lines.push(`protocol bgp ${birdProtocolName(index)} {`);
  lines.push(`  local${cfg.listenPort ? ` port ${cfg.listenPort}` : ''} as ${localAs};`);
  lines.push(`  neighbor ${p.address}${p.port ? ` port ${p.port}` : ''} as ${p.asn};`);
  if (p.passive) lines.push('  passive on;');
  // iBGP defaults to multihop in BIRD, which forbids `gateway direct`; lab peers share a LAN.
  if (localAs === p.asn) lines.push('  direct;');
  if (p.holdTime !== undefined) lines.push(`  hold time ${p.holdTime}; keepalive time ${Math.max(1, Math.floor(p.holdTime / 3))};`);
  // Short timers keep tests fast: reconnect within seconds, not minutes.
  lines.push('  connect delay time 1; connect retry time 2; error wait time 1, 4;');
  // The 2-octet-only mode: no AS4 capability in our OPEN (RFC 6793 "OLD" speaker).
  if (p.twoOctetOnly) lines.push('  enable as4 off;');
  if (p.gracefulRestartTime !== undefined) lines.push(`  graceful restart on; graceful restart time ${p.gracefulRestartTime};`);
  if (p.password !== undefined) lines.push(`  password "${p.password}";`);
  if (p.ttlSecurity) lines.push('  ttl security on;');
  if (p.multihop !== undefined) lines.push(p.multihop === true ? '  multihop;' : `  multihop ${p.multihop};`);
  if (p.rrClient) lines.push('  rr client;');
  if (p.clusterId) lines.push(`  rr cluster id ${p.clusterId};`);
  for (const fam of peerFamilies(p)) {
    lines.push(`  ${fam === 'ipv4-unicast' ? 'ipv4' : 'ipv6'} {`);
    lines.push('    import all;');
    lines.push('    export filter tt_export;');
    // Multihop sessions resolve next hops recursively; BIRD refuses `gateway direct` there.
    if (p.multihop === undefined) lines.push('    gateway direct;');
    if (p.addPath) lines.push('    add paths on;');
    lines.push('  };');
  }
  lines.push('}');
  return lines.join('\n');
}

export function birdConfig(cfg: DaemonConfig, originate: readonly OriginateRoute[], logFile: string): string {
  for (const p of cfg.peers) {
    // With `enable as4 off` BIRD rejects a neighbor AS > 65535 in the config, yet
    // still reads the peer's AS from its AS4 capability, so a 4-octet peer can
    // never match (neither its number nor AS_TRANS works). Fail early and clearly.
    if (p.twoOctetOnly && (p.asn > 65535 || (p.localAsn ?? cfg.asn) > 65535)) {
      throw new Error(`bird twoOctetOnly needs 2-octet local and peer ASNs (peer ${p.address} AS ${p.asn})`);
    }
  }
  const v4 = originate.filter((r) => prefixFamily(r.prefix) === 'ipv4-unicast');
  const v6 = originate.filter((r) => prefixFamily(r.prefix) === 'ipv6-unicast');
  return [
    `log "${logFile}" all;`,
    `router id ${cfg.routerId};`,
    // Needed so BGP can tell which neighbors are directly connected.
    'protocol device { scan time 10; }',
    `protocol static tt_static4 {\n  ipv4;\n${v4.map(staticRoute).join('\n')}\n}`,
    `protocol static tt_static6 {\n  ipv6;\n${v6.map(staticRoute).join('\n')}\n}`,
    [
      'filter tt_export {',
      '  if source = RTS_STATIC then {',
      '    if defined(bgp_med) then bgp_med = bgp_med;',
      '    if defined(bgp_next_hop) then bgp_next_hop = bgp_next_hop;',
      '  }',
      '  accept;',
      '}',
    ].join('\n'),
    ...cfg.peers.map((p, i) => peerProtocol(cfg, p, i)),
    '',
  ].join('\n\n');
}
