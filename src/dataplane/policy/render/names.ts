/** Chain names (Felix felix/rules/rule_defs.go, with Tartan prefixes; ≤ 28 characters). */
import type { RenderConfig } from '../config';
import { hashedName, limitedName, MAX_CHAIN_NAME } from './hash';

export type EndpointChainKind = 'tw' | 'fw' | 'th' | 'fh' | 'thfw' | 'fhfw';

export class ChainNames {
  /** Hashing names is the hot path of large renders; ids repeat for every endpoint. */
  private readonly memo = new Map<string, string>();

  constructor(private readonly cfg: RenderConfig) {}

  private hashed(prefix: string, id: string): string {
    const k = `${prefix}\u0000${id}`;
    let n = this.memo.get(k);
    if (n === undefined) {
      n = hashedName(prefix, id, MAX_CHAIN_NAME);
      this.memo.set(k, n);
    }
    return n;
  }

  top(hook: string): string {
    return `${this.cfg.topChainPrefix}${hook}`;
  }
  static(name: string): string {
    return `${this.cfg.chainPrefix}${name}`;
  }
  /** Policy chains: `ttn-pi-<hash>` / `ttn-po-<hash>` of `GlobalNetworkPolicy/<name>` etc. */
  policy(dir: 'pi' | 'po', id: string): string {
    return this.hashed(`${this.cfg.chainPrefix}${dir}-`, id);
  }
  /** Profile chains: `ttn-pri-<hash>` / `ttn-pro-<hash>`. */
  profile(dir: 'pri' | 'pro', name: string): string {
    return this.hashed(`${this.cfg.chainPrefix}${dir}-`, `Profile/${name}`);
  }
  /** Endpoint chains keep the interface name readable (Felix `cali-tw-<iface>`). */
  endpoint(kind: EndpointChainKind, iface: string): string {
    return limitedName(`${this.cfg.chainPrefix}${kind}-`, iface, MAX_CHAIN_NAME);
  }
  /** True for any chain name Tartan owns (the only ones apply may touch). */
  owns(chain: string): boolean {
    return chain.startsWith(this.cfg.topChainPrefix) || chain.startsWith(this.cfg.chainPrefix);
  }
}
