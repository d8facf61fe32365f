/**
 * Node, IPPool, BlockAffinity and endpoint specs (Calico `internalapi/node.go`,
 * `v3/ippool.go`, `internalapi/workloadendpoint.go`, `v3/hostendpoint.go`).
 */
import { parsePrefix } from '../../../util/ip';
import {
  anyString, arrayOf, asNumber, bool, cidr, cidrOf, int, ip, ipOf, obj, oneOf, selector, str, port, type Check,
} from '../schema';

const mac = str(/^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/, 'a MAC address');

export const nodeSpec = obj({
  bgp: obj({
    asNumber,
    ipv4Address: cidrOf({ family: 4, allowHostBits: true }),
    ipv6Address: cidrOf({ family: 6, allowHostBits: true }),
    ipv4IPIPTunnelAddr: ipOf(4),
    // Calico: "must be IPv4-formatted"; a non-empty value makes the node a route reflector.
    routeReflectorClusterID: ipOf(4),
  }),
  ipv4VXLANTunnelAddr: ipOf(4),
  vxlanTunnelMACAddr: mac,
  ipv6VXLANTunnelAddr: ipOf(6),
  vxlanTunnelMACAddrV6: mac,
  orchRefs: arrayOf(obj({ nodeName: anyString, orchestrator: anyString }, { required: ['orchestrator'] })),
  wireguard: obj({ interfaceIPv4Address: ipOf(4), interfaceIPv6Address: ipOf(6) }),
  addresses: arrayOf(obj({ address: anyString, type: oneOf(['InternalIP', 'ExternalIP', 'CalicoNodeIP']) }, { required: ['address'] })),
});

export const nodeStatus = obj({
  podCIDRs: arrayOf(cidr),
  wireguardPublicKey: anyString,
  wireguardPublicKeyV6: anyString,
});

const encap = oneOf(['Never', 'Always', 'CrossSubnet']);

/** Calico `validateIPPoolSpec`. */
export const ipPoolSpec = obj(
  {
    cidr,
    blockSize: int(0, 128),
    ipipMode: encap,
    vxlanMode: encap,
    natOutgoing: bool,
    disabled: bool,
    disableBGPExport: bool,
    nodeSelector: selector,
    namespaceSelector: selector,
    allowedUses: arrayOf(oneOf(['Workload', 'Tunnel', 'LoadBalancer'])),
    assignmentMode: oneOf(['Automatic', 'Manual']),
  },
  {
    required: ['cidr'],
    refine(s, path, problems) {
      const p = parsePrefix(s['cidr'] as string);
      if (!p) return;
      const v4 = p.family === 'ipv4-unicast';
      const bs = s['blockSize'];
      if (typeof bs === 'number') {
        const [min, max] = v4 ? [20, 32] : [116, 128];
        if (bs < min || bs > max) problems.push({ path: `${path}.blockSize`, message: `must be ${min}..${max} for an IPv${v4 ? 4 : 6} pool, got ${bs}` });
        else if (bs < p.length) problems.push({ path: `${path}.blockSize`, message: `${bs} is larger than the pool ${p.cidr} itself` });
      }
      if (!v4 && s['ipipMode'] !== undefined && s['ipipMode'] !== 'Never') {
        problems.push({ path: `${path}.ipipMode`, message: 'IPIP is not supported for IPv6 pools' });
      }
      const on = (m: unknown): boolean => m !== undefined && m !== 'Never';
      if (on(s['ipipMode']) && on(s['vxlanMode'])) {
        problems.push({ path: `${path}.vxlanMode`, message: 'ipipMode and vxlanMode cannot both be enabled' });
      }
      if (v4 ? p.length < 8 && p.address === '0.0.0.0' : p.length === 0) {
        // Calico refuses pools that would cover link-local/loopback/multicast ranges; the
        // obvious case is a default route.
        problems.push({ path: `${path}.cidr`, message: `${p.cidr} overlaps reserved ranges (loopback, link-local, multicast)` });
      } else if (v4 && (inV4(p.address, '127.0.0.0', 8) || inV4(p.address, '169.254.0.0', 16) || inV4(p.address, '224.0.0.0', 4))) {
        problems.push({ path: `${path}.cidr`, message: `${p.cidr} is in a reserved range (loopback, link-local or multicast)` });
      } else if (!v4 && (p.address.startsWith('fe80:') || p.address.startsWith('ff'))) {
        problems.push({ path: `${path}.cidr`, message: `${p.cidr} is in a reserved range (link-local or multicast)` });
      }
    },
  },
);

function inV4(addr: string, net: string, len: number): boolean {
  const n = (a: string): number => a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const size = 2 ** (32 - len);
  return Math.floor(n(addr) / size) === Math.floor(n(net) / size);
}

export const blockAffinitySpec = obj(
  {
    state: oneOf(['confirmed', 'pending', 'pendingDeletion']),
    node: anyString,
    cidr,
    deleted: oneOf(['true', 'false']),
    type: oneOf(['host', 'virtual']),
  },
  { required: ['state', 'node', 'cidr'] },
);

const protocol: Check = (value, path, problems) => {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 255) return;
  if (typeof value === 'string' && ['TCP', 'UDP', 'ICMP', 'ICMPv6', 'SCTP', 'UDPLite'].includes(value)) return;
  if (typeof value === 'string' && /^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= 255) return;
  problems.push({ path, message: `${JSON.stringify(value)} is not a protocol (TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or 1..255)` });
};
export { protocol };

const endpointPort = obj(
  { name: anyString, protocol, port: int(1, 65535), hostPort: int(1, 65535), hostIP: ip },
  { required: ['name', 'protocol', 'port'] },
);

const qos = int(0, Number.MAX_SAFE_INTEGER);

export const workloadEndpointSpec = obj({
  orchestrator: anyString,
  workload: anyString,
  node: anyString,
  containerID: anyString,
  pod: anyString,
  endpoint: anyString,
  serviceAccountName: anyString,
  ipNetworks: arrayOf(cidrOf({ allowBareIP: true })),
  ipNATs: arrayOf(obj({ internalIP: ip, externalIP: ip }, { required: ['internalIP', 'externalIP'] })),
  ipv4Gateway: ipOf(4),
  ipv6Gateway: ipOf(6),
  profiles: arrayOf(anyString),
  interfaceName: str(/^[^\s/]{1,15}$/, 'an interface name (1..15 characters, no "/" or spaces)'),
  mac,
  ports: arrayOf(endpointPort),
  allowSpoofedSourcePrefixes: arrayOf(cidr),
  qosControls: obj({
    ingressBandwidth: qos, egressBandwidth: qos, ingressBurst: qos, egressBurst: qos,
    ingressPeakrate: qos, egressPeakrate: qos, ingressMinburst: qos, egressMinburst: qos,
    ingressPacketRate: qos, egressPacketRate: qos, ingressPacketBurst: qos, egressPacketBurst: qos,
    ingressMaxConnections: qos, egressMaxConnections: qos,
  }),
});

export const hostEndpointSpec = obj(
  {
    node: anyString,
    interfaceName: anyString,
    expectedIPs: arrayOf(ip),
    profiles: arrayOf(anyString),
    ports: arrayOf(endpointPort),
  },
  {
    refine(s, path, problems) {
      // Calico: a host endpoint needs either an interface or expected IPs to be located.
      if (!s['interfaceName'] && !(Array.isArray(s['expectedIPs']) && s['expectedIPs'].length > 0)) {
        problems.push({ path: `${path}.interfaceName`, message: 'one of spec.interfaceName or spec.expectedIPs is required' });
      }
    },
  },
);

export { port };
