import { createHash } from 'node:crypto';
import { hostVethName, workloadEndpointName, escapeNamePart, handleId, workloadIdentity } from '../../../src/cni';

describe('Calico names', () => {
  it('host veth: cali + 11 hex digits of sha1("<namespace>.<pod>")', () => {
    // The same value scripts/demo.sh computed with sha1sum.
    expect(hostVethName({ containerId: 'x', k8s: { namespace: 'demo', pod: 'web-1' } })).toBe('cali9beb1ed9b53');
    const sha = createHash('sha1').update('kube-system.coredns-abc').digest('hex');
    expect(hostVethName({ containerId: 'x', k8s: { namespace: 'kube-system', pod: 'coredns-abc' } })).toBe(`cali${sha.slice(0, 11)}`);
    expect(hostVethName({ containerId: 'x', k8s: { namespace: 'demo', pod: 'web-1' } })).toHaveLength(15);
  });

  it('host veth outside Kubernetes: cali + the container ID (at most 11 characters)', () => {
    expect(hostVethName({ containerId: '0123456789abcdef' })).toBe('cali0123456789a');
    expect(hostVethName({ containerId: 'short' })).toBe('calishort');
  });

  it('WorkloadEndpoint names double every "-" in each part', () => {
    expect(escapeNamePart('node-1')).toBe('node--1');
    expect(workloadEndpointName('node-1', 'k8s', 'web-1', 'eth0')).toBe('node--1-k8s-web--1-eth0');
    expect(workloadEndpointName('n.example.com', 'k8s', 'db', 'eth0')).toBe('n.example.com-k8s-db-eth0');
  });

  it('IPAM handle: network name + container ID (k8s-pod-network.<id> with the usual name)', () => {
    expect(handleId('k8s-pod-network', 'c0ffee')).toBe('k8s-pod-network.c0ffee');
  });

  it('identity of a pod and of a plain container', () => {
    expect(workloadIdentity({ containerId: 'c1', ifname: 'eth0', k8s: { namespace: 'demo', pod: 'db-2' } }, 'node-2', 'k8s-pod-network')).toEqual({
      node: 'node-2',
      orchestrator: 'k8s',
      namespace: 'demo',
      pod: 'db-2',
      containerId: 'c1',
      endpoint: 'eth0',
      wepName: 'node--2-k8s-db--2-eth0',
      hostVeth: hostVethName({ containerId: 'c1', k8s: { namespace: 'demo', pod: 'db-2' } }),
      handleId: 'k8s-pod-network.c1',
      profiles: ['kns.demo'],
    });
    expect(workloadIdentity({ containerId: 'abc-1', ifname: 'net1' }, 'n1', 'mynet')).toMatchObject({
      orchestrator: 'cni',
      namespace: 'default',
      workload: 'abc-1',
      wepName: 'n1-cni-abc--1-net1',
      hostVeth: 'caliabc-1',
      profiles: ['mynet'],
    });
  });
});
