/**
 * The pure core of the compact BGP FIB reconciler: what to do for one
 * prefix given the next-hop set wanted and the one the kernel has (both as
 * interned set ids, see nexthop-sets.ts), and how a route of ours read from
 * a kernel dump maps onto that model. No I/O, no state.
 *
 * Kernel facts this relies on (as src/dataplane/routes/diff.ts):
 * - A route's identity is (table, dst, tos, metric); we program one metric,
 *   so a route of ours with any other metric is a stray, deleted outright.
 * - NLM_F_REPLACE changes a route in place (no window without a route), so
 *   a changed best path is one replace, never delete + add.
 * - The kernel fills in the output interface of a gateway route, and
 *   reports scope universe for every IPv6 route: a dumped route equals ours
 *   when it is unicast, scope universe, and its hops are exactly our
 *   gateways (any order; weight ignored on a single path, 1 on ECMP), none
 *   of them onlink.
 */
import { AF_INET, AF_INET6, NLMSG_HDRLEN, RTA_DST, RTA_GATEWAY, RTA_MULTIPATH, RTA_NH_ID, RTA_PRIORITY, RTA_TABLE, RTMSG_LEN, RTM_F_CLONED, RTNH_F_ONLINK, RTNH_LEN, RTN_BLACKHOLE, RTN_PROHIBIT, RTN_UNICAST, RTN_UNREACHABLE, RT_SCOPE_UNIVERSE } from '../../netlink/constants';
import { formatIpv4, formatIpv6 } from '../../netlink/addr';
import { NO_ROUTE } from './nexthop-sets';

/** What to send for one prefix. */
export const OP_NONE = 0;
/** RTM_NEWROUTE NLM_F_CREATE|NLM_F_EXCL: never overwrites a route another protocol owns (EEXIST instead). */
export const OP_ADD = 1;
/** RTM_NEWROUTE NLM_F_CREATE|NLM_F_REPLACE: our route, changed in place. */
export const OP_REPLACE = 2;
/** RTM_DELROUTE with our protocol: can only remove a route of ours. */
export const OP_DELETE = 3;
export type FibOp = typeof OP_NONE | typeof OP_ADD | typeof OP_REPLACE | typeof OP_DELETE;

export const OP_NAMES = ['none', 'add', 'replace', 'delete'] as const;

/**
 * The operation that turns the kernel's route of ours for a prefix (`have`,
 * NO_ROUTE if none) into the wanted one (`want`, NO_ROUTE if none). Equal
 * ids need nothing: correct routes are never touched.
 */
export function fibOp(want: number, have: number): FibOp {
  if (want === have) return OP_NONE;
  if (want === NO_ROUTE) return OP_DELETE;
  if (have === NO_ROUTE) return OP_ADD;
  return OP_REPLACE;
}

/** One route of ours from a dump, decoded into reusable scratch fields. */
export interface DumpedRoute {
  family: 4 | 6;
  /** Destination as 32-bit big-endian words (1 for IPv4, 4 for IPv6), like the RIB's keys. */
  key: Uint32Array;
  len: number;
  metric: number;
  /** Unicast, scope universe, every hop a gateway, no onlink, ECMP weights 1: a route we could have written. */
  plain: boolean;
  /** Canonical gateway text, sorted (only meaningful when `plain`). */
  gateways: string[];
  /** The kernel nexthop object the route names (RTA_NH_ID), 0 if none. */
  nhId: number;
}

export function newDumpedRoute(): DumpedRoute {
  return { family: 4, key: new Uint32Array(4), len: 0, metric: 0, plain: false, gateways: [], nhId: 0 };
}

const align4 = (n: number): number => (n + 3) & ~3;

/**
 * Decode the RTM_NEWROUTE message at `off` (length `len`) into `out` if it is
 * a route of `protocol` in `table`; false otherwise (other protocols,
 * tables, cloned cache entries, local/broadcast types). Cheap rtmsg fields
 * are checked before any attribute is read.
 */
export function readOwnRoute(buf: Buffer, off: number, len: number, protocol: number, table: number, out: DumpedRoute): boolean {
  const r = off + NLMSG_HDRLEN;
  if (len < NLMSG_HDRLEN + RTMSG_LEN) return false;
  if (buf[r + 5] !== protocol) return false;
  const fam = buf[r];
  if (fam !== AF_INET && fam !== AF_INET6) return false;
  const rtmFlags = buf.readUInt32LE(r + 8);
  if (rtmFlags & RTM_F_CLONED) return false;
  const type = buf[r + 7];
  if (type !== RTN_UNICAST && type !== RTN_BLACKHOLE && type !== RTN_UNREACHABLE && type !== RTN_PROHIBIT) return false;
  const v4 = fam === AF_INET;
  const alen = v4 ? 4 : 16;
  const words = v4 ? 1 : 4;
  let tbl = buf[r + 4] as number;
  out.family = v4 ? 4 : 6;
  out.len = buf[r + 1] as number;
  out.metric = 0;
  out.gateways.length = 0;
  out.nhId = 0;
  for (let w = 0; w < 4; w++) out.key[w] = 0;
  let plain = type === RTN_UNICAST && (!v4 || buf[r + 6] === RT_SCOPE_UNIVERSE) && (rtmFlags & RTNH_F_ONLINK) === 0;
  let hops = 0;
  const end = off + len;
  let a = r + RTMSG_LEN;
  while (a + 4 <= end) {
    const alenTotal = buf.readUInt16LE(a);
    const atype = buf.readUInt16LE(a + 2) & 0x3fff;
    if (alenTotal < 4 || a + alenTotal > end) break;
    const p = a + 4;
    switch (atype) {
      case RTA_DST:
        if (alenTotal - 4 >= alen) for (let w = 0; w < words; w++) out.key[w] = buf.readUInt32BE(p + w * 4);
        break;
      case RTA_TABLE:
        tbl = buf.readUInt32LE(p);
        break;
      case RTA_PRIORITY:
        out.metric = buf.readUInt32LE(p);
        break;
      case RTA_NH_ID:
        // With net.ipv4.nexthop_compat_mode 1 (the default) the kernel also reports the gateways.
        if (alenTotal >= 8) out.nhId = buf.readUInt32LE(p);
        break;
      case RTA_GATEWAY:
        if (alenTotal - 4 >= alen) {
          out.gateways.push(v4 ? formatIpv4(buf, p) : formatIpv6(buf, p));
          hops = 1;
        }
        break;
      case RTA_MULTIPATH: {
        const mpEnd = a + alenTotal;
        let q = p;
        while (q + RTNH_LEN <= mpEnd) {
          const nhLen = buf.readUInt16LE(q);
          if (nhLen < RTNH_LEN || q + nhLen > mpEnd) break;
          // Weights other than 1 (rtnh_hops 0) and onlink hops are not ours.
          if ((buf[q + 2]! & RTNH_F_ONLINK) !== 0 || buf[q + 3] !== 0) plain = false;
          let gw = false;
          let b = q + RTNH_LEN;
          while (b + 4 <= q + nhLen) {
            const l = buf.readUInt16LE(b);
            if (l < 4) break;
            if ((buf.readUInt16LE(b + 2) & 0x3fff) === RTA_GATEWAY && l - 4 >= alen) {
              out.gateways.push(v4 ? formatIpv4(buf, b + 4) : formatIpv6(buf, b + 4));
              gw = true;
            }
            b += align4(l);
          }
          if (!gw) plain = false;
          hops++;
          q += align4(nhLen);
        }
        break;
      }
      default:
        break;
    }
    a += align4(alenTotal);
  }
  if (tbl !== table) return false;
  // A device route (an output interface and no gateway) is not one we write.
  if (hops === 0 || out.gateways.length === 0) plain = false;
  if (out.gateways.length > 1) out.gateways.sort();
  out.plain = plain;
  return true;
}
