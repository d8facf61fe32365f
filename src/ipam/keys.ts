/**
 * Calico's IPAM keys in etcd (libcalico-go `model/block.go`,
 * `block_affinity.go`, `ipam_handle.go`, `ipam_config.go`). The `/` of a
 * CIDR becomes `-` in keys. Pure.
 */
import { ipVersionOfCidr } from './blocks';

export const IPAM_PREFIX = '/calico/ipam/v2/';
export const IPAM_CONFIG_KEY = '/calico/ipam/v2/config';
export const HANDLE_PREFIX = '/calico/ipam/v2/handle/';
export const HOST_PREFIX = '/calico/ipam/v2/host/';

export function blockPrefix(version: 4 | 6): string {
  return `/calico/ipam/v2/assignment/ipv${version}/block/`;
}

export function blockKey(cidr: string): string {
  return `${blockPrefix(ipVersionOfCidr(cidr))}${cidr.replace('/', '-')}`;
}

export function affinityPrefix(node: string, version?: 4 | 6): string {
  return version ? `${HOST_PREFIX}${node}/ipv${version}/block/` : `${HOST_PREFIX}${node}/`;
}

export function affinityKey(node: string, cidr: string): string {
  return `${affinityPrefix(node, ipVersionOfCidr(cidr))}${cidr.replace('/', '-')}`;
}

export function handleKey(handleId: string): string {
  return `${HANDLE_PREFIX}${handleId}`;
}

/** "10.0.0.0-26" → "10.0.0.0/26" (the last `-` is the separator; v6 addresses have none). */
export function cidrFromKeySegment(segment: string): string {
  const i = segment.lastIndexOf('-');
  return `${segment.slice(0, i)}/${segment.slice(i + 1)}`;
}

/** Parse an affinity key into node and block CIDR. */
export function parseAffinityKey(key: string): { node: string; cidr: string } | undefined {
  const m = /^\/calico\/ipam\/v2\/host\/([^/]+)\/ipv[46]\/block\/([^/]+)$/.exec(key);
  return m ? { node: m[1] as string, cidr: cidrFromKeySegment(m[2] as string) } : undefined;
}
