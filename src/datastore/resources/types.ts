/**
 * `projectcalico.org/v3` resource types. Field names are exactly Calico's
 * (api/pkg/apis/projectcalico/v3/*.go, libcalico-go internalapi/*.go) so
 * existing manifests and etcd values round-trip unchanged.
 */

export const API_VERSION = 'projectcalico.org/v3';

export interface ObjectMeta {
  name: string;
  /** Only on namespaced kinds (NetworkPolicy, WorkloadEndpoint). */
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** The etcd mod revision of the stored value, as a decimal string. */
  resourceVersion?: string;
  uid?: string;
  creationTimestamp?: string;
  [k8sField: string]: unknown;
}

export type ASNumber = number | string;
export type Duration = string;

export interface SecretKeyRef {
  secretKeyRef?: { name: string; key: string; optional?: boolean };
}

// ---- Node ---------------------------------------------------------------
export interface NodeSpec {
  bgp?: {
    asNumber?: ASNumber;
    ipv4Address?: string;
    ipv6Address?: string;
    ipv4IPIPTunnelAddr?: string;
    routeReflectorClusterID?: string;
  };
  ipv4VXLANTunnelAddr?: string;
  vxlanTunnelMACAddr?: string;
  ipv6VXLANTunnelAddr?: string;
  vxlanTunnelMACAddrV6?: string;
  orchRefs?: Array<{ nodeName?: string; orchestrator: string }>;
  wireguard?: { interfaceIPv4Address?: string; interfaceIPv6Address?: string };
  addresses?: Array<{ address: string; type?: string }>;
}
export interface NodeStatus {
  podCIDRs?: string[];
  wireguardPublicKey?: string;
  wireguardPublicKeyV6?: string;
}

// ---- BGP ----------------------------------------------------------------
export interface BGPPeerSpec {
  node?: string;
  nodeSelector?: string;
  peerIP?: string;
  asNumber?: ASNumber;
  localASNumber?: ASNumber;
  peerSelector?: string;
  keepOriginalNextHop?: boolean;
  nextHopMode?: 'Auto' | 'Self' | 'Keep';
  password?: SecretKeyRef;
  sourceAddress?: 'UseNodeIP' | 'None';
  maxRestartTime?: Duration;
  keepaliveTime?: Duration;
  numAllowedLocalASNumbers?: number;
  ttlSecurity?: number;
  reachableBy?: string;
  filters?: string[];
  localWorkloadSelector?: string;
  reversePeering?: 'Auto' | 'Manual';
}

export interface CommunityRef {
  name: string;
  value: string;
}
export interface BGPConfigurationSpec {
  logSeverityScreen?: string;
  nodeToNodeMeshEnabled?: boolean;
  asNumber?: ASNumber;
  serviceClusterIPs?: Array<{ cidr: string }>;
  serviceExternalIPs?: Array<{ cidr: string }>;
  serviceLoadBalancerIPs?: Array<{ cidr: string }>;
  serviceLoadBalancerAggregation?: 'Enabled' | 'Disabled';
  communities?: CommunityRef[];
  prefixAdvertisements?: Array<{ cidr: string; communities?: string[] }>;
  listenPort?: number;
  nodeMeshPassword?: SecretKeyRef;
  nodeMeshMaxRestartTime?: Duration;
  bindMode?: 'None' | 'NodeIP';
  ignoredInterfaces?: string[];
  localWorkloadPeeringIPV4?: string;
  localWorkloadPeeringIPV6?: string;
  programClusterRoutes?: 'Disabled' | 'Enabled' | 'EnabledIPIPOnly' | 'EnabledNoEncapOnly';
  ipv4NormalRoutePriority?: number;
  ipv6NormalRoutePriority?: number;
}

export interface BGPFilterRule {
  action: 'Accept' | 'Reject';
  cidr?: string;
  matchOperator?: 'Equal' | 'NotEqual' | 'In' | 'NotIn';
  prefixLength?: { min?: number; max?: number };
  source?: 'RemotePeers';
  interface?: string;
  peerType?: 'eBGP' | 'iBGP';
  communities?: { values?: string[] };
  asPathPrefix?: ASNumber[];
  priority?: number;
  operations?: Array<{ addCommunity?: { value?: string }; prependASPath?: { prefix?: ASNumber[] }; setPriority?: { value?: number } }>;
}
export interface BGPFilterSpec {
  exportV4?: BGPFilterRule[];
  importV4?: BGPFilterRule[];
  exportV6?: BGPFilterRule[];
  importV6?: BGPFilterRule[];
}

// ---- IPAM ---------------------------------------------------------------
export type EncapMode = 'Never' | 'Always' | 'CrossSubnet';
export interface IPPoolSpec {
  cidr: string;
  blockSize?: number;
  ipipMode?: EncapMode;
  vxlanMode?: EncapMode;
  natOutgoing?: boolean;
  disabled?: boolean;
  disableBGPExport?: boolean;
  nodeSelector?: string;
  namespaceSelector?: string;
  allowedUses?: Array<'Workload' | 'Tunnel' | 'LoadBalancer'>;
  assignmentMode?: 'Automatic' | 'Manual';
}

export interface BlockAffinitySpec {
  state: 'confirmed' | 'pending' | 'pendingDeletion';
  node: string;
  cidr: string;
  /** Calico keeps this as the string "true"/"false" in the v3 form. */
  deleted?: string;
  type?: string;
}

// ---- Endpoints ----------------------------------------------------------
export interface EndpointPort {
  name: string;
  protocol: string | number;
  port: number;
  hostPort?: number;
  hostIP?: string;
}
export interface WorkloadEndpointSpec {
  orchestrator?: string;
  workload?: string;
  node?: string;
  containerID?: string;
  pod?: string;
  endpoint?: string;
  serviceAccountName?: string;
  ipNetworks?: string[];
  ipNATs?: Array<{ internalIP: string; externalIP: string }>;
  ipv4Gateway?: string;
  ipv6Gateway?: string;
  profiles?: string[];
  interfaceName?: string;
  mac?: string;
  ports?: EndpointPort[];
  allowSpoofedSourcePrefixes?: string[];
  qosControls?: Record<string, number>;
}
export interface HostEndpointSpec {
  node?: string;
  interfaceName?: string;
  expectedIPs?: string[];
  profiles?: string[];
  ports?: EndpointPort[];
}

// ---- Policy -------------------------------------------------------------
export interface EntityRule {
  nets?: string[];
  notNets?: string[];
  selector?: string;
  notSelector?: string;
  namespaceSelector?: string;
  ports?: Array<number | string>;
  notPorts?: Array<number | string>;
  serviceAccounts?: { names?: string[]; selector?: string };
  services?: { name?: string; namespace?: string };
}
export interface Rule {
  action: 'Allow' | 'Deny' | 'Log' | 'Pass';
  ipVersion?: 4 | 6;
  protocol?: string | number;
  notProtocol?: string | number;
  icmp?: { type?: number; code?: number };
  notICMP?: { type?: number; code?: number };
  source?: EntityRule;
  destination?: EntityRule;
  http?: { methods?: string[]; paths?: Array<{ exact?: string; prefix?: string }> };
  metadata?: { annotations?: Record<string, string> };
}
export type PolicyType = 'Ingress' | 'Egress';
export interface NetworkPolicySpec {
  tier?: string;
  order?: number;
  selector?: string;
  types?: PolicyType[];
  ingress?: Rule[];
  egress?: Rule[];
  serviceAccountSelector?: string;
  performanceHints?: string[];
}
export interface GlobalNetworkPolicySpec extends NetworkPolicySpec {
  doNotTrack?: boolean;
  preDNAT?: boolean;
  applyOnForward?: boolean;
  namespaceSelector?: string;
}
export interface ProfileSpec {
  ingress?: Rule[];
  egress?: Rule[];
  labelsToApply?: Record<string, string>;
}

// ---- Felix / status -----------------------------------------------------
/** The dataplane subset of Calico's FelixConfiguration that Tartan acts on. */
export interface FelixConfigurationSpec {
  logSeverityScreen?: string;
  logSeverityFile?: string;
  logFilePath?: string;
  ipipEnabled?: boolean;
  ipipMTU?: number;
  vxlanEnabled?: boolean;
  vxlanMTU?: number;
  vxlanMTUV6?: number;
  vxlanPort?: number;
  vxlanVNI?: number;
  wireguardEnabled?: boolean;
  ipv6Support?: boolean;
  routeRefreshInterval?: Duration;
  iptablesRefreshInterval?: Duration;
  routeTableRange?: { min: number; max: number };
  deviceRouteProtocol?: number;
  deviceRouteSourceAddress?: string;
  removeExternalRoutes?: boolean;
  interfacePrefix?: string;
  interfaceExclude?: string;
  mtuIfacePattern?: string;
  natOutgoingAddress?: string;
  defaultEndpointToHostAction?: 'Drop' | 'Accept' | 'Return';
  chainInsertMode?: 'Insert' | 'Append';
  iptablesBackend?: 'Legacy' | 'NFT' | 'Auto';
  routeSource?: 'CalicoIPAM' | 'WorkloadIPs';
  programClusterRoutes?: 'Enabled' | 'Disabled';
  ipv4NormalRoutePriority?: number;
  ipv4ElevatedRoutePriority?: number;
  ipv6NormalRoutePriority?: number;
  ipv6ElevatedRoutePriority?: number;
  healthEnabled?: boolean;
  healthHost?: string;
  healthPort?: number;
  prometheusMetricsEnabled?: boolean;
  prometheusMetricsPort?: number;
  reportingInterval?: Duration;
  reportingTTL?: Duration;
  endpointReportingEnabled?: boolean;
  failsafeInboundHostPorts?: Array<{ protocol?: string; port: number; net?: string }>;
  failsafeOutboundHostPorts?: Array<{ protocol?: string; port: number; net?: string }>;
}

export type BGPSessionState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established' | 'Close';
export interface CalicoNodeStatusPeer {
  peerIP: string;
  type: 'NodeMesh' | 'NodePeer' | 'GlobalPeer';
  state: BGPSessionState;
  since?: string;
}
export interface CalicoNodeStatusSpec {
  node: string;
  classes?: Array<'Agent' | 'BGP' | 'Routes'>;
  updatePeriodSeconds?: number;
}
export interface CalicoNodeStatusStatus {
  lastUpdated?: string;
  agent?: {
    birdV4?: { state?: 'Ready' | 'NotReady'; version?: string; routerID?: string; lastBootTime?: string; lastReconfigurationTime?: string };
    birdV6?: { state?: 'Ready' | 'NotReady'; version?: string; routerID?: string; lastBootTime?: string; lastReconfigurationTime?: string };
  };
  bgp?: {
    numberEstablishedV4?: number;
    numberEstablishedV6?: number;
    numberNotEstablishedV4?: number;
    numberNotEstablishedV6?: number;
    peersV4?: CalicoNodeStatusPeer[];
    peersV6?: CalicoNodeStatusPeer[];
  };
  routes?: {
    routesV4?: CalicoNodeStatusRoute[];
    routesV6?: CalicoNodeStatusRoute[];
  };
}
export interface CalicoNodeStatusRoute {
  type: 'FIB' | 'RIB';
  destination: string;
  gateway?: string;
  interface?: string;
  learnedFrom?: { sourceType: 'Kernel' | 'Static' | 'Direct' | 'NodeMesh' | 'BGPPeer'; peerIP?: string };
}

// ---- The union ----------------------------------------------------------
interface Base<K extends string, S> {
  apiVersion: typeof API_VERSION;
  kind: K;
  metadata: ObjectMeta;
  spec: S;
}

export type NodeResource = Base<'Node', NodeSpec> & { status?: NodeStatus };
export type BGPPeer = Base<'BGPPeer', BGPPeerSpec>;
export type BGPConfiguration = Base<'BGPConfiguration', BGPConfigurationSpec>;
export type BGPFilter = Base<'BGPFilter', BGPFilterSpec>;
export type IPPool = Base<'IPPool', IPPoolSpec>;
export type BlockAffinity = Base<'BlockAffinity', BlockAffinitySpec>;
export type WorkloadEndpoint = Base<'WorkloadEndpoint', WorkloadEndpointSpec>;
export type HostEndpoint = Base<'HostEndpoint', HostEndpointSpec>;
export type NetworkPolicy = Base<'NetworkPolicy', NetworkPolicySpec>;
export type GlobalNetworkPolicy = Base<'GlobalNetworkPolicy', GlobalNetworkPolicySpec>;
export type Profile = Base<'Profile', ProfileSpec>;
export type FelixConfiguration = Base<'FelixConfiguration', FelixConfigurationSpec>;
export type CalicoNodeStatus = Base<'CalicoNodeStatus', CalicoNodeStatusSpec> & { status?: CalicoNodeStatusStatus };

export type Resource =
  | NodeResource
  | BGPPeer
  | BGPConfiguration
  | BGPFilter
  | IPPool
  | BlockAffinity
  | WorkloadEndpoint
  | HostEndpoint
  | NetworkPolicy
  | GlobalNetworkPolicy
  | Profile
  | FelixConfiguration
  | CalicoNodeStatus;

export type Kind = Resource['kind'];

/** The resource type of one kind: `ResourceOf<'BGPPeer'>` is `BGPPeer`. */
export type ResourceOf<K extends Kind> = Extract<Resource, { kind: K }>;
