/**
 * Where tartanctl finds etcd, as calicoctl does (`libcalico-go/lib/apiconfig`):
 *
 *   1. `--etcd-endpoints` on the command line (TLS files still from 2 or 3);
 *   2. the config file: `-c/--config FILE`, else /etc/tartan/tartanctl.yaml
 *      when it exists — a `CalicoAPIConfig` with spec.etcdEndpoints,
 *      etcdKeyFile, etcdCertFile, etcdCACertFile, etcdUsername, etcdPassword;
 *   3. otherwise the ETCD_* environment (ETCD_ENDPOINTS, ETCD_CA_CERT_FILE…),
 *      default http://127.0.0.1:2379.
 *
 * A file named with -c that is missing or malformed is an error; the
 * default file is only used when present.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { configFromEnv, type DatastoreConfig } from '../datastore';
import { CliError } from './errors';

export const DEFAULT_CLI_CONFIG = '/etc/tartan/tartanctl.yaml';

export interface CliDatastoreOptions {
  /** -c/--config; undefined = the default file if it exists. */
  config?: string;
  /** --etcd-endpoints, comma-separated. */
  etcdEndpoints?: string;
}

const FIELDS: Record<string, keyof DatastoreConfig> = {
  etcdEndpoints: 'endpoints',
  etcdKeyFile: 'keyFile',
  etcdCertFile: 'certFile',
  etcdCACertFile: 'caCertFile',
  etcdUsername: 'username',
  etcdPassword: 'password',
};

/** Parse a CalicoAPIConfig document (YAML or JSON); `file` names it in errors. */
export function parseCliConfig(text: string, file: string): DatastoreConfig {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = e.linePos?.[0];
    throw new CliError(`invalid config file ${file}: ${e.message.split('\n')[0]!.replace(/:$/, '')}${pos && !e.message.includes('at line') ? ` at line ${pos.line}` : ''}`);
  }
  const raw: unknown = doc.toJS();
  const bad = (path: string, what: string): CliError => new CliError(`invalid config file ${file}: ${path}: ${what}`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('', 'expected a CalicoAPIConfig mapping');
  const top = raw as Record<string, unknown>;
  if (top['kind'] !== undefined && top['kind'] !== 'CalicoAPIConfig') throw bad('kind', `must be CalicoAPIConfig, got ${JSON.stringify(top['kind'])}`);
  const spec = top['spec'] ?? {};
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw bad('spec', 'expected a mapping');
  const cfg: DatastoreConfig = { endpoints: [] };
  for (const [key, value] of Object.entries(spec as Record<string, unknown>)) {
    if (key === 'datastoreType') {
      if (value !== 'etcdv3') throw bad('spec.datastoreType', `only etcdv3 is supported, got ${JSON.stringify(value)}`);
      continue;
    }
    const field = FIELDS[key];
    if (!field) throw bad(`spec.${key}`, `unknown field (known: datastoreType, ${Object.keys(FIELDS).join(', ')})`);
    if (typeof value !== 'string') throw bad(`spec.${key}`, `expected a string, got ${JSON.stringify(value)}`);
    if (field === 'endpoints') cfg.endpoints = splitEndpoints(value);
    else (cfg as unknown as Record<string, string>)[field] = value;
  }
  if (cfg.endpoints.length === 0) throw bad('spec.etcdEndpoints', 'required (e.g. http://127.0.0.1:2379)');
  return cfg;
}

function splitEndpoints(text: string): string[] {
  return text
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
}

/** The datastore config tartanctl uses, and where it came from (for error messages). */
export function resolveDatastoreConfig(opts: CliDatastoreOptions, env: NodeJS.ProcessEnv = process.env): DatastoreConfig {
  let cfg: DatastoreConfig;
  const file = opts.config ?? (existsSync(DEFAULT_CLI_CONFIG) ? DEFAULT_CLI_CONFIG : undefined);
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new CliError(`cannot read config file ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(e))}`);
    }
    cfg = parseCliConfig(text, file);
  } else {
    cfg = configFromEnv(env);
  }
  if (opts.etcdEndpoints !== undefined) cfg = { ...cfg, endpoints: splitEndpoints(opts.etcdEndpoints) };
  // A CLI should say "unreachable" quickly rather than hang.
  return { requestTimeoutMs: 5000, ...cfg };
}
