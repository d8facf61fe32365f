/**
 * One datastore connection for one tartanctl command, with etcd failures
 * turned into one-line operator messages.
 */
import {
  Datastore, DATASTORE_CONFIG_INVALID, DATASTORE_ERROR, DATASTORE_UNAVAILABLE, RESOURCE_CONFLICT, RESOURCE_INVALID, type DatastoreConfig,
} from '../datastore';
import { isTartanError } from '../errors';
import { CliError, oneLine } from './errors';

/** Run `fn` with a connected Datastore; always closes it; translates datastore errors. */
export async function withDatastore<T>(cfg: DatastoreConfig, fn: (ds: Datastore) => Promise<T>): Promise<T> {
  let ds: Datastore;
  try {
    ds = Datastore.connect(cfg);
  } catch (e) {
    throw translateDatastoreError(e, cfg);
  }
  try {
    return await fn(ds);
  } catch (e) {
    throw translateDatastoreError(e, cfg);
  } finally {
    ds.close();
  }
}

export function translateDatastoreError(e: unknown, cfg: DatastoreConfig): unknown {
  if (!isTartanError(e)) return e;
  const where = cfg.endpoints.join(',');
  switch (e.code) {
    case DATASTORE_UNAVAILABLE:
      return new CliError(`cannot connect to the datastore (etcd at ${where}): ${unavailableDetail(e.message)}`, { cause: e });
    case DATASTORE_ERROR:
      return new CliError(`the datastore (etcd at ${where}) refused the request: ${oneLine(e.message)}`, { cause: e });
    case DATASTORE_CONFIG_INVALID:
      return new CliError(oneLine(e.message), { cause: e });
    case RESOURCE_CONFLICT:
      return new CliError(`update conflict: ${e.message}; read it again (tartanctl get ... -o yaml) and retry, or remove metadata.resourceVersion to overwrite`, { cause: e });
    case RESOURCE_INVALID:
      return new CliError(oneLine(e.message), { cause: e });
    default:
      return e;
  }
}

/** "…etcd unavailable: 14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: " → "connect ECONNREFUSED 127.0.0.1:1". */
function unavailableDetail(message: string): string {
  const last = /Last error: (?:Error: )?(.*?)\.?\s*(?:Resolution note:.*)?$/s.exec(message);
  if (last?.[1]) return last[1].trim();
  if (/deadline/i.test(message)) return 'no answer in time';
  const i = message.indexOf('etcd unavailable: ');
  return oneLine(i >= 0 ? message.slice(i + 'etcd unavailable: '.length) : message);
}
