import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isIPv4 } from 'node:net';
import { parseDocument } from 'yaml';
import { FAMILIES, type Family } from '../bgp/wire/types';
import { parsePrefix, ipFamily } from '../util/ip';
import { ConfigError } from './errors';
import { expandEnv } from './env-expand';
import { FieldReader, describe } from './fields';
import { parseCommunity, parseLargeCommunity } from '../bgp/policy/communities';
import { DEFAULT_SECRETS_DIR, type NodeConfig, type OriginateEntry, type PeerConfigEntry, type PeerPassword, type BgpTimersConfig, type DatastoreSettings } from './types';
import type { NamedBgpFilter } from '../bgp/policy/bgp-filter';
import { checkResource } from '../datastore/resources/validate';
import { isSecretName, MAX_PASSWORD_BYTES } from './secrets';

/** Calico's default AS number (BGPConfiguration asNumber). */
export const DEFAULT_AS_NUMBER = 64512;
export const DEFAULT_BGP_PORT = 179;
export const DEFAULT_CONTROL_SOCKET = '/run/tartan/tartan.sock';
/** RFC 4271 §10 suggests 90 s; FRR and GoBGP default to it too (BIRD: 240). */
export const DEFAULT_HOLD_TIME = 90;
/** Calico's BIRD template: `connect retry time 3`. */
export const DEFAULT_CONNECT_RETRY_TIME = 3;
/** BIRD's and Calico's default graceful restart time. */
export const DEFAULT_GRACEFUL_RESTART_TIME = 120;

const MAX_ASN = 4294967295;

/** Read, parse and validate a node config file. Throws ConfigError naming the field. */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): NodeConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError('', code === 'ENOENT' ? 'no such file' : `cannot read: ${code ?? String(err)}`, file);
  }
  return parseConfig(text, file, env);
}

/** Parse and validate config text (YAML or JSON). */
export function parseConfig(text: string, file?: string, env: NodeJS.ProcessEnv = process.env): NodeConfig {
  const doc = parseDocument(expandEnv(text, env, file), { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0];
    const where = line ? `line ${line.line}, column ${line.col}` : '';
    throw new ConfigError(where, `invalid YAML: ${e.message.split('\n')[0]}`, file);
  }
  try {
    return validateConfig(doc.toJS(), env);
  } catch (err) {
    if (err instanceof ConfigError && file) throw new ConfigError(err.path, err.message.slice(err.path ? err.path.length + 2 : 0), file);
    throw err;
  }
}

/** Validate an already-parsed config object and apply defaults. */
export function validateConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): NodeConfig {
  const top = FieldReader.of(raw, '');
  const datastore = readDatastore(top, env);
  const nodeName = top.string('nodeName', hostname());
  const asNumber = top.integer('asNumber', 1, MAX_ASN, DEFAULT_AS_NUMBER);
  const ipv4Address = top.optionalIp('ipv4Address');
  if (ipv4Address !== undefined && ipFamily(ipv4Address) !== 'ipv4-unicast') {
    throw new ConfigError('ipv4Address', `"${ipv4Address}" is not an IPv4 address`);
  }
  const ipv6Address = top.optionalIp('ipv6Address');
  if (ipv6Address !== undefined && ipFamily(ipv6Address) !== 'ipv6-unicast') {
    throw new ConfigError('ipv6Address', `"${ipv6Address}" is not an IPv6 address`);
  }
  let routerId: string;
  if (datastore && !top.has('routerId') && ipv4Address === undefined) {
    // Cluster mode: the router ID is the node's IPv4 address, autodetected at start.
    top.raw('routerId');
    routerId = '';
  } else if (top.has('routerId') || ipv4Address === undefined) {
    routerId = top.string('routerId');
    // RFC 4271 §4.2 / RFC 6286 §2.1: a non-zero 4-octet value, written as a dotted quad.
    if (!isIPv4(routerId) || routerId === '0.0.0.0') {
      throw new ConfigError('routerId', `"${routerId}" is not a dotted-quad router ID (e.g. 192.0.2.1)`);
    }
  } else {
    top.raw('routerId');
    routerId = ipv4Address;
  }

  const routeReflectorClusterID = top.has('routeReflectorClusterID') ? top.string('routeReflectorClusterID') : (top.raw('routeReflectorClusterID'), undefined);
  if (routeReflectorClusterID !== undefined && (!isIPv4(routeReflectorClusterID) || routeReflectorClusterID === '0.0.0.0')) {
    throw new ConfigError('routeReflectorClusterID', `"${routeReflectorClusterID}" is not a dotted-quad cluster ID (RFC 4456 §7)`);
  }

  const listenReader = top.child('listen');
  const listen = {
    address: listenReader.ip('address', '::'),
    port: listenReader.integer('port', 1, 65535, DEFAULT_BGP_PORT),
    enabled: listenReader.boolean('enabled', true),
  };
  listenReader.rejectUnknown();

  const fibReader = top.child('fib');
  const fib = {
    enabled: fibReader.boolean('enabled', true),
    table: fibReader.integer('table', 1, 0xfffffffe, 254),
    metric: fibReader.integer('metric', 0, 0xffffffff, 32),
    resyncIntervalSeconds: fibReader.integer('resyncIntervalSeconds', 0, 86400, 90),
    startupHoldSeconds: fibReader.integer('startupHoldSeconds', 0, 3600, 10),
    nexthopObjects: fibReader.boolean('nexthopObjects', true),
  };
  fibReader.rejectUnknown();

  const endpoint = (name: string, host: string, port: number): { enabled: boolean; host: string; port: number } => {
    const r = top.child(name);
    const out = { enabled: r.boolean('enabled', true), host: r.ip('host', host), port: r.integer('port', 0, 65535, port) };
    r.rejectUnknown();
    return out;
  };
  const metrics = endpoint('metrics', '0.0.0.0', 9091);
  const health = endpoint('health', '127.0.0.1', 9099);
  const dpReader = top.child('dataplane');
  const dataplane = {
    enabled: dpReader.boolean('enabled', true),
    interfacePrefix: dpReader.optionalString('interfacePrefix'),
    policy: dpReader.boolean('policy', true),
  };
  dpReader.rejectUnknown();

  const controlSocket = top.string('controlSocket', DEFAULT_CONTROL_SOCKET);
  const secretsDir = top.string('secretsDir', DEFAULT_SECRETS_DIR);

  const logReader = top.child('log');
  const log = {
    level: logReader.oneOf('level', ['error', 'warn', 'info', 'debug'] as const, 'info'),
    format: logReader.oneOf('format', ['auto', 'json', 'text'] as const, 'auto'),
  };
  logReader.rejectUnknown();

  const bgpReader = top.child('bgp');
  const bgp: BgpTimersConfig = {
    holdTime: holdTime(bgpReader, 'holdTime', DEFAULT_HOLD_TIME),
    keepaliveTime: bgpReader.optionalInteger('keepaliveTime', 1, 21845),
    connectRetryTime: bgpReader.integer('connectRetryTime', 1, 65535, DEFAULT_CONNECT_RETRY_TIME),
    gracefulRestartTime: bgpReader.integer('gracefulRestartTime', 0, 4095, DEFAULT_GRACEFUL_RESTART_TIME),
    nextHopTracking: bgpReader.boolean('nextHopTracking', true),
  };
  bgpReader.rejectUnknown();

  const peers = top.list('peers').map(({ value, path }) => readPeer(value, path, bgp));
  for (const [i, p] of peers.entries()) {
    if (p.routeReflectorClient && p.asNumber !== (p.localASNumber ?? asNumber)) {
      throw new ConfigError(`peers[${i}].routeReflectorClient`, `a route-reflector client must be an iBGP peer (AS ${p.asNumber} is not ours)`);
    }
  }
  const client = peers.findIndex((p) => p.routeReflectorClient);
  if (client >= 0 && routeReflectorClusterID === undefined) {
    throw new ConfigError(`peers[${client}].routeReflectorClient`, 'needs routeReflectorClusterID: only a route reflector has clients');
  }
  const seen = new Map<string, string>();
  for (const [i, p] of peers.entries()) {
    const key = `${p.peerIP}`;
    const before = seen.get(key);
    if (before) throw new ConfigError(`peers[${i}].peerIP`, `${p.peerIP} is already configured at ${before}`);
    seen.set(key, `peers[${i}]`);
  }

  const originate = top.list('originate').map(({ value, path }) => readOriginate(value, path));
  const bgpFilters = top.list('bgpFilters').map(({ value, path }) => readBgpFilter(value, path));
  const filterNames = new Set(bgpFilters.map((f) => f.name));
  for (const [i, p] of peers.entries()) {
    const j = p.filters.findIndex((f) => !filterNames.has(f));
    if (j >= 0) throw new ConfigError(`peers[${i}].filters[${j}]`, `no bgpFilters entry is named "${p.filters[j]}"`);
  }
  top.rejectUnknown();

  if (datastore && top.has('asNumber')) datastore.nodeASNumber = asNumber;
  return { nodeName, asNumber, routerId, ipv4Address, ipv6Address, routeReflectorClusterID, listen, fib, metrics, health, dataplane, controlSocket, log, bgp, peers, originate, bgpFilters, secretsDir, ...(datastore ? { datastore } : {}) };
}

/** Autodetection methods Tartan knows (Calico's, minus kubernetes-internal-ip). */
const AUTODETECT = /^(first-found|none|can-reach=.+|interface=.+|skip-interface=.+|cidr=.+)$/;

/**
 * The `datastore` section, completed from Calico's environment variables
 * (DATASTORE_TYPE, ETCD_ENDPOINTS, ETCD_CA_CERT_FILE, ETCD_CERT_FILE,
 * ETCD_KEY_FILE, ETCD_USERNAME, ETCD_PASSWORD): the file wins field by
 * field. Without the section and without DATASTORE_TYPE=etcdv3 the node is
 * standalone.
 */
function readDatastore(top: FieldReader, env: NodeJS.ProcessEnv): DatastoreSettings | undefined {
  const envType = env['DATASTORE_TYPE'];
  if (!top.has('datastore') && envType !== 'etcdv3') {
    top.raw('datastore');
    return undefined;
  }
  const r = top.child('datastore');
  const type = r.oneOf('type', ['etcdv3'] as const, 'etcdv3');
  let endpoints = r.list('endpoints').map(({ value, path }) => {
    if (typeof value !== 'string' || !/^(https?:\/\/)?[^/\s]+(\/)?$/.test(value)) {
      throw new ConfigError(path, `${describe(value)} is not an etcd endpoint (http(s)://host:port)`);
    }
    return value;
  });
  if (endpoints.length === 0) {
    endpoints = (env['ETCD_ENDPOINTS'] ?? 'http://127.0.0.1:2379').split(',').map((e) => e.trim()).filter((e) => e.length > 0);
  }
  const fromEnv = (name: string, envName: string): string | undefined => r.optionalString(name) ?? (env[envName] || undefined);
  const ds: DatastoreSettings = {
    type,
    endpoints,
    ipAutodetectionMethod: r.string('ipAutodetectionMethod', env['IP_AUTODETECTION_METHOD'] || 'first-found'),
    ip6AutodetectionMethod: r.string('ip6AutodetectionMethod', env['IP6_AUTODETECTION_METHOD'] || 'none'),
    reportIntervalSeconds: r.integer('reportIntervalSeconds', 1, 3600, 30),
    reportTTLSeconds: r.integer('reportTTLSeconds', 2, 86400, 90),
  };
  const optional = { caCertFile: 'ETCD_CA_CERT_FILE', certFile: 'ETCD_CERT_FILE', keyFile: 'ETCD_KEY_FILE', username: 'ETCD_USERNAME', password: 'ETCD_PASSWORD' } as const;
  for (const [field, envName] of Object.entries(optional) as [keyof typeof optional, string][]) {
    const v = fromEnv(field, envName);
    if (v !== undefined) ds[field] = v;
  }
  for (const field of ['ipAutodetectionMethod', 'ip6AutodetectionMethod'] as const) {
    if (!AUTODETECT.test(ds[field])) {
      throw new ConfigError(r.fieldPath(field), `"${ds[field]}" is not an autodetection method (first-found, can-reach=DEST, interface=REGEX, skip-interface=REGEX, cidr=CIDR, none)`);
    }
  }
  if (ds.reportTTLSeconds <= ds.reportIntervalSeconds) {
    throw new ConfigError(r.fieldPath('reportTTLSeconds'), `must be longer than reportIntervalSeconds (${ds.reportIntervalSeconds}), or the liveness key expires between reports`);
  }
  if ((ds.certFile === undefined) !== (ds.keyFile === undefined)) throw new ConfigError(r.fieldPath('certFile'), 'certFile and keyFile must be given together');
  if ((ds.username === undefined) !== (ds.password === undefined)) throw new ConfigError(r.fieldPath('username'), 'username and password must be given together');
  r.rejectUnknown();
  return ds;
}

/** RFC 4271 §4.2: hold time is 0 or at least 3 seconds. */
function holdTime(r: FieldReader, name: string, fallback: number): number {
  const v = r.integer(name, 0, 65535, fallback);
  if (v === 1 || v === 2) throw new ConfigError(r.fieldPath(name), `${v} is not allowed: hold time must be 0 or at least 3 (RFC 4271 §4.2)`);
  return v;
}

function readPeer(value: unknown, path: string, defaults: BgpTimersConfig): PeerConfigEntry {
  const r = FieldReader.of(value, path);
  const peerIP = r.ip('peerIP');
  const families = readFamilies(r, ['ipv4-unicast', 'ipv6-unicast']);
  const peer: PeerConfigEntry = {
    name: r.string('name', peerIP),
    peerIP,
    port: r.integer('port', 1, 65535, DEFAULT_BGP_PORT),
    asNumber: r.integer('asNumber', 1, MAX_ASN),
    localASNumber: r.optionalInteger('localASNumber', 1, MAX_ASN),
    passive: r.boolean('passive', false),
    holdTime: holdTime(r, 'holdTime', defaults.holdTime),
    keepaliveTime: r.optionalInteger('keepaliveTime', 1, 21845) ?? defaults.keepaliveTime,
    connectRetryTime: r.integer('connectRetryTime', 1, 65535, defaults.connectRetryTime),
    families,
    sourceAddress: r.optionalIp('sourceAddress'),
    enabled: r.boolean('enabled', true),
    routeReflectorClient: r.boolean('routeReflectorClient', false),
    nextHopMode: r.oneOf('nextHopMode', ['Auto', 'Self', 'Keep'] as const, 'Auto'),
    addPaths: r.oneOf('addPaths', ['off', 'receive', 'send', 'both'] as const, 'off'),
    filters: r.list('filters').map(({ value: v, path: p }) => {
      if (typeof v !== 'string' || !v) throw new ConfigError(p, `must be a filter name, got ${describe(v)}`);
      return v;
    }),
  };
  const ttlSecurity = r.optionalInteger('ttlSecurity', 1, 255);
  if (ttlSecurity !== undefined) peer.ttlSecurity = ttlSecurity;
  const password = readPassword(r);
  if (password !== undefined) peer.password = password;
  if (peer.sourceAddress !== undefined && ipFamily(peer.sourceAddress) !== ipFamily(peerIP)) {
    throw new ConfigError(r.fieldPath('sourceAddress'), `${peer.sourceAddress} is not of the same family as peerIP ${peerIP}`);
  }
  r.rejectUnknown();
  return peer;
}

/**
 * `password: "text"` (inline), or Calico's `password: {secretKeyRef: {name,
 * key}}`: the file `<secretsDir>/<name>/<key>`.
 */
function readPassword(r: FieldReader): PeerPassword | undefined {
  if (!r.has('password')) {
    r.raw('password');
    return undefined;
  }
  const v = r.raw('password');
  if (typeof v === 'string') {
    const bytes = Buffer.byteLength(v);
    if (bytes < 1 || bytes > MAX_PASSWORD_BYTES) throw new ConfigError(r.fieldPath('password'), `must be 1..${MAX_PASSWORD_BYTES} bytes (a TCP-MD5 key), got ${bytes}`);
    return { inline: v };
  }
  const p = r.child('password');
  const ref = p.child('secretKeyRef');
  p.rejectUnknown();
  const out = { secretName: secretPart(ref, 'name'), secretKey: secretPart(ref, 'key') };
  ref.rejectUnknown();
  return out;
}

/** A secret or key name: one path component, as in Kubernetes. */
function secretPart(r: FieldReader, name: string): string {
  const v = r.string(name);
  if (!isSecretName(v)) {
    throw new ConfigError(r.fieldPath(name), `"${v}" is not a secret ${name} (letters, digits, ".", "_", "-")`);
  }
  return v;
}

function readFamilies(r: FieldReader, fallback: Family[]): Family[] {
  if (!r.has('families')) {
    r.raw('families');
    return fallback;
  }
  const out: Family[] = [];
  for (const { value, path } of r.list('families')) {
    if (typeof value !== 'string' || !(FAMILIES as readonly string[]).includes(value)) {
      throw new ConfigError(path, `must be one of ${FAMILIES.join(', ')}, got ${describe(value)}`);
    }
    if (!out.includes(value as Family)) out.push(value as Family);
  }
  if (out.length === 0) throw new ConfigError(r.fieldPath('families'), 'must name at least one family');
  return out;
}

/** A Calico BGPFilter as {name, spec}, validated by the same rules as the datastore's BGPFilter resource. */
function readBgpFilter(value: unknown, path: string): NamedBgpFilter {
  const r = FieldReader.of(value, path);
  const name = r.string('name');
  const spec = r.raw('spec') ?? {};
  r.rejectUnknown();
  const check = checkResource({ apiVersion: 'projectcalico.org/v3', kind: 'BGPFilter', metadata: { name }, spec });
  if (!check.ok) {
    const p = check.problems[0]!;
    throw new ConfigError(p.path.startsWith('metadata.name') ? `${path}.name` : `${path}.${p.path}`, p.message);
  }
  return { name, spec: spec as NamedBgpFilter['spec'] };
}

function readOriginate(value: unknown, path: string): OriginateEntry {
  // Shorthand: a bare prefix string.
  const r = typeof value === 'string' ? FieldReader.of({ prefix: value }, path) : FieldReader.of(value, path);
  const prefixText = r.string('prefix');
  const prefix = parsePrefix(prefixText, true);
  if (!prefix) {
    throw new ConfigError(r.fieldPath('prefix'), `"${prefixText}" is not a prefix with host bits clear (e.g. 10.65.0.0/26)`);
  }
  const nextHop = r.optionalIp('nextHop');
  if (nextHop !== undefined && prefix.family === 'ipv6-unicast' && ipFamily(nextHop) !== 'ipv6-unicast') {
    throw new ConfigError(r.fieldPath('nextHop'), `an IPv6 prefix needs an IPv6 next hop, got ${nextHop}`);
  }
  const communities = r.list('communities').map(({ value: v, path: p }) => {
    if (typeof v !== 'string' || parseCommunity(v) === null) {
      throw new ConfigError(p, `${describe(v)} is not a community (AS:value with each part 0..65535, or no-export, no-advertise, no-export-subconfed)`);
    }
    return v;
  });
  const largeCommunities = r.list('largeCommunities').map(({ value: v, path: p }) => {
    if (typeof v !== 'string' || parseLargeCommunity(v) === null) {
      throw new ConfigError(p, `${describe(v)} is not a large community (global:local1:local2, each 0..4294967295)`);
    }
    return v;
  });
  const entry: OriginateEntry = {
    prefix: prefix.cidr,
    family: prefix.family,
    nextHop,
    med: r.optionalInteger('med', 0, MAX_ASN),
    localPref: r.optionalInteger('localPref', 0, MAX_ASN),
    communities,
    largeCommunities,
  };
  r.rejectUnknown();
  return entry;
}
