/**
 * How to reach etcd: from an object, or from Calico's environment variables
 * (`libcalico-go/lib/apiconfig/apiconfig.go`: ETCD_ENDPOINTS,
 * ETCD_CA_CERT_FILE, ETCD_CERT_FILE, ETCD_KEY_FILE, ETCD_USERNAME,
 * ETCD_PASSWORD).
 */
import { readFileSync } from 'node:fs';
import type { IOptions } from 'etcd3';
import { DATASTORE_CONFIG_INVALID, DatastoreError } from './errors';

export interface DatastoreConfig {
  /** etcd client URLs, e.g. ["https://10.0.0.1:2379"]. */
  endpoints: string[];
  caCertFile?: string;
  certFile?: string;
  keyFile?: string;
  username?: string;
  password?: string;
  /** Deadline for one unary request, ms (default 5000). */
  requestTimeoutMs?: number;
  /**
   * gRPC keepalive ping interval on open streams, ms (default 10000). A
   * watch on a hung server (SIGSTOP, dead link) is only noticed through
   * these pings; etcd's default `--grpc-keepalive-min-time` is 5s, so going
   * lower gets the stream closed with ENHANCE_YOUR_CALM.
   */
  keepaliveMs?: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 5000;
export const DEFAULT_KEEPALIVE_MS = 10_000;
export const DEFAULT_ENDPOINT = 'http://127.0.0.1:2379';

/** Config from ETCD_* variables; ETCD_ENDPOINTS is a comma-separated list. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): DatastoreConfig {
  const endpoints = (env['ETCD_ENDPOINTS'] ?? DEFAULT_ENDPOINT)
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  const cfg: DatastoreConfig = { endpoints };
  const set = (key: keyof DatastoreConfig & string, envName: string): void => {
    const v = env[envName];
    if (v) (cfg as unknown as Record<string, string>)[key] = v;
  };
  set('caCertFile', 'ETCD_CA_CERT_FILE');
  set('certFile', 'ETCD_CERT_FILE');
  set('keyFile', 'ETCD_KEY_FILE');
  set('username', 'ETCD_USERNAME');
  set('password', 'ETCD_PASSWORD');
  return cfg;
}

/** Check the config and build etcd3 options (reads the TLS files). */
export function etcdOptions(cfg: DatastoreConfig): IOptions {
  const problems: string[] = [];
  if (cfg.endpoints.length === 0) problems.push('endpoints: at least one etcd endpoint is required');
  const hosts = cfg.endpoints.map((e, i) => {
    const m = /^(https?:\/\/)?([^/\s]+?)(\/)?$/.exec(e);
    if (!m) problems.push(`endpoints[${i}]: ${JSON.stringify(e)} is not host:port or a http(s) URL`);
    return e;
  });
  const tls = hosts.some((h) => h.startsWith('https://')) || cfg.caCertFile !== undefined;
  if ((cfg.certFile === undefined) !== (cfg.keyFile === undefined)) problems.push('certFile and keyFile must be given together');
  if ((cfg.username === undefined) !== (cfg.password === undefined)) problems.push('username and password must be given together');
  if (problems.length > 0) throw new DatastoreError(DATASTORE_CONFIG_INVALID, `invalid etcd configuration: ${problems.join('; ')}`);

  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new DatastoreError(DATASTORE_CONFIG_INVALID, `cannot read etcd ${what} ${file}: ${(e as Error).message}`, { cause: e });
    }
  };
  const timeout = cfg.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const opts: IOptions = {
    hosts,
    dialTimeout: timeout,
    grpcOptions: {
      'grpc.keepalive_time_ms': cfg.keepaliveMs ?? DEFAULT_KEEPALIVE_MS,
      'grpc.keepalive_timeout_ms': Math.max(1000, Math.floor((cfg.keepaliveMs ?? DEFAULT_KEEPALIVE_MS) / 2)),
    },
    // Every unary call gets a deadline, so a hung etcd surfaces as
    // DATASTORE_UNAVAILABLE instead of a promise that never settles.
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
  };
  if (tls) {
    opts.credentials = {
      rootCertificate: cfg.caCertFile ? read(cfg.caCertFile, 'CA certificate') : Buffer.alloc(0),
      ...(cfg.certFile ? { certChain: read(cfg.certFile, 'certificate') } : {}),
      ...(cfg.keyFile ? { privateKey: read(cfg.keyFile, 'key') } : {}),
    };
  }
  if (cfg.username !== undefined && cfg.password !== undefined) opts.auth = { username: cfg.username, password: cfg.password };
  return opts;
}
