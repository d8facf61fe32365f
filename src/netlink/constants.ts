/**
 * rtnetlink numbers Tartan relies on. Message types, flags and multicast
 * groups come from the `netlink` package; the attribute numbers (RTA_*),
 * route types (RTN_*) and scopes (RT_SCOPE_*) are spelled out here because the
 * package only exposes them through its slow object formatter, and the hand
 * codec in `codec.ts` needs the raw values.
 *
 * Sources: include/uapi/linux/netlink.h, include/uapi/linux/rtnetlink.h,
 * include/uapi/linux/if.h (Linux 6.x).
 */
import { Flags, FlagsDelete, FlagsGet, FlagsNew, MessageType as NlMsgType, rt } from 'netlink';

/** struct nlmsghdr is 16 bytes (netlink.h). */
export const NLMSG_HDRLEN = 16;
/** struct rtmsg is 12 bytes (rtnetlink.h). */
export const RTMSG_LEN = 12;
/** struct rtnexthop is 8 bytes (rtnetlink.h). */
export const RTNH_LEN = 8;
/** struct nlmsgerr = int error + the offending nlmsghdr (netlink.h). */
export const NLMSGERR_LEN = 4 + NLMSG_HDRLEN;
/** struct ifinfomsg is 16 bytes (rtnetlink.h). */
export const IFINFOMSG_LEN = 16;

export const NLMSG_NOOP = NlMsgType.NOOP;
export const NLMSG_ERROR = NlMsgType.ERROR;
export const NLMSG_DONE = NlMsgType.DONE;
export const NLMSG_OVERRUN = NlMsgType.OVERRUN;

export const NLM_F_REQUEST = Flags.REQUEST;
export const NLM_F_MULTI = Flags.MULTI;
export const NLM_F_ACK = Flags.ACK;
/** Set by the kernel on a dump part when the table changed mid-dump. */
export const NLM_F_DUMP_INTR = Flags.DUMP_INTR;
export const NLM_F_DUMP = FlagsGet.DUMP;
export const NLM_F_REPLACE = FlagsNew.REPLACE;
export const NLM_F_EXCL = FlagsNew.EXCL;
export const NLM_F_CREATE = FlagsNew.CREATE;
export const NLM_F_NONREC = FlagsDelete.NONREC;

export const RTM_NEWLINK = rt.MessageType.NEWLINK;
export const RTM_DELLINK = rt.MessageType.DELLINK;
export const RTM_GETLINK = rt.MessageType.GETLINK;
export const RTM_NEWROUTE = rt.MessageType.NEWROUTE;
export const RTM_DELROUTE = rt.MessageType.DELROUTE;
export const RTM_GETROUTE = rt.MessageType.GETROUTE;

export const RTNLGRP_LINK = rt.MulticastGroups.LINK;
export const RTNLGRP_IPV4_ROUTE = rt.MulticastGroups.IPV4_ROUTE;
export const RTNLGRP_IPV6_ROUTE = rt.MulticastGroups.IPV6_ROUTE;
export const RTNLGRP_IPV4_IFADDR = rt.MulticastGroups.IPV4_IFADDR;
export const RTNLGRP_IPV6_IFADDR = rt.MulticastGroups.IPV6_IFADDR;
export const RTM_NEWADDR = rt.MessageType.NEWADDR;
export const RTM_DELADDR = rt.MessageType.DELADDR;

export const AF_INET = 2;
export const AF_INET6 = 10;

// enum rtattr_type_t (rtnetlink.h)
export const RTA_DST = 1;
export const RTA_OIF = 4;
export const RTA_GATEWAY = 5;
export const RTA_PRIORITY = 6;
export const RTA_MULTIPATH = 9;
export const RTA_TABLE = 15;
/** A route's next hop as a kernel nexthop object id (Linux 5.3+). */
export const RTA_NH_ID = 30;

/** Nexthop objects (include/uapi/linux/nexthop.h, Linux 5.3+). */
export const RTM_NEWNEXTHOP = 104;
export const RTM_DELNEXTHOP = 105;
export const RTM_GETNEXTHOP = 106;
/** struct nhmsg { u8 nh_family; u8 nh_scope; u8 nh_protocol; u8 resvd; u32 nh_flags } */
export const NHMSG_LEN = 8;
export const NHA_ID = 1;
export const NHA_GROUP = 2;
export const NHA_GROUP_TYPE = 3;
export const NHA_BLACKHOLE = 4;
export const NHA_OIF = 5;
export const NHA_GATEWAY = 6;
/** struct nexthop_grp { u32 id; u8 weight; u8 weight_high; u16 resvd2 } */
export const NEXTHOP_GRP_LEN = 8;
export const AF_UNSPEC = 0;

// rtm_type values (rtnetlink.h)
export const RTN_UNSPEC = 0;
export const RTN_UNICAST = 1;
export const RTN_BLACKHOLE = 6;
export const RTN_UNREACHABLE = 7;
export const RTN_PROHIBIT = 8;

// enum rt_scope_t (rtnetlink.h)
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_HOST = 254;
/** In a delete request, NOWHERE means "any scope" (fib_table_delete). */
export const RT_SCOPE_NOWHERE = 255;

export const RT_TABLE_UNSPEC = 0;
export const RT_TABLE_MAIN = 254;

/** rtm_flags: the entry is a cloned cache route (IPv6 exceptions), not a FIB route. */
export const RTM_F_CLONED = 0x200;
/** rtnh_flags: gateway is forced on-link (RTNH_F_ONLINK). */
export const RTNH_F_ONLINK = 4;

// IFF_* (include/uapi/linux/if.h)
export const IFF_UP = 0x1;
export const IFF_RUNNING = 0x40;

/**
 * Tartan's route protocol numbers (rtm_protocol). Values >= RTPROT_STATIC (4)
 * are not interpreted by the kernel and are only used to tell owners apart.
 * Chosen to avoid /etc/iproute2/rt_protos (0-18, 42 babel, 99 openr,
 * 186-192 bgp/isis/ospf/rip/eigrp), FRR's rt_protos.d additions (186-198:
 * nhrp, ldp, sharp, pbr, static, openfabric, srte), BIRD's 12 and Felix's 80.
 * Add `201 tartan-bgp` / `202 tartan-wl` / `203 tartan-bh` to /etc/iproute2/rt_protos.d to get
 * names in `ip route` output.
 */
export const RTPROT_TARTAN_BGP = 201;
export const RTPROT_TARTAN_WORKLOAD = 202;
/** Blackhole routes for this node's IPAM blocks (Calico's `bird_aggr.cfg` static blackholes), from the peering watcher. */
export const RTPROT_TARTAN_BLACKHOLE = 203;
