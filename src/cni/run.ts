/**
 * One plugin invocation: environment + stdin in, stdout text and exit code
 * out (main.ts does the process I/O). Everything that goes wrong ends here
 * as the spec's error object on stdout and exit code 1.
 *
 *   VERSION            the supported spec versions
 *   ADD / DEL / CHECK  `type: tartan`: the interface plugin (plugin.ts);
 *                      another type with `ipam.type: tartan-ipam`: IPAM only
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Writable } from 'node:stream';
import { Datastore } from '../datastore';
import { Ipam } from '../ipam';
import { createLogger, type Logger } from '../util/log';
import { commandOf, parseArgs, type CniArgs } from './args';
import { decodeConfig, IPAM_TYPE, parseNetConf, roleOf, type NetConf } from './config';
import { LinuxDataplane } from './dataplane';
import { toErrorJson } from './errors';
import { processRunner, type Runner } from './exec';
import { DelegatedIpamSource, TartanIpamSource, type AddressSource } from './ipam';
import { workloadIdentity } from './names';
import { cmdAdd, cmdCheck, cmdDel, ipamAdd, ipamCheck, ipamDel } from './plugin';
import { formatResult } from './result';
import { datastoreEndpoints } from './store';
import { DEFAULT_VERSION, versionResult } from './version';

export interface RunIo {
  /** Where log lines go when the config names no log_file_path (default: this process's stderr). */
  stderr?: (text: string) => void;
  /** Runs ip/nsenter/sysctl and delegated plugins (default: real processes). */
  runner?: Runner;
  hostname?: () => string;
}

export interface RunOutcome {
  stdout: string;
  exitCode: number;
}

export async function runCni(env: NodeJS.ProcessEnv, stdin: string, io: RunIo = {}): Promise<RunOutcome> {
  let cniVersion: string = DEFAULT_VERSION;
  const stderr = io.stderr ?? ((t: string) => void process.stderr.write(t));
  let log: Logger | undefined;
  try {
    const command = commandOf(env);
    if (command === 'VERSION') {
      let v: unknown;
      try {
        v = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
      } catch {
        // VERSION may come with no configuration at all
      }
      return { stdout: JSON.stringify(versionResult(v)), exitCode: 0 };
    }
    const raw = decodeConfig(stdin);
    if (typeof raw['cniVersion'] === 'string' && raw['cniVersion'] !== '') cniVersion = raw['cniVersion'];
    const args = parseArgs(env);
    const role = roleOf(raw);
    const conf = parseNetConf(raw, role, env);
    log = makeLogger(conf, args, stderr);
    log.debug(`${args.command} (${role}) netns=${args.netns || '-'} ifname=${args.ifname} args=${JSON.stringify(args.args)}`);
    const out = await dispatch(conf, args, role, env, stdin, log, io);
    return { stdout: out === undefined ? '' : JSON.stringify(out), exitCode: 0 };
  } catch (e) {
    const json = toErrorJson(e, cniVersion);
    const details = json.details.replace(/\n/g, '; ');
    log?.error(`failed (code ${json.code}): ${json.msg}${details && !json.msg.includes(details) ? ` (${details})` : ''}`);
    return { stdout: JSON.stringify(json), exitCode: 1 };
  }
}

async function dispatch(
  conf: NetConf,
  args: CniArgs,
  role: 'plugin' | 'ipam',
  env: NodeJS.ProcessEnv,
  stdin: string,
  log: Logger,
  io: RunIo,
): Promise<Record<string, unknown> | undefined> {
  const node = resolveNodename(conf, io.hostname ?? hostname);
  const id = workloadIdentity(args, node, conf.name);
  const runner = io.runner ?? processRunner;
  const needsDatastore = role === 'plugin' || conf.ipam.type === IPAM_TYPE;
  const ds = needsDatastore
    ? Datastore.connect({
        endpoints: conf.etcd.endpoints,
        requestTimeoutMs: conf.etcd.requestTimeoutMs,
        ...(conf.etcd.caCertFile !== undefined ? { caCertFile: conf.etcd.caCertFile } : {}),
        ...(conf.etcd.certFile !== undefined ? { certFile: conf.etcd.certFile } : {}),
        ...(conf.etcd.keyFile !== undefined ? { keyFile: conf.etcd.keyFile } : {}),
      })
    : undefined;
  try {
    const attrs: Record<string, string> = id.pod !== undefined ? { node, namespace: id.namespace, pod: id.pod } : { node };
    const addresses: AddressSource =
      conf.ipam.type === IPAM_TYPE && ds
        ? new TartanIpamSource(new Ipam(ds), { node, handleId: id.handleId, conf: conf.ipam, attrs })
        : new DelegatedIpamSource(runner, { type: conf.ipam.type, args, env, stdin });
    if (role === 'ipam') {
      if (args.command === 'ADD') return formatResult(await ipamAdd(conf, addresses), conf.cniVersion);
      if (args.command === 'DEL') await ipamDel(addresses);
      else await ipamCheck(conf, addresses);
      return undefined;
    }
    if (!ds) throw new Error('no datastore');
    const parts = {
      dataplane: new LinuxDataplane({ run: runner, log: (m: string) => log.debug(m) }),
      endpoints: datastoreEndpoints(ds),
      addresses,
      netnsExists: (p: string) => existsSync(p),
      log,
    };
    if (args.command === 'ADD') return formatResult(await cmdAdd(conf, args, id, parts), conf.cniVersion);
    if (args.command === 'DEL') await cmdDel(conf, args, id, parts);
    else await cmdCheck(conf, args, id, parts);
    return undefined;
  } finally {
    ds?.close();
  }
}

/** Calico's order: `nodename` in the config, else the nodename file if present, else the host name. */
export function resolveNodename(conf: Pick<NetConf, 'nodename' | 'nodenameFile'>, host: () => string): string {
  if (conf.nodename) return conf.nodename;
  try {
    const fromFile = readFileSync(conf.nodenameFile, 'utf8').trim();
    if (fromFile) return fromFile;
  } catch {
    // no file: the host name
  }
  return host();
}

/** Log lines (synchronous, so none is lost at exit) to log_file_path or stderr, tagged with the container. */
function makeLogger(conf: NetConf, args: CniArgs, stderr: (t: string) => void): Logger {
  const write = conf.logFilePath ? (t: string) => appendFileSync(conf.logFilePath as string, t) : stderr;
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      try {
        write(chunk.toString());
      } catch {
        // a log line that cannot be written must not fail the call
      }
      cb();
    },
  });
  return createLogger({ level: conf.logLevel, format: 'text', stream }).child({ component: `cni ${args.command}`, containerID: args.containerId });
}
