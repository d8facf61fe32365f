/**
 * Reads and typed views of the IPAM keys, over the datastore's Kv. Values
 * that do not parse are reported to `onCorrupt` and treated as absent for
 * allocation (never handed out from, never crash the caller).
 */
import type { CorruptValue, KeyValue, Kv } from '../datastore';
import { blockSizeOf } from './blocks';
import { blockKey, blockPrefix, cidrFromKeySegment, handleKey, HANDLE_PREFIX, HOST_PREFIX, IPAM_CONFIG_KEY, parseAffinityKey } from './keys';
import {
  blockProblem, DEFAULT_IPAM_CONFIG, normaliseBlock, type AllocationBlock, type BlockAffinityValue, type IpamConfig, type IpamHandle,
} from './model';

export interface Versioned<T> {
  value: T;
  modRevision: number;
}

export interface AffinityRecord {
  node: string;
  cidr: string;
  state: string;
  modRevision: number;
}

export class IpamStore {
  constructor(
    readonly kv: Kv,
    private readonly onCorrupt: (c: CorruptValue) => void,
  ) {}

  async block(cidr: string): Promise<Versioned<AllocationBlock> | undefined> {
    const kv = await this.kv.get(blockKey(cidr));
    return kv ? this.decodeBlock(kv) : undefined;
  }

  async blocks(version: 4 | 6): Promise<Array<Versioned<AllocationBlock>>> {
    const { kvs } = await this.kv.range(blockPrefix(version));
    return kvs.flatMap((kv) => {
      const b = this.decodeBlock(kv);
      return b ? [b] : [];
    });
  }

  /** Every existing block key's CIDR, corrupt or not (a corrupt block still occupies its range). */
  async blockCidrs(version: 4 | 6): Promise<Set<string>> {
    const { kvs } = await this.kv.range(blockPrefix(version));
    return new Set(kvs.map((kv) => cidrFromKeySegment(kv.key.slice(blockPrefix(version).length))));
  }

  async handle(id: string): Promise<Versioned<IpamHandle> | undefined> {
    const kv = await this.kv.get(handleKey(id));
    if (!kv) return undefined;
    const h = this.parse<IpamHandle>(kv, (v) => (typeof v === 'object' && v !== null && typeof (v as IpamHandle).block === 'object' ? undefined : 'no block map'));
    return h ? { value: h, modRevision: kv.modRevision } : undefined;
  }

  async handles(): Promise<Map<string, Versioned<IpamHandle>>> {
    const { kvs } = await this.kv.range(HANDLE_PREFIX);
    const out = new Map<string, Versioned<IpamHandle>>();
    for (const kv of kvs) {
      const h = this.parse<IpamHandle>(kv, (v) => (typeof v === 'object' && v !== null && typeof (v as IpamHandle).block === 'object' ? undefined : 'no block map'));
      if (h) out.set(kv.key.slice(HANDLE_PREFIX.length), { value: h, modRevision: kv.modRevision });
    }
    return out;
  }

  /** Affinities of one node, or of every node. */
  async affinities(node?: string): Promise<AffinityRecord[]> {
    const { kvs } = await this.kv.range(node ? `${HOST_PREFIX}${node}/` : HOST_PREFIX);
    const out: AffinityRecord[] = [];
    for (const kv of kvs) {
      const where = parseAffinityKey(kv.key);
      if (!where) continue; // the host marker key and others
      // Calico reads an empty affinity value as {} (confirmed).
      const v = kv.value === '' ? {} : this.parse<BlockAffinityValue>(kv, (x) => (typeof x === 'object' && x !== null ? undefined : 'not an object'));
      if (!v) continue;
      out.push({ ...where, state: v.state ?? 'confirmed', modRevision: kv.modRevision });
    }
    return out;
  }

  async config(): Promise<Versioned<IpamConfig>> {
    const kv = await this.kv.get(IPAM_CONFIG_KEY);
    if (!kv) return { value: DEFAULT_IPAM_CONFIG, modRevision: 0 };
    const v = this.parse<Partial<IpamConfig>>(kv, (x) => (typeof x === 'object' && x !== null ? undefined : 'not an object'));
    return { value: { ...DEFAULT_IPAM_CONFIG, ...(v ?? {}) }, modRevision: kv.modRevision };
  }

  private decodeBlock(kv: KeyValue): Versioned<AllocationBlock> | undefined {
    const cidr = cidrFromKeySegment(kv.key.slice(kv.key.lastIndexOf('/') + 1));
    let size: number;
    try {
      size = blockSizeOf(cidr);
    } catch {
      this.onCorrupt({ key: kv.key, reason: 'key does not name a CIDR', modRevision: kv.modRevision });
      return undefined;
    }
    const b = this.parse<AllocationBlock>(kv, (v) => blockProblem(v, cidr, size));
    return b ? { value: normaliseBlock(b), modRevision: kv.modRevision } : undefined;
  }

  private parse<T>(kv: KeyValue, problem: (v: unknown) => string | undefined): T | undefined {
    let v: unknown;
    try {
      v = JSON.parse(kv.value);
    } catch (e) {
      this.onCorrupt({ key: kv.key, reason: `value is not JSON: ${(e as Error).message}`, modRevision: kv.modRevision });
      return undefined;
    }
    const p = problem(v);
    if (p) {
      this.onCorrupt({ key: kv.key, reason: p, modRevision: kv.modRevision });
      return undefined;
    }
    return v as T;
  }
}
