/** Cluster input shared by the connectivity tests: namespaces, profiles, endpoints. */
import type { GlobalNetworkPolicy, HostEndpoint, NetworkPolicy, PolicyInput, Profile, Rule, WorkloadEndpoint } from '../../../src/dataplane/policy';
import type { Pod } from './topo';

/** Calico's per-namespace profile (kns.<ns>): allow everything, as k8s' default. */
export function nsProfile(ns: string): Profile {
  return { name: `kns.${ns}`, ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] };
}

export interface PodMeta {
  namespace: string;
  labels: Record<string, string>;
  ports?: WorkloadEndpoint['ports'];
}

export function wep(p: Pod, m: PodMeta): WorkloadEndpoint {
  return {
    name: p.name,
    namespace: m.namespace,
    node: p.node.name,
    interfaceName: p.iface,
    ipNetworks: [`${p.ip}/32`],
    labels: m.labels,
    profiles: [`kns.${m.namespace}`],
    ...(m.ports ? { ports: m.ports } : {}),
  };
}

export function gnp(name: string, spec: GlobalNetworkPolicy['spec']): GlobalNetworkPolicy {
  return { kind: 'GlobalNetworkPolicy', name, spec };
}

export function np(namespace: string, name: string, spec: NetworkPolicy['spec']): NetworkPolicy {
  return { kind: 'NetworkPolicy', name, namespace, spec };
}

export const allow: Rule = { action: 'Allow' };

export function clusterInput(
  localNode: string,
  weps: WorkloadEndpoint[],
  extra: Partial<Pick<PolicyInput, 'policies' | 'tiers' | 'hostEndpoints'>> = {},
): PolicyInput {
  const hostEndpoints: HostEndpoint[] = extra.hostEndpoints ?? [];
  return {
    localNode,
    tiers: extra.tiers ?? [],
    policies: extra.policies ?? [],
    profiles: [nsProfile('prod'), nsProfile('dev')],
    namespaces: [
      { name: 'prod', labels: { env: 'prod' } },
      { name: 'dev', labels: { env: 'dev' } },
    ],
    workloadEndpoints: weps,
    hostEndpoints,
  };
}
