import { TartanError } from '../errors';

/** Not enough free addresses in the pools that apply to the node. */
export const IPAM_EXHAUSTED = 'IPAM_EXHAUSTED';
/** Too many concurrent writers on one block or handle; gave up retrying. */
export const IPAM_CONFLICT = 'IPAM_CONFLICT';
/** Bad arguments (address not in any block, negative counts…). */
export const IPAM_INVALID = 'IPAM_INVALID';

export class IpamError extends TartanError {}
