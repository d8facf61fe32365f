import { parseArgs, parseCniArgs, interfaceNameProblem, CniError, CNI_INVALID_ENV } from '../../../src/cni';
import { commandOf } from '../../../src/cni/args';

const base = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c0ffee01', CNI_NETNS: '/var/run/netns/p1', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin::/usr/lib/cni' };

function envError(env: NodeJS.ProcessEnv): CniError {
  try {
    parseArgs(env);
  } catch (e) {
    return e as CniError;
  }
  throw new Error('no error');
}

describe('CNI environment', () => {
  it('reads the variables, CNI_PATH and the Kubernetes CNI_ARGS', () => {
    const a = parseArgs({ ...base, CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=demo;K8S_POD_NAME=web-1;K8S_POD_INFRA_CONTAINER_ID=c0ffee01;K8S_POD_UID=u-1' });
    expect(a).toEqual({
      command: 'ADD',
      containerId: 'c0ffee01',
      netns: '/var/run/netns/p1',
      ifname: 'eth0',
      path: ['/opt/cni/bin', '/usr/lib/cni'],
      args: { IgnoreUnknown: '1', K8S_POD_NAMESPACE: 'demo', K8S_POD_NAME: 'web-1', K8S_POD_INFRA_CONTAINER_ID: 'c0ffee01', K8S_POD_UID: 'u-1' },
      k8s: { namespace: 'demo', pod: 'web-1', uid: 'u-1' },
    });
  });

  it('outside Kubernetes there is no pod identity; a pod without namespace is in "default"', () => {
    expect(parseArgs(base).k8s).toBeUndefined();
    expect(parseArgs({ ...base, CNI_ARGS: 'K8S_POD_NAME=x' }).k8s).toEqual({ namespace: 'default', pod: 'x' });
  });

  it('names every missing or invalid variable in one error (code 4)', () => {
    const e = envError({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: '-bad', CNI_IFNAME: 'a/b' });
    expect(e).toBeInstanceOf(CniError);
    expect(e.cniCode).toBe(CNI_INVALID_ENV);
    expect(e.message).toBe('invalid environment: CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME');
    expect(e.details).toContain('CNI_NETNS is required');
    expect(e.details).toContain('CNI_IFNAME "a/b" must not contain');
  });

  it('DEL needs no namespace (it may be gone); ADD and CHECK do', () => {
    expect(parseArgs({ ...base, CNI_COMMAND: 'DEL', CNI_NETNS: '' }).netns).toBe('');
    expect(envError({ ...base, CNI_COMMAND: 'CHECK', CNI_NETNS: '' }).message).toContain('CNI_NETNS');
    expect(envError({ ...base, CNI_NETNS: 'relative/path' }).details).toContain('not an absolute path');
  });

  it('rejects an unknown or missing command', () => {
    expect(() => commandOf({})).toThrow('CNI_COMMAND is not set');
    expect(() => commandOf({ CNI_COMMAND: 'GC' })).toThrow('CNI_COMMAND "GC" is not supported');
    expect(commandOf({ CNI_COMMAND: 'VERSION' })).toBe('VERSION');
  });

  it('CNI_ARGS pairs', () => {
    expect(parseCniArgs('')).toEqual({});
    expect(parseCniArgs('A=1;;B=x=y; C = 3 ')).toEqual({ A: '1', B: 'x=y', C: '3' });
    expect(() => parseCniArgs('A=1;junk')).toThrow(CniError);
    expect(envError({ ...base, CNI_ARGS: 'junk' }).message).toBe('invalid environment: CNI_ARGS');
  });

  it('interface names as the spec allows them', () => {
    expect(interfaceNameProblem('eth0')).toBeUndefined();
    expect(interfaceNameProblem('a234567890123456')).toMatch(/longer than 15/);
    expect(interfaceNameProblem('..')).toMatch(/not allowed/);
    expect(interfaceNameProblem('et h0')).toMatch(/whitespace/);
    expect(interfaceNameProblem('a:b')).toBeDefined();
  });
});
