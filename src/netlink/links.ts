/**
 * RTM_GETLINK / RTM_NEWLINK / RTM_DELLINK handling. Link messages are few
 * (one per interface and per state change), so the `netlink` package's own
 * formatter and parser are used here as they are.
 */
import { formatMessage, rt } from 'netlink';
import { IFINFOMSG_LEN, NLMSG_HDRLEN, NLM_F_DUMP, NLM_F_REQUEST, RTM_GETLINK } from './constants';
import type { LinkInfo } from './types';

/** A whole RTM_GETLINK dump request (ifinfomsg with AF_UNSPEC: all links). */
export function encodeLinkDumpRequest(seq: number): Buffer {
  const parts = formatMessage({ type: RTM_GETLINK, flags: NLM_F_REQUEST | NLM_F_DUMP, seq, port: 0, data: rt.formatLink({}) });
  return Buffer.concat(parts);
}

/** Decode the link message at `off` (length `len`); null if it carries no name. */
export function decodeLink(buf: Buffer, off: number, len: number): LinkInfo | null {
  if (len < NLMSG_HDRLEN + IFINFOMSG_LEN) return null;
  const msg = rt.parseLinkMessage(buf.subarray(off + NLMSG_HDRLEN, off + len));
  const name = msg.attrs.ifname;
  const index = msg.data.index;
  if (name === undefined || index === undefined) return null;
  return {
    index,
    name,
    adminUp: msg.data.flags?.up === true,
    // IFF_RUNNING mirrors the operational state (RFC 2863 "up"): carrier present.
    operUp: msg.data.flags?.running === true,
  };
}
