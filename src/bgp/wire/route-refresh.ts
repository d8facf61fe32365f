/**
 * ROUTE-REFRESH, RFC 2918 §3: AFI (2), Reserved (1), SAFI (1). RFC 7313 §3.2
 * turns Reserved into the Message Subtype: 0 normal request, 1 BoRR, 2 EoRR.
 * Other subtypes decode as they are; RFC 7313 §5 says to ignore them, which
 * is the session's job.
 */
import { encodeError } from './errors';
import { MessageType, type RouteRefreshMessage } from './types';

/** Subtypes, RFC 7313 §3.2. */
export enum RouteRefreshSubtype {
  NORMAL = 0,
  BEGIN_OF_ROUTE_REFRESH = 1,
  END_OF_ROUTE_REFRESH = 2,
}

/** Decodes a body of exactly 4 bytes (the caller checked the length, RFC 7313 §5). */
export function decodeRouteRefresh(body: Buffer): RouteRefreshMessage {
  return {
    type: MessageType.ROUTE_REFRESH,
    afi: body.readUInt16BE(0),
    subtype: body[2] as number,
    safi: body[3] as number,
  };
}

export function encodeRouteRefresh(msg: RouteRefreshMessage): Buffer {
  for (const [v, max, what] of [
    [msg.afi, 0xffff, 'AFI'],
    [msg.subtype, 0xff, 'subtype'],
    [msg.safi, 0xff, 'SAFI'],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > max) throw encodeError(`ROUTE-REFRESH ${what} out of range: ${v}`);
  }
  const out = Buffer.alloc(4);
  out.writeUInt16BE(msg.afi, 0);
  out[2] = msg.subtype;
  out[3] = msg.safi;
  return out;
}
