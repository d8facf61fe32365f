/**
 * Ipsets referenced by rendered rules, allocated on first use.
 *
 * Names follow Felix (felix/ipsets/ipset_defs.go): `<prefix><v>-s:<hash>` for
 * selector sets (hash:net of the endpoints' addresses) and `<prefix><v>-n:<hash>`
 * for named-port sets (hash:ip,port of address,proto:port, as Felix's `n:`
 * sets), and `<prefix><v>-c:<hash>` for the CIDR lists of notNets, cut to 31
 * characters. The hash is of the set's id, so the name is
 * stable as long as the selector (and its scope) is.
 */
import type { IpVersion } from '../model';
import type { RenderConfig } from '../config';
import { hashedName, MAX_IPSET_NAME } from './hash';
import { cmp, type EndpointIndex, type Scope, scopeId } from './endpoints';
import type { RenderedIpSet } from './types';

export class IpSetRegistry {
  private readonly sets = new Map<string, RenderedIpSet>();

  constructor(
    private readonly index: EndpointIndex,
    private readonly cfg: RenderConfig,
    private readonly v: IpVersion,
  ) {}

  /** Set of all addresses of the endpoints in `scope`. */
  selectorSet(scope: Scope): string {
    const id = `s:${scopeId(scope)}`;
    return this.ensure(id, 'hash:net', () => this.index.members(scope).flatMap((e) => e.addrs[this.v]), 's:');
  }

  /** Set of address,proto:port for every endpoint in `scope` with a port called `portName` of `proto`. */
  namedPortSet(scope: Scope, proto: string, portName: string): string {
    const id = `n:${proto}:${portName};${scopeId(scope)}`;
    return this.ensure(
      id,
      'hash:ip,port',
      () =>
        this.index.members(scope).flatMap((e) => {
          const ports = e.ports.filter((p) => p.name === portName && p.protocol.toLowerCase() === proto);
          // hash:ip,port holds addresses only; host prefixes are the normal case for endpoints.
          const ips = e.addrs[this.v].filter((a) => !a.includes('/'));
          return ips.flatMap((ip) => ports.map((p) => `${ip},${proto}:${p.port}`));
        }),
      'n:',
    );
  }

  /**
   * Set of literal CIDRs, used for notNets: iptables allows one -s/-d per
   * rule, and "not in any of these" is one negated set match. (/0 cannot be
   * stored in hash:net; callers treat it as "matches nothing".)
   */
  netSet(cidrs: readonly string[]): string {
    const members = [...new Set(cidrs.map((c) => (c.endsWith(this.v === 4 ? '/32' : '/128') ? c.slice(0, c.indexOf('/')) : c)))].sort(cmp);
    return this.ensure(`c:${members.join(',')}`, 'hash:net', () => members, 'c:');
  }

  private ensure(id: string, type: RenderedIpSet['type'], members: () => string[], tag: string): string {
    const existing = this.sets.get(id);
    if (existing !== undefined) return existing.name;
    const name = hashedName(`${this.cfg.ipsetPrefix}${this.v}-${tag}`, id, MAX_IPSET_NAME);
    const list = [...new Set(members())].sort(cmp);
    this.sets.set(id, { name, type, members: list, id });
    return name;
  }

  all(): RenderedIpSet[] {
    return [...this.sets.values()].sort((a, b) => cmp(a.name, b.name));
  }
}
