/**
 * What an attribute decoder throws when an attribute's value is malformed:
 * the UPDATE Message Error subcode and a reason. The attribute list decoder
 * turns it into a BgpWireError carrying the attribute bytes as NOTIFICATION
 * data (RFC 4271 §6.3) and the RFC 7606 action of the attribute's table row,
 * unless the problem names a different action (e.g. MP_REACH_NLRI for a
 * family Tartan does not route is discarded rather than reset the session).
 */
import type { ErrorAction } from '../errors';

export class AttributeProblem extends Error {
  constructor(
    readonly subcode: number,
    readonly reason: string,
    readonly action?: ErrorAction,
  ) {
    super(reason);
  }
}

export function problem(subcode: number, reason: string, action?: ErrorAction): AttributeProblem {
  return new AttributeProblem(subcode, reason, action);
}
