/** Output of the renderer: per IP family, per table, the chains Tartan wants. */
import type { IpVersion } from '../model';

export type TableName = 'filter' | 'raw' | 'mangle';
export const TABLES: readonly TableName[] = ['raw', 'mangle', 'filter'];

/** One rule of a Tartan chain: `-A <chain> -m comment --comment "<prefix><hash>" <body>`. */
export interface RenderedRule {
  hash: string;
  body: string;
}

export interface RenderedChain {
  name: string;
  rules: RenderedRule[];
  /** Covers every rule hash; equal hashes mean identical chains. */
  hash: string;
}

/** A rule Tartan inserts at the top of a kernel chain (INPUT, FORWARD, ...). */
export interface HookRule {
  kernelChain: string;
  hash: string;
  body: string;
}

export interface RenderedTable {
  table: TableName;
  /** Sorted by name (deterministic output). */
  chains: RenderedChain[];
  /** In the order they must appear at the top of their kernel chain. */
  hooks: HookRule[];
}

export type IpSetType = 'hash:net' | 'hash:ip,port';

export interface RenderedIpSet {
  name: string;
  type: IpSetType;
  /** Canonical, sorted, deduplicated member strings as `ipset save` prints them. */
  members: string[];
  /** What the set stands for, e.g. `s:sel=app == 'db';ns=prod` (debugging). */
  id: string;
}

export interface RenderedFamily {
  ipVersion: IpVersion;
  tables: Record<TableName, RenderedTable>;
  /** Sorted by name. */
  ipsets: RenderedIpSet[];
}

export interface RenderedDataplane {
  v4: RenderedFamily;
  v6: RenderedFamily;
}
