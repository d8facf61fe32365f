/** Shared fixtures for the renderer unit tests. */
import { EndpointIndex } from '../../../src/dataplane/policy/render/endpoints';
import { IpSetRegistry } from '../../../src/dataplane/policy/render/ipsets';
import type { RuleContext } from '../../../src/dataplane/policy/render/rules';
import { renderConfig } from '../../../src/dataplane/policy/config';
import { parseSelector } from '../../../src/selector';
import type { IpVersion, PolicyInput, WorkloadEndpoint } from '../../../src/dataplane/policy';

export const CFG = renderConfig({ workloadIfacePrefix: 'tt' });

export function wep(name: string, ns: string, node: string, ip: string, labels: Record<string, string>, extra: Partial<WorkloadEndpoint> = {}): WorkloadEndpoint {
  return { name, namespace: ns, node, interfaceName: `tt${name}`, ipNetworks: [ip], labels, profiles: [`kns.${ns}`], ...extra };
}

export function baseInput(over: Partial<PolicyInput> = {}): PolicyInput {
  return {
    localNode: 'n1',
    policies: [],
    profiles: [
      { name: 'kns.prod', ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] },
      { name: 'kns.dev', ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] },
    ],
    namespaces: [
      { name: 'prod', labels: { env: 'prod' } },
      { name: 'dev', labels: { env: 'dev' } },
    ],
    workloadEndpoints: [
      wep('web', 'prod', 'n1', '198.18.0.2/32', { app: 'web' }, { ports: [{ name: 'http', protocol: 'TCP', port: 8080 }], ipNetworks: ['198.18.0.2/32', 'fd00:7a7a::2/128'] }),
      wep('fe', 'prod', 'n1', '198.18.0.3/32', { role: 'fe' }),
      wep('dev1', 'dev', 'n2', '198.18.1.2/32', { role: 'fe' }),
    ],
    hostEndpoints: [],
    ...over,
  };
}

export function ruleCtx(v: IpVersion = 4, namespace: string | null = null, input: PolicyInput = baseInput()): RuleContext {
  const index = new EndpointIndex(input, parseSelector);
  return { owner: 'test', namespace, v, index, sets: new IpSetRegistry(index, CFG, v), cfg: CFG };
}
