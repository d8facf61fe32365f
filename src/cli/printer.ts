/**
 * `get -o ps|wide|yaml|json|custom-columns=A,B` (calicoctl
 * `commands/common/printer.go` and the `resourcemgr/*.go` column templates).
 * yaml/json print the object itself for one result and a `List` otherwise.
 */
import { stringify } from 'yaml';
import { API_VERSION, type Kind, type Resource } from '../datastore';
import { UsageError } from './errors';
import { plainTable } from './table';

export type OutputFormat = { type: 'ps' } | { type: 'wide' } | { type: 'yaml' } | { type: 'json' } | { type: 'custom'; columns: string[] };

export const OUTPUT_FORMATS = ['ps', 'wide', 'yaml', 'yml', 'json', 'custom-columns=A,B'];

export function parseOutputFormat(text: string): OutputFormat {
  switch (text) {
    case 'ps':
      return { type: 'ps' };
    case 'wide':
      return { type: 'wide' };
    case 'yaml':
    case 'yml':
      return { type: 'yaml' };
    case 'json':
      return { type: 'json' };
    default:
      if (text.startsWith('custom-columns=')) {
        const columns = text
          .slice('custom-columns='.length)
          .split(',')
          .map((c) => c.trim())
          .filter((c) => c.length > 0);
        if (columns.length === 0) throw new UsageError('custom-columns needs at least one column, e.g. custom-columns=NAME,ASN');
        return { type: 'custom', columns };
      }
      throw new UsageError(`unknown output format ${JSON.stringify(text)} (use ps, wide, yaml, json or custom-columns=A,B)`);
  }
}

/** What some columns need beyond the resource itself. */
export interface PrintContext {
  /** The cluster AS number nodes inherit (BGPConfiguration default, else 64512). */
  defaultAsNumber: number | string;
}

type Getter = (r: Resource, ctx: PrintContext) => string;
interface KindColumns {
  ps: string[];
  wide: string[];
  get: Record<string, Getter>;
}

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
const spec = (r: Resource): Record<string, unknown> => (r.spec ?? {}) as Record<string, unknown>;
const name: Getter = (r) => r.metadata.name;
const labelsText = (l: Record<string, string> | undefined): string =>
  Object.entries(l ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

const policyColumns: KindColumns = {
  ps: ['NAME', 'TIER'],
  wide: ['NAME', 'TIER', 'ORDER', 'SELECTOR'],
  get: {
    NAME: name,
    TIER: (r) => str(spec(r)['tier'] ?? 'default'),
    ORDER: (r) => str(spec(r)['order']),
    SELECTOR: (r) => str(spec(r)['selector']),
  },
};

const COLUMNS: Record<Kind, KindColumns> = {
  BGPPeer: {
    ps: ['NAME', 'PEERIP', 'NODE', 'ASN'],
    wide: ['NAME', 'PEERIP', 'NODE', 'ASN'],
    get: {
      NAME: name,
      PEERIP: (r) => str(spec(r)['peerIP'] ?? spec(r)['peerSelector']),
      NODE: (r) => str(spec(r)['node'] || spec(r)['nodeSelector'] || '(global)'),
      ASN: (r) => str(spec(r)['asNumber']),
    },
  },
  Node: {
    ps: ['NAME'],
    wide: ['NAME', 'ASN', 'IPV4', 'IPV6'],
    get: {
      NAME: name,
      ASN: (r, ctx) => {
        const bgp = spec(r)['bgp'] as Record<string, unknown> | undefined;
        if (!bgp) return '';
        return bgp['asNumber'] !== undefined ? str(bgp['asNumber']) : `(${ctx.defaultAsNumber})`;
      },
      IPV4: (r) => str((spec(r)['bgp'] as Record<string, unknown> | undefined)?.['ipv4Address']),
      IPV6: (r) => str((spec(r)['bgp'] as Record<string, unknown> | undefined)?.['ipv6Address']),
    },
  },
  IPPool: {
    ps: ['NAME', 'CIDR', 'SELECTOR'],
    wide: ['NAME', 'CIDR', 'NAT', 'IPIPMODE', 'VXLANMODE', 'DISABLED', 'DISABLEBGPEXPORT', 'SELECTOR', 'ASSIGNMENTMODE'],
    get: {
      NAME: name,
      CIDR: (r) => str(spec(r)['cidr']),
      SELECTOR: (r) => str(spec(r)['nodeSelector'] ?? 'all()'),
      NAT: (r) => str(spec(r)['natOutgoing'] ?? false),
      IPIPMODE: (r) => str(spec(r)['ipipMode'] ?? 'Never'),
      VXLANMODE: (r) => str(spec(r)['vxlanMode'] ?? 'Never'),
      DISABLED: (r) => str(spec(r)['disabled'] ?? false),
      DISABLEBGPEXPORT: (r) => str(spec(r)['disableBGPExport'] ?? false),
      ASSIGNMENTMODE: (r) => str(spec(r)['assignmentMode'] ?? 'Automatic'),
    },
  },
  BGPConfiguration: {
    ps: ['NAME', 'LOGSEVERITY', 'MESHENABLED', 'ASNUMBER'],
    wide: ['NAME', 'LOGSEVERITY', 'MESHENABLED', 'ASNUMBER'],
    get: {
      NAME: name,
      LOGSEVERITY: (r) => str(spec(r)['logSeverityScreen']),
      MESHENABLED: (r) => str(spec(r)['nodeToNodeMeshEnabled']),
      ASNUMBER: (r) => str(spec(r)['asNumber']),
    },
  },
  BGPFilter: {
    ps: ['NAME', 'NUMEXPORTV4', 'NUMIMPORTV4', 'NUMEXPORTV6', 'NUMIMPORTV6'],
    wide: ['NAME', 'NUMEXPORTV4', 'NUMIMPORTV4', 'NUMEXPORTV6', 'NUMIMPORTV6'],
    get: {
      NAME: name,
      NUMEXPORTV4: (r) => str(((spec(r)['exportV4'] as unknown[] | undefined) ?? []).length),
      NUMIMPORTV4: (r) => str(((spec(r)['importV4'] as unknown[] | undefined) ?? []).length),
      NUMEXPORTV6: (r) => str(((spec(r)['exportV6'] as unknown[] | undefined) ?? []).length),
      NUMIMPORTV6: (r) => str(((spec(r)['importV6'] as unknown[] | undefined) ?? []).length),
    },
  },
  WorkloadEndpoint: {
    ps: ['WORKLOAD', 'NODE', 'NETWORKS', 'INTERFACE'],
    wide: ['NAME', 'WORKLOAD', 'NODE', 'NETWORKS', 'INTERFACE', 'PROFILES', 'NATS'],
    get: {
      NAME: name,
      WORKLOAD: (r) => str(spec(r)['workload'] ?? spec(r)['pod']),
      NODE: (r) => str(spec(r)['node']),
      NETWORKS: (r) => ((spec(r)['ipNetworks'] as string[] | undefined) ?? []).join(','),
      INTERFACE: (r) => str(spec(r)['interfaceName']),
      PROFILES: (r) => ((spec(r)['profiles'] as string[] | undefined) ?? []).join(','),
      NATS: (r) =>
        ((spec(r)['ipNATs'] as Array<{ internalIP: string; externalIP: string }> | undefined) ?? []).map((n) => `${n.internalIP}<->${n.externalIP}`).join(','),
    },
  },
  HostEndpoint: {
    ps: ['NAME', 'NODE'],
    wide: ['NAME', 'NODE', 'INTERFACE', 'IPS', 'PROFILES'],
    get: {
      NAME: name,
      NODE: (r) => str(spec(r)['node']),
      INTERFACE: (r) => str(spec(r)['interfaceName']),
      IPS: (r) => ((spec(r)['expectedIPs'] as string[] | undefined) ?? []).join(','),
      PROFILES: (r) => ((spec(r)['profiles'] as string[] | undefined) ?? []).join(','),
    },
  },
  NetworkPolicy: policyColumns,
  GlobalNetworkPolicy: policyColumns,
  Profile: {
    ps: ['NAME'],
    wide: ['NAME', 'LABELS'],
    get: { NAME: name, LABELS: (r) => labelsText((spec(r)['labelsToApply'] as Record<string, string> | undefined) ?? r.metadata.labels) },
  },
  BlockAffinity: {
    ps: ['NAME'],
    wide: ['NAME', 'NODE', 'CIDR', 'STATE'],
    get: { NAME: name, NODE: (r) => str(spec(r)['node']), CIDR: (r) => str(spec(r)['cidr']), STATE: (r) => str(spec(r)['state']) },
  },
  FelixConfiguration: { ps: ['NAME'], wide: ['NAME'], get: { NAME: name } },
  CalicoNodeStatus: {
    ps: ['NAME'],
    wide: ['NAME', 'NODE', 'LASTUPDATED'],
    get: {
      NAME: name,
      NODE: (r) => str(spec(r)['node']),
      LASTUPDATED: (r) => str((r as { status?: { lastUpdated?: string } }).status?.lastUpdated),
    },
  },
};

/** Every column name `custom-columns` accepts for a kind. */
export function columnsOf(kind: Kind): string[] {
  const c = COLUMNS[kind];
  return [...new Set([...c.wide, ...c.ps, ...Object.keys(c.get)])];
}

/** The table for `get -o ps|wide|custom-columns`; NAMESPACE first with -A on namespaced kinds. */
export function renderTable(kind: Kind, items: readonly Resource[], fmt: OutputFormat, ctx: PrintContext, opts: { namespaceColumn?: boolean } = {}): string {
  const c = COLUMNS[kind];
  let headings: string[];
  if (fmt.type === 'custom') {
    const known = columnsOf(kind);
    headings = fmt.columns.map((col) => {
      const up = col.toUpperCase();
      if (!known.includes(up) && up !== 'NAMESPACE') throw new UsageError(`unknown column ${JSON.stringify(col)} for ${kind} (known: ${known.join(', ')})`);
      return up;
    });
  } else {
    headings = fmt.type === 'wide' ? c.wide : c.ps;
    if (opts.namespaceColumn) headings = ['NAMESPACE', ...headings];
  }
  const getters: Record<string, Getter> = { ...c.get, NAMESPACE: (r) => str(r.metadata.namespace) };
  const rows = items.map((r) => headings.map((h) => getters[h]!(r, ctx)));
  return plainTable(headings, rows);
}

/** yaml/json output: the single object, or a List of them. */
export function renderObjects(items: readonly Resource[], fmt: 'yaml' | 'json', listKind: string, revision?: number): string {
  const value: unknown =
    items.length === 1
      ? items[0]
      : { apiVersion: API_VERSION, kind: listKind, items, metadata: revision !== undefined ? { resourceVersion: String(revision) } : {} };
  return fmt === 'json' ? JSON.stringify(value, null, 2) : stringify(value).trimEnd();
}
