/**
 * NetworkPolicy, GlobalNetworkPolicy and Profile specs (Calico
 * `v3/policy_common.go`, `networkpolicy.go`, `globalnetworkpolicy.go`,
 * `profile.go`).
 */
import {
  anyString, arrayOf, bool, cidr, float, int, obj, oneOf, port, selector, stringMap, str, type Check,
} from '../schema';
import { protocol } from './network';

const icmp = obj({ type: int(0, 254), code: int(0, 255) });

const entityRule = obj({
  nets: arrayOf(cidr),
  notNets: arrayOf(cidr),
  selector,
  notSelector: selector,
  namespaceSelector: selector,
  ports: arrayOf(port({ range: true, named: true })),
  notPorts: arrayOf(port({ range: true, named: true })),
  serviceAccounts: obj({ names: arrayOf(anyString), selector }),
  services: obj({ name: anyString, namespace: anyString }),
});

export const rule: Check = obj(
  {
    action: oneOf(['Allow', 'Deny', 'Log', 'Pass']),
    ipVersion: (v, path, problems) => {
      if (v !== 4 && v !== 6) problems.push({ path, message: `must be 4 or 6, got ${JSON.stringify(v)}` });
    },
    protocol,
    notProtocol: protocol,
    icmp,
    notICMP: icmp,
    source: entityRule,
    destination: entityRule,
    http: obj({ methods: arrayOf(anyString), paths: arrayOf(obj({ exact: anyString, prefix: anyString })) }),
    metadata: obj({ annotations: stringMap() }),
  },
  {
    required: ['action'],
    refine(r, path, problems) {
      // Calico: ports only make sense with a protocol that has them.
      const proto = r['protocol'];
      const hasPorts = (e: unknown): boolean => {
        const er = e as { ports?: unknown[]; notPorts?: unknown[] } | undefined;
        return !!er && ((er.ports?.length ?? 0) > 0 || (er.notPorts?.length ?? 0) > 0);
      };
      if ((hasPorts(r['source']) || hasPorts(r['destination'])) && !['TCP', 'UDP', 'SCTP', 'UDPLite', 6, 17, 132, 136].includes(proto as string | number)) {
        problems.push({ path: `${path}.protocol`, message: 'ports require protocol TCP, UDP, SCTP or UDPLite' });
      }
      if ((r['icmp'] || r['notICMP']) && !['ICMP', 'ICMPv6', 1, 58].includes(proto as string | number)) {
        problems.push({ path: `${path}.icmp`, message: 'requires protocol ICMP or ICMPv6' });
      }
    },
  },
);

const policyCommon = {
  tier: str(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a tier name'),
  order: float,
  selector,
  types: arrayOf(oneOf(['Ingress', 'Egress']), 2),
  ingress: arrayOf(rule),
  egress: arrayOf(rule),
  serviceAccountSelector: selector,
  performanceHints: arrayOf(oneOf(['AssumeNeededOnEveryNode'])),
};

export const networkPolicySpec = obj(policyCommon);

export const globalNetworkPolicySpec = obj(
  { ...policyCommon, doNotTrack: bool, preDNAT: bool, applyOnForward: bool, namespaceSelector: selector },
  {
    refine(s, path, problems) {
      // Calico validator: these three combinations are refused.
      if (s['doNotTrack'] && s['preDNAT']) problems.push({ path: `${path}.preDNAT`, message: 'cannot be combined with doNotTrack' });
      if ((s['doNotTrack'] || s['preDNAT']) && s['applyOnForward'] !== true) {
        problems.push({ path: `${path}.applyOnForward`, message: 'must be true when doNotTrack or preDNAT is set' });
      }
      if (s['preDNAT'] && Array.isArray(s['egress']) && s['egress'].length > 0) {
        problems.push({ path: `${path}.egress`, message: 'preDNAT policy cannot have egress rules' });
      }
    },
  },
);

export const profileSpec = obj({ ingress: arrayOf(rule), egress: arrayOf(rule), labelsToApply: stringMap() });
