/**
 * What the kernel-FIB tests share: the BIRD neighbour (AS 65001 on `h`,
 * peering with tartan-node on `t`, AS 64512, over IPv4 and IPv6, hold 9 s),
 * tartan-node's side of that peering, and how to pick Tartan's routes out of
 * the kernel's.
 */
import { startBird, type DaemonHandle, type Host, type KernelRoute } from '../harness';
import type { TartanOptions } from '../tartan/tartan-node';

export const BIRD_AS = 65001;
export const TARTAN_AS = 64512;

export function startBirdPeer(t: Host, h: Host, prefixes: readonly string[]): Promise<DaemonHandle> {
  return startBird(h, {
    asn: BIRD_AS,
    routerId: h.addr('ipv4'),
    peers: [
      { address: t.addr('ipv4'), asn: TARTAN_AS, holdTime: 9 },
      { address: t.addr('ipv6'), asn: TARTAN_AS, holdTime: 9 },
    ],
    originate: prefixes.map((prefix) => ({ prefix })),
  });
}

/** tartan-node's peer entry for the BIRD neighbour on `h`, one family per session. */
export function birdPeerEntry(h: Host, family: 'ipv4-unicast' | 'ipv6-unicast'): TartanOptions['peers'][number] {
  return { address: h.addr(family === 'ipv4-unicast' ? 'ipv4' : 'ipv6'), asn: BIRD_AS, holdTime: 9, families: [family] };
}

/** tartan-node's options in these tests: the given peers, a 2 s FIB resync, a 20 s start-up hold. */
export function fibTestOptions(peers: TartanOptions['peers']): TartanOptions {
  return { asn: TARTAN_AS, peers, extra: { fib: { resyncIntervalSeconds: 2, startupHoldSeconds: 20 } } };
}

// iproute2 prints the number, or the name when config/rt_protos.d/tartan.conf is installed.
export const OUR_PROTOCOLS = ['201', 'tartan-bgp'];

/** Tartan's kernel route (protocol 201) to `dst`, if any. */
export function ourRoute(routes: KernelRoute[], dst: string): (KernelRoute & { nhid?: number }) | undefined {
  return routes.find((r) => r.dst === dst && OUR_PROTOCOLS.includes(String(r.protocol)));
}
