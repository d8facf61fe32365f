/**
 * Hashes and length-limited names, as Felix computes them.
 *
 * - Rule hashes are chained (felix/iptables/table.go, `RuleHashes`): seeded
 *   with the chain name, each rule's hash covers the previous hash and the
 *   rule text; base64url of SHA-224, first 16 characters. A rule's hash thus
 *   changes when it, or anything before it, changes — which is what lets the
 *   apply step compare chains by hash lists only.
 * - Names longer than a limit become prefix + base64url(sha224(id)) cut to fit
 *   (libcalico-go/lib/hash/unique_id.go `GetLengthLimitedID`); Tartan always
 *   hashes policy/profile ids so names never carry user characters.
 */
import { createHash } from 'node:crypto';

export const RULE_HASH_LENGTH = 16;
/** iptables.MaxChainNameLength in Felix. */
export const MAX_CHAIN_NAME = 28;
/** IPSET_MAXNAMELEN - 1. */
export const MAX_IPSET_NAME = 31;

export function sha224b64(text: string): string {
  return createHash('sha224').update(text).digest('base64url');
}

/** Chained rule hashes for a chain's rule bodies. */
export function ruleHashes(chainName: string, bodies: readonly string[]): string[] {
  const out: string[] = [];
  let prev = chainName;
  for (const body of bodies) {
    const h = sha224b64(`${prev}\u0000${body}`).slice(0, RULE_HASH_LENGTH);
    out.push(h);
    prev = h;
  }
  return out;
}

/** One hash for a whole chain: changes iff any rule (or the rule count) changes. */
export function chainHash(chainName: string, hashes: readonly string[]): string {
  return sha224b64(`${chainName}\u0000${hashes.join(',')}`).slice(0, RULE_HASH_LENGTH);
}

/** prefix + hash(id), cut to `max` characters. */
export function hashedName(prefix: string, id: string, max: number): string {
  return (prefix + sha224b64(id)).slice(0, max);
}

/** prefix + suffix when it fits, else prefix + "_" + hash(suffix) cut to fit (GetLengthLimitedID). */
export function limitedName(prefix: string, suffix: string, max: number): string {
  const plain = prefix + suffix;
  if (plain.length <= max && /^[A-Za-z0-9_.\-]*$/.test(suffix)) return plain;
  return (prefix + '_' + sha224b64(suffix)).slice(0, max);
}
