/**
 * BGPPeer, BGPConfiguration and BGPFilter specs (Calico v3 `bgppeer.go`,
 * `bgpconfig.go`, `bgpfilter.go`; cross-field rules from libcalico-go
 * `lib/validator/v3/validator.go`).
 */
import { isIP } from 'node:net';
import {
  all, anyString, arrayOf, asNumber, bool, cidrOf, duration, int, ip, ipOf, obj, oneOf, selector, str,
  type Check, type Problem,
} from '../schema';

const secretKeyRef = obj({ secretKeyRef: obj({ name: anyString, key: anyString, optional: bool }, { required: ['name', 'key'] }) });

/**
 * `peerIP`: `IPv4`, `IPv4:port`, bare IPv6 or `[IPv6]:port`
 * (Calico `validateBGPPeerSpec` / `model.combineAddrAndPort`).
 */
export const peerIP: Check = (value, path, problems) => {
  if (typeof value === 'string') {
    if (isIP(value) !== 0) return;
    const v4 = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(value);
    const v6 = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(value);
    const m = v4 ?? v6;
    if (m && isIP(m[1] as string) === (v4 ? 4 : 6)) {
      const p = Number(m[2]);
      if (p >= 1 && p <= 65535) return;
      problems.push({ path, message: `port ${m[2]} in ${JSON.stringify(value)} must be 1..65535` });
      return;
    }
  }
  problems.push({ path, message: `${JSON.stringify(value)} is not an IP address (IPv4, IPv4:port, IPv6 or [IPv6]:port)` });
};

export const bgpPeerSpec = obj(
  {
    node: anyString,
    nodeSelector: selector,
    peerIP,
    asNumber,
    localASNumber: asNumber,
    peerSelector: selector,
    keepOriginalNextHop: bool,
    nextHopMode: oneOf(['Auto', 'Self', 'Keep']),
    password: secretKeyRef,
    sourceAddress: oneOf(['UseNodeIP', 'None']),
    maxRestartTime: duration,
    keepaliveTime: duration,
    numAllowedLocalASNumbers: int(0, 10),
    ttlSecurity: int(0, 255),
    reachableBy: ip,
    filters: arrayOf(anyString),
    localWorkloadSelector: selector,
    reversePeering: oneOf(['Auto', 'Manual']),
  },
  {
    refine(s, path, problems) {
      if (s['node'] && s['nodeSelector']) {
        problems.push({ path: `${path}.nodeSelector`, message: 'cannot be set together with spec.node' });
      }
      if (s['peerSelector'] && (s['peerIP'] || s['asNumber'])) {
        problems.push({ path: `${path}.peerSelector`, message: 'cannot be set together with spec.peerIP or spec.asNumber' });
      }
      if (s['peerIP'] && s['asNumber'] === undefined) {
        problems.push({ path: `${path}.asNumber`, message: 'is required when spec.peerIP is set' });
      }
      if (!s['peerIP'] && !s['peerSelector'] && !s['localWorkloadSelector']) {
        problems.push({ path: `${path}.peerIP`, message: 'one of spec.peerIP, spec.peerSelector or spec.localWorkloadSelector is required' });
      }
      if (s['keepOriginalNextHop'] === true && s['nextHopMode'] !== undefined && s['nextHopMode'] !== 'Keep') {
        problems.push({ path: `${path}.nextHopMode`, message: 'conflicts with keepOriginalNextHop: true' });
      }
    },
  },
);

/** `aa:nn` or `aa:nn:mm` (standard or large community), Calico `communityRegex`. */
const communityValue: Check = (value, path, problems) => {
  const parts = typeof value === 'string' ? value.split(':') : [];
  const ok =
    (parts.length === 2 && parts.every((p) => /^\d+$/.test(p) && Number(p) <= 65535)) ||
    (parts.length === 3 && parts.every((p) => /^\d+$/.test(p) && Number(p) <= 4294967295));
  if (!ok) problems.push({ path, message: `${JSON.stringify(value)} is not a community (aa:nn or aa:nn:mm)` });
};

const cidrEntry = obj({ cidr: cidrOf({ allowBareIP: true }) }, { required: ['cidr'] });

export const bgpConfigurationSpec = obj({
  logSeverityScreen: oneOf(['Trace', 'Debug', 'Info', 'Warning', 'Error', 'Fatal', 'Panic', 'None']),
  nodeToNodeMeshEnabled: bool,
  asNumber,
  serviceClusterIPs: arrayOf(cidrEntry),
  serviceExternalIPs: arrayOf(cidrEntry),
  serviceLoadBalancerIPs: arrayOf(cidrEntry),
  serviceLoadBalancerAggregation: oneOf(['Enabled', 'Disabled']),
  communities: arrayOf(obj({ name: str(/^[a-zA-Z0-9_-]+$/, 'a community name'), value: communityValue }, { required: ['name', 'value'] })),
  prefixAdvertisements: arrayOf(obj({ cidr: cidrOf({ allowBareIP: true }), communities: arrayOf(anyString) }, { required: ['cidr'] })),
  listenPort: int(1, 65535),
  nodeMeshPassword: secretKeyRef,
  nodeMeshMaxRestartTime: duration,
  bindMode: oneOf(['None', 'NodeIP']),
  ignoredInterfaces: arrayOf(anyString),
  localWorkloadPeeringIPV4: ipOf(4),
  localWorkloadPeeringIPV6: ipOf(6),
  programClusterRoutes: oneOf(['Disabled', 'Enabled', 'EnabledIPIPOnly', 'EnabledNoEncapOnly']),
  ipv4NormalRoutePriority: int(1, 2147483646),
  ipv6NormalRoutePriority: int(1, 2147483646),
});

/**
 * Calico rejects mesh and AS settings on per-node BGPConfigurations: they are
 * cluster-wide ("node.<name>" may only tune its own listen port, log level…).
 */
export function bgpConfigurationByName(name: string, spec: Record<string, unknown>, problems: Problem[]): void {
  if (name === 'default') return;
  if (!name.startsWith('node.')) return;
  for (const field of ['nodeToNodeMeshEnabled', 'asNumber', 'serviceClusterIPs', 'serviceExternalIPs', 'serviceLoadBalancerIPs']) {
    if (spec[field] !== undefined) {
      problems.push({ path: `spec.${field}`, message: 'can only be set on the "default" BGPConfiguration' });
    }
  }
}

function filterRule(family: 4 | 6): Check {
  return obj(
    {
      action: oneOf(['Accept', 'Reject']),
      cidr: cidrOf({ family }),
      matchOperator: oneOf(['Equal', 'NotEqual', 'In', 'NotIn']),
      prefixLength: obj({ min: int(0, family === 4 ? 32 : 128), max: int(0, family === 4 ? 32 : 128) }),
      source: oneOf(['RemotePeers']),
      interface: anyString,
      peerType: oneOf(['eBGP', 'iBGP']),
      communities: obj({ values: all(arrayOf(communityValue, 1)) }),
      asPathPrefix: arrayOf(asNumber),
      priority: int(0, 2147483647),
      operations: arrayOf(
        obj({
          addCommunity: obj({ value: communityValue }),
          prependASPath: obj({ prefix: arrayOf(asNumber) }),
          setPriority: obj({ value: int(1, 2147483646) }),
        }),
      ),
    },
    {
      required: ['action'],
      refine(r, path, problems) {
        if ((r['cidr'] === undefined) !== (r['matchOperator'] === undefined)) {
          problems.push({ path: `${path}.matchOperator`, message: 'cidr and matchOperator must be set together' });
        }
        const pl = r['prefixLength'] as { min?: number; max?: number } | undefined;
        if (pl && pl.min !== undefined && pl.max !== undefined && pl.min > pl.max) {
          problems.push({ path: `${path}.prefixLength`, message: 'min must not exceed max' });
        }
      },
    },
  );
}

export const bgpFilterSpec = obj({
  exportV4: arrayOf(filterRule(4)),
  importV4: arrayOf(filterRule(4)),
  exportV6: arrayOf(filterRule(6)),
  importV6: arrayOf(filterRule(6)),
});
