/**
 * Small helpers the three daemon drivers share: address normalisation, peer
 * state names, log tails and the common "wait until Established" loop.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import type { AddressFamily, PeerConfig, PeerState, RouteEntry } from './daemon-types';
import { waitFor } from './wait-for';

/** Canonical text form (RFC 5952 for IPv6) so addresses compare across daemons. */
export function canonicalIp(addr: string): string {
  const a = addr.trim();
  if (!isIPv6(a)) return a;
  return new URL(`http://[${a}]/`).hostname.slice(1, -1);
}

export function transportFamily(address: string): AddressFamily {
  return isIPv6(address) ? 'ipv6-unicast' : 'ipv4-unicast';
}

export function prefixFamily(prefix: string): AddressFamily {
  return prefix.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast';
}

/** Families of a peer: explicit, or just its transport family (v6 over v4 needs extra next-hop care). */
export function peerFamilies(peer: PeerConfig): AddressFamily[] {
  return peer.families ?? [transportFamily(peer.address)];
}

const RFC_STATES: Record<string, PeerState> = {
  idle: 'Idle',
  connect: 'Connect',
  active: 'Active',
  opensent: 'OpenSent',
  openconfirm: 'OpenConfirm',
  established: 'Established',
};

/** Map a daemon's spelling ("ESTABLISHED", "Openconfirm", "established") to RFC 4271 names. */
export function normaliseState(raw: string): PeerState | string {
  return RFC_STATES[raw.toLowerCase().replace(/[^a-z]/g, '')] ?? raw;
}

export function sortRoutes(routes: RouteEntry[]): RouteEntry[] {
  return routes.sort((a, b) => a.prefix.localeCompare(b.prefix) || a.fromPeer.localeCompare(b.fromPeer));
}

/** "65000:100" from a 32-bit community value. */
export function communityFromNumber(n: number): string {
  return `${Math.floor(n / 65536)}:${n % 65536}`;
}

export function tailFile(path: string, lines = 40): string {
  if (!existsSync(path)) return `(no log at ${path})`;
  return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
}

export async function waitPeerEstablished(
  kind: string,
  peerState: (address: string) => Promise<string>,
  address: string,
  logTail: () => string,
  timeoutMs = 20_000,
): Promise<void> {
  try {
    await waitFor(async () => (await peerState(address)) === 'Established', {
      timeoutMs,
      intervalMs: 250,
      what: `${kind} session to ${address} Established`,
    });
  } catch (e) {
    let last = '?';
    try {
      last = await peerState(address);
    } catch (err) {
      last = String(err);
    }
    throw new Error(`${(e as Error).message}; state now ${last}\n--- ${kind} log tail ---\n${logTail()}`);
  }
}
