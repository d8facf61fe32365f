/**
 * Sync source for one node's block affinities, for the BGP side: Calico's
 * BGP syncer watches exactly this (`bgpsyncer.go`: BlockAffinity for the
 * local host) to blackhole-route and export the node's blocks
 * (`bird_aggr.cfg`). Only `confirmed` affinities (or ones with no state) are
 * the node's blocks; the rest are claims in flight.
 */
import type { DecodeResult, KeyValue, SyncSource } from '../datastore';
import { affinityPrefix, parseAffinityKey } from './keys';
import type { AffinityState } from './model';

export interface NodeBlockAffinity {
  node: string;
  cidr: string;
  state: AffinityState;
}

export function decodeAffinity(kv: Pick<KeyValue, 'key' | 'value'>): DecodeResult<NodeBlockAffinity> {
  const where = parseAffinityKey(kv.key);
  if (!where) return { ok: false, reason: 'not a block affinity key' };
  if (kv.value === '') return { ok: true, value: { ...where, state: 'confirmed' } };
  try {
    const v = JSON.parse(kv.value) as { state?: unknown };
    const state = v.state ?? 'confirmed';
    if (state !== 'confirmed' && state !== 'pending' && state !== 'pendingDeletion') return { ok: false, reason: `unknown state ${JSON.stringify(state)}` };
    return { ok: true, value: { ...where, state } };
  } catch (e) {
    return { ok: false, reason: `value is not JSON: ${(e as Error).message}` };
  }
}

export function affinitySource(node: string, version: 4 | 6 = 4): SyncSource<NodeBlockAffinity> {
  return { prefix: affinityPrefix(node, version), decode: decodeAffinity };
}
