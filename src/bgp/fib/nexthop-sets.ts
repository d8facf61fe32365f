/**
 * Next-hop sets of BGP FIB routes, interned as small integer ids (the FIB's
 * counterpart of the RIB's AttrStore): the FIB tables store a set id per
 * prefix, so a million routes via one peer share one set, and "is the kernel
 * route what we want" is an integer comparison.
 *
 * A set is the sorted list of its gateways in canonical text (dotted quad,
 * RFC 5952), whether it was built from the RIB's next hops or read from a
 * kernel dump, so the same gateways give the same id from both sides.
 *
 * Each set also carries its request template per address family: a whole
 * RTM_NEWROUTE message (table, protocol, metric, and RTA_NH_ID when the set
 * has a kernel nexthop object, else RTA_GATEWAY or RTA_MULTIPATH) encoded once by the driver's codec with a placeholder
 * destination; a request is then a copy of the template with flags, seq and
 * destination patched in (see writeRequest).
 *
 * Reserved ids: NO_ROUTE (0, nothing wanted / nothing in the kernel) and
 * OTHER_ROUTE (1, a kernel route of ours that is not a plain gateway route:
 * never wanted, so always replaced).
 */
import { TartanError } from '../../errors';
import { canonicalAddress } from '../../netlink/addr';
import { encodeRouteRequest } from '../../netlink/codec';
import { NLMSG_HDRLEN, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST, RTA_PRIORITY, RTMSG_LEN } from '../../netlink/constants';
import type { KernelRoute } from '../../netlink/types';
import { MAX_SET_ID } from './fib-table';
import type { NexthopObjects } from './nexthop-objects';

export const NO_ROUTE = 0;
export const OTHER_ROUTE = 1;
const FIRST_ID = 2;

export interface TemplateParams {
  table: number;
  protocol: number;
  metric: number;
}

/** Family index used throughout the FIB: 0 = IPv4, 1 = IPv6. */
export type FamilyIndex = 0 | 1;

export const ADD_FLAGS = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
export const REPLACE_FLAGS = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE;

/** Byte offsets inside a route request (nlmsghdr, rtmsg, then RTA_DST first). */
const OFF_FLAGS = 6;
const OFF_SEQ = 8;
const OFF_DST_LEN = NLMSG_HDRLEN + 1;
const OFF_DST = NLMSG_HDRLEN + RTMSG_LEN + 4;

export class NextHopSets {
  /** Input text (as the RIB hands it over, joined by spaces) → id. Several inputs may name one set. */
  private readonly byInput = new Map<string, number>();
  /** Canonical key (sorted canonical gateways joined by spaces) → id. */
  private readonly byCanonical = new Map<string, number>();
  private canonical: (string | undefined)[] = ['', ''];
  private gateways: (readonly string[] | undefined)[] = [[], []];
  private inputs: (string[] | undefined)[] = [undefined, undefined];
  private templates: [(Buffer | TartanError | undefined)[], (Buffer | TartanError | undefined)[]] = [[], []];
  /** The same templates as 32-bit words (see writeRequestWords). */
  private templateWords: [(Uint32Array | undefined)[], (Uint32Array | undefined)[]] = [[], []];
  private readonly deleteTemplateWords: [Uint32Array, Uint32Array];
  private refs = new Uint32Array(64);
  private readonly free: number[] = [];
  private readonly deleteTemplates: [Buffer, Buffer];
  /** Offset of the RTA_PRIORITY value in a delete request, per family. */
  readonly deletePriorityOffset: [number, number];

  /**
   * `objects`: program routes through kernel nexthop objects where it can
   * (see nexthop-objects.ts); without it every route names its gateways.
   */
  constructor(
    private readonly params: TemplateParams,
    private readonly objects?: NexthopObjects,
  ) {
    this.deleteTemplates = [this.encode(4, [], 'delete') as Buffer, this.encode(6, [], 'delete') as Buffer];
    this.deletePriorityOffset = [priorityOffset(this.deleteTemplates[0]), priorityOffset(this.deleteTemplates[1])];
    this.deleteTemplateWords = [toWords(this.deleteTemplates[0]), toWords(this.deleteTemplates[1])];
  }

  /** Distinct sets alive. */
  get size(): number {
    return this.byCanonical.size;
  }

  /**
   * Id of the set of `nextHops` (the RIB's text, any order, no duplicates),
   * taking one reference. The common case — text seen before — is one map lookup.
   */
  acquire(nextHops: readonly string[]): number {
    const input = nextHops.length === 1 ? (nextHops[0] as string) : nextHops.join(' ');
    let id = this.byInput.get(input);
    if (id === undefined) {
      const canon = nextHops.map((h) => canonicalAddress(h) ?? h).sort();
      id = this.intern(canon);
      this.byInput.set(input, id);
      (this.inputs[id] ??= []).push(input);
    }
    this.refs[id]!++;
    return id;
  }

  /** Id of the set of `gateways` (canonical text, sorted), taking one reference. */
  acquireCanonical(gateways: readonly string[]): number {
    const id = this.intern(gateways);
    this.refs[id]!++;
    return id;
  }

  retain(id: number): void {
    if (id >= FIRST_ID) this.refs[id]!++;
  }

  release(id: number): void {
    if (id < FIRST_ID) return;
    const left = this.refs[id]! - 1;
    this.refs[id] = left > 0 ? left : 0;
    if (left > 0) return;
    this.objects?.release(this.canonical[id]!);
    this.byCanonical.delete(this.canonical[id]!);
    for (const input of this.inputs[id] ?? []) this.byInput.delete(input);
    this.canonical[id] = undefined;
    this.gateways[id] = undefined;
    this.inputs[id] = undefined;
    this.templates[0][id] = undefined;
    this.templates[1][id] = undefined;
    this.templateWords[0][id] = undefined;
    this.templateWords[1][id] = undefined;
    this.free.push(id);
  }

  /** Gateways of a set (canonical text, sorted); empty for the reserved ids. */
  gatewaysOf(id: number): readonly string[] {
    return this.gateways[id] ?? [];
  }

  /** References held on a set (for tests and leak checks). */
  refCount(id: number): number {
    return id < FIRST_ID ? 0 : this.refs[id]!;
  }

  /**
   * The RTM_NEWROUTE template of set `id` for a prefix of family `fam`, or
   * the error that stops it being encoded (e.g. an IPv4 gateway for an IPv6
   * prefix): that route then fails alone, as NETLINK_BAD_ROUTE.
   */
  template(id: number, fam: FamilyIndex): Buffer | TartanError {
    let t = this.templates[fam][id];
    if (t === undefined) {
      const family = fam === 0 ? 4 : 6;
      const gateways = this.gateways[id] ?? [];
      // A nexthop object only for routes of the gateways' own family (RFC 8950 sets stay plain).
      const object = this.objects && gateways.length > 0 && gateways[0]!.includes(':') === (family === 6) ? this.objects.objectFor(this.canonical[id]!) : 0;
      t = this.encode(family, gateways, 'replace', object);
      this.templates[fam][id] = t;
    }
    return t;
  }

  /** The RTM_DELROUTE template of family `fam` (our table, protocol and metric). */
  deleteTemplate(fam: FamilyIndex): Buffer {
    return this.deleteTemplates[fam];
  }

  /** template() as 32-bit words, for writeRequestWords (undefined when the template is an error). */
  templateAsWords(id: number, fam: FamilyIndex): Uint32Array | undefined {
    let w = this.templateWords[fam][id];
    if (w === undefined) {
      const t = this.template(id, fam);
      if (t instanceof TartanError) return undefined;
      w = toWords(t);
      this.templateWords[fam][id] = w;
    }
    return w;
  }

  deleteTemplateAsWords(fam: FamilyIndex): Uint32Array {
    return this.deleteTemplateWords[fam];
  }

  private intern(gateways: readonly string[]): number {
    const key = gateways.join(' ');
    const hit = this.byCanonical.get(key);
    if (hit !== undefined) return hit;
    const id = this.free.pop() ?? this.canonical.length;
    if (id > MAX_SET_ID) throw new Error(`more than ${MAX_SET_ID} distinct next-hop sets`);
    if (id >= this.refs.length) {
      const grown = new Uint32Array(this.refs.length * 2);
      grown.set(this.refs);
      this.refs = grown;
    }
    this.canonical[id] = key;
    this.gateways[id] = Object.freeze([...gateways]);
    this.inputs[id] = undefined;
    this.refs[id] = 0;
    this.byCanonical.set(key, id);
    this.objects?.acquire(key, this.gateways[id]!);
    return id;
  }

  /**
   * The kernel object behind the set with canonical key `key` came or went
   * (NexthopObjects.onChange): its templates are built again on next use.
   */
  objectChanged(key: string): void {
    const id = this.byCanonical.get(key);
    if (id === undefined) return;
    this.templates[0][id] = undefined;
    this.templates[1][id] = undefined;
    this.templateWords[0][id] = undefined;
    this.templateWords[1][id] = undefined;
  }

  private encode(family: 4 | 6, gateways: readonly string[], kind: 'replace' | 'delete', nexthopId = 0): Buffer | TartanError {
    const route: KernelRoute = {
      family,
      dst: family === 4 ? '0.0.0.0/0' : '::/0',
      table: this.params.table,
      protocol: this.params.protocol,
      type: 'unicast',
      scope: 'universe',
      metric: this.params.metric,
      nextHops: gateways.map((gateway) => ({ gateway })),
      ...(nexthopId > 0 ? { nexthopId } : {}),
    };
    const buf = Buffer.alloc(1024 + gateways.length * 64);
    try {
      const end = encodeRouteRequest(buf, 0, kind, 0, false, route);
      return Buffer.from(buf.subarray(0, end));
    } catch (e) {
      return e instanceof TartanError ? e : new TartanError('NETLINK_BAD_ROUTE', String(e));
    }
  }
}

function toWords(b: Buffer): Uint32Array {
  const w = new Uint32Array(b.length >>> 2);
  new Uint8Array(w.buffer).set(b);
  return w;
}

function priorityOffset(tpl: Buffer): number {
  let a = NLMSG_HDRLEN + RTMSG_LEN;
  while (a + 4 <= tpl.length) {
    const len = tpl.readUInt16LE(a);
    if (tpl.readUInt16LE(a + 2) === RTA_PRIORITY) return a + 4;
    a += (len + 3) & ~3;
  }
  throw new Error('route template without RTA_PRIORITY');
}

/**
 * Write one request from `tpl` at `off` of `buf`: nlmsg flags, seq, and the
 * destination (`words` 32-bit words of `key` from `keyOff`, prefix length
 * `len`). Returns the offset after it.
 */
export function writeRequest(buf: Buffer, off: number, tpl: Buffer, flags: number, seq: number, key: Uint32Array, keyOff: number, words: 1 | 4, len: number): number {
  // Plain byte stores: Buffer#copy and the write* helpers cost more than the ~60 bytes they move.
  const n = tpl.length;
  for (let i = 0; i < n; i++) buf[off + i] = tpl[i]!;
  buf[off + OFF_FLAGS] = flags & 0xff;
  buf[off + OFF_FLAGS + 1] = flags >>> 8;
  buf[off + OFF_SEQ] = seq & 0xff;
  buf[off + OFF_SEQ + 1] = (seq >>> 8) & 0xff;
  buf[off + OFF_SEQ + 2] = (seq >>> 16) & 0xff;
  buf[off + OFF_SEQ + 3] = seq >>> 24;
  buf[off + OFF_DST_LEN] = len;
  for (let w = 0; w < words; w++) {
    const v = key[keyOff + w]!;
    const p = off + OFF_DST + w * 4;
    buf[p] = v >>> 24;
    buf[p + 1] = (v >>> 16) & 0xff;
    buf[p + 2] = (v >>> 8) & 0xff;
    buf[p + 3] = v & 0xff;
  }
  return off + n;
}

/**
 * writeRequest for a 4-byte aligned request in a Uint32Array view of the
 * datagram (`wordOff` = byte offset / 4): ~15 word stores instead of ~60
 * byte stores. Little-endian host (as the codec requires): the u16 type and
 * flags share word 1, the dst length is byte 1 of word 4, the destination
 * (network order) starts at word 8.
 */
export function writeRequestWords(buf: Uint32Array, wordOff: number, tpl: Uint32Array, flags: number, seq: number, key: Uint32Array, keyOff: number, words: 1 | 4, len: number): number {
  const n = tpl.length;
  for (let i = 0; i < n; i++) buf[wordOff + i] = tpl[i]!;
  buf[wordOff + 1] = ((tpl[1]! & 0xffff) | (flags << 16)) >>> 0;
  buf[wordOff + 2] = seq >>> 0;
  buf[wordOff + 4] = ((tpl[4]! & ~0xff00) | (len << 8)) >>> 0;
  for (let w = 0; w < words; w++) {
    const v = key[keyOff + w]!;
    buf[wordOff + 8 + w] = (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
  }
  return wordOff + n;
}
