/**
 * Sync sources for v3 resources: one prefix per kind, decoded and validated
 * like Datastore reads.
 */
import { decodeResource } from './codec';
import { kindPrefix } from './keys';
import type { Kind, Resource } from './resources/types';
import type { DecodeResult, SyncSource } from './watch';

export function resourceSource(kind: Kind): SyncSource<Resource> {
  return {
    prefix: kindPrefix(kind),
    decode(kv): DecodeResult<Resource> {
      const d = decodeResource(kv);
      return d.ok ? { ok: true, value: d.resource } : d;
    },
  };
}

export function resourceSources(kinds: readonly Kind[]): Array<SyncSource<Resource>> {
  return kinds.map(resourceSource);
}
