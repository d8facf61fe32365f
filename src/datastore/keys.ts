/**
 * Calico's etcd key layout for v3 resources (libcalico-go
 * `lib/backend/model/resource.go`): `/calico/resources/v3/projectcalico.org/
 * <plural>/[<namespace>/]<name>`. Pure.
 */
import { kindForPlural, kindInfo } from './resources/kinds';
import type { Kind } from './resources/types';

export const RESOURCE_PREFIX = '/calico/resources/v3/projectcalico.org/';

export interface ResourceKeyParts {
  kind: Kind;
  namespace?: string;
  name: string;
}

export function resourceKey(kind: Kind, name: string, namespace?: string): string {
  const info = kindInfo(kind);
  if (!info) throw new Error(`unknown kind ${kind}`);
  return info.namespaced ? `${RESOURCE_PREFIX}${info.plural}/${namespace ?? 'default'}/${name}` : `${RESOURCE_PREFIX}${info.plural}/${name}`;
}

/**
 * The prefix holding every object of `kind` (in `namespace`, for namespaced
 * kinds when given). Ends with `/` so `ippools` never matches `ippoolsx`.
 */
export function kindPrefix(kind: Kind, namespace?: string): string {
  const info = kindInfo(kind);
  if (!info) throw new Error(`unknown kind ${kind}`);
  return info.namespaced && namespace !== undefined ? `${RESOURCE_PREFIX}${info.plural}/${namespace}/` : `${RESOURCE_PREFIX}${info.plural}/`;
}

/** The parts of a resource key, or undefined for keys outside the layout. */
export function parseResourceKey(key: string): ResourceKeyParts | undefined {
  if (!key.startsWith(RESOURCE_PREFIX)) return undefined;
  const parts = key.slice(RESOURCE_PREFIX.length).split('/');
  const info = kindForPlural(parts[0] ?? '');
  if (!info) return undefined;
  if (info.namespaced) {
    if (parts.length !== 3 || !parts[1] || !parts[2]) return undefined;
    return { kind: info.kind, namespace: parts[1], name: parts[2] };
  }
  if (parts.length !== 2 || !parts[1]) return undefined;
  return { kind: info.kind, name: parts[1] };
}
