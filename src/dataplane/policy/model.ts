/**
 * Plain-data input of the policy renderer. The shapes mirror Calico v3
 * resources (api/pkg/apis/projectcalico/v3: networkpolicy.go,
 * globalnetworkpolicy.go, policy_common.go, profile.go, hostendpoint.go and
 * internalapi/workloadendpoint.go), reduced to the fields the iptables
 * dataplane needs. They are deliberately independent of src/datastore so the
 * renderer can be fed from any source (etcd watcher, tests, benchmarks).
 */

export type PolicyAction = 'Allow' | 'Deny' | 'Log' | 'Pass';
export type PolicyType = 'Ingress' | 'Egress';
export type IpVersion = 4 | 6;

/** Calico accepts a protocol name (TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite) or a number 1-255. */
export type Protocol = string | number;

/** A port entry: a number, a "first:last" range, or the name of an endpoint port. */
export type PortSpec = number | string;

export interface IcmpFields {
  type?: number;
  code?: number;
}

export interface EntityRule {
  nets?: string[];
  notNets?: string[];
  selector?: string;
  notSelector?: string;
  namespaceSelector?: string;
  ports?: PortSpec[];
  notPorts?: PortSpec[];
}

export interface Rule {
  action: PolicyAction;
  ipVersion?: IpVersion;
  protocol?: Protocol;
  notProtocol?: Protocol;
  icmp?: IcmpFields;
  notICMP?: IcmpFields;
  source?: EntityRule;
  destination?: EntityRule;
}

export interface PolicySpec {
  tier?: string;
  /** Lower orders are applied first; a missing order sorts last (Calico: nil = infinity). */
  order?: number;
  /** Missing selector means all() (Calico default). */
  selector?: string;
  /** Default as Calico: Ingress, plus Egress when egress rules are present. */
  types?: PolicyType[];
  ingress?: Rule[];
  egress?: Rule[];
  /** GlobalNetworkPolicy only. */
  doNotTrack?: boolean;
  preDNAT?: boolean;
  applyOnForward?: boolean;
  namespaceSelector?: string;
}

export interface NetworkPolicy {
  kind: 'NetworkPolicy';
  name: string;
  namespace: string;
  spec: PolicySpec;
}

export interface GlobalNetworkPolicy {
  kind: 'GlobalNetworkPolicy';
  name: string;
  spec: PolicySpec;
}

export type Policy = NetworkPolicy | GlobalNetworkPolicy;

export interface Tier {
  name: string;
  /** Lower first; missing sorts last. The implicit "default" tier has order 1,000,000 as in Calico. */
  order?: number;
}

export interface Profile {
  name: string;
  ingress?: Rule[];
  egress?: Rule[];
  /** Labels inherited by every endpoint that uses the profile (the endpoint's own labels win). */
  labelsToApply?: Record<string, string>;
}

export interface EndpointPort {
  name: string;
  protocol: string;
  port: number;
}

export interface WorkloadEndpoint {
  /** Unique within the namespace (Calico: node/orchestrator/workload/endpoint). */
  name: string;
  namespace: string;
  node: string;
  /** Host-side interface name; only local endpoints need it. */
  interfaceName: string;
  /** CIDRs, normally /32 and /128. */
  ipNetworks: string[];
  labels?: Record<string, string>;
  profiles?: string[];
  ports?: EndpointPort[];
}

export interface HostEndpoint {
  name: string;
  node: string;
  /** A host interface, or "*" for all of the host's non-workload interfaces. */
  interfaceName: string;
  expectedIPs?: string[];
  labels?: Record<string, string>;
  profiles?: string[];
  ports?: EndpointPort[];
}

export interface Namespace {
  name: string;
  labels?: Record<string, string>;
}

/**
 * Everything the renderer needs. Endpoints of every node are given: remote
 * ones only contribute ipset members (selector matches), local ones
 * (`node === localNode`) also get chains.
 */
export interface PolicyInput {
  localNode: string;
  tiers?: Tier[];
  policies: Policy[];
  profiles: Profile[];
  workloadEndpoints: WorkloadEndpoint[];
  hostEndpoints: HostEndpoint[];
  namespaces?: Namespace[];
}
