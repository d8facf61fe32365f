/**
 * Resource CRUD over etcd with Calico's key layout and semantics
 * (libcalico-go `clientv3` + `backend/etcdv3`):
 *
 * - every write validates first, so an invalid resource is refused with all
 *   its problems and nothing is written;
 * - `resourceVersion` is the etcd mod revision; update/delete with one are
 *   compare-and-swap transactions on it (stale → RESOURCE_CONFLICT);
 * - create sets `uid` and `creationTimestamp`, later writes keep them;
 * - a corrupt stored value (bad JSON, wrong kind, invalid spec) is reported
 *   to `onCorrupt` and skipped by list; get reports and throws
 *   RESOURCE_CORRUPT, never crashes.
 */
import { randomUUID } from 'node:crypto';
import { TartanError } from '../errors';
import { decodeResource, encodeResource } from './codec';
import type { DatastoreConfig } from './config';
import { DatastoreError, RESOURCE_CONFLICT, RESOURCE_EXISTS, RESOURCE_NOT_FOUND } from './errors';
import { EtcdKv, type KeyValue, type Kv } from './etcd/kv';
import { kindPrefix, resourceKey } from './keys';
import { withDefaults } from './resources/defaults';
import { kindInfo } from './resources/kinds';
import type { Kind, Resource, ResourceOf } from './resources/types';
import { validateResource } from './resources/validate';

export const RESOURCE_CORRUPT = 'RESOURCE_CORRUPT';

/** A stored value that could not be used. */
export interface CorruptValue {
  key: string;
  reason: string;
  modRevision: number;
}

export interface DatastoreOptions {
  /** Told about every corrupt value met while reading; default: ignore. */
  onCorrupt?: (c: CorruptValue) => void;
}

export interface ResourceRef {
  kind: Kind;
  name: string;
  namespace?: string;
}

export interface DeleteOptions {
  namespace?: string;
  /** Delete only if the stored object still has this resourceVersion. */
  resourceVersion?: string;
}

/** Optimistic read-modify-write attempts before apply gives up on a busy key. */
const APPLY_ATTEMPTS = 5;

export class Datastore {
  private readonly onCorrupt: (c: CorruptValue) => void;

  /** Wrap an existing Kv (shared with IPAM or a syncer), or connect with a config. */
  constructor(
    readonly kv: Kv,
    opts: DatastoreOptions = {},
  ) {
    this.onCorrupt = opts.onCorrupt ?? (() => undefined);
  }

  static connect(config: DatastoreConfig, opts: DatastoreOptions = {}): Datastore {
    return new Datastore(new EtcdKv(config), opts);
  }

  close(): void {
    this.kv.close();
  }

  /** Store a new resource; RESOURCE_EXISTS if the name is taken. */
  async create<R extends Resource>(resource: R): Promise<R> {
    const r = this.prepare(resource);
    const key = keyOf(r);
    const stored = { ...r, metadata: { ...r.metadata, uid: r.metadata.uid ?? randomUUID(), creationTimestamp: r.metadata.creationTimestamp ?? now() } };
    const res = await this.kv.txn([{ key, modRevision: 0 }], [{ op: 'put', key, value: encodeResource(stored) }]);
    if (!res.succeeded) throw new DatastoreError(RESOURCE_EXISTS, `${describe(r)} already exists`);
    return withVersion(stored, res.revision);
  }

  /**
   * Replace an existing resource. With `metadata.resourceVersion` the write
   * happens only if the stored object is still that version
   * (RESOURCE_CONFLICT otherwise); without, it replaces whatever is stored.
   */
  async update<R extends Resource>(resource: R): Promise<R> {
    const r = this.prepare(resource);
    const key = keyOf(r);
    const expected = r.metadata.resourceVersion;
    for (let attempt = 0; ; attempt++) {
      const current = await this.kv.get(key);
      if (!current) throw new DatastoreError(RESOURCE_NOT_FOUND, `${describe(r)} not found`);
      if (expected !== undefined && Number(expected) !== current.modRevision) throw conflict(r, expected, current.modRevision);
      const stored = keepIdentity(r, current);
      const res = await this.kv.txn([{ key, modRevision: current.modRevision }], [{ op: 'put', key, value: encodeResource(stored) }]);
      if (res.succeeded) return withVersion(stored, res.revision);
      const now = res.current[0];
      if (!now) throw new DatastoreError(RESOURCE_NOT_FOUND, `${describe(r)} not found`);
      if (expected !== undefined) throw conflict(r, expected, now.modRevision);
      if (attempt + 1 >= APPLY_ATTEMPTS) throw conflict(r, String(current.modRevision), now.modRevision);
    }
  }

  /** Create, or update if it exists (calicoctl apply). Honours resourceVersion when given. */
  async apply<R extends Resource>(resource: R): Promise<R> {
    if (resource.metadata.resourceVersion !== undefined) return this.update(resource);
    const r = this.prepare(resource);
    const key = keyOf(r);
    for (let attempt = 0; attempt < APPLY_ATTEMPTS; attempt++) {
      const current = await this.kv.get(key);
      const stored = current
        ? keepIdentity(r, current)
        : { ...r, metadata: { ...r.metadata, uid: randomUUID(), creationTimestamp: now() } };
      const res = await this.kv.txn([{ key, modRevision: current?.modRevision ?? 0 }], [{ op: 'put', key, value: encodeResource(stored) }]);
      if (res.succeeded) return withVersion(stored, res.revision);
    }
    throw new DatastoreError(RESOURCE_CONFLICT, `${describe(r)} kept changing; gave up after ${APPLY_ATTEMPTS} attempts`);
  }

  /** One resource; RESOURCE_NOT_FOUND if absent, RESOURCE_CORRUPT if unreadable. */
  async get<K extends Kind>(kind: K, name: string, namespace?: string): Promise<ResourceOf<K>> {
    const key = resourceKey(kind, name, namespace);
    const kv = await this.kv.get(key);
    if (!kv) throw new DatastoreError(RESOURCE_NOT_FOUND, `${kind} "${nsName(kind, name, namespace)}" not found`);
    const d = decodeResource(kv);
    if (!d.ok) {
      this.onCorrupt({ key, reason: d.reason, modRevision: kv.modRevision });
      throw new DatastoreError(RESOURCE_CORRUPT, `${kind} "${nsName(kind, name, namespace)}" is stored corrupt: ${d.reason}`);
    }
    return d.resource as ResourceOf<K>;
  }

  /** Every readable resource of `kind` (in `namespace`, or all namespaces), sorted by key. */
  async list<K extends Kind>(kind: K, namespace?: string): Promise<{ items: Array<ResourceOf<K>>; revision: number }> {
    const { kvs, revision } = await this.kv.range(kindPrefix(kind, namespace));
    const items: Array<ResourceOf<K>> = [];
    for (const kv of kvs) {
      const d = this.decode(kv);
      if (d && d.kind === kind) items.push(d as ResourceOf<K>);
    }
    return { items, revision };
  }

  /** Delete and return the deleted resource; RESOURCE_CONFLICT on a stale resourceVersion. */
  async delete<K extends Kind>(kind: K, name: string, opts: DeleteOptions = {}): Promise<ResourceOf<K> | undefined> {
    const key = resourceKey(kind, name, opts.namespace);
    const what = `${kind} "${nsName(kind, name, opts.namespace)}"`;
    for (let attempt = 0; attempt < APPLY_ATTEMPTS; attempt++) {
      const current = await this.kv.get(key);
      if (!current) throw new DatastoreError(RESOURCE_NOT_FOUND, `${what} not found`);
      if (opts.resourceVersion !== undefined && Number(opts.resourceVersion) !== current.modRevision) {
        throw new DatastoreError(RESOURCE_CONFLICT, `${what} was modified: resourceVersion ${opts.resourceVersion} is stale (now ${current.modRevision})`);
      }
      const res = await this.kv.txn([{ key, modRevision: current.modRevision }], [{ op: 'delete', key }]);
      if (res.succeeded) {
        const d = decodeResource(current);
        // A corrupt object can still be deleted (that is how it gets cleaned up).
        return d.ok ? (d.resource as ResourceOf<K>) : undefined;
      }
    }
    throw new DatastoreError(RESOURCE_CONFLICT, `${what} kept changing; gave up after ${APPLY_ATTEMPTS} attempts`);
  }

  /** Decode a stored value, reporting (not throwing) if corrupt. For the syncer too. */
  decode(kv: KeyValue): Resource | undefined {
    const d = decodeResource(kv);
    if (d.ok) return d.resource;
    this.onCorrupt({ key: kv.key, reason: d.reason, modRevision: kv.modRevision });
    return undefined;
  }

  private prepare<R extends Resource>(resource: R): R {
    return withDefaults(validateResource(resource) as R);
  }
}

function keyOf(r: Resource): string {
  return resourceKey(r.kind, r.metadata.name, r.metadata.namespace);
}

function withVersion<R extends Resource>(r: R, revision: number): R {
  return { ...r, metadata: { ...r.metadata, resourceVersion: String(revision) } };
}

/** Keep uid and creationTimestamp of the stored object across updates (Calico does). */
function keepIdentity<R extends Resource>(r: R, current: KeyValue): R {
  const d = decodeResource(current);
  const old = d.ok ? d.resource.metadata : {};
  return {
    ...r,
    metadata: {
      ...r.metadata,
      uid: (old as { uid?: string }).uid ?? r.metadata.uid ?? randomUUID(),
      creationTimestamp: (old as { creationTimestamp?: string }).creationTimestamp ?? r.metadata.creationTimestamp ?? now(),
    },
  };
}

function conflict(r: Resource, expected: string, actual: number): TartanError {
  return new DatastoreError(RESOURCE_CONFLICT, `${describe(r)} was modified: resourceVersion ${expected} is stale (now ${actual})`);
}

function describe(r: Resource): string {
  return `${r.kind} "${nsName(r.kind, r.metadata.name, r.metadata.namespace)}"`;
}

function nsName(kind: Kind, name: string, namespace?: string): string {
  return kindInfo(kind)?.namespaced ? `${namespace ?? 'default'}/${name}` : name;
}

/** RFC 3339 seconds, as Kubernetes writes creationTimestamp. */
function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}
