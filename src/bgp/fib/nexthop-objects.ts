/**
 * Kernel nexthop objects for the BGP FIB's next-hop sets (Linux 5.3+).
 *
 * Why: a route request that names its gateway (RTA_GATEWAY) makes the
 * kernel build a fib_info with per-CPU next-hop caches for every route, find
 * it is a duplicate of an existing one and free it again; a request that
 * names a nexthop object (RTA_NH_ID) skips all that. For a full table that
 * is about a quarter of the kernel's work (1.58 -> 1.15 s at 1M routes,
 * bench/fib/README.md).
 *
 * One object per next-hop set: a gateway object (`via G dev D`, D found with
 * `ip route get G`) for a set of one gateway, a group of those for an ECMP
 * set. Objects carry our protocol number, so they are recognisably ours.
 *
 * Safety rules:
 * - An object is created only for a set whose gateways are all on-link
 *   (reached through a connected route, as the kernel requires); any other
 *   set is programmed with plain gateway routes — the two forms coexist and
 *   read back the same. While an object is being made (two netlink round
 *   trips) the reconciler holds its requests back (`pending`), so routes
 *   are written in their final form.
 * - An object lives as long as a next-hop set names it (the set's
 *   references count every kernel route and every in-flight request that
 *   uses it), so an object is deleted only when no route of ours can use it:
 *   deleting an object takes its routes with it.
 * - New ids never overwrite: creation uses NLM_F_EXCL and skips ids in use.
 * - At start-up our objects from a previous run are adopted (the routes
 *   using them are adopted by the reconciler) and the unused ones removed
 *   once the first sync is done; every resync checks that our objects are
 *   still there (the kernel removes an object whose interface goes down, and
 *   its routes with it) and re-creates what is missing.
 */
import type { NexthopObject } from '../../netlink';

/** What the manager needs of the netlink driver (RouteDriver; a fake in unit tests). */
export interface NexthopDriver {
  routeGet(family: 4 | 6, address: string): Promise<{ ifindex: number; viaGateway: boolean }>;
  addNexthop(nh: NexthopObject): Promise<void>;
  deleteNexthop(id: number): Promise<void>;
  dumpNexthops(): Promise<NexthopObject[]>;
}

export interface NexthopObjectsOptions {
  driver: NexthopDriver;
  /** nh_protocol of our objects (RTPROT_TARTAN_BGP). */
  protocol: number;
  /** A set's object became usable, turned out impossible, or went away: its route templates change. */
  onChange: (setKey: string) => void;
  /** Something failed (logged by the caller; the routes stay plain). */
  onError?: (err: unknown) => void;
}

/** First id we try for a new object (ids are per network namespace and shared with other daemons). */
export const FIRST_OBJECT_ID = 0x54000000;
const MAX_ID_PROBES = 64;

interface Member {
  id: number;
  family: 4 | 6;
  gateway: string;
  ifindex: number;
  /** Live sets using this gateway object (alone or in a group). */
  refs: number;
}

interface SetObject {
  gateways: readonly string[];
  family: 4 | 6;
  /** 'pending': being created; 'ready': usable, `id` set; 'plain': not usable (off-link gateway, or creation failed). */
  state: 'pending' | 'ready' | 'plain';
  /** The object routes name: the member's id (one gateway) or the group's. */
  id: number;
  /** Group object id (ECMP sets), 0 otherwise. */
  groupId: number;
  members: string[];
  /** Live sets with this key (0 = released, about to go). */
  refs: number;
}

const memberKey = (family: 4 | 6, gateway: string): string => `${family}|${gateway}`;

export class NexthopObjects {
  private readonly sets = new Map<string, SetObject>();
  private readonly members = new Map<string, Member>();
  /** Our objects found at start-up and not (yet) claimed by a set: id → object. */
  private adopted = new Map<number, NexthopObject>();
  private nextId = FIRST_OBJECT_ID;
  private disabled = false;
  private pendingCount = 0;
  private readonly o: NexthopObjectsOptions;

  /** The start-up read of our old objects: creations wait for it, so they can reuse them. */
  private readonly adopting: Promise<void>;

  constructor(o: NexthopObjectsOptions) {
    this.o = o;
    this.adopting = this.adopt();
  }

  /** Resolves once the start-up read of existing objects is done. */
  ready(): Promise<void> {
    return this.adopting;
  }

  /** Objects of ours from a previous run that no set has claimed (nor dropUnclaimed removed) yet. */
  get hasUnclaimed(): boolean {
    return this.adopted.size > 0;
  }

  /** Gateways of the set whose object has kernel id `id` (canonical, sorted), if we know it. */
  gatewaysOfObject(id: number): readonly string[] | undefined {
    for (const s of this.sets.values()) if (s.state === 'ready' && s.id === id) return s.gateways;
    return undefined;
  }

  /** Sets whose object is being made (their routes wait for it). */
  get pending(): number {
    return this.pendingCount;
  }

  /** Objects in use (gateway objects + groups), for stats and tests. */
  get size(): number {
    let groups = 0;
    for (const s of this.sets.values()) if (s.groupId) groups++;
    return this.members.size + groups;
  }

  /**
   * Read our objects left by a previous run, to reuse them. A kernel without
   * nexthop objects rejects the dump: the manager then stays off and every
   * route is a plain gateway route.
   */
  private async adopt(): Promise<void> {
    let all: NexthopObject[];
    try {
      all = await this.o.driver.dumpNexthops();
    } catch (err) {
      this.disabled = true;
      this.o.onError?.(err);
      return;
    }
    for (const nh of all) {
      if (nh.id >= this.nextId) this.nextId = nh.id + 1;
      if (nh.protocol === this.o.protocol) this.adopted.set(nh.id, nh);
    }
  }

  /**
   * Remove adopted objects that no set claimed and no route names (`inUse`:
   * the object ids routes of ours had in the last dump; deleting an object
   * would take its routes with it). The others are looked at again next time.
   */
  async dropUnclaimed(inUse: ReadonlySet<number>): Promise<void> {
    const left = [...this.adopted.values()].filter((nh) => !inUse.has(nh.id) && !(nh.kind === 'gateway' && this.memberOfUsedGroup(nh.id, inUse)));
    for (const nh of left) this.adopted.delete(nh.id);
    // Groups before their members (deleting a member would only shrink the group first).
    left.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'group' ? -1 : 1));
    for (const nh of left) await this.o.driver.deleteNexthop(nh.id).catch(() => undefined);
  }

  /**
   * The object id routes of set `key` (canonical gateways of one family)
   * should name, or 0 for plain gateway routes. The first call for a key
   * starts creating its object in the background; onChange(key) follows.
   */
  objectFor(key: string): number {
    const s = this.sets.get(key);
    return s && s.state === 'ready' ? s.id : 0;
  }

  /** A next-hop set came to life (NextHopSets.intern): make its object. */
  acquire(key: string, gateways: readonly string[]): void {
    if (this.disabled || gateways.length === 0) return;
    let s = this.sets.get(key);
    if (s) {
      s.refs++;
      return;
    }
    const family = gateways[0]!.includes(':') ? 6 : 4;
    if (gateways.some((g) => g.includes(':') !== (family === 6))) return; // mixed families: plain routes
    s = { gateways, family, state: 'pending', id: 0, groupId: 0, members: [], refs: 1 };
    this.sets.set(key, s);
    this.pendingCount++;
    void this.create(key, s);
  }

  /** The set is gone (no route of ours, no request in flight uses it): drop its object. */
  release(key: string): void {
    const s = this.sets.get(key);
    if (!s) return;
    if (--s.refs > 0) return;
    this.sets.delete(key);
    // A creation still running finishes into settle(), which sees the set gone and undoes it.
    if (s.state === 'pending') return;
    void this.destroy(s);
  }

  /**
   * Check our objects against the kernel (a resync): any that vanished (the
   * kernel drops an object whose interface went down) is re-created, and its
   * set is plain meanwhile.
   */
  async verify(): Promise<void> {
    if (this.disabled) return;
    const present = new Map<number, NexthopObject>();
    for (const nh of await this.o.driver.dumpNexthops()) present.set(nh.id, nh);
    for (const [k, m] of [...this.members]) {
      const nh = present.get(m.id);
      if (nh && nh.kind === 'gateway' && nh.gateway === m.gateway && nh.protocol === this.o.protocol) continue;
      this.members.delete(k);
    }
    for (const [key, s] of this.sets) {
      if (s.state !== 'ready' && s.state !== 'plain') continue;
      const lost = s.state === 'plain' || s.members.some((mk) => !this.members.has(mk)) || (s.groupId !== 0 && !present.has(s.groupId));
      if (!lost) continue;
      const wasReady = s.state === 'ready';
      if (s.groupId !== 0 && present.has(s.groupId)) void this.o.driver.deleteNexthop(s.groupId).catch((err: unknown) => this.o.onError?.(err));
      for (const mk of s.members) this.unrefMember(mk, true);
      s.members = [];
      s.state = 'pending';
      this.pendingCount++;
      s.id = 0;
      s.groupId = 0;
      if (wasReady) this.o.onChange(key);
      void this.create(key, s);
    }
  }

  /** Whether adopted gateway object `id` is a member of an adopted group that routes still name. */
  private memberOfUsedGroup(id: number, inUse: ReadonlySet<number>): boolean {
    for (const nh of this.adopted.values()) if (nh.kind === 'group' && inUse.has(nh.id) && nh.members.includes(id)) return true;
    return false;
  }

  private async create(key: string, s: SetObject): Promise<void> {
    try {
      await this.adopting;
      if (this.disabled) {
        this.settle(key, s, 'plain');
        return;
      }
      const memberIds: number[] = [];
      for (const gw of s.gateways) {
        const m = await this.member(s.family, gw);
        if (!m) {
          this.settle(key, s, 'plain');
          return;
        }
        s.members.push(memberKey(s.family, gw));
        memberIds.push(m.id);
      }
      if (memberIds.length === 1) s.id = memberIds[0]!;
      else {
        const group = this.claimAdoptedGroup(memberIds) ?? (await this.addObject({ id: 0, protocol: this.o.protocol, kind: 'group', members: memberIds }));
        s.groupId = group;
        s.id = group;
      }
      this.settle(key, s, 'ready');
    } catch (err) {
      this.o.onError?.(err);
      this.settle(key, s, 'plain');
    }
  }

  /** Finish a creation, unless the set was released meanwhile (then undo it). */
  private settle(key: string, s: SetObject, state: 'ready' | 'plain'): void {
    if (s.state === 'pending') this.pendingCount--;
    if (this.sets.get(key) !== s) {
      void this.destroy(s);
      return;
    }
    s.state = state;
    this.o.onChange(key);
  }

  private async destroy(s: SetObject): Promise<void> {
    const group = s.groupId;
    s.groupId = 0;
    s.state = 'plain';
    if (group) await this.o.driver.deleteNexthop(group).catch((err: unknown) => this.o.onError?.(err));
    for (const mk of s.members.splice(0)) this.unrefMember(mk, true);
  }

  private unrefMember(mk: string, deleteFromKernel: boolean): void {
    const m = this.members.get(mk);
    if (!m) return;
    if (--m.refs > 0) return;
    this.members.delete(mk);
    if (deleteFromKernel) void this.o.driver.deleteNexthop(m.id).catch((err: unknown) => this.o.onError?.(err));
  }

  /** The gateway object of `gateway`, created if needed; undefined when the gateway is not on-link. */
  private async member(family: 4 | 6, gateway: string): Promise<Member | undefined> {
    const mk = memberKey(family, gateway);
    let m = this.members.get(mk);
    if (m) {
      m.refs++;
      return m;
    }
    const where = await this.o.driver.routeGet(family, gateway).catch(() => undefined);
    if (!where || where.viaGateway || where.ifindex <= 0) return undefined;
    // Another creation for the same gateway may have finished while we asked.
    m = this.members.get(mk);
    if (m) {
      m.refs++;
      return m;
    }
    const adopted = this.claimAdoptedGateway(family, gateway, where.ifindex);
    const id = adopted ?? (await this.addObject({ id: 0, protocol: this.o.protocol, kind: 'gateway', family, gateway, ifindex: where.ifindex }));
    m = this.members.get(mk);
    if (m) {
      // Lost a race: keep the first object, drop ours.
      if (adopted === undefined) await this.o.driver.deleteNexthop(id).catch(() => undefined);
      m.refs++;
      return m;
    }
    m = { id, family, gateway, ifindex: where.ifindex, refs: 1 };
    this.members.set(mk, m);
    return m;
  }

  /** Create an object under a fresh id (ids taken by others are skipped); returns the id. */
  private async addObject(nh: NexthopObject): Promise<number> {
    for (let probe = 0; ; probe++) {
      const id = this.nextId++;
      try {
        await this.o.driver.addNexthop({ ...nh, id });
        return id;
      } catch (err) {
        if (probe < MAX_ID_PROBES && (err as { code?: string }).code === 'NETLINK_EEXIST') continue;
        throw err;
      }
    }
  }

  private claimAdoptedGateway(family: 4 | 6, gateway: string, ifindex: number): number | undefined {
    for (const [id, nh] of this.adopted) {
      if (nh.kind === 'gateway' && nh.family === family && nh.gateway === gateway && nh.ifindex === ifindex) {
        this.adopted.delete(id);
        return id;
      }
    }
    return undefined;
  }

  private claimAdoptedGroup(memberIds: readonly number[]): number | undefined {
    const want = [...memberIds].sort((a, b) => a - b).join(',');
    for (const [id, nh] of this.adopted) {
      if (nh.kind === 'group' && [...nh.members].sort((a, b) => a - b).join(',') === want) {
        this.adopted.delete(id);
        return id;
      }
    }
    return undefined;
  }
}
