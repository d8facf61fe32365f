/**
 * Datastore errors. Callers match on `code`; etcd/gRPC errors are translated
 * into these once, in `etcd/translate.ts`, with the original as `cause`.
 */
import { TartanError } from '../errors';
import type { Problem } from './resources/schema';

export const RESOURCE_INVALID = 'RESOURCE_INVALID';
export const RESOURCE_NOT_FOUND = 'RESOURCE_NOT_FOUND';
/** The resourceVersion given is not the stored one (someone else wrote first). */
export const RESOURCE_CONFLICT = 'RESOURCE_CONFLICT';
export const RESOURCE_EXISTS = 'RESOURCE_EXISTS';
/** etcd could not be reached or did not answer in time; retrying may help. */
export const DATASTORE_UNAVAILABLE = 'DATASTORE_UNAVAILABLE';
/** etcd refused the request (auth, permission, bad request); retrying will not help. */
export const DATASTORE_ERROR = 'DATASTORE_ERROR';
export const DATASTORE_CONFIG_INVALID = 'DATASTORE_CONFIG_INVALID';
export const RESOURCE_PARSE_ERROR = 'RESOURCE_PARSE_ERROR';

/** A resource that fails validation; `problems` lists every field at fault. */
export class ResourceInvalidError extends TartanError {
  constructor(
    readonly what: string,
    readonly problems: readonly Problem[],
  ) {
    super(RESOURCE_INVALID, `${what} is invalid:\n${problems.map((p) => `  ${p.path ? `${p.path}: ` : ''}${p.message}`).join('\n')}`);
  }
}

export class DatastoreError extends TartanError {}

/** True for errors worth retrying later (etcd away, timeouts). */
export function isRetryable(err: unknown): boolean {
  return err instanceof TartanError && err.code === DATASTORE_UNAVAILABLE;
}
