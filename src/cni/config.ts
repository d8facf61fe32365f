/**
 * The network configuration on stdin → a typed NetConf, or one CniError
 * naming every bad field by its path (`mtu`, `ipam.assign_ipv4`,
 * `args.cni.labels[1].key`, ...). Field names follow Calico's plugin
 * (`etcd_endpoints`, `nodename`, `nodename_file`, `mtu`, `log_level`,
 * `ipam.assign_ipv4`, `container_settings.allow_ip_forwarding`), so a
 * Calico conflist works with `"type": "tartan"` and `"ipam": {"type":
 * "tartan-ipam"}`. Unknown fields are ignored (runtimes and Calico configs
 * carry many, e.g. `policy`, `kubernetes`). Pure.
 */
import { labelKey, labelValue } from '../datastore/resources/names';
import type { Problem } from '../datastore/resources/schema';
import { parsePrefix } from '../util/ip';
import { isIP } from 'node:net';
import { CNI_DECODE_FAILURE, CNI_INVALID_CONFIG, CniError } from './errors';
import { requireSupported, type CniVersion } from './version';

/** The `type` of this plugin, and of its IPAM (in-process, or as a delegated plugin). */
export const PLUGIN_TYPE = 'tartan';
export const IPAM_TYPE = 'tartan-ipam';
export const DEFAULT_NODENAME_FILE = '/var/lib/calico/nodename';
export const DEFAULT_ETCD_TIMEOUT_MS = 5000;

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface DnsConf {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

export interface EtcdConf {
  endpoints: string[];
  caCertFile?: string;
  certFile?: string;
  keyFile?: string;
  requestTimeoutMs: number;
}

export interface IpamConf {
  type: string;
  assignIpv4: boolean;
  assignIpv6: boolean;
  /** Restrict to these IPPools (names or CIDRs); empty: every pool that selects the node. */
  ipv4Pools: string[];
  ipv6Pools: string[];
}

export interface NetConf {
  cniVersion: CniVersion;
  name: string;
  type: string;
  etcd: EtcdConf;
  /** Explicit node name; else `nodenameFile` if it exists, else the host name. */
  nodename?: string;
  nodenameFile: string;
  /** 0: leave the kernel's default. */
  mtu: number;
  ipam: IpamConf;
  dns?: DnsConf;
  logLevel: LogLevel;
  logFilePath?: string;
  allowIpForwarding: boolean;
  /** Pod labels from `args.cni.labels` (the CNI conventions' labels). */
  labels: Record<string, string>;
  /** The previous result (CHECK, DEL), unparsed. */
  prevResult?: unknown;
  /** The whole object as received (handed unchanged to a delegated IPAM plugin). */
  raw: Record<string, unknown>;
}

/** Which job this invocation does: the interface plugin, or (called as an IPAM plugin by another plugin) IPAM only. */
export type Role = 'plugin' | 'ipam';

const NETWORK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const PLUGIN_NAME = /^[^/\\\s]+$/;

/** stdin bytes → a JSON object; CNI code 6 if it is not one. */
export function decodeConfig(text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new CniError(CNI_DECODE_FAILURE, 'network configuration on stdin is not valid JSON', (e as Error).message);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new CniError(CNI_DECODE_FAILURE, 'network configuration on stdin is not a JSON object', `got ${Array.isArray(v) ? 'a list' : typeof v}`);
  }
  return v as Record<string, unknown>;
}

/**
 * `type: tartan` is the interface plugin. Any other type with
 * `ipam.type: tartan-ipam` means another plugin (bridge, ptp, ...) runs us
 * as its IPAM, as Calico's `calico-ipam` binary is run.
 */
export function roleOf(raw: Record<string, unknown>): Role {
  if (raw['type'] === PLUGIN_TYPE) return 'plugin';
  const ipam = raw['ipam'];
  if (typeof ipam === 'object' && ipam !== null && (ipam as Record<string, unknown>)['type'] === IPAM_TYPE) return 'ipam';
  return 'plugin';
}

/** Typed reads of one JSON object, collecting problems with their paths. */
class Fields {
  constructor(
    readonly obj: Record<string, unknown>,
    readonly path: string,
    readonly problems: Problem[],
  ) {}

  at(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  private bad(key: string, message: string): undefined {
    this.problems.push({ path: this.at(key), message });
    return undefined;
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }

  string(key: string, opts: { required?: boolean; pattern?: RegExp; what?: string } = {}): string | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null || v === '') return opts.required ? this.bad(key, 'is required') : undefined;
    if (typeof v !== 'string') return this.bad(key, `must be a string, got ${describe(v)}`);
    if (opts.pattern && !opts.pattern.test(v)) return this.bad(key, `${JSON.stringify(v)} is not ${opts.what ?? 'valid'}`);
    return v;
  }

  /** true/false, or Calico's "true"/"false" strings. */
  boolean(key: string, dflt: boolean): boolean {
    const v = this.obj[key];
    if (v === undefined || v === null || v === '') return dflt;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    this.bad(key, `must be true or false, got ${describe(v)}`);
    return dflt;
  }

  int(key: string, dflt: number, ok: (n: number) => boolean, what: string): number {
    const v = this.obj[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || !ok(v)) {
      this.bad(key, `must be ${what}, got ${describe(v)}`);
      return dflt;
    }
    return v;
  }

  strings(key: string, item?: (s: string) => string | undefined): string[] | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) return this.bad(key, `must be a list of strings, got ${describe(v)}`);
    const out: string[] = [];
    v.forEach((s, i) => {
      const p = `${this.at(key)}[${i}]`;
      if (typeof s !== 'string') this.problems.push({ path: p, message: `must be a string, got ${describe(s)}` });
      else {
        const why = item?.(s);
        if (why) this.problems.push({ path: p, message: why });
        else out.push(s);
      }
    });
    return out;
  }

  child(key: string, required = false): Fields | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) return required ? this.bad(key, 'is required') : undefined;
    if (typeof v !== 'object' || Array.isArray(v)) return this.bad(key, `must be an object, got ${describe(v)}`);
    return new Fields(v as Record<string, unknown>, this.at(key), this.problems);
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return JSON.stringify(v);
}

const LOG_LEVELS: Record<string, LogLevel> = { error: 'error', warning: 'warn', warn: 'warn', info: 'info', debug: 'debug' };

/**
 * Parse and validate. `env` supplies Calico's fallbacks for the datastore
 * (ETCD_ENDPOINTS, ETCD_CA_CERT_FILE, ETCD_CERT_FILE, ETCD_KEY_FILE).
 */
export function parseNetConf(raw: Record<string, unknown>, role: Role, env: NodeJS.ProcessEnv = {}): NetConf {
  const problems: Problem[] = [];
  const top = new Fields(raw, '', problems);

  // The version first: an unsupported one is its own error (code 1), whatever else is wrong.
  const version = top.string('cniVersion', { required: true });
  if (version === undefined) throw invalid(problems);
  const cniVersion = requireSupported(version);

  const name = top.string('name', { required: true, pattern: NETWORK_NAME, what: 'a network name (a letter or digit, then letters, digits, "_", "." or "-")' }) ?? '';
  const type = top.string('type', { required: true, pattern: PLUGIN_NAME, what: 'a plugin name' }) ?? '';
  if (role === 'plugin' && type !== '' && type !== PLUGIN_TYPE) problems.push({ path: 'type', message: `must be "${PLUGIN_TYPE}", got ${JSON.stringify(type)}` });

  const datastoreType = top.string('datastore_type');
  if (datastoreType !== undefined && datastoreType !== 'etcdv3') problems.push({ path: 'datastore_type', message: `only "etcdv3" is supported, got ${JSON.stringify(datastoreType)}` });
  const endpointsText = top.string('etcd_endpoints') ?? env['ETCD_ENDPOINTS'] ?? '';
  const endpoints = endpointsText.split(',').map((e) => e.trim()).filter((e) => e !== '');
  if (endpoints.length === 0) problems.push({ path: 'etcd_endpoints', message: 'is required (comma-separated etcd URLs; or set ETCD_ENDPOINTS)' });
  endpoints.forEach((e, i) => {
    if (!/^(https?:\/\/)?[^/\s]+\/?$/.test(e)) problems.push({ path: 'etcd_endpoints', message: `entry ${i + 1} ${JSON.stringify(e)} is not host:port or an http(s) URL` });
  });
  const etcd: EtcdConf = {
    endpoints,
    requestTimeoutMs: top.int('etcd_timeout_ms', DEFAULT_ETCD_TIMEOUT_MS, (n) => n >= 100 && n <= 600_000, 'milliseconds from 100 to 600000'),
  };
  const tls: Array<[keyof EtcdConf & string, string, string]> = [
    ['caCertFile', 'etcd_ca_cert_file', 'ETCD_CA_CERT_FILE'],
    ['certFile', 'etcd_cert_file', 'ETCD_CERT_FILE'],
    ['keyFile', 'etcd_key_file', 'ETCD_KEY_FILE'],
  ];
  for (const [field, key, envName] of tls) {
    const v = top.string(key) ?? (env[envName] || undefined);
    if (v !== undefined) (etcd as unknown as Record<string, string>)[field] = v;
  }
  if ((etcd.certFile === undefined) !== (etcd.keyFile === undefined)) {
    problems.push({ path: etcd.certFile === undefined ? 'etcd_cert_file' : 'etcd_key_file', message: 'etcd_cert_file and etcd_key_file must be given together' });
  }

  const nodename = top.string('nodename', { pattern: /^[^\s/]{1,253}$/, what: 'a node name' });
  const nodenameFile = top.string('nodename_file') ?? DEFAULT_NODENAME_FILE;
  const mtu = top.int('mtu', 0, (n) => n === 0 || (n >= 68 && n <= 65535), 'an integer from 68 to 65535 (or 0 for the kernel default)');

  const levelText = top.string('log_level');
  let logLevel: LogLevel = 'info';
  if (levelText !== undefined) {
    const l = LOG_LEVELS[levelText.toLowerCase()];
    if (l) logLevel = l;
    else problems.push({ path: 'log_level', message: `must be one of debug, info, warning, error; got ${JSON.stringify(levelText)}` });
  }
  const logFilePath = top.string('log_file_path', { pattern: /^\//, what: 'an absolute path' });

  const ipamFields = top.child('ipam', true);
  const ipam: IpamConf = { type: '', assignIpv4: true, assignIpv6: false, ipv4Pools: [], ipv6Pools: [] };
  if (ipamFields) {
    ipam.type = ipamFields.string('type', { required: true, pattern: PLUGIN_NAME, what: 'a plugin name' }) ?? '';
    if (ipam.type === IPAM_TYPE) {
      ipam.assignIpv4 = ipamFields.boolean('assign_ipv4', true);
      ipam.assignIpv6 = ipamFields.boolean('assign_ipv6', false);
      if (!ipam.assignIpv4 && !ipam.assignIpv6) problems.push({ path: 'ipam.assign_ipv4', message: 'assign_ipv4 and assign_ipv6 are both false: no address to assign' });
      ipam.ipv4Pools = ipamFields.strings('ipv4_pools', (s) => poolRefProblem(s, 4)) ?? [];
      ipam.ipv6Pools = ipamFields.strings('ipv6_pools', (s) => poolRefProblem(s, 6)) ?? [];
    }
  }

  let dns: DnsConf | undefined;
  const dnsFields = top.child('dns');
  if (dnsFields) {
    dns = {};
    const ns = dnsFields.strings('nameservers', (s) => (isIP(s) ? undefined : `${JSON.stringify(s)} is not an IP address`));
    if (ns && ns.length > 0) dns.nameservers = ns;
    const domain = dnsFields.string('domain');
    if (domain) dns.domain = domain;
    const search = dnsFields.strings('search');
    if (search && search.length > 0) dns.search = search;
    const options = dnsFields.strings('options');
    if (options && options.length > 0) dns.options = options;
  }

  const allowIpForwarding = top.child('container_settings')?.boolean('allow_ip_forwarding', false) ?? false;
  const labels = readLabels(top, problems);

  if (problems.length > 0) throw invalid(problems);
  const conf: NetConf = { cniVersion, name, type, etcd, nodenameFile, mtu, ipam, logLevel, allowIpForwarding, labels, raw };
  if (nodename !== undefined) conf.nodename = nodename;
  if (dns !== undefined && Object.keys(dns).length > 0) conf.dns = dns;
  if (logFilePath !== undefined) conf.logFilePath = logFilePath;
  if (raw['prevResult'] !== undefined && raw['prevResult'] !== null) conf.prevResult = raw['prevResult'];
  return conf;
}

/** `args.cni.labels: [{key, value}, ...]` (CNI CONVENTIONS.md), checked as Kubernetes label keys and values. */
function readLabels(top: Fields, problems: Problem[]): Record<string, string> {
  const list = top.child('args')?.child('cni')?.obj['labels'];
  const out: Record<string, string> = {};
  if (list === undefined || list === null) return out;
  const path = 'args.cni.labels';
  if (!Array.isArray(list)) {
    problems.push({ path, message: `must be a list of {"key", "value"} objects, got ${describe(list)}` });
    return out;
  }
  list.forEach((l, i) => {
    const p = `${path}[${i}]`;
    if (typeof l !== 'object' || l === null || Array.isArray(l)) {
      problems.push({ path: p, message: `must be a {"key", "value"} object, got ${describe(l)}` });
      return;
    }
    const { key, value } = l as { key?: unknown; value?: unknown };
    const before = problems.length;
    if (typeof key !== 'string' || key === '') problems.push({ path: `${p}.key`, message: 'must be a non-empty string' });
    else labelKey(key, `${p}.key`, problems);
    if (typeof value !== 'string') problems.push({ path: `${p}.value`, message: 'must be a string' });
    else labelValue(value, `${p}.value`, problems);
    if (problems.length === before) out[key as string] = value as string;
  });
  return out;
}

/** A pool is named by its resource name or its CIDR. */
function poolRefProblem(s: string, family: 4 | 6): string | undefined {
  if (s.includes('/')) {
    const p = parsePrefix(s);
    if (!p) return `${JSON.stringify(s)} is not a CIDR`;
    if (p.family !== (family === 4 ? 'ipv4-unicast' : 'ipv6-unicast')) return `${JSON.stringify(s)} is not an IPv${family} CIDR`;
    return undefined;
  }
  return /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(s) ? undefined : `${JSON.stringify(s)} is neither a pool name nor a CIDR`;
}

function invalid(problems: readonly Problem[]): CniError {
  const lines = problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message));
  return new CniError(CNI_INVALID_CONFIG, `invalid network config: ${lines.join('; ')}`, lines.join('\n'));
}
