import { buildWorkloadEndpoint, endpointMismatch, workloadIdentity } from '../../../src/cni';
import { validateResource } from '../../../src/datastore';

const id = workloadIdentity({ containerId: 'c0ffee', ifname: 'eth0', k8s: { namespace: 'demo', pod: 'web-1' } }, 'node-1', 'k8s-pod-network');

describe('the WorkloadEndpoint of an attachment', () => {
  it('is what Calico\'s plugin writes, and valid for the datastore', () => {
    const wep = buildWorkloadEndpoint(id, ['198.19.238.0'], '3a:26:6e:b1:93:38', { app: 'web' });
    expect(wep).toEqual({
      apiVersion: 'projectcalico.org/v3',
      kind: 'WorkloadEndpoint',
      metadata: {
        name: 'node--1-k8s-web--1-eth0',
        namespace: 'demo',
        labels: { app: 'web', 'projectcalico.org/namespace': 'demo', 'projectcalico.org/orchestrator': 'k8s' },
      },
      spec: {
        orchestrator: 'k8s',
        node: 'node-1',
        pod: 'web-1',
        containerID: 'c0ffee',
        endpoint: 'eth0',
        interfaceName: 'cali9beb1ed9b53',
        ipNetworks: ['198.19.238.0/32'],
        profiles: ['kns.demo'],
        mac: '3a:26:6e:b1:93:38',
      },
    });
    expect(() => validateResource(wep)).not.toThrow();
  });

  it('the orchestrator labels win over pod labels of the same key', () => {
    const wep = buildWorkloadEndpoint(id, ['198.19.238.0', 'fd00:7a7a::1'], '', { 'projectcalico.org/namespace': 'spoofed' });
    expect(wep.metadata.labels?.['projectcalico.org/namespace']).toBe('demo');
    expect(wep.spec.ipNetworks).toEqual(['198.19.238.0/32', 'fd00:7a7a::1/128']);
    expect(wep.spec.mac).toBeUndefined();
  });

  it('CHECK: a mismatch is described', () => {
    const wep = buildWorkloadEndpoint(id, ['198.19.238.0'], 'aa:bb:cc:dd:ee:ff', {});
    expect(endpointMismatch(wep, id, ['198.19.238.0'])).toBeUndefined();
    expect(endpointMismatch(wep, id, ['198.19.238.1'])).toBe('has ipNetworks ["198.19.238.0/32"], expected ["198.19.238.1/32"]');
    expect(endpointMismatch({ ...wep, spec: { ...wep.spec, containerID: 'other' } }, id, ['198.19.238.0'])).toBe('belongs to container "other", not c0ffee');
  });
});
