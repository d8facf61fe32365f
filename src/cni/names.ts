/**
 * Names Calico's CNI plugin computes, so Tartan's endpoints, veths and IPAM
 * handles are the ones Calico would have made (pure):
 *
 * - host-side veth: "cali" + the first 11 hex digits of sha1("<ns>.<pod>")
 *   (libcalico-go conversion/workload_endpoint_default.go); outside
 *   Kubernetes, "cali" + the first 11 characters of the container ID;
 * - WorkloadEndpoint: "<node>-k8s-<pod>-<endpoint>" (or
 *   "<node>-cni-<containerID>-<endpoint>"), every "-" inside a part doubled
 *   (libcalico-go lib/names/workloadendpoint.go);
 * - IPAM handle: "<network name>.<containerID>" (cni-plugin utils.go: the
 *   usual network name makes it "k8s-pod-network.<containerID>").
 */
import { createHash } from 'node:crypto';
import type { CniArgs } from './args';

export const VETH_PREFIX = 'cali';

export function hostVethName(args: Pick<CniArgs, 'containerId' | 'k8s'>): string {
  if (args.k8s) {
    return VETH_PREFIX + createHash('sha1').update(`${args.k8s.namespace}.${args.k8s.pod}`).digest('hex').slice(0, 11);
  }
  return VETH_PREFIX + args.containerId.slice(0, 11);
}

/** One part of a WorkloadEndpoint name: "-" doubled, so the parts can be told apart. */
export function escapeNamePart(part: string): string {
  return part.replace(/-/g, '--');
}

export function workloadEndpointName(node: string, orchestrator: string, workload: string, endpoint: string): string {
  return [node, orchestrator, workload, endpoint].map(escapeNamePart).join('-');
}

export function handleId(network: string, containerId: string): string {
  return `${network}.${containerId}`;
}

/** Everything that names one attachment, derived from the call's arguments and the node. */
export interface WorkloadIdentity {
  node: string;
  orchestrator: 'k8s' | 'cni';
  /** The WorkloadEndpoint's namespace (the pod's; "default" outside Kubernetes). */
  namespace: string;
  /** Pod name (k8s only). */
  pod?: string;
  /** Workload (the container ID, outside Kubernetes). */
  workload?: string;
  containerId: string;
  /** The endpoint: the container-side interface name. */
  endpoint: string;
  wepName: string;
  hostVeth: string;
  handleId: string;
  /** Calico's profiles: kns.<namespace> (k8s) or the network name. */
  profiles: string[];
}

export function workloadIdentity(args: Pick<CniArgs, 'containerId' | 'ifname' | 'k8s'>, node: string, network: string): WorkloadIdentity {
  const common = { node, containerId: args.containerId, endpoint: args.ifname, hostVeth: hostVethName(args), handleId: handleId(network, args.containerId) };
  if (args.k8s) {
    return {
      ...common,
      orchestrator: 'k8s',
      namespace: args.k8s.namespace,
      pod: args.k8s.pod,
      wepName: workloadEndpointName(node, 'k8s', args.k8s.pod, args.ifname),
      profiles: [`kns.${args.k8s.namespace}`],
    };
  }
  return {
    ...common,
    orchestrator: 'cni',
    namespace: 'default',
    workload: args.containerId,
    wepName: workloadEndpointName(node, 'cni', args.containerId, args.ifname),
    profiles: [network],
  };
}
