/**
 * Route and link events: a second NETLINK_ROUTE socket joined to
 * RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE and RTNLGRP_LINK (rtnetlink.h). It
 * is separate from the driver's request socket so a burst of notifications
 * can never push request answers out of the driver's receive buffer.
 *
 * Multicast delivery is best-effort: when the receive buffer is full the
 * kernel drops the notification. The socket is opened with NETLINK_NO_ENOBUFS
 * (the `netlink` package aborts the process on the error an overflow would
 * otherwise raise: see netsock/netlink-guard.ts), so a drop is silent and
 * consumers must resync from a dump periodically; an `overrun` event is still
 * passed on should a transport report one.
 */
import { decodeRoute, forEachMessage } from './codec';
import {
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_DELROUTE,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_NEWROUTE,
  RTNLGRP_IPV4_IFADDR,
  RTNLGRP_IPV4_ROUTE,
  RTNLGRP_IPV6_IFADDR,
  RTNLGRP_IPV6_ROUTE,
  RTNLGRP_LINK,
} from './constants';
import { decodeLink } from './links';
import { openRouteSocket, type DatagramTransport } from './transport';
import type { NetlinkEvent } from './types';

export interface MonitorOptions {
  /** Join the IPv4/IPv6 route groups (default true); links are always watched. */
  routes?: boolean;
  /** Join the interface address groups (default false): `address` events, not decoded. */
  addresses?: boolean;
  /** SO_RCVBUF to ask for; default 4 MiB. */
  recvBufferBytes?: number;
  /** Keep the event loop alive while open (default false). */
  ref?: boolean;
  /**
   * Drop route events of this rtm_protocol before decoding them: a listener
   * that does not care about our own routes is spared a million decodes while
   * a full table is programmed.
   */
  ignoreProtocol?: number;
}

export type EventHandler = (e: NetlinkEvent) => void;

export class NetlinkMonitor {
  private readonly handlers: EventHandler[] = [];

  private constructor(
    private readonly transport: DatagramTransport,
    private readonly routeFilter?: { excludeProtocol: number },
  ) {
    transport.onDatagram((d) => this.receive(d));
    transport.onError((err) => {
      if (err.code === 'NETLINK_ENOBUFS') this.emit({ kind: 'overrun' });
    });
  }

  static open(opts: MonitorOptions = {}): NetlinkMonitor {
    const groups = opts.routes === false ? [RTNLGRP_LINK] : [RTNLGRP_LINK, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE];
    if (opts.addresses === true) groups.push(RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR);
    const t = openRouteSocket({ recvBufferBytes: opts.recvBufferBytes ?? 4 * 1024 * 1024, sendBufferBytes: 64 * 1024, groups });
    t.setRef(opts.ref === true);
    return new NetlinkMonitor(t, opts.ignoreProtocol !== undefined ? { excludeProtocol: opts.ignoreProtocol } : undefined);
  }

  /** For tests: a monitor over any transport. */
  static withTransport(t: DatagramTransport): NetlinkMonitor {
    return new NetlinkMonitor(t);
  }

  on(fn: EventHandler): void {
    this.handlers.push(fn);
  }

  close(): void {
    this.transport.close();
  }

  private emit(e: NetlinkEvent): void {
    for (const h of this.handlers) h(e);
  }

  private receive(d: Buffer): void {
    forEachMessage(d, (off, h) => {
      switch (h.type) {
        case RTM_NEWROUTE:
        case RTM_DELROUTE: {
          const route = decodeRoute(d, off, h.len, this.routeFilter);
          if (route) this.emit({ kind: 'route', action: h.type === RTM_NEWROUTE ? 'new' : 'del', route });
          break;
        }
        case RTM_NEWADDR:
        case RTM_DELADDR:
          this.emit({ kind: 'address', action: h.type === RTM_NEWADDR ? 'new' : 'del' });
          break;
        case RTM_NEWLINK:
        case RTM_DELLINK: {
          const link = decodeLink(d, off, h.len);
          if (link) this.emit({ kind: 'link', action: h.type === RTM_NEWLINK ? 'new' : 'del', link });
          break;
        }
        default:
          break;
      }
    });
  }
}
