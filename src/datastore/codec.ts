/**
 * Stored value ↔ resource. Pure.
 *
 * As in libcalico-go (clientv3 clears it before handing the object to the
 * etcdv3 backend), `resourceVersion` is not stored: it *is* the etcd mod
 * revision, and is put back on read. A value is accepted only if it is JSON,
 * validates, and its kind/name/namespace agree with the key it sits under.
 */
import type { KeyValue } from './etcd/kv';
import { parseResourceKey } from './keys';
import type { Resource } from './resources/types';
import { checkResource } from './resources/validate';

export type Decoded = { ok: true; resource: Resource } | { ok: false; reason: string };

export function decodeResource(kv: Pick<KeyValue, 'key' | 'value' | 'modRevision'>): Decoded {
  const where = parseResourceKey(kv.key);
  if (!where) return { ok: false, reason: 'key is not a Calico v3 resource key' };
  let value: unknown;
  try {
    value = JSON.parse(kv.value);
  } catch (e) {
    return { ok: false, reason: `value is not JSON: ${(e as Error).message}` };
  }
  const checked = checkResource(value);
  if (!checked.ok) {
    return { ok: false, reason: `invalid resource: ${checked.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}` };
  }
  const r = checked.resource;
  if (r.kind !== where.kind) return { ok: false, reason: `kind ${r.kind} stored under the ${where.kind} prefix` };
  if (r.metadata.name !== where.name) return { ok: false, reason: `name ${JSON.stringify(r.metadata.name)} does not match the key` };
  if (where.namespace !== undefined && (r.metadata.namespace ?? 'default') !== where.namespace) {
    return { ok: false, reason: `namespace ${JSON.stringify(r.metadata.namespace)} does not match the key` };
  }
  const metadata = { ...r.metadata, resourceVersion: String(kv.modRevision) };
  if (where.namespace !== undefined) metadata.namespace = where.namespace;
  return { ok: true, resource: { ...r, metadata } as Resource };
}

export function encodeResource(r: Resource): string {
  const { resourceVersion: _rv, ...metadata } = r.metadata;
  return JSON.stringify({ ...r, metadata });
}
