/**
 * FelixConfiguration (the dataplane subset Tartan acts on; Calico
 * `felix/config/config_params.go`, `v3/felixconfig.go`) and CalicoNodeStatus
 * (`v3/nodestatus.go`), the BGP status a node writes about itself.
 */
import { anyString, arrayOf, bool, cidr, duration, int, ip, obj, oneOf, str } from '../schema';

const logLevel = oneOf(['Trace', 'Debug', 'Info', 'Warning', 'Error', 'Fatal', 'None']);
const hostPort = obj({ protocol: oneOf(['TCP', 'UDP', 'SCTP']), port: int(0, 65535), net: cidr }, { required: ['port'] });
const priority = int(1, 2147483646);

export const felixConfigurationSpec = obj({
  logSeverityScreen: logLevel,
  logSeverityFile: logLevel,
  logFilePath: anyString,
  ipipEnabled: bool,
  ipipMTU: int(0, 65535),
  vxlanEnabled: bool,
  vxlanMTU: int(0, 65535),
  vxlanMTUV6: int(0, 65535),
  vxlanPort: int(1, 65535),
  vxlanVNI: int(1, 16777215),
  wireguardEnabled: bool,
  ipv6Support: bool,
  routeRefreshInterval: duration,
  iptablesRefreshInterval: duration,
  routeTableRange: obj({ min: int(1, 250), max: int(1, 250) }, { required: ['min', 'max'] }),
  deviceRouteProtocol: int(0, 255),
  deviceRouteSourceAddress: ip,
  removeExternalRoutes: bool,
  interfacePrefix: anyString,
  interfaceExclude: anyString,
  mtuIfacePattern: anyString,
  natOutgoingAddress: ip,
  defaultEndpointToHostAction: oneOf(['Drop', 'Accept', 'Return']),
  chainInsertMode: oneOf(['Insert', 'Append']),
  iptablesBackend: oneOf(['Legacy', 'NFT', 'Auto']),
  routeSource: oneOf(['CalicoIPAM', 'WorkloadIPs']),
  programClusterRoutes: oneOf(['Enabled', 'Disabled']),
  ipv4NormalRoutePriority: priority,
  ipv4ElevatedRoutePriority: priority,
  ipv6NormalRoutePriority: priority,
  ipv6ElevatedRoutePriority: priority,
  healthEnabled: bool,
  healthHost: anyString,
  healthPort: int(1, 65535),
  prometheusMetricsEnabled: bool,
  prometheusMetricsPort: int(1, 65535),
  reportingInterval: duration,
  reportingTTL: duration,
  endpointReportingEnabled: bool,
  failsafeInboundHostPorts: arrayOf(hostPort),
  failsafeOutboundHostPorts: arrayOf(hostPort),
});

export const calicoNodeStatusSpec = obj(
  { node: anyString, classes: arrayOf(oneOf(['Agent', 'BGP', 'Routes'])), updatePeriodSeconds: int(0, 86400) },
  { required: ['node'] },
);

const bird = obj({
  state: oneOf(['Ready', 'NotReady']),
  version: anyString,
  routerID: anyString,
  lastBootTime: anyString,
  lastReconfigurationTime: anyString,
});
const peer = obj(
  {
    peerIP: ip,
    type: oneOf(['NodeMesh', 'NodePeer', 'GlobalPeer']),
    state: oneOf(['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established', 'Close']),
    since: anyString,
  },
  { required: ['peerIP', 'type', 'state'] },
);
const route = obj(
  {
    type: oneOf(['FIB', 'RIB']),
    destination: cidr,
    gateway: anyString,
    interface: anyString,
    learnedFrom: obj({ sourceType: oneOf(['Kernel', 'Static', 'Direct', 'NodeMesh', 'BGPPeer']), peerIP: ip }, { required: ['sourceType'] }),
  },
  { required: ['type', 'destination'] },
);
const count = int(0, 1_000_000);

export const calicoNodeStatusStatus = obj({
  lastUpdated: str(),
  agent: obj({ birdV4: bird, birdV6: bird }),
  bgp: obj({
    numberEstablishedV4: count,
    numberEstablishedV6: count,
    numberNotEstablishedV4: count,
    numberNotEstablishedV6: count,
    peersV4: arrayOf(peer),
    peersV6: arrayOf(peer),
  }),
  routes: obj({ routesV4: arrayOf(route), routesV6: arrayOf(route) }),
});
