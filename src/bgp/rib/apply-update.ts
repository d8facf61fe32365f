import type { Family, Nlri, UpdateMessage } from '../wire';
import { familyOf as familyOfAfiSafi } from '../wire';
import type { AdjRibIn } from './adj-rib-in';
import type { RouteAttributes } from './route-attributes';

/** What one UPDATE did to a peer's Adj-RIB-In. */
export interface UpdateEffect {
  announced: number;
  withdrawn: number;
  /** Prefixes handled as withdrawn because of an RFC 7606 error. */
  treatedAsWithdraw: number;
  /** Families present in the UPDATE that the session did not negotiate (ignored). */
  ignoredFamilies: string[];
}

/**
 * Apply a decoded UPDATE to a peer's Adj-RIB-In.
 *
 * Withdrawals come first (RFC 4271 §9: a prefix both withdrawn and announced
 * in one UPDATE ends up announced). When the decoder reported an RFC 7606
 * treat-as-withdraw error, every prefix the UPDATE announces is withdrawn
 * instead (RFC 7606 §2).
 */
export function applyUpdate(rib: AdjRibIn, update: UpdateMessage, families: ReadonlySet<Family>, now: number): UpdateEffect {
  const effect: UpdateEffect = { announced: 0, withdrawn: 0, treatedAsWithdraw: 0, ignoredFamilies: [] };
  const { attributes: a } = update;
  const asWithdraw = update.errors?.some((e) => e.action === 'treat-as-withdraw') ?? false;

  const withdraw = (family: Family | undefined, nlri: readonly Nlri[], label: string): void => {
    if (nlri.length === 0) return;
    if (!family || !families.has(family)) {
      effect.ignoredFamilies.push(label);
      return;
    }
    effect.withdrawn += rib.withdraw(family, nlri);
  };
  withdraw('ipv4-unicast', update.withdrawn, 'ipv4-unicast');
  if (a.mpUnreach) withdraw(familyOfAfiSafi(a.mpUnreach.afi, a.mpUnreach.safi), a.mpUnreach.withdrawn, `afi ${a.mpUnreach.afi} safi ${a.mpUnreach.safi}`);

  const announce = (family: Family | undefined, nlri: readonly Nlri[], nextHops: string[], label: string): void => {
    if (nlri.length === 0) return;
    if (!family || !families.has(family)) {
      effect.ignoredFamilies.push(label);
      return;
    }
    if (asWithdraw) {
      effect.treatedAsWithdraw += nlri.length;
      effect.withdrawn += rib.withdraw(family, nlri);
      return;
    }
    const { mpReach: _r, mpUnreach: _u, nextHop: _n, ...rest } = a;
    const attrs: RouteAttributes = { ...rest, nextHops };
    effect.announced += rib.announce(family, nlri, attrs, now);
  };
  announce('ipv4-unicast', update.nlri, a.nextHop ? [a.nextHop] : [], 'ipv4-unicast');
  if (a.mpReach) announce(familyOfAfiSafi(a.mpReach.afi, a.mpReach.safi), a.mpReach.nlri, a.mpReach.nextHops, `afi ${a.mpReach.afi} safi ${a.mpReach.safi}`);
  return effect;
}
