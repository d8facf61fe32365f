/**
 * CNI results (spec 1.0.0 §5 "Success"), version-neutral inside, written in
 * the caller's version at the edge; and the reverse: a previous or delegated
 * result read back into the same shape. Pure.
 *
 * The interface plugin's result lists the host-side veth (index 0) and the
 * container interface (index 1, with `sandbox`); every address is a host
 * address (/32, /128) on interface 1; the routes are the in-pod default
 * routes via Calico's gateways (169.254.1.1, and for IPv6 the host veth's
 * link-local address).
 */
import { isIP } from 'node:net';
import { CNI_INVALID_CONFIG, CniError } from './errors';
import type { DnsConf } from './config';
import { hasIpVersionField } from './version';

/** Calico's host-side MAC on every workload veth, and the in-pod IPv4 gateway. */
export const HOST_MAC = 'ee:ee:ee:ee:ee:ee';
export const GATEWAY_V4 = '169.254.1.1';

export interface CniInterface {
  name: string;
  mac?: string;
  sandbox?: string;
}

export interface CniIp {
  /** CIDR, e.g. "198.19.0.5/32". */
  address: string;
  gateway?: string;
  /** Index into `interfaces` (absent in an IPAM plugin's result). */
  interface?: number;
}

export interface CniRoute {
  dst: string;
  gw?: string;
}

export interface CniResult {
  interfaces?: CniInterface[];
  ips: CniIp[];
  routes?: CniRoute[];
  dns?: DnsConf;
}

export function familyOf(ip: string): 4 | 6 {
  return ip.includes(':') ? 6 : 4;
}

/** "198.19.0.5" → "198.19.0.5/32"; "fd00::5" → "fd00::5/128". */
export function hostCidr(ip: string): string {
  return `${ip}/${familyOf(ip) === 4 ? 32 : 128}`;
}

/** The address part of a CIDR. */
export function addressOf(cidr: string): string {
  const slash = cidr.indexOf('/');
  return slash < 0 ? cidr : cidr.slice(0, slash);
}

export interface AddResultInput {
  hostVeth: string;
  ifname: string;
  containerMac: string;
  netns: string;
  /** Plain addresses (no prefix length). */
  addresses: readonly string[];
  /** The host veth's IPv6 link-local address (the pod's IPv6 gateway), when an IPv6 address was assigned. */
  gatewayV6?: string;
  dns?: DnsConf;
}

export function buildAddResult(i: AddResultInput): CniResult {
  const ips: CniIp[] = i.addresses.map((a) => ({ address: hostCidr(a), interface: 1 }));
  const routes: CniRoute[] = [];
  if (i.addresses.some((a) => familyOf(a) === 4)) routes.push({ dst: '0.0.0.0/0', gw: GATEWAY_V4 });
  if (i.gatewayV6 !== undefined && i.addresses.some((a) => familyOf(a) === 6)) routes.push({ dst: '::/0', gw: i.gatewayV6 });
  const out: CniResult = {
    interfaces: [
      { name: i.hostVeth, mac: HOST_MAC },
      { name: i.ifname, mac: i.containerMac, sandbox: i.netns },
    ],
    ips,
    routes,
  };
  if (i.dns) out.dns = i.dns;
  return out;
}

/** An IPAM plugin's abbreviated result: addresses only, no interfaces. */
export function buildIpamResult(addresses: readonly string[], dns?: DnsConf): CniResult {
  const out: CniResult = { ips: addresses.map((a) => ({ address: hostCidr(a) })), routes: [] };
  if (dns) out.dns = dns;
  return out;
}

/** The result as JSON for `cniVersion` (0.3.x and 0.4.0 add `ips[].version`). */
export function formatResult(r: CniResult, cniVersion: string): Record<string, unknown> {
  const withVersion = hasIpVersionField(cniVersion);
  const out: Record<string, unknown> = { cniVersion };
  if (r.interfaces) out['interfaces'] = r.interfaces.map((x) => ({ ...x }));
  out['ips'] = r.ips.map((ip) => {
    const o: Record<string, unknown> = {};
    if (withVersion) o['version'] = String(familyOf(addressOf(ip.address)));
    o['address'] = ip.address;
    if (ip.gateway !== undefined) o['gateway'] = ip.gateway;
    if (ip.interface !== undefined) o['interface'] = ip.interface;
    return o;
  });
  if (r.routes) out['routes'] = r.routes.map((x) => ({ ...x }));
  if (r.dns) out['dns'] = { ...r.dns };
  return out;
}

/**
 * Read a result back (a `prevResult`, or what a delegated IPAM plugin
 * printed). `where` names it in errors ("prevResult", "IPAM plugin result").
 */
export function parseResult(v: unknown, where: string): CniResult {
  const problems: string[] = [];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new CniError(CNI_INVALID_CONFIG, `${where}: must be an object`);
  }
  const o = v as Record<string, unknown>;
  const out: CniResult = { ips: [] };
  if (o['interfaces'] !== undefined) {
    if (!Array.isArray(o['interfaces'])) problems.push(`${where}.interfaces: must be a list`);
    else {
      out.interfaces = [];
      o['interfaces'].forEach((x, i) => {
        const it = x as Record<string, unknown> | null;
        if (typeof it !== 'object' || it === null || typeof it['name'] !== 'string') {
          problems.push(`${where}.interfaces[${i}]: must be an object with a "name"`);
          return;
        }
        const iface: CniInterface = { name: it['name'] };
        if (typeof it['mac'] === 'string') iface.mac = it['mac'];
        if (typeof it['sandbox'] === 'string' && it['sandbox'] !== '') iface.sandbox = it['sandbox'];
        out.interfaces?.push(iface);
      });
    }
  }
  const ips = o['ips'] ?? [];
  if (!Array.isArray(ips)) problems.push(`${where}.ips: must be a list`);
  else {
    ips.forEach((x, i) => {
      const it = x as Record<string, unknown> | null;
      const address = typeof it === 'object' && it !== null ? it['address'] : undefined;
      if (typeof address !== 'string' || !isIP(addressOf(address)) || !address.includes('/')) {
        problems.push(`${where}.ips[${i}].address: must be an address in CIDR form`);
        return;
      }
      const ip: CniIp = { address };
      if (typeof it?.['gateway'] === 'string') ip.gateway = it['gateway'];
      if (typeof it?.['interface'] === 'number') ip.interface = it['interface'];
      out.ips.push(ip);
    });
  }
  if (Array.isArray(o['routes'])) {
    out.routes = (o['routes'] as Array<Record<string, unknown>>)
      .filter((r) => typeof r === 'object' && r !== null && typeof r['dst'] === 'string')
      .map((r) => (typeof r['gw'] === 'string' ? { dst: r['dst'] as string, gw: r['gw'] } : { dst: r['dst'] as string }));
  }
  if (typeof o['dns'] === 'object' && o['dns'] !== null) out.dns = o['dns'] as DnsConf;
  if (problems.length > 0) throw new CniError(CNI_INVALID_CONFIG, `invalid ${where}: ${problems.join('; ')}`, problems.join('\n'));
  return out;
}
