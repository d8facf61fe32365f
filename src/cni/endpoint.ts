/**
 * The WorkloadEndpoint the plugin writes for an attachment, as Calico's CNI
 * plugin writes it (cni-plugin/pkg/k8s/k8s.go): labels are the pod's plus
 * projectcalico.org/namespace and projectcalico.org/orchestrator, profiles
 * kns.<namespace>, ipNetworks the assigned host addresses, interfaceName the
 * host-side veth, mac the container side's. The dataplane controller of the
 * node turns it into the /32 route and the policy chains. Pure.
 */
import { API_VERSION, type WorkloadEndpoint } from '../datastore';
import type { WorkloadIdentity } from './names';
import { hostCidr } from './result';

export const LABEL_NAMESPACE = 'projectcalico.org/namespace';
export const LABEL_ORCHESTRATOR = 'projectcalico.org/orchestrator';

export function buildWorkloadEndpoint(
  id: WorkloadIdentity,
  addresses: readonly string[],
  containerMac: string,
  podLabels: Readonly<Record<string, string>>,
): WorkloadEndpoint {
  return {
    apiVersion: API_VERSION,
    kind: 'WorkloadEndpoint',
    metadata: {
      name: id.wepName,
      namespace: id.namespace,
      labels: { ...podLabels, [LABEL_NAMESPACE]: id.namespace, [LABEL_ORCHESTRATOR]: id.orchestrator },
    },
    spec: {
      orchestrator: id.orchestrator,
      node: id.node,
      ...(id.pod !== undefined ? { pod: id.pod } : {}),
      ...(id.workload !== undefined ? { workload: id.workload } : {}),
      containerID: id.containerId,
      endpoint: id.endpoint,
      interfaceName: id.hostVeth,
      ipNetworks: addresses.map(hostCidr),
      profiles: [...id.profiles],
      ...(containerMac ? { mac: containerMac } : {}),
    },
  };
}

/**
 * Why a stored endpoint does not match what ADD wrote for this attachment
 * (CHECK), or undefined when it does.
 */
export function endpointMismatch(stored: WorkloadEndpoint, id: WorkloadIdentity, addresses: readonly string[]): string | undefined {
  const s = stored.spec;
  if (s.containerID !== id.containerId) return `belongs to container ${JSON.stringify(s.containerID ?? '')}, not ${id.containerId}`;
  if (s.node !== id.node) return `is on node ${JSON.stringify(s.node ?? '')}, not ${id.node}`;
  if (s.interfaceName !== id.hostVeth) return `names interface ${JSON.stringify(s.interfaceName ?? '')}, not ${id.hostVeth}`;
  const want = addresses.map(hostCidr).sort();
  const have = [...(s.ipNetworks ?? [])].sort();
  if (JSON.stringify(want) !== JSON.stringify(have)) return `has ipNetworks ${JSON.stringify(have)}, expected ${JSON.stringify(want)}`;
  return undefined;
}
