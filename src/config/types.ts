import type { Family } from '../bgp/wire/types';
import type { NamedBgpFilter } from '../bgp/policy/bgp-filter';

/**
 * The node config file (`tartan-node --config FILE`), after validation and
 * defaults. Field names follow Calico's projectcalico.org/v3 spelling where a
 * Calico field exists (asNumber, peerIP, localASNumber, keepaliveTime,
 * sourceAddress), so an operator does not learn two vocabularies.
 */
export interface NodeConfig {
  /** This node's name (Calico Node name); defaults to the host name. */
  nodeName: string;
  /** Local AS number, 1..4294967295. Calico's default is 64512. */
  asNumber: number;
  /** BGP Identifier, a dotted quad (RFC 4271 §4.2, RFC 6286). Defaults to ipv4Address. */
  routerId: string;
  /** This node's IPv4 address: next hop for originated IPv4 routes (Calico spec.bgp.ipv4Address). */
  ipv4Address?: string;
  /** This node's IPv6 address: next hop for originated IPv6 routes (Calico spec.bgp.ipv6Address). */
  ipv6Address?: string;
  /**
   * Set to make this node a route reflector (RFC 4456) for peers marked
   * routeReflectorClient; also its CLUSTER_ID (Calico Node
   * spec.bgp.routeReflectorClusterID). Default: not a reflector; the cluster ID
   * used in loop checks is then the router ID.
   */
  routeReflectorClusterID?: string;
  listen: ListenConfig;
  fib: FibConfig;
  controlSocket: string;
  log: LogConfig;
  bgp: BgpTimersConfig;
  peers: PeerConfigEntry[];
  originate: OriginateEntry[];
  /** Calico BGPFilter definitions (name + spec), referenced by peers[].filters. */
  bgpFilters: NamedBgpFilter[];
  /**
   * Directory of the secrets peers' passwords name: the file
   * `<secretsDir>/<secretName>/<secretKey>` holds the password (the layout of
   * Kubernetes secret volumes mounted at `<secretsDir>/<secretName>`).
   * Default DEFAULT_SECRETS_DIR.
   */
  secretsDir: string;
  /**
   * Cluster mode: peers, originated prefixes and route reflection come from
   * Calico resources in etcd (src/peering), as confd drives BIRD; `peers`,
   * `originate` and `bgpFilters` of the file are then not used. Absent =
   * standalone (everything from this file).
   */
  datastore?: DatastoreSettings;
  /** Prometheus metrics (Felix: PrometheusMetricsPort 9091). */
  metrics: EndpointConfig;
  /** Liveness/readiness probes (calico-node: 9099). */
  health: EndpointConfig;
  /** The dataplane controller (workload routes and policy); cluster mode only. */
  dataplane: DataplaneSettings;
}

/** Where the cluster lives, and how this node reports into it. */
export interface EndpointConfig {
  enabled: boolean;
  host: string;
  port: number;
}

export interface DataplaneSettings {
  enabled: boolean;
  /** Workload interface prefix (Felix InterfacePrefix); default from FelixConfiguration, else "cali". */
  interfacePrefix?: string;
  /** Program network policy (iptables/ipsets); routes are programmed either way. */
  policy: boolean;
}

export interface DatastoreSettings {
  type: 'etcdv3';
  /** etcd client URLs (file, else ETCD_ENDPOINTS, else http://127.0.0.1:2379). */
  endpoints: string[];
  caCertFile?: string;
  certFile?: string;
  keyFile?: string;
  username?: string;
  password?: string;
  /**
   * How to find spec.bgp.ipv4Address when `ipv4Address` is not set
   * (Calico IP_AUTODETECTION_METHOD): first-found, can-reach=DEST,
   * interface=REGEX, skip-interface=REGEX, cidr=CIDR[,CIDR], or none.
   */
  ipAutodetectionMethod: string;
  /** The same for IPv6 (Calico IP6_AUTODETECTION_METHOD); default none. */
  ip6AutodetectionMethod: string;
  /** The top-level asNumber when the file sets it: registered as the Node's spec.bgp.asNumber (else the global AS applies). */
  nodeASNumber?: number;
  /** Liveness key refresh and CalicoNodeStatus period, seconds (Felix ReportingIntervalSecs: 30). */
  reportIntervalSeconds: number;
  /** TTL of the liveness key, seconds (Felix ReportingTTLSecs: 90). */
  reportTTLSeconds: number;
}

export interface ListenConfig {
  /** Address to accept BGP connections on; "::" accepts IPv4 too (dual stack). */
  address: string;
  port: number;
  /** false: never accept, only connect out (Calico bindMode has no such knob; this is for tests and RR-less setups). */
  enabled: boolean;
}

/** Best BGP routes into the kernel (BIRD's kernel protocol). */
export interface FibConfig {
  enabled: boolean;
  /** Routing table id; 254 is main. */
  table: number;
  /** Metric (RTA_PRIORITY) of installed routes; BIRD's kernel protocol uses 32. */
  metric: number;
  /** Read the kernel back and repair drift this often; 0 = never. */
  resyncIntervalSeconds: number;
  /** Longest wait at start-up for peers' End-of-RIB before the first reconcile. */
  startupHoldSeconds: number;
  /** Install routes through kernel nexthop objects (RTA_NH_ID, Linux 5.3+) where the gateway is on-link. */
  nexthopObjects: boolean;
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type LogFormat = 'auto' | 'json' | 'text';

export interface LogConfig {
  level: LogLevel;
  /** auto: readable lines on a terminal, JSON lines otherwise (journald). */
  format: LogFormat;
}

/** Session defaults, each overridable per peer. Seconds. */
export interface BgpTimersConfig {
  holdTime: number;
  keepaliveTime?: number;
  connectRetryTime: number;
  gracefulRestartTime: number;
  /**
   * Exclude routes whose NEXT_HOP no kernel route resolves (RFC 4271
   * §9.1.2), tracking the main table; default true. false: every next hop
   * is taken as reachable.
   */
  nextHopTracking: boolean;
}

export interface PeerConfigEntry {
  /** Display name; defaults to the address. */
  name: string;
  peerIP: string;
  port: number;
  asNumber: number;
  /** Our AS towards this peer, when it differs from the node's (Calico localASNumber). */
  localASNumber?: number;
  passive: boolean;
  holdTime: number;
  keepaliveTime?: number;
  connectRetryTime: number;
  families: Family[];
  sourceAddress?: string;
  /** false: the peer is configured but administratively down. */
  enabled: boolean;
  /** The peer is our route-reflector client (needs routeReflectorClusterID). */
  routeReflectorClient: boolean;
  /** Calico BGPPeer nextHopMode: Auto (RFC behaviour), Self, or Keep. */
  nextHopMode: 'Auto' | 'Self' | 'Keep';
  /**
   * ADD-PATH (RFC 7911) offered for every family of this peer, like BIRD's
   * `add paths rx|tx|on`: receive several paths per prefix from it, send it
   * every path (e.g. to route-reflector clients), or both. Default off.
   */
  addPaths: 'off' | 'receive' | 'send' | 'both';
  /** Names of bgpFilters applied to this peer, in order (Calico BGPPeer spec.filters). */
  filters: string[];
  /**
   * GTSM / TTL security (RFC 5082; Calico ttlSecurity, BIRD `ttl security on;
   * multihop N`): the peer is at most this many hops away, 1..255. We send
   * with TTL 255 and the kernel drops segments from it with a TTL below
   * 256 - N. Absent: off.
   */
  ttlSecurity?: number;
  /**
   * TCP-MD5 password (RFC 2385; Calico password.secretKeyRef, BIRD
   * `password`): a secret read from `secretsDir/<secretName>/<secretKey>`, or
   * (config file only) the password itself. Absent: no TCP-MD5.
   */
  password?: PeerPassword;
  // The fields below are set by the datastore peering watcher (src/peering);
  // a config file never sets them.
  /** How the peer came to be configured, as calicoctl names it; default "node specific". */
  peerType?: PeerType;
  /** Graceful-restart time offered to this peer, seconds (Calico maxRestartTime / nodeMeshMaxRestartTime); default bgp.gracefulRestartTime. */
  maxRestartTime?: number;
  /** Calico numAllowedLocalASNumbers (BIRD `allow local as`). Accepted; not applied. */
  numAllowedLocalASNumbers?: number;
}

/** Where a peer's TCP-MD5 password comes from. */
export type PeerPassword = { secretName: string; secretKey: string } | { inline: string };

/** Where secrets named by peers' `password.secretKeyRef` are read from by default (like a Kubernetes secret volume). */
export const DEFAULT_SECRETS_DIR = '/etc/tartan/secrets';

/** Peer type names as `calicoctl node status` prints them. */
export type PeerType = 'node-to-node mesh' | 'global' | 'node specific';

export interface OriginateEntry {
  prefix: string;
  /** Family derived from the prefix. */
  family: Family;
  nextHop?: string;
  med?: number;
  localPref?: number;
  /** "AS:value" strings or well-known names (no-export, no-advertise, no-export-subconfed). */
  communities: string[];
  /** "global:local1:local2" strings (RFC 8092). */
  largeCommunities: string[];
}
