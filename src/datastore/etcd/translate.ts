/**
 * The one place etcd3/gRPC errors become TartanErrors (aesthetics habit 12:
 * foreign errors are translated once, at the driver edge). The original is
 * kept as `cause`.
 */
import { isRecoverableError } from 'etcd3';
import { TartanError } from '../../errors';
import { DATASTORE_ERROR, DATASTORE_UNAVAILABLE, DatastoreError } from '../errors';

/** Error class names (etcd3, cockatiel, grpc) that mean "etcd is away or slow". */
const UNAVAILABLE = new Set([
  'GRPCUnavailableError',
  'GRPCDeadlineExceededError',
  'GRPCCancelledError',
  'GRPCInternalError',
  'GRPCProtocolError',
  'GRPCResourceExhastedError',
  'BrokenCircuitError',
  'IsolatedCircuitError',
  'TaskCancelledError',
  'EtcdWatchStreamEnded',
]);
/** Raw gRPC status codes with the same meaning: CANCELLED, UNKNOWN, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, UNAVAILABLE. */
const UNAVAILABLE_CODES = new Set([1, 2, 4, 8, 14]);

export function translateEtcdError(err: unknown, what: string): TartanError {
  if (err instanceof TartanError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  const unavailable =
    UNAVAILABLE.has(e.constructor.name) ||
    UNAVAILABLE.has(e.name) ||
    (typeof code === 'number' && UNAVAILABLE_CODES.has(code)) ||
    safeRecoverable(e) ||
    /ECONNREFUSED|ECONNRESET|No connection established|failed to connect|Deadline exceeded/i.test(e.message);
  return new DatastoreError(
    unavailable ? DATASTORE_UNAVAILABLE : DATASTORE_ERROR,
    `${what}: ${unavailable ? 'etcd unavailable: ' : ''}${e.message}`,
    { cause: err },
  );
}

function safeRecoverable(e: Error): boolean {
  try {
    return isRecoverableError(e);
  } catch {
    return false;
  }
}
