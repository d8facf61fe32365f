/**
 * Start-up warm-up of the RIB import path (the RIB's counterpart of
 * FibReconciler.warmUp): a scratch engine is fed UPDATEs the way a session
 * and the speaker feed the real one, so V8 has compiled the per-prefix code
 * before the first full table arrives (see warmUpRib for what it runs and
 * what it gains).
 *
 * V8 optimises for the object shapes (hidden classes) it has seen, and
 * deoptimises when the real objects turn out different. So everything here
 * is built the way the daemon builds it, and must follow it when that
 * changes:
 *   - engine options:  Speaker's constructor (fib sink, nextHopReachable from
 *     Daemon.speakerOptions, onError), the local source first;
 *   - sources:         Speaker.addPeer, then Speaker.onEstablished
 *     (updateSourceInfo, setTarget with Speaker.targetFor's object);
 *   - decoding:        Session.useNegotiated's options (packedNlri, an
 *     attributeMemo), its MessageFramer fed socket-sized chunks;
 *   - engine input:    Speaker.onUpdate (attrs `{ ...rest, nextHops }`, for
 *     IPv4 kept while the codec returns the same attributes object,
 *     NlriInput `{ packed, addPath }`, withdrawals first).
 * Nothing is shared with the daemon's engine: the scratch engine and
 * everything it holds are garbage once this resolves.
 */
import { compileFilters } from '../policy/bgp-filter';
import type { LocalIdentity } from '../policy/rules';
import {
  decodeMessage,
  encodePackedAnnouncements,
  encodePackedWithdrawals,
  familyOf,
  MessageFramer,
  MessageType,
  Origin,
  type CodecOptions,
  type Family,
  type PathAttributes,
  type UpdateMessage,
} from '../wire';
import { addressSortKey, ipv4ToNumber } from './decision';
import { RibEngine, type FibSink, type NlriInput } from './engine';
import type { RouteAttributes } from './route-attributes';
import { NlriWriter } from './nlri-writer';

/** What the warm-up did, read back from the scratch engine (for tests and the start-up log). */
export interface WarmUpResult {
  /** Prefixes the first peer's UPDATEs loaded, summed over the rounds (what the encoder put in them). */
  sent: number;
  /** Prefixes the engine stored from those loads (its Adj-RIB-In counts). */
  announced: number;
  /** Of those, prefixes that were in the Loc-RIB once decided. */
  decided: number;
  /** Prefixes the first peer withdrew that the engine held (its withdrawal counter). */
  withdrawn: number;
  /** Loc-RIB entries left at the end (0: everything was withdrawn again). */
  remaining: number;
  /** UPDATE messages the engine handed to the scratch peers' sessions (exports, End-of-RIB). */
  exported: number;
}

const FAMILIES: readonly Family[] = ['ipv4-unicast', 'ipv6-unicast'];
const LOCAL_AS = 65000;
const ROUTER_ID = '192.0.2.10';

interface ScratchPeer {
  address: string;
  as: number;
  routerId: string;
  /** IPv6 next hops: global and link-local (RFC 2545 §3). */
  v6: readonly string[];
}

/** The peer whose table is loaded (eBGP), and a second one with some of the same prefixes. */
const PEER_A: ScratchPeer = { address: '198.51.100.2', as: 65100, routerId: '198.51.100.2', v6: ['2001:db8:a::2', 'fe80::a:2'] };
const PEER_B: ScratchPeer = { address: '198.51.100.3', as: 65200, routerId: '198.51.100.3', v6: ['2001:db8:b::3', 'fe80::b:3'] };
/** Next hops the scratch next-hop table does not resolve (routes kept, no candidates). */
const UNREACHABLE = { v4: '203.0.113.9', v6: ['2001:db8:dead::9'] } as const;
/** Prefixes per UPDATE in the many-attribute-set phase: a real table's many small UPDATEs. */
const SMALL_GROUP = 8;
/** Prefixes per family of the first, priming round. */
const PRIME_PREFIXES = 64;
/**
 * IPv4 prefixes of the last, bulk phase: a table load alone, long enough
 * that V8 has optimised the per-prefix path before a real one. With the
 * rounds alone (1,536 prefixes a family) much of it was still being
 * optimised during the first 100,000 real routes, which then took longer
 * than with no warm-up at all (in-process, medians of 8: 72 ms against 65;
 * with this phase ~40 ms).
 */
const BULK_PREFIXES = 12_288;
/** Socket read size: messages straddle chunks, as on a real connection (the framer's copy path). */
const CHUNK_BYTES = 16 * 1024 + 13;

/*
 * The scratch engine's callbacks live as long as the module. Optimised code
 * embeds the functions it calls; had these died with the scratch engine,
 * the next GC would have thrown that code away ("weak objects" deopts)
 * before the first real table.
 */
const SCRATCH_FIB: FibSink = { update: () => undefined };
const scratchNextHopReachable = (address: string): boolean => address !== UNREACHABLE.v4 && address !== UNREACHABLE.v6[0];
const otherNextHopReachable = (address: string): boolean => address.length > 0;

/**
 * Have the engine's call of nextHopReachable see a second callee before
 * anything is optimised, on a second scratch engine that takes one route.
 * V8 compiles a call site that only ever saw one function for that
 * function, and throws the code away when another comes: the daemon's own
 * callback, at its first table (measured: decideFirst deoptimised there in
 * about one cold start in three). A call site that saw two is compiled as a
 * plain call; it runs once per attribute set (the answer is cached), so
 * that costs nothing.
 */
async function varyNextHopCallee(me: LocalIdentity): Promise<void> {
  const engine = new RibEngine({ me, decision: { alwaysCompareMed: false }, fib: SCRATCH_FIB, nextHopReachable: otherNextHopReachable, onError: () => undefined });
  const source = engine.addSource({
    name: PEER_A.address,
    summary: { local: false, ibgp: false, routerId: ipv4ToNumber(PEER_A.routerId), addressKey: addressSortKey(PEER_A.address) },
    origin: { local: false, ibgp: false, fromRrClient: false, peerRouterId: PEER_A.routerId, localAs: LOCAL_AS },
    importFilter: compileFilters([], 'import'),
  });
  engine.announce(source, 'ipv4-unicast', { origin: Origin.IGP, asPath: [{ type: 'sequence', asns: [PEER_A.as] }], nextHops: [PEER_A.address] }, { list: [{ prefix: '192.0.2.128/25' }] });
  await engine.idle();
}

/**
 * Run the per-prefix import paths (framing, UPDATE decode, Adj-RIB-In
 * insert / replace / delete, first and full decisions with one and two
 * candidates, next-hop resolution, FIB hand-off and export to a peer, for
 * both families) on a scratch engine, so they are compiled before the first
 * real table arrives: a cold daemon otherwise spends its first 100,000
 * routes or so in the interpreter while V8 compiles them. For the daemon's
 * start-up, before any session exists: it yields to the event loop only
 * where the engine itself does (its decision batches), and leaves nothing
 * scheduled.
 *
 * A priming round of PRIME_PREFIXES goes first and takes every path once
 * (small UPDATEs of many attribute sets, a second peer's better and
 * unresolvable routes, replacements, withdrawals), so each branch has type
 * feedback before anything is hot enough to be optimised: code optimised
 * without it is thrown away at the first branch it had not seen, and a
 * priming round is cheaper than compiling twice. Each of the `rounds` after
 * it loads `prefixes` routes per family in UPDATEs as full as they get (the
 * first-table path) and withdraws them; then the bulk phase (BULK_PREFIXES)
 * loads an IPv4 table alone. The defaults take about 120 ms at start-up
 * (more CPU in all: V8 compiles on a background thread what the first table
 * would otherwise wait for); fewer prefixes left the hot functions short of
 * being optimised. Measured in-process from a cold start (medians of 6): a
 * 100,000-route load takes ~44 ms after it, ~65 ms with no warm-up, and ~72
 * ms after the rounds alone.
 */
export async function warmUpRib(rounds = 1, prefixes = 1536, bulk = BULK_PREFIXES): Promise<WarmUpResult> {
  let failure: unknown;
  const me: LocalIdentity = { routerId: ROUTER_ID, clusterId: ROUTER_ID };
  // The properties of Speaker's constructor, in its order (with next-hop tracking on, the default),
  // so the options object has the same hidden class as the daemon's.
  const engine = new RibEngine({
    me,
    decision: { alwaysCompareMed: false },
    fib: SCRATCH_FIB,
    nextHopReachable: scratchNextHopReachable,
    onError: (err) => (failure ??= err),
  });
  await varyNextHopCallee(me);
  const local = engine.addSource({
    name: 'local',
    summary: { local: true, ibgp: false, routerId: ipv4ToNumber(ROUTER_ID), addressKey: '' },
    origin: { local: true, ibgp: false, fromRrClient: false, peerRouterId: ROUTER_ID, localAs: LOCAL_AS },
  });
  let exported = 0;
  const a = establish(engine, PEER_A, () => exported++);
  const b = establish(engine, PEER_B, () => exported++);

  // Originated routes, as Speaker.syncOriginated announces them (list input).
  const originated = ['192.0.2.0/26', '2001:db8:10::/64'];
  for (const prefix of originated) {
    const attrs: PathAttributes & { nextHops: string[] } = { origin: Origin.IGP, asPath: [], nextHops: [] };
    engine.announce(local, prefix.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast', attrs, { list: [{ prefix }] });
  }

  const result: WarmUpResult = { sent: 0, announced: 0, decided: 0, withdrawn: 0, remaining: 0, exported: 0 };
  const locSize = (): number => engine.locSize('ipv4-unicast') + engine.locSize('ipv6-unicast');
  const received = (s: Session): number => engine.counts(s.source, 'ipv4-unicast').received + engine.counts(s.source, 'ipv6-unicast').received;
  const prime = encodeAll(Math.min(PRIME_PREFIXES, prefixes), true);
  const wire = rounds > 0 ? encodeAll(prefixes, false) : prime;
  for (let round = 0; round <= rounds; round++) {
    const w = round === 0 ? prime : wire;
    a.receive(round === 0 ? w.small : w.large);
    result.sent += w.prefixes * FAMILIES.length;
    result.announced += received(a);
    await engine.decided();
    result.decided += locSize() - originated.length;
    if (round === 0) {
      b.receive(w.overlap);
      await engine.decided();
      a.receive(w.large);
      await engine.decided();
      a.receive(w.small);
      await engine.decided();
    }
    const before = engine.withdrawalCounts(a.source).received;
    a.receive(w.withdrawAll);
    if (round === 0) b.receive(w.withdrawOverlap);
    await engine.decided();
    result.withdrawn += engine.withdrawalCounts(a.source).received - before;
  }
  if (bulk > 0) {
    // The bulk phase: a table load alone (peer B down, so nothing is exported), IPv4 in full UPDATEs.
    await engine.setTarget(b.source, undefined);
    const w = encodeAll(bulk, false, ['ipv4-unicast']);
    a.receive(w.large);
    result.sent += w.prefixes;
    result.announced += received(a);
    await engine.decided();
    result.decided += locSize() - originated.length;
    const before = engine.withdrawalCounts(a.source).received;
    a.receive(w.withdrawAll);
    await engine.decided();
    result.withdrawn += engine.withdrawalCounts(a.source).received - before;
  }
  for (const prefix of originated) engine.withdraw(local, prefix.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast', { list: [{ prefix }] });
  // Exports still queued go out; afterwards the scratch engine schedules nothing more.
  await engine.idle();
  if (failure !== undefined) throw failure;
  result.remaining = locSize();
  result.exported = exported;
  return result;
}

/** A scratch peer: its source in the engine and what its session would decode with. */
interface Session {
  source: number;
  receive(wire: Buffer): void;
}

/**
 * Add a peer the way Speaker.addPeer does, bring it up the way
 * Speaker.onEstablished does (exported UPDATEs are counted and dropped),
 * and return its input: framer, decode and Speaker.onUpdate's calls.
 */
function establish(engine: RibEngine, peer: ScratchPeer, sent: () => void): Session {
  const source = engine.addSource({
    name: peer.address,
    summary: { local: false, ibgp: false, routerId: 0, addressKey: addressSortKey(peer.address) },
    origin: { local: false, ibgp: false, fromRrClient: false, peerRouterId: '0.0.0.0', localAs: LOCAL_AS },
    importFilter: compileFilters([], 'import'),
  });
  engine.updateSourceInfo(source, {
    name: peer.address,
    summary: { local: false, ibgp: false, routerId: ipv4ToNumber(peer.routerId), addressKey: addressSortKey(peer.address) },
    origin: { local: false, ibgp: false, fromRrClient: false, peerRouterId: peer.routerId, localAs: LOCAL_AS },
    importFilter: compileFilters([], 'import'),
  });
  // codecOptionsFor(): decode and encode options of a session without ADD-PATH or Extended Message.
  const opts = {
    decode: { fourOctetAs: true, extendedMessage: false, addPath: new Set<Family>() } as CodecOptions,
    encode: { fourOctetAs: true, extendedMessage: false, addPath: new Set<Family>() } as CodecOptions,
  };
  void engine.setTarget(source, {
    ibgp: false,
    rrClient: false,
    localAs: LOCAL_AS,
    nextHopMode: 'auto',
    nextHopSelf: { ipv4: ROUTER_ID, ipv6: undefined },
    families: FAMILIES,
    codec: opts.encode,
    exportFilter: compileFilters([], 'export'),
    send: (buffers) => {
      for (let i = 0; i < buffers.length; i++) sent();
      return Promise.resolve();
    },
  });
  const decodeOpts: CodecOptions = { ...opts.decode, ...{ packedNlri: true }, attributeMemo: {} };
  const framer = new MessageFramer();
  const families = new Set<Family>(FAMILIES);
  const memo: Ipv4AttrsMemo = {};
  return {
    source,
    receive: (wire) => {
      for (let off = 0; off < wire.length; off += CHUNK_BYTES) {
        for (const raw of framer.push(wire.subarray(off, off + CHUNK_BYTES))) {
          const msg = decodeMessage(raw, decodeOpts);
          if (msg.type === MessageType.UPDATE) onUpdate(engine, source, families, new Set(opts.decode.addPath), memo, msg);
        }
      }
    },
  };
}

/** Speaker's PeerEntry.lastIpv4Attrs. */
interface Ipv4AttrsMemo {
  last?: { from: PathAttributes; attrs: RouteAttributes };
}

/** Speaker.onUpdate's engine calls, for UPDATEs with no errors and no End-of-RIB. */
function onUpdate(engine: RibEngine, source: number, families: ReadonlySet<Family>, addPath: ReadonlySet<Family>, memo: Ipv4AttrsMemo, update: UpdateMessage): void {
  const a = update.attributes;
  const nlriOf = (family: Family, packed: Buffer | undefined, list: UpdateMessage['nlri']): NlriInput =>
    packed ? { packed, addPath: addPath.has(family) } : { list, addPath: addPath.has(family) };
  if (update.packed?.withdrawn.length || update.withdrawn.length) {
    if (families.has('ipv4-unicast')) engine.withdraw(source, 'ipv4-unicast', nlriOf('ipv4-unicast', update.packed?.withdrawn, update.withdrawn));
  }
  if (a.mpUnreach) {
    const f = familyOf(a.mpUnreach.afi, a.mpUnreach.safi);
    if (f && families.has(f)) engine.withdraw(source, f, nlriOf(f, a.mpUnreach.packed, a.mpUnreach.withdrawn));
  }
  const { mpReach, mpUnreach: _u, nextHop, ...rest } = a;
  const announce = (family: Family, nlri: NlriInput, nextHops: string[]): void => {
    if (!families.has(family)) return;
    engine.announce(source, family, { ...rest, nextHops }, nlri);
  };
  if (update.packed?.nlri.length || update.nlri.length) {
    const nlri = nlriOf('ipv4-unicast', update.packed?.nlri, update.nlri);
    if (families.has('ipv4-unicast')) {
      if (memo.last?.from !== a) memo.last = { from: a, attrs: { ...rest, nextHops: nextHop ? [nextHop] : [] } };
      engine.announce(source, 'ipv4-unicast', memo.last.attrs, nlri);
    }
  }
  if (mpReach) {
    const f = familyOf(mpReach.afi, mpReach.safi);
    if (f) announce(f, nlriOf(f, mpReach.packed, mpReach.nlri), mpReach.nextHops);
  }
}

/** The UPDATE streams of a round, encoded once. */
interface Wire {
  /** Prefixes per family. */
  prefixes: number;
  /** Peer A's table: one attribute set, as many prefixes per UPDATE as fit. */
  large: Buffer;
  /** Peer A's table in small UPDATEs, a different attribute set each (of ATTR_SETS). */
  small: Buffer;
  /** Peer B: a shorter AS_PATH (it wins) for every 8th prefix, an unresolvable next hop for every 16th from the 4th. */
  overlap: Buffer;
  withdrawAll: Buffer;
  withdrawOverlap: Buffer;
}

const CODEC: CodecOptions = { fourOctetAs: true, extendedMessage: false, addPath: new Set() };
/** Attribute sets the small UPDATEs cycle through, one per UPDATE (each interned, then found again on the next pass). */
const ATTR_SETS = 24;

/**
 * Prefix `i` of `family` into `key`, returning its length: mostly host
 * routes (/32, /128) as in a Calico or benchmark table, every 8th shorter.
 */
function prefixKey(family: Family, i: number, key: Uint32Array): number {
  const short = i % 8 === 7;
  if (family === 'ipv4-unicast') {
    key[0] = short ? ((100 << 24) | ((i & 0xffff) << 8)) >>> 0 : ((10 << 24) | (i & 0xffffff)) >>> 0;
    return short ? 24 : 32;
  }
  key[0] = 0x20010db8;
  key[1] = short ? i >>> 0 : 0xffff0000;
  key[2] = 0;
  key[3] = short ? 0 : i >>> 0;
  return short ? 64 : 128;
}

/**
 * The wire form is built with the codec's bulk encoders (encodePacked*, the
 * ones the engine exports with) from NLRI bytes written straight from keys:
 * encodeAnnouncements (what bench/rib/sender.ts uses) takes prefixes as
 * text, and parsing them cost about as much as the rest of the warm-up. The
 * decoder checks every message as it checks a peer's.
 */
function encodeAll(prefixes: number, priming: boolean, families: readonly Family[] = FAMILIES): Wire {
  const path = (...asns: number[]): PathAttributes['asPath'] => [{ type: 'sequence', asns }];
  const hop = (f: Family, peer: ScratchPeer, unreachable = false): string | readonly string[] =>
    f === 'ipv4-unicast' ? (unreachable ? UNREACHABLE.v4 : peer.address) : unreachable ? UNREACHABLE.v6 : peer.v6;
  const out: { [K in Exclude<keyof Wire, 'prefixes'>]: Buffer[] } = { large: [], small: [], overlap: [], withdrawAll: [], withdrawOverlap: [] };
  for (const f of families) {
    const key = new Uint32Array(4);
    const all = new NlriWriter(prefixes * 17);
    const better = new NlriWriter();
    const unresolved = new NlriWriter();
    const ends: number[] = [];
    for (let i = 0; i < prefixes; i++) {
      const len = prefixKey(f, i, key);
      all.append(key, len);
      ends.push(all.byteLength);
      if (priming && i % 8 === 0) better.append(key, len);
      if (priming && i % 16 === 4) unresolved.append(key, len);
    }
    const nlri = all.bytes();
    out.large.push(...encodePackedAnnouncements(f, { origin: Origin.IGP, asPath: path(PEER_A.as, 64496) }, hop(f, PEER_A), nlri, CODEC));
    // Only the priming round has the second peer and the small UPDATEs (see warmUpRib).
    if (priming) {
      for (let g = 0, from = 0; g * SMALL_GROUP < prefixes; g++) {
        const to = ends[Math.min((g + 1) * SMALL_GROUP, prefixes) - 1]!;
        const set = g % ATTR_SETS;
        const attrs: PathAttributes = { origin: set % 3 === 2 ? Origin.INCOMPLETE : Origin.IGP, asPath: path(PEER_A.as, 64496 + (set % 8), 64512 + set), med: set, communities: [((PEER_A.as << 16) | set) >>> 0] };
        out.small.push(...encodePackedAnnouncements(f, attrs, hop(f, PEER_A), nlri.subarray(from, to), CODEC));
        from = to;
      }
      out.overlap.push(...encodePackedAnnouncements(f, { origin: Origin.IGP, asPath: path(PEER_B.as) }, hop(f, PEER_B), better.bytes(), CODEC));
      out.overlap.push(...encodePackedAnnouncements(f, { origin: Origin.IGP, asPath: path(PEER_B.as) }, hop(f, PEER_B, true), unresolved.bytes(), CODEC));
      out.withdrawOverlap.push(...encodePackedWithdrawals(f, better.bytes(), CODEC), ...encodePackedWithdrawals(f, unresolved.bytes(), CODEC));
    }
    out.withdrawAll.push(...encodePackedWithdrawals(f, nlri, CODEC));
  }
  return {
    prefixes,
    large: Buffer.concat(out.large),
    small: Buffer.concat(out.small),
    overlap: Buffer.concat(out.overlap),
    withdrawAll: Buffer.concat(out.withdrawAll),
    withdrawOverlap: Buffer.concat(out.withdrawOverlap),
  };
}
