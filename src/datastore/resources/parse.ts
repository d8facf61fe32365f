/**
 * Manifest text → resources. Accepts YAML (several `---` documents) or JSON,
 * and `kind: List` / `kind: <Kind>List` wrappers with `items`, as calicoctl
 * does (`resourcemgr.CreateResourcesFromBytes`). Every document is validated;
 * problems from all documents are reported together, each prefixed with the
 * document index so a long file can be fixed in one pass.
 */
import { parseAllDocuments } from 'yaml';
import { DatastoreError, RESOURCE_PARSE_ERROR, ResourceInvalidError } from '../errors';
import type { Problem } from './schema';
import type { Resource } from './types';
import { checkResource, describeResource } from './validate';
import { withDefaults } from './defaults';

export interface ParseOptions {
  /** Apply stored defaults (IPPool blockSize, policy types…); default true. */
  defaults?: boolean;
}

/** Parse manifest text into validated resources; throws on any problem. */
export function parseResources(text: string, opts: ParseOptions = {}): Resource[] {
  const docs = parseDocuments(text);
  const items = docs.flatMap((d, i) => unwrapList(d, `[${i}]`));
  const resources: Resource[] = [];
  const problems: Problem[] = [];
  let firstBad = '';
  for (const { value, where } of items) {
    const result = checkResource(value);
    if (result.ok) {
      resources.push(opts.defaults === false ? result.resource : withDefaults(result.resource));
    } else {
      if (!firstBad) firstBad = describeResource(value);
      const prefix = items.length > 1 ? `${where} ` : '';
      for (const p of result.problems) problems.push({ path: `${prefix}${p.path}`.trim(), message: p.message });
    }
  }
  if (problems.length > 0) throw new ResourceInvalidError(items.length > 1 ? 'manifest' : firstBad, problems);
  return resources;
}

function parseDocuments(text: string): unknown[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      const v: unknown = JSON.parse(trimmed);
      return Array.isArray(v) ? v : [v];
    } catch {
      // Not JSON after all; YAML is a superset, let it explain the problem.
    }
  }
  const docs = parseAllDocuments(text);
  const out: unknown[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      throw new DatastoreError(RESOURCE_PARSE_ERROR, `cannot parse manifest: ${e?.message ?? 'YAML error'}`, { cause: e });
    }
    const v: unknown = doc.toJS();
    if (v !== null && v !== undefined) out.push(v);
  }
  return out;
}

function unwrapList(value: unknown, where: string): Array<{ value: unknown; where: string }> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const r = value as Record<string, unknown>;
    if (typeof r['kind'] === 'string' && r['kind'].endsWith('List') && Array.isArray(r['items'])) {
      return r['items'].flatMap((item, i) => unwrapList(item, `${where}.items[${i}]`));
    }
  }
  return [{ value, where }];
}
