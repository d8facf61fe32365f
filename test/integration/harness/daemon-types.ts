/**
 * The daemon-neutral model shared by the BIRD, GoBGP and FRR drivers: one
 * config shape in, one handle shape out, one normalised route shape from each
 * daemon's RIB dump. Tests compare these across daemons, so every driver
 * normalises to exactly these spellings (RFC state names, "65000:100"
 * communities, "a:b:c" large communities, canonical IPv6).
 */

export type AddressFamily = 'ipv4-unicast' | 'ipv6-unicast';

export interface PeerConfig {
  /** Neighbor address (IPv4 or IPv6); the session's transport family follows it. */
  address: string;
  asn: number;
  /** Remote TCP port (default 179). */
  port?: number;
  /** Never initiate the TCP connection. */
  passive?: boolean;
  /** Local AS for this session if it differs from the global AS. */
  localAsn?: number;
  /** Hold time in seconds (keepalive = hold / 3). */
  holdTime?: number;
  /** Families on this session; default: the transport family only. */
  families?: AddressFamily[];
  /** Negotiate ADD-PATH send+receive for the session's families. */
  addPath?: boolean;
  /** Treat the peer as a route-reflector client (iBGP only). */
  rrClient?: boolean;
  /** Route-reflector cluster id (dotted quad); default: router id. */
  clusterId?: string;
  /**
   * Do not advertise the 4-octet AS capability (RFC 6793), so the session runs
   * with 2-octet AS numbers, AS_TRANS and AS4_PATH. Support differs per daemon:
   * see `supports2OctetOnly` on each driver.
   */
  twoOctetOnly?: boolean;
  /** Graceful restart time to advertise (RFC 4724), seconds; BIRD per peer, FRR for the whole instance (the first peer that sets it). */
  gracefulRestartTime?: number;
  /** TCP-MD5 password (RFC 2385). BIRD only (`password`). */
  password?: string;
  /** GTSM (RFC 5082): send with TTL 255, accept only TTL ≥ 256 - hops (hops from `multihop`, else 1). BIRD only (`ttl security on`). */
  ttlSecurity?: boolean;
  /** A multihop session: `true` = TTL 64, or the hop count. BIRD only (`multihop [N]`); then no `gateway direct`. */
  multihop?: true | number;
}

export interface OriginateRoute {
  /** "10.0.0.0/24" or "2001:db8::/48". */
  prefix: string;
  /** Third-party next hop to advertise; default: the daemon's own session address. */
  nextHop?: string;
  /** "65000:100" */
  communities?: string[];
  /** "4200000001:1:2" */
  largeCommunities?: string[];
  med?: number;
  /** Extended communities as "rt:65000:100" or "ro:65000:100" (two-octet-AS specific, RFC 4360). */
  extCommunities?: string[];
}

export interface DaemonConfig {
  asn: number;
  routerId: string;
  /** TCP port the daemon listens on (default 179). */
  listenPort?: number;
  peers: PeerConfig[];
  originate: OriginateRoute[];
}

/** RFC 4271 §8.2.2 state names. */
export type PeerState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

export interface RouteEntry {
  prefix: string;
  nextHop: string;
  asPath: number[];
  origin: 'igp' | 'egp' | 'incomplete';
  med?: number;
  localPref?: number;
  communities: string[];
  largeCommunities: string[];
  originatorId?: string;
  clusterList?: string[];
  /** Neighbor address the route was learned from. */
  fromPeer: string;
}

export interface DaemonHandle {
  readonly kind: 'bird' | 'gobgp' | 'frr';
  readonly config: DaemonConfig;
  /** Directory with this instance's config, sockets and log. */
  readonly dir: string;
  readonly pid: number;
  peerState(address: string): Promise<PeerState | string>;
  waitEstablished(address: string, timeoutMs?: number): Promise<void>;
  /** Routes learned from BGP peers (locally originated routes excluded), sorted by prefix then peer. */
  receivedRoutes(family: AddressFamily): Promise<RouteEntry[]>;
  announce(route: OriginateRoute): Promise<void>;
  withdraw(prefix: string): Promise<void>;
  /** Last lines of the daemon's log, for failure messages. */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}
