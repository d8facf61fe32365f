/**
 * Optional memo for repeated renders (the controller keeps one across
 * applies). Output is identical with or without it; it only skips work:
 * - endpoint chains, looked up by a small key of everything their body is a
 *   function of (mode, direction, policy ids and tiers, profile chains), so
 *   an unchanged endpoint costs neither string building nor hashing;
 * - other chains, looked up by their full rule text, which skips hashing.
 * Entries not used by the latest render are dropped, bounding memory.
 */
import { chainHash, ruleHashes } from './hash';
import type { RenderedChain } from './types';

interface Entry {
  key: string;
  chain: RenderedChain;
}

export class RenderCache {
  private entries = new Map<string, Entry>();
  private used = new Map<string, Entry>();

  /** Call once per render, before any lookups. */
  begin(): void {
    this.used = new Map();
  }

  /** Call after a complete render: forget what it did not use (`keep`: a partial render, forget nothing). */
  end(keep = false): void {
    if (!keep) {
      this.entries = this.used;
      return;
    }
    for (const [slot, e] of this.used) this.entries.set(slot, e);
  }

  get(slot: string, key: string): RenderedChain | undefined {
    const e = this.entries.get(slot) ?? this.used.get(slot);
    if (e === undefined || e.key !== key) return undefined;
    this.used.set(slot, e);
    return e.chain;
  }

  put(slot: string, key: string, chain: RenderedChain): void {
    const e = { key, chain };
    this.used.set(slot, e);
  }
}

export function buildChain(name: string, bodies: string[]): RenderedChain {
  const hashes = ruleHashes(name, bodies);
  return { name, rules: bodies.map((body, i) => ({ body, hash: hashes[i] ?? '' })), hash: chainHash(name, hashes) };
}
