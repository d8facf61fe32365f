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

interface SetEntry {
  rendered: RenderedIpSet;
  /** The scope the members come from; null for literal CIDR sets. */
  scope: Scope | null;
  compute: () => string[];
  /** Index generation the members were computed at. */
  gen: number;
}

/**
 * Sets are kept across renders (a long-lived renderer reuses one registry):
 * a set's members are recomputed only when its scope changed. `begin()`
 * starts a render; `all()` lists the sets used since. `trace` records the
 * ids a piece of rendering used, so a cached chain can `touch` them again.
 */
export class IpSetRegistry {
  private readonly sets = new Map<string, SetEntry>();
  private used = new Map<string, RenderedIpSet>();
  private trace: string[] | null = null;

  constructor(
    private readonly index: EndpointIndex,
    private readonly cfg: RenderConfig,
    private readonly v: IpVersion,
  ) {}

  begin(): void {
    this.used = new Map();
  }

  /** Record the ids of the sets used by `fn`. */
  traced<T>(fn: () => T): { value: T; ids: string[] } {
    const outer = this.trace;
    const ids: string[] = [];
    this.trace = ids;
    try {
      return { value: fn(), ids };
    } finally {
      this.trace = outer;
      outer?.push(...ids);
    }
  }

  /** Use again a set a cached chain refers to. */
  touch(id: string): void {
    const en = this.sets.get(id);
    if (en === undefined) throw new Error(`ipset ${id} unknown`);
    this.use(id, en);
  }

  /** Set of all addresses of the endpoints in `scope`. */
  selectorSet(scope: Scope): string {
    const id = `s:${scopeId(scope)}`;
    return this.ensure(id, 'hash:net', () => this.index.members(scope).flatMap((e) => e.addrs[this.v]), 's:', scope);
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
      scope,
    );
  }

  /**
   * Set of literal CIDRs, used for notNets: iptables allows one -s/-d per
   * rule, and "not in any of these" is one negated set match. (/0 cannot be
   * stored in hash:net; callers treat it as "matches nothing".)
   */
  netSet(cidrs: readonly string[]): string {
    const members = [...new Set(cidrs.map((c) => (c.endsWith(this.v === 4 ? '/32' : '/128') ? c.slice(0, c.indexOf('/')) : c)))].sort(cmp);
    return this.ensure(`c:${members.join(',')}`, 'hash:net', () => members, 'c:', null);
  }

  private ensure(id: string, type: RenderedIpSet['type'], members: () => string[], tag: string, scope: Scope | null): string {
    let en = this.sets.get(id);
    if (en === undefined) {
      const name = hashedName(`${this.cfg.ipsetPrefix}${this.v}-${tag}`, id, MAX_IPSET_NAME);
      en = { rendered: { name, type, members: [...new Set(members())].sort(cmp), id }, scope, compute: members, gen: this.index.generation };
      this.sets.set(id, en);
    }
    this.use(id, en);
    return en.rendered.name;
  }

  private use(id: string, en: SetEntry): void {
    this.trace?.push(id);
    if (this.used.has(id)) return;
    const g = this.index.generation;
    // Valid at this generation, or at the previous one with no change to its scope since.
    if (en.scope !== null && en.gen !== g && (en.gen !== g - 1 || this.index.scopeDirty(en.scope))) {
      const members = [...new Set(en.compute())].sort(cmp);
      const same = members.length === en.rendered.members.length && members.every((m, i) => m === en.rendered.members[i]);
      if (!same) en.rendered = { ...en.rendered, members };
    }
    en.gen = g;
    this.used.set(id, en.rendered);
  }

  /** Ids of the sets used by the current render. */
  usedIds(): string[] {
    return [...this.used.keys()];
  }

  /** The sets used by the current render, by name. */
  all(): RenderedIpSet[] {
    return [...this.used.values()].sort((a, b) => cmp(a.name, b.name));
  }
}
