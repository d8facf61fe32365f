/**
 * The BIRD neighbour the kernel-FIB tests use: AS 65001 on `h`, peering with
 * tartan-node on `t` (AS 64512) over IPv4 and IPv6 (hold 9 s), originating
 * `prefixes`.
 */
import { startBird, type DaemonHandle, type Host } from '../harness';

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
