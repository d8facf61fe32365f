/**
 * CNI errors: the spec's well-known codes (1–11, CNI spec 1.0.0 §5 "Error")
 * plus Tartan's plugin-specific ones (100+), and the one mapping from any
 * thrown value to the `{cniVersion, code, msg, details}` the runtime reads.
 *
 * Inside the plugin every failure is a TartanError; a CniError carries its
 * CNI code itself, other TartanErrors (datastore, IPAM, dataplane) are mapped
 * by their `code` here, in one place.
 */
import { TartanError } from '../errors';

// ---- well-known codes (0-99 reserved by the spec) -------------------------
export const CNI_INCOMPATIBLE_VERSION = 1;
/** The message must name the key and value of the field. */
export const CNI_UNSUPPORTED_FIELD = 2;
/** The runtime need not clean up (nothing was created). */
export const CNI_UNKNOWN_CONTAINER = 3;
/** The message must name the variables. */
export const CNI_INVALID_ENV = 4;
export const CNI_IO_FAILURE = 5;
export const CNI_DECODE_FAILURE = 6;
export const CNI_INVALID_CONFIG = 7;
/** A transient condition (etcd away, write conflicts): the runtime should retry. */
export const CNI_TRY_AGAIN_LATER = 11;

// ---- Tartan's own (100+) --------------------------------------------------
export const TARTAN_CNI_INTERNAL = 100;
/** No address could be assigned (pools exhausted or none selects the node). */
export const TARTAN_CNI_IPAM = 101;
/** Creating or configuring the veth, addresses or routes failed. */
export const TARTAN_CNI_DATAPLANE = 102;
/** The datastore refused a request (permissions, invalid or corrupt resource). */
export const TARTAN_CNI_DATASTORE = 103;
/** CHECK: the container's networking is not as ADD left it. */
export const TARTAN_CNI_CHECK_FAILED = 104;
/** ADD: CNI_IFNAME already exists in the container and is not this plugin's. */
export const TARTAN_CNI_INTERFACE_EXISTS = 105;
/** A delegated IPAM plugin could not be run or gave no usable answer. */
export const TARTAN_CNI_DELEGATE = 106;

/** TartanError code of a dataplane driver failure (an `ip` / `nsenter` command). */
export const CNI_DATAPLANE_ERROR = 'CNI_DATAPLANE_ERROR';

const SHORT: Record<number, string> = {
  [CNI_INCOMPATIBLE_VERSION]: 'incompatible CNI version',
  [CNI_UNSUPPORTED_FIELD]: 'unsupported field in network configuration',
  [CNI_UNKNOWN_CONTAINER]: 'container unknown or does not exist',
  [CNI_INVALID_ENV]: 'invalid necessary environment variables',
  [CNI_IO_FAILURE]: 'I/O failure',
  [CNI_DECODE_FAILURE]: 'failed to decode content',
  [CNI_INVALID_CONFIG]: 'invalid network config',
  [CNI_TRY_AGAIN_LATER]: 'try again later',
  [TARTAN_CNI_INTERNAL]: 'internal error',
  [TARTAN_CNI_IPAM]: 'IP address assignment failed',
  [TARTAN_CNI_DATAPLANE]: 'configuring the container network failed',
  [TARTAN_CNI_DATASTORE]: 'datastore error',
  [TARTAN_CNI_CHECK_FAILED]: 'container network is not as expected',
  [TARTAN_CNI_INTERFACE_EXISTS]: 'interface already exists',
  [TARTAN_CNI_DELEGATE]: 'delegated IPAM plugin failed',
};

/** An error with its CNI code; `message` becomes `msg`, `details` the longer text. */
export class CniError extends TartanError {
  constructor(
    readonly cniCode: number,
    message: string,
    readonly details = '',
    options?: { cause?: unknown },
  ) {
    super(`CNI_${cniCode}`, message, options);
  }
}

/** The JSON error object of the spec. */
export interface CniErrorJson {
  cniVersion: string;
  code: number;
  msg: string;
  details: string;
}

/** TartanError codes of other layers → CNI code. */
const BY_TARTAN_CODE: Record<string, number> = {
  DATASTORE_UNAVAILABLE: CNI_TRY_AGAIN_LATER,
  RESOURCE_CONFLICT: CNI_TRY_AGAIN_LATER,
  IPAM_CONFLICT: CNI_TRY_AGAIN_LATER,
  DATASTORE_CONFIG_INVALID: CNI_INVALID_CONFIG,
  IPAM_EXHAUSTED: TARTAN_CNI_IPAM,
  IPAM_INVALID: TARTAN_CNI_IPAM,
  DATASTORE_ERROR: TARTAN_CNI_DATASTORE,
  RESOURCE_INVALID: TARTAN_CNI_DATASTORE,
  RESOURCE_CORRUPT: TARTAN_CNI_DATASTORE,
  RESOURCE_EXISTS: TARTAN_CNI_DATASTORE,
  RESOURCE_NOT_FOUND: TARTAN_CNI_DATASTORE,
  [CNI_DATAPLANE_ERROR]: TARTAN_CNI_DATAPLANE,
};

/** Any thrown value → the spec's error object (never throws). */
export function toErrorJson(err: unknown, cniVersion: string): CniErrorJson {
  if (err instanceof CniError) {
    return { cniVersion, code: err.cniCode, msg: err.message, details: err.details };
  }
  if (err instanceof TartanError) {
    const code = BY_TARTAN_CODE[err.code] ?? TARTAN_CNI_INTERNAL;
    return { cniVersion, code, msg: SHORT[code] ?? 'error', details: `${err.code}: ${err.message}` };
  }
  const text = err instanceof Error ? err.message : String(err);
  return { cniVersion, code: TARTAN_CNI_INTERNAL, msg: SHORT[TARTAN_CNI_INTERNAL] ?? 'internal error', details: text };
}

/** The spec's short description of a code (for messages). */
export function describeCode(code: number): string {
  return SHORT[code] ?? `error ${code}`;
}
