/**
 * This node's BGP addresses, found the way calico-node's startup does
 * (`node/pkg/lifecycle/startup/autodetection`): `first-found` (first usable
 * address on an interface not in Calico's skip list), `can-reach=DEST` (the
 * source address the kernel picks towards DEST), `interface=REGEX[,REGEX]`,
 * `skip-interface=REGEX[,REGEX]`, `cidr=CIDR[,CIDR]`, or `none`. The result
 * is a CIDR (address and the interface's prefix length), as Calico writes
 * spec.bgp.ipv4Address.
 *
 * `chooseAddress` is pure (a list of interface addresses in, one out);
 * `listInterfaceAddresses` and `sourceAddressTowards` read the host.
 */
import { networkInterfaces } from 'node:os';
import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import { ipInCidr } from '../ipam/blocks';

export interface InterfaceAddress {
  ifname: string;
  address: string;
  prefixLength: number;
  version: 4 | 6;
}

/** Calico's DEFAULT_INTERFACES_TO_EXCLUDE (autodetection/filtered.go). */
export const SKIPPED_INTERFACES = [
  /^docker.*/, /^cbr.*/, /^dummy.*/, /^virbr.*/, /^lxcbr.*/, /^veth.*/, /^lo$/, /^cali.*/, /^tunl.*/, /^flannel.*/,
  /^kube-ipvs.*/, /^cni.*/, /^vxlan\.calico.*/, /^vxlan-v6\.calico.*/, /^wireguard\.cali.*/, /^wg-v6\.cali.*/, /^nodelocaldns.*/,
];

/** Addresses that can never be a node's BGP address. */
function usable(a: InterfaceAddress): boolean {
  if (a.version === 4) return !a.address.startsWith('127.') && !a.address.startsWith('169.254.');
  const lower = a.address.toLowerCase();
  return lower !== '::1' && !lower.startsWith('fe80');
}

/**
 * Pick the address `method` asks for. `reached` is the source address
 * towards the can-reach destination (looked up by the caller). Undefined
 * when nothing fits, or for `none`.
 */
export function chooseAddress(method: string, version: 4 | 6, addrs: readonly InterfaceAddress[], reached?: string): InterfaceAddress | undefined {
  const candidates = addrs.filter((a) => a.version === version && usable(a));
  const [kind, arg = ''] = splitMethod(method);
  const regexes = (): RegExp[] => arg.split(',').map((r) => new RegExp(r));
  switch (kind) {
    case 'none':
      return undefined;
    case 'first-found':
      return candidates.find((a) => !SKIPPED_INTERFACES.some((re) => re.test(a.ifname)));
    case 'interface': {
      const res = regexes();
      return candidates.find((a) => res.some((re) => re.test(a.ifname)));
    }
    case 'skip-interface': {
      const res = regexes();
      return candidates.find((a) => !SKIPPED_INTERFACES.some((re) => re.test(a.ifname)) && !res.some((re) => re.test(a.ifname)));
    }
    case 'cidr': {
      const cidrs = arg.split(',').map((c) => c.trim());
      return candidates.find((a) => cidrs.some((c) => ipInCidr(a.address, c)));
    }
    case 'can-reach':
      if (reached === undefined) return undefined;
      return candidates.find((a) => a.address === reached) ?? { ifname: '', address: reached, prefixLength: version === 4 ? 32 : 128, version };
    default:
      return undefined;
  }
}

export function splitMethod(method: string): [string, string?] {
  const i = method.indexOf('=');
  return i < 0 ? [method] : [method.slice(0, i), method.slice(i + 1)];
}

/** The address configured by hand, with the prefix length of the interface that holds it (else a host prefix). */
export function withPrefixLength(address: string, addrs: readonly InterfaceAddress[]): string {
  const found = addrs.find((a) => a.address === address);
  return `${address}/${found ? found.prefixLength : isIP(address) === 6 ? 128 : 32}`;
}

export function listInterfaceAddresses(): InterfaceAddress[] {
  const out: InterfaceAddress[] = [];
  for (const [ifname, list] of Object.entries(networkInterfaces())) {
    for (const a of list ?? []) {
      const prefixLength = Number((a.cidr ?? '/0').split('/')[1]);
      const address = a.family === 'IPv6' ? a.address.replace(/%.*$/, '') : a.address;
      out.push({ ifname, address, prefixLength, version: a.family === 'IPv6' ? 6 : 4 });
    }
  }
  return out;
}

/** The source address the kernel uses towards `dest` (a connected UDP socket; nothing is sent). */
export function sourceAddressTowards(dest: string): Promise<string | undefined> {
  const version = isIP(dest);
  if (version === 0) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const sock = createSocket(version === 6 ? 'udp6' : 'udp4');
    const done = (v: string | undefined): void => {
      sock.close();
      resolve(v);
    };
    sock.once('error', () => done(undefined));
    sock.connect(80, dest, () => {
      try {
        done(sock.address().address);
      } catch {
        done(undefined);
      }
    });
  });
}

/** Resolve one family's address: configured (given a prefix length), or autodetected. */
export async function detectAddress(method: string, version: 4 | 6, configured: string | undefined): Promise<string | undefined> {
  const addrs = listInterfaceAddresses();
  if (configured) return withPrefixLength(configured, addrs);
  const [kind, arg] = splitMethod(method);
  const reached = kind === 'can-reach' && arg ? await sourceAddressTowards(arg) : undefined;
  const a = chooseAddress(method, version, addrs, reached);
  return a ? `${a.address}/${a.prefixLength}` : undefined;
}
