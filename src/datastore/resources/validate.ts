/**
 * Whole-resource validation: apiVersion, kind, metadata, spec (and status on
 * the kinds that have one), every problem collected with its path. Pure.
 */
import { ResourceInvalidError } from '../errors';
import { dns1123Label, dns1123Subdomain, labelKey, labelValue } from './names';
import { anyString, describeValue, obj, opaque, str, stringMap, type Check, type Problem } from './schema';
import { kindInfo, KINDS, type KindInfo } from './kinds';
import { API_VERSION, type Resource } from './types';

const labels: Check = (value, path, problems) => {
  stringMap(labelKey)(value, path, problems);
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) labelValue(v, `${path}.${k}`, problems);
  }
};

/** k8s ObjectMeta fields that manifests exported from a cluster carry; kept as they are. */
const k8sOpaque = ['generation', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'ownerReferences', 'finalizers', 'managedFields', 'generateName'];

function metadataCheck(info: KindInfo): Check {
  return obj(
    {
      name: dns1123Subdomain,
      namespace: info.namespaced
        ? dns1123Label
        : (_v, path, problems) => problems.push({ path, message: `${info.kind} is not namespaced` }),
      labels,
      annotations: stringMap(),
      resourceVersion: str(/^\d+$/, 'a resource version (decimal etcd revision)'),
      uid: anyString,
      creationTimestamp: anyString,
      ...Object.fromEntries(k8sOpaque.map((f) => [f, opaque])),
    },
    { required: ['name'] },
  );
}

export type ValidationResult = { ok: true; resource: Resource } | { ok: false; problems: Problem[] };

/** Validate without throwing: the checked resource, or every problem found. */
export function checkResource(value: unknown): ValidationResult {
  const problems: Problem[] = [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, problems: [{ path: '', message: `a resource must be a mapping, got ${describeValue(value)}` }] };
  }
  const r = value as Record<string, unknown>;
  if (r['apiVersion'] !== API_VERSION) {
    problems.push({ path: 'apiVersion', message: `must be ${API_VERSION}, got ${describeValue(r['apiVersion'])}` });
  }
  const info = typeof r['kind'] === 'string' ? kindInfo(r['kind']) : undefined;
  if (!info) {
    problems.push({ path: 'kind', message: `must be one of ${KINDS.map((k) => k.kind).join(', ')}, got ${describeValue(r['kind'])}` });
    return { ok: false, problems };
  }
  const top = obj(
    {
      apiVersion: opaque,
      kind: opaque,
      metadata: metadataCheck(info),
      spec: info.spec,
      ...(info.status ? { status: info.status } : {}),
    },
    { required: ['metadata'] },
  );
  top(r, '', problems);
  const meta = r['metadata'] as Record<string, unknown> | undefined;
  const spec = (r['spec'] ?? {}) as Record<string, unknown>;
  if (info.byName && meta && typeof meta['name'] === 'string' && typeof spec === 'object') info.byName(meta['name'], spec, problems);
  if (problems.length > 0) return { ok: false, problems };
  // Calico treats a missing spec as empty; normalise so consumers need no `?.`.
  return { ok: true, resource: { ...r, spec } as unknown as Resource };
}

/** Validate or throw ResourceInvalidError (code RESOURCE_INVALID) listing every problem. */
export function validateResource(value: unknown): Resource {
  const result = checkResource(value);
  if (result.ok) return result.resource;
  throw new ResourceInvalidError(describeResource(value), result.problems);
}

/** `BGPPeer "rr1"` (or `resource` when the value is too broken to say). */
export function describeResource(value: unknown): string {
  if (typeof value !== 'object' || value === null) return 'resource';
  const r = value as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  const kind = typeof r.kind === 'string' ? r.kind : 'resource';
  const name = typeof r.metadata?.name === 'string' ? r.metadata.name : undefined;
  const ns = typeof r.metadata?.namespace === 'string' ? `${r.metadata.namespace}/` : '';
  return name ? `${kind} "${ns}${name}"` : kind;
}
