/**
 * Defaults, split the way Calico splits them:
 *
 * - `withDefaults` fills what Calico's clientv3 writes into the stored object
 *   on create/update: IPPool blockSize/ipipMode/vxlanMode/natOutgoing/
 *   nodeSelector/allowedUses/assignmentMode (`clientv3/ippool.go`), policy
 *   `types` (`clientv3/{networkpolicy,globalnetworkpolicy}.go`
 *   `defaultPolicyTypesField`), and the "default" namespace (calicoctl).
 * - BGPConfiguration defaults are *not* stored: confd applies them when it
 *   reads (`confd/pkg/backends/calico/client.go` `globalDefaults`), so an
 *   absent or empty `default` object still means AS 64512 with the mesh on.
 *   `effectiveBGPConfiguration` is that read-side merge.
 *
 * Pure: inputs are not modified.
 */
import { parsePrefix } from '../../util/ip';
import type { BGPConfiguration, BGPConfigurationSpec, IPPoolSpec, NetworkPolicySpec, PolicyType, Resource } from './types';
import { kindInfo } from './kinds';

export const DEFAULT_AS_NUMBER = 64512;
export const DEFAULT_LISTEN_PORT = 179;
export const DEFAULT_BLOCK_SIZE_V4 = 26;
export const DEFAULT_BLOCK_SIZE_V6 = 122;
export const DEFAULT_NAMESPACE = 'default';

export function withDefaults<R extends Resource>(resource: R): R {
  const info = kindInfo(resource.kind);
  const metadata = info?.namespaced && !resource.metadata.namespace ? { ...resource.metadata, namespace: DEFAULT_NAMESPACE } : resource.metadata;
  switch (resource.kind) {
    case 'IPPool':
      return { ...resource, metadata, spec: ipPoolDefaults(resource.spec) };
    case 'NetworkPolicy':
    case 'GlobalNetworkPolicy':
      return { ...resource, metadata, spec: { ...resource.spec, types: policyTypes(resource.spec) } };
    default:
      return { ...resource, metadata };
  }
}

function ipPoolDefaults(spec: IPPoolSpec): IPPoolSpec {
  const v6 = parsePrefix(spec.cidr)?.family === 'ipv6-unicast';
  return {
    ...spec,
    blockSize: spec.blockSize ?? (v6 ? DEFAULT_BLOCK_SIZE_V6 : DEFAULT_BLOCK_SIZE_V4),
    ipipMode: spec.ipipMode ?? 'Never',
    vxlanMode: spec.vxlanMode ?? 'Never',
    natOutgoing: spec.natOutgoing ?? false,
    nodeSelector: spec.nodeSelector || 'all()',
    allowedUses: spec.allowedUses ?? ['Workload', 'Tunnel'],
    assignmentMode: spec.assignmentMode ?? 'Automatic',
  };
}

/**
 * Calico `defaultPolicyTypesField`: no egress rules → Ingress (even with no
 * rules at all); egress rules only → Egress; both → both.
 */
export function policyTypes(spec: NetworkPolicySpec): PolicyType[] {
  if (spec.types && spec.types.length > 0) return [...spec.types];
  const ingress = (spec.ingress?.length ?? 0) > 0;
  const egress = (spec.egress?.length ?? 0) > 0;
  if (!egress) return ['Ingress'];
  if (!ingress) return ['Egress'];
  return ['Ingress', 'Egress'];
}

export type EffectiveBGPConfiguration = BGPConfigurationSpec &
  Required<Pick<BGPConfigurationSpec, 'asNumber' | 'nodeToNodeMeshEnabled' | 'logSeverityScreen' | 'listenPort'>>;

/**
 * The BGP settings that apply to `nodeName`: the `default` object's spec,
 * overlaid by `node.<nodeName>`'s, over Calico's defaults.
 */
export function effectiveBGPConfiguration(configs: readonly BGPConfiguration[], nodeName?: string): EffectiveBGPConfiguration {
  const global = configs.find((c) => c.metadata.name === 'default')?.spec ?? {};
  const perNode = nodeName ? configs.find((c) => c.metadata.name === `node.${nodeName}`)?.spec ?? {} : {};
  const merged: BGPConfigurationSpec = { ...global, ...perNode };
  return {
    ...merged,
    asNumber: global.asNumber ?? DEFAULT_AS_NUMBER,
    nodeToNodeMeshEnabled: global.nodeToNodeMeshEnabled ?? true,
    logSeverityScreen: merged.logSeverityScreen ?? 'Info',
    listenPort: merged.listenPort ?? DEFAULT_LISTEN_PORT,
  };
}
