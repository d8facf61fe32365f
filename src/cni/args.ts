/**
 * The runtime's per-call parameters: CNI_* environment variables (CNI spec
 * 1.0.0 §2 "Parameters") and the key=value pairs of CNI_ARGS, including the
 * Kubernetes ones kubelet/containerd/CRI-O pass (K8S_POD_NAMESPACE,
 * K8S_POD_NAME, K8S_POD_INFRA_CONTAINER_ID, K8S_POD_UID). Pure.
 */
import { CNI_INVALID_ENV, CniError } from './errors';

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION';
const COMMANDS: readonly CniCommand[] = ['ADD', 'DEL', 'CHECK', 'VERSION'];

export interface CniArgs {
  command: CniCommand;
  containerId: string;
  /** Path of the container's network namespace; '' when not given (allowed on DEL). */
  netns: string;
  ifname: string;
  /** CNI_ARGS as a map (keys as given). */
  args: Record<string, string>;
  /** CNI_PATH split on ':' (empty entries dropped). */
  path: string[];
  /** Kubernetes identity, when CNI_ARGS carries K8S_POD_NAME (and K8S_POD_NAMESPACE). */
  k8s?: { namespace: string; pod: string; uid?: string };
}

/** The spec's container ID rule. */
const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Why `name` is not a usable interface name (spec: < 16 chars, not "." or "..", no "/", ":" or whitespace), or undefined. */
export function interfaceNameProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (name.length > 15) return `${JSON.stringify(name)} is longer than 15 characters`;
  if (name === '.' || name === '..') return `${JSON.stringify(name)} is not allowed`;
  if (/[/:\s]/.test(name)) return `${JSON.stringify(name)} must not contain "/", ":" or whitespace`;
  return undefined;
}

/** "A=1;B=2" → {A: "1", B: "2"}; a pair without "=" is an error. */
export function parseCniArgs(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of raw.split(';')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CniError(CNI_INVALID_ENV, `CNI_ARGS: ${JSON.stringify(pair)} is not KEY=VALUE`, 'CNI_ARGS holds KEY=VALUE pairs separated by ";"');
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return out;
}

/** Only the command, for VERSION (which needs nothing else). */
export function commandOf(env: NodeJS.ProcessEnv): CniCommand {
  const c = env['CNI_COMMAND'];
  if (c === undefined || c === '') throw new CniError(CNI_INVALID_ENV, 'CNI_COMMAND is not set', `CNI_COMMAND must be one of ${COMMANDS.join(', ')}`);
  if (!(COMMANDS as readonly string[]).includes(c)) {
    throw new CniError(CNI_INVALID_ENV, `CNI_COMMAND ${JSON.stringify(c)} is not supported`, `CNI_COMMAND must be one of ${COMMANDS.join(', ')}`);
  }
  return c as CniCommand;
}

/** Every variable the command needs, checked together: one error naming all the bad ones. */
export function parseArgs(env: NodeJS.ProcessEnv): CniArgs {
  const command = commandOf(env);
  const problems: Array<[string, string]> = [];
  const get = (name: string, required: boolean): string => {
    const v = env[name] ?? '';
    if (required && v === '') problems.push([name, 'is required']);
    return v;
  };
  const needsAll = command !== 'VERSION';
  const containerId = get('CNI_CONTAINERID', needsAll);
  if (containerId !== '' && !CONTAINER_ID.test(containerId)) {
    problems.push(['CNI_CONTAINERID', `${JSON.stringify(containerId)} must start with a letter or digit and hold only letters, digits, "_", "." and "-"`]);
  }
  // DEL may come without a namespace (it is gone); ADD and CHECK need it.
  const netns = get('CNI_NETNS', command === 'ADD' || command === 'CHECK');
  if (netns !== '' && !netns.startsWith('/')) problems.push(['CNI_NETNS', `${JSON.stringify(netns)} is not an absolute path`]);
  const ifname = get('CNI_IFNAME', needsAll);
  if (ifname !== '') {
    const p = interfaceNameProblem(ifname);
    if (p) problems.push(['CNI_IFNAME', p]);
  }
  let args: Record<string, string> = {};
  try {
    args = parseCniArgs(env['CNI_ARGS'] ?? '');
  } catch (e) {
    problems.push(['CNI_ARGS', (e as Error).message.replace(/^CNI_ARGS: /, '')]);
  }
  if (problems.length > 0) {
    throw new CniError(
      CNI_INVALID_ENV,
      `invalid environment: ${[...new Set(problems.map(([n]) => n))].join(', ')}`,
      problems.map(([n, m]) => `${n} ${m}`).join('; '),
    );
  }
  const path = (env['CNI_PATH'] ?? '').split(':').filter((p) => p !== '');
  const out: CniArgs = { command, containerId, netns, ifname, args, path };
  const pod = args['K8S_POD_NAME'];
  if (pod) {
    out.k8s = { namespace: args['K8S_POD_NAMESPACE'] || 'default', pod };
    if (args['K8S_POD_UID']) out.k8s.uid = args['K8S_POD_UID'];
  }
  return out;
}
