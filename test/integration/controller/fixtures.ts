/** Resources as the datastore stores them, for the controller's integration tests. */
import type {
  GlobalNetworkPolicy,
  GlobalNetworkPolicySpec,
  HostEndpoint,
  NetworkPolicy,
  NetworkPolicySpec,
  Profile,
  ProfileSpec,
  WorkloadEndpoint,
} from '../../../src/datastore';
import type { Pod } from '../policy/topo';

const API = 'projectcalico.org/v3' as const;

export function wepResource(
  pod: Pod,
  opts: { namespace: string; labels?: Record<string, string>; node?: string; ports?: WorkloadEndpoint['spec']['ports']; extraNets?: string[] },
): WorkloadEndpoint {
  return {
    apiVersion: API,
    kind: 'WorkloadEndpoint',
    metadata: { name: `${pod.node.name}-k8s-${pod.name}-eth0`, namespace: opts.namespace, labels: opts.labels ?? {} },
    spec: {
      orchestrator: 'k8s',
      node: opts.node ?? pod.node.name,
      pod: pod.name,
      endpoint: 'eth0',
      interfaceName: pod.iface,
      ipNetworks: [`${pod.ip}/32`, ...(opts.extraNets ?? [])],
      profiles: [`kns.${opts.namespace}`],
      ...(opts.ports ? { ports: opts.ports } : {}),
    },
  };
}

export function profileResource(name: string, spec: ProfileSpec): Profile {
  return { apiVersion: API, kind: 'Profile', metadata: { name }, spec };
}

export function allowAllProfile(ns: string, labels: Record<string, string> = {}): Profile {
  const labelsToApply = Object.fromEntries(Object.entries(labels).map(([k, v]) => [`pcns.${k}`, v]));
  return profileResource(`kns.${ns}`, { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }], labelsToApply });
}

export function gnpResource(name: string, spec: GlobalNetworkPolicySpec): GlobalNetworkPolicy {
  return { apiVersion: API, kind: 'GlobalNetworkPolicy', metadata: { name }, spec };
}

export function npResource(namespace: string, name: string, spec: NetworkPolicySpec): NetworkPolicy {
  return { apiVersion: API, kind: 'NetworkPolicy', metadata: { name, namespace }, spec };
}

export function hepResource(name: string, node: string, iface: string, ips: string[], labels: Record<string, string>, profiles?: string[]): HostEndpoint {
  return {
    apiVersion: API,
    kind: 'HostEndpoint',
    metadata: { name, labels },
    spec: { node, interfaceName: iface, expectedIPs: ips, ...(profiles ? { profiles } : {}) },
  };
}
