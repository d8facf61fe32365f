import { renderDataplane, type Policy, type PolicyInput, type WorkloadEndpoint } from '../../src/dataplane/policy';
function endpoint(i: number): WorkloadEndpoint {
  return { name: `pod${i}`, namespace: `ns${i % 10}`, node: 'bench', interfaceName: `tt${i.toString(16).padStart(6, '0')}`, ipNetworks: [`198.18.${Math.floor(i / 250)}.${(i % 250) + 2}/32`], labels: { app: `app${i % 50}`, tier: i % 3 === 0 ? 'fe' : 'be' }, profiles: [`kns.ns${i % 10}`], ports: [{ name: 'http', protocol: 'TCP', port: 8080 }] };
}
function policy(j: number): Policy {
  const spec = { order: j, selector: `app == 'app${j % 50}'`, ingress: [{ action: 'Allow' as const, protocol: 'TCP', source: { selector: `tier == 'fe' && app == 'app${(j + 1) % 50}'` }, destination: { ports: [80, '1000:2000', 'http'] } }, { action: 'Deny' as const, protocol: 'UDP', source: { nets: ['198.19.0.0/16'] } }], egress: [{ action: 'Allow' as const, destination: { notNets: ['198.19.255.0/24'] } }] };
  return j % 2 === 0 ? { kind: 'NetworkPolicy', name: `np${j}`, namespace: `ns${j % 10}`, spec } : { kind: 'GlobalNetworkPolicy', name: `gnp${j}`, spec };
}
const input: PolicyInput = { localNode: 'bench', policies: Array.from({ length: 100 }, (_, j) => policy(j)), profiles: Array.from({ length: 10 }, (_, k) => ({ name: `kns.ns${k}`, ingress: [{ action: 'Allow' as const }], egress: [{ action: 'Allow' as const }] })), workloadEndpoints: Array.from({ length: 1000 }, (_, i) => endpoint(i)), hostEndpoints: [] };
import { RenderCache } from "../../src/dataplane/policy"; const cache = new RenderCache();
for (let i = 0; i < 8; i++) { const t = performance.now(); renderDataplane(input, { cache }); console.log(performance.now() - t); }
