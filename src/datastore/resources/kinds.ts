/**
 * The kind table: one row per resource kind with its etcd plural, scope, the
 * names `tartanctl` accepts for it (calicoctl `resourcemgr/*.go`), and the
 * checks for its spec and status.
 */
import type { Kind } from './types';
import type { Check, Problem } from './schema';
import { bgpConfigurationByName, bgpConfigurationSpec, bgpFilterSpec, bgpPeerSpec } from './specs/bgp';
import { blockAffinitySpec, hostEndpointSpec, ipPoolSpec, nodeSpec, nodeStatus, workloadEndpointSpec } from './specs/network';
import { globalNetworkPolicySpec, networkPolicySpec, profileSpec } from './specs/policy';
import { calicoNodeStatusSpec, calicoNodeStatusStatus, felixConfigurationSpec } from './specs/felix';

export interface KindInfo {
  kind: Kind;
  /** Lower-case plural used in etcd keys (libcalico-go `model/resource.go`). */
  plural: string;
  namespaced: boolean;
  /** Every name the CLI accepts for the kind, lower-case, singular first. */
  names: readonly string[];
  spec: Check;
  /** Kinds whose objects carry a `status` (written by the node, not by users). */
  status?: Check;
  /** Rules that depend on metadata.name (e.g. `node.<name>` BGPConfigurations). */
  byName?: (name: string, spec: Record<string, unknown>, problems: Problem[]) => void;
}

export const KINDS: readonly KindInfo[] = [
  { kind: 'Node', plural: 'nodes', namespaced: false, names: ['node', 'nodes', 'no', 'nos'], spec: nodeSpec, status: nodeStatus },
  { kind: 'BGPPeer', plural: 'bgppeers', namespaced: false, names: ['bgppeer', 'bgppeers', 'bgpp', 'bgpps', 'bp', 'bps'], spec: bgpPeerSpec },
  {
    kind: 'BGPConfiguration',
    plural: 'bgpconfigurations',
    namespaced: false,
    names: ['bgpconfiguration', 'bgpconfigurations', 'bgpconfig', 'bgpconfigs'],
    spec: bgpConfigurationSpec,
    byName: bgpConfigurationByName,
  },
  { kind: 'BGPFilter', plural: 'bgpfilters', namespaced: false, names: ['bgpfilter', 'bgpfilters', 'bgpf', 'bgpfs', 'bf', 'bfs'], spec: bgpFilterSpec },
  { kind: 'IPPool', plural: 'ippools', namespaced: false, names: ['ippool', 'ippools', 'ipp', 'ipps', 'pool', 'pools'], spec: ipPoolSpec },
  {
    kind: 'BlockAffinity',
    plural: 'blockaffinities',
    namespaced: false,
    names: ['blockaffinity', 'blockaffinities', 'blockaff', 'blockaffs', 'baff', 'baffs'],
    spec: blockAffinitySpec,
  },
  {
    kind: 'WorkloadEndpoint',
    plural: 'workloadendpoints',
    namespaced: true,
    names: ['workloadendpoint', 'workloadendpoints', 'wep', 'weps'],
    spec: workloadEndpointSpec,
  },
  { kind: 'HostEndpoint', plural: 'hostendpoints', namespaced: false, names: ['hostendpoint', 'hostendpoints', 'hep', 'heps'], spec: hostEndpointSpec },
  {
    kind: 'NetworkPolicy',
    plural: 'networkpolicies',
    namespaced: true,
    names: ['networkpolicy', 'networkpolicies', 'policy', 'policies', 'np', 'nps', 'pol', 'pols'],
    spec: networkPolicySpec,
  },
  {
    kind: 'GlobalNetworkPolicy',
    plural: 'globalnetworkpolicies',
    namespaced: false,
    names: ['globalnetworkpolicy', 'globalnetworkpolicies', 'gnp', 'gnps', 'globalpolicy', 'globalpolicies', 'gpolicy', 'gpolicies'],
    spec: globalNetworkPolicySpec,
  },
  { kind: 'Profile', plural: 'profiles', namespaced: false, names: ['profile', 'profiles', 'pro', 'pros'], spec: profileSpec },
  {
    kind: 'FelixConfiguration',
    plural: 'felixconfigurations',
    namespaced: false,
    names: ['felixconfiguration', 'felixconfigurations', 'felixconfig', 'felixconfigs'],
    spec: felixConfigurationSpec,
  },
  {
    kind: 'CalicoNodeStatus',
    plural: 'caliconodestatuses',
    namespaced: false,
    names: ['caliconodestatus', 'caliconodestatuses', 'cns'],
    spec: calicoNodeStatusSpec,
    status: calicoNodeStatusStatus,
  },
];

const byKind = new Map<string, KindInfo>(KINDS.map((k) => [k.kind, k]));
const byName = new Map<string, KindInfo>(KINDS.flatMap((k) => [...k.names, k.kind.toLowerCase()].map((n) => [n, k] as const)));
const byPlural = new Map<string, KindInfo>(KINDS.map((k) => [k.plural, k]));

/** The row for an exact kind name ("BGPPeer"), or undefined. */
export function kindInfo(kind: string): KindInfo | undefined {
  return byKind.get(kind);
}

/** The row for a kind as typed on a command line: "bgpp", "BGPPeers", "ippool"… */
export function lookupKind(text: string): KindInfo | undefined {
  return byKind.get(text) ?? byName.get(text.toLowerCase());
}

/** The row for an etcd plural ("bgppeers"). */
export function kindForPlural(plural: string): KindInfo | undefined {
  return byPlural.get(plural);
}

export function isKind(kind: unknown): kind is Kind {
  return typeof kind === 'string' && byKind.has(kind);
}
