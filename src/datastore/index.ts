/**
 * Tartan's datastore: Calico `projectcalico.org/v3` resources in etcd with
 * Calico's key layout, so calicoctl-era manifests and etcd contents work.
 *
 * Design (one job per file):
 * - resources/types.ts     resource types, field names exactly Calico's
 * - resources/schema.ts    path-collecting validation combinators (pure)
 * - resources/specs/*.ts   per-kind spec checks with Calico's cross-field rules
 * - resources/kinds.ts     kind table: plural, scope, CLI names, checks
 * - resources/validate.ts  whole-resource validation (pure)
 * - resources/defaults.ts  stored defaults (IPPool, policy types) and the
 *                          read-side BGPConfiguration defaults (pure)
 * - resources/parse.ts     YAML/JSON manifests, `kind: List`
 * - keys.ts, codec.ts      key layout and stored value ↔ resource (pure)
 * - etcd/kv.ts             the thin etcd shell; etcd/translate.ts its errors
 * - datastore.ts           CRUD with resourceVersion compare-and-swap
 * - watch.ts, sources.ts   list + watch syncer with resume and relist-on-compaction
 */
export * from './resources/types';
export type { Problem } from './resources/schema';
export { checkResource, validateResource, describeResource, type ValidationResult } from './resources/validate';
export {
  withDefaults, policyTypes, effectiveBGPConfiguration, type EffectiveBGPConfiguration,
  DEFAULT_AS_NUMBER, DEFAULT_LISTEN_PORT, DEFAULT_BLOCK_SIZE_V4, DEFAULT_BLOCK_SIZE_V6, DEFAULT_NAMESPACE,
} from './resources/defaults';
export { parseResources, type ParseOptions } from './resources/parse';
export { KINDS, kindInfo, lookupKind, isKind, type KindInfo } from './resources/kinds';
export { resourceKey, kindPrefix, parseResourceKey, RESOURCE_PREFIX, type ResourceKeyParts } from './keys';
export { configFromEnv, type DatastoreConfig } from './config';
export {
  ResourceInvalidError, DatastoreError, isRetryable,
  RESOURCE_INVALID, RESOURCE_NOT_FOUND, RESOURCE_CONFLICT, RESOURCE_EXISTS, RESOURCE_PARSE_ERROR,
  DATASTORE_UNAVAILABLE, DATASTORE_ERROR, DATASTORE_CONFIG_INVALID,
} from './errors';
export { Datastore, RESOURCE_CORRUPT, type CorruptValue, type DatastoreOptions, type DeleteOptions, type ResourceRef } from './datastore';
export { EtcdKv, type Kv, type KeyValue, type ModRevisionGuard, type TxnOp, type TxnResult, type RangeResult } from './etcd/kv';
export {
  Syncer, type SyncSource, type SyncEvent, type SyncListener, type SyncStatus, type SyncState, type SyncerOptions, type DecodeResult,
} from './watch';
export { resourceSource, resourceSources } from './sources';
