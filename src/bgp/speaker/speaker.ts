/**
 * The BGP speaker: the configured peers and the listening socket (session
 * layer) glued to the routing engine (RIB), the way BIRD's proto/bgp sits
 * between its sessions and nest/. The session layer knows nothing of routes
 * and the engine knows nothing of sockets; this file translates between them.
 *
 * Each peer is a route source in the engine (its Adj-RIB-In) and, while
 * Established, an export target. This node's originated prefixes are one
 * more source, "local".
 */
import { isIP } from 'node:net';
import type { Logger } from '../../util/log';
import { errorMessage } from '../../errors';
import type { NodeConfig, OriginateEntry, PeerConfigEntry } from '../../config/types';
import type { NodeStatus, PeerStatus as PeerStatusView, RouteQuery, RouteView } from '../../control/types';
import { describeCapability, endOfRibFamily, familyOf, Origin, type Family, type PathAttributes, type UpdateMessage } from '../wire';
import { Peer, Listener, codecOptionsFor, type PeerEvent, type Negotiated, type ListenerEvent } from '../session';
import type { LocalIdentity } from '../policy/rules';
import { RibEngine, addressSortKey, ipv4ToNumber, attributesView, type FibSink, type NlriInput, type RouteAttributes, type SourceInfo } from '../rib';
import { parseCommunity, parseLargeCommunity } from '../policy/communities';
import { compileFilters, type NamedBgpFilter } from '../policy/bgp-filter';
import { parsePrefix } from '../../util/ip';
import { peerSecurity, type PeerSecurity } from './peer-security';
import { VERSION } from '../../version';

/** Everything the speaker keeps per configured neighbour. */
interface PeerEntry {
  config: PeerConfigEntry;
  peer: Peer;
  source: number;
  log: Logger;
  /** Families whose End-of-RIB arrived in the current session (RFC 4724 §2). */
  endOfRib: Set<Family>;
  /** What the last session negotiated (kept after it ends, for graceful restart). */
  lastNegotiated?: Negotiated;
  /** Purges stale routes of a restarting peer when its time is up (RFC 4724 §4.2). */
  staleTimer?: NodeJS.Timeout;
  /** NOTIFICATIONs by direction, code and subcode ("sent:6:2" → count), for metrics. */
  notifications: Map<string, number>;
  /** TCP-MD5 key and TTL security of its connections; with an error the peer is not started. */
  security: PeerSecurity;
  /** What onUpdate needs of the session's negotiation, worked out once per session (not per UPDATE). */
  accepts?: { negotiated: Negotiated; families: Set<Family>; addPath: Set<Family> };
  /**
   * The route attributes made from the last UPDATE's IPv4 path attributes:
   * the session's codec hands back the same attributes object while the
   * bytes repeat (CodecOptions.attributeMemo), and then so does this, which
   * lets the RIB find the interned set without rebuilding its key.
   */
  lastIpv4Attrs?: { from: PathAttributes; attrs: RouteAttributes };
}

/**
 * How long stale routes of a peer that came back may wait for its
 * End-of-RIB (FRR's stalepath-time and BIRD's default, 360 s).
 */
const STALE_PATH_TIME_S = 360;

/** How long stop() waits for Ceases to reach the wire before giving up. */
const STOP_GRACE_MS = 2000;

export interface SpeakerOptions {
  /** Where best routes go (the kernel FIB); none = RIB only. */
  fib?: FibSink;
  /** Whether a next hop resolves (next-hop tracking); none = every next hop does. */
  nextHopReachable?: (address: string) => boolean;
}

export class Speaker {
  private readonly peers = new Map<string, PeerEntry>();
  private listener: Listener | undefined;
  private readonly startedAt = new Date();
  private readonly log: Logger;
  private readonly engine: RibEngine;
  private readonly localSource: number;
  /** Originated routes as announced to the engine, by prefix, with their attribute key. */
  private originated = new Map<string, { family: Family; key: string }>();
  /** The identity object the engine reads on every import and export; its clusterId may change at run time. */
  private readonly me: LocalIdentity;
  /** Peers whose exports are re-sent once the engine is idle (soft reconfiguration). */
  private readonly refreshTargets = new Set<PeerEntry>();
  private refreshQueued = false;

  constructor(
    private config: NodeConfig,
    log: Logger,
    opts: SpeakerOptions = {},
  ) {
    this.log = log.child({ component: 'bgp' });
    this.me = { routerId: config.routerId, clusterId: config.routeReflectorClusterID ?? config.routerId };
    this.engine = new RibEngine({
      me: this.me,
      decision: { alwaysCompareMed: false },
      fib: opts.fib,
      ...(opts.nextHopReachable ? { nextHopReachable: opts.nextHopReachable } : {}),
      onError: (err) => this.log.error(`routing engine: ${errorMessage(err)}`),
    });
    this.localSource = this.engine.addSource(this.localSourceInfo());
  }

  private localSourceInfo(): SourceInfo {
    return {
      name: 'local',
      summary: { local: true, ibgp: false, routerId: ipv4ToNumber(this.config.routerId), addressKey: '' },
      origin: { local: true, ibgp: false, fromRrClient: false, peerRouterId: this.config.routerId, localAs: this.config.asNumber },
    };
  }

  async start(): Promise<void> {
    this.syncOriginated();
    for (const pc of this.config.peers) this.addPeer(pc);
    if (this.config.listen.enabled) {
      const listener = new Listener({ host: this.config.listen.address, port: this.config.listen.port });
      listener.on('event', (e) => this.onListenerEvent(e));
      for (const entry of this.peers.values()) listener.addPeer(entry.peer);
      const bound = await listener.listen();
      this.listener = listener;
      this.log.info(`listening for BGP on [${bound.address}]:${bound.port}`);
    }
    for (const entry of this.peers.values()) entry.peer.start();
  }

  /**
   * Stop accepting, send a Cease (with the RFC 8203 text) to every peer and
   * wait, up to STOP_GRACE_MS, for the sessions to close. The listener's close
   * only completes once the accepted sockets are gone, so it is awaited
   * together with the peers, not before them.
   */
  async stop(text?: string): Promise<void> {
    const waits: Promise<unknown>[] = [];
    if (this.listener) waits.push(this.listener.close().catch(() => undefined));
    this.listener = undefined;
    for (const entry of this.peers.values()) {
      if (entry.staleTimer) clearTimeout(entry.staleTimer);
      waits.push(this.waitIdle(entry.peer));
      entry.peer.stop(text !== undefined ? { text } : {});
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(waits), new Promise((r) => (timer = setTimeout(r, STOP_GRACE_MS)))]);
    clearTimeout(timer);
  }

  /**
   * Initial convergence: every enabled peer is Established and has sent
   * End-of-RIB for every negotiated family, and the engine is idle. The
   * kernel FIB waits for this before its first reconcile.
   */
  converged(): boolean {
    for (const e of this.peers.values()) {
      if (!e.config.enabled) continue;
      const n = e.peer.negotiated;
      if (!n || !n.families.every((f) => e.endOfRib.has(f))) return false;
    }
    return true;
  }

  /** Kernel routes changed: re-decide the prefixes whose next hops became (un)reachable. */
  nextHopsChanged(): void {
    const n = this.engine.nextHopsChanged();
    if (n > 0) this.log.info(`next-hop reachability changed: re-deciding ${n} route(s)`);
  }

  /** Resolves when the engine has decided and sent everything queued (tests, benchmarks). */
  idle(): Promise<void> {
    return this.engine.idle();
  }

  /** Resolves when everything received so far has been decided and handed to the FIB (output to peers may still be queued). */
  decided(): Promise<void> {
    return this.engine.decided();
  }

  private waitIdle(peer: Peer): Promise<void> {
    if (peer.state === 'Idle') return Promise.resolve();
    return new Promise((resolve) => {
      const onEvent = (e: PeerEvent): void => {
        if (e.type === 'peer-state-change' && e.to === 'Idle') {
          peer.off('event', onEvent);
          resolve();
        }
      };
      peer.on('event', onEvent);
    });
  }

  private addPeer(pc: PeerConfigEntry): PeerEntry {
    const log = this.log.child({ component: 'bgp.peer', peer: pc.name === pc.peerIP ? pc.peerIP : `${pc.name} (${pc.peerIP})` });
    const security = peerSecurity(pc, this.config.secretsDir);
    if (security.error !== undefined) log.error(`${security.error}: this peer is not started`);
    const peer = new Peer(
      {
        address: pc.peerIP,
        port: pc.port,
        peerAs: pc.asNumber,
        localAs: pc.localASNumber,
        passive: pc.passive,
        holdTime: pc.holdTime,
        keepaliveTime: pc.keepaliveTime,
        connectRetryTime: pc.connectRetryTime,
        sourceAddress: pc.sourceAddress,
        families: pc.families,
        ...(pc.addPaths !== 'off' ? { addPath: Object.fromEntries(pc.families.map((f) => [f, pc.addPaths])) } : {}),
        gracefulRestart: { restartTime: pc.maxRestartTime ?? this.config.bgp.gracefulRestartTime },
        enabled: pc.enabled && security.error === undefined,
        ...(security.tcpMd5Key !== undefined ? { tcpMd5Key: security.tcpMd5Key } : {}),
        ...(security.ttlSecurity !== undefined ? { ttlSecurity: security.ttlSecurity } : {}),
        packedNlri: true,
      },
      { speaker: { localAs: this.config.asNumber, routerId: this.config.routerId }, logger: log },
    );
    const localAs = pc.localASNumber ?? this.config.asNumber;
    const source = this.engine.addSource({
      name: pc.peerIP,
      summary: { local: false, ibgp: localAs === pc.asNumber, routerId: 0, addressKey: addressSortKey(pc.peerIP) },
      origin: { local: false, ibgp: localAs === pc.asNumber, fromRrClient: pc.routeReflectorClient, peerRouterId: '0.0.0.0', localAs },
      importFilter: compileFilters(this.filtersOf(pc), 'import'),
    });
    const entry: PeerEntry = { config: pc, peer, source, log, endOfRib: new Set(), notifications: new Map(), security };

    peer.on('event', (e) => this.onPeerEvent(entry, e));
    this.peers.set(pc.peerIP, entry);
    return entry;
  }

  /** The peer's BGPFilters, resolved by name in the order the peer lists them. */
  private filtersOf(pc: PeerConfigEntry, config: NodeConfig = this.config): NamedBgpFilter[] {
    return pc.filters.map((name) => config.bgpFilters.find((f) => f.name === name)).filter((f): f is NamedBgpFilter => f !== undefined);
  }

  private removePeer(entry: PeerEntry, stop: { deconfigured?: boolean; text?: string }): void {
    if (entry.staleTimer) clearTimeout(entry.staleTimer);
    this.listener?.removePeer(entry.peer);
    entry.peer.stop(stop);
    this.engine.removeSource(entry.source);
    this.peers.delete(entry.config.peerIP);
  }

  /**
   * Apply a new config without a restart: peers added, removed (Cease / Peer
   * De-configured, RFC 4486) or changed (restarted) one by one, every other
   * session untouched; originated routes diffed and sent as UPDATEs.
   * Node identity and the listening socket need a restart; returns notes
   * about what was not applied.
   */
  reconfigure(next: NodeConfig): string[] {
    const cur = this.config;
    const notes: string[] = [];
    const keep = <K extends keyof NodeConfig>(key: K): void => {
      if (JSON.stringify(next[key]) !== JSON.stringify(cur[key])) {
        notes.push(`${key} changed: takes effect after a restart`);
        next = { ...next, [key]: cur[key] };
      }
    };
    keep('asNumber');
    keep('routerId');
    keep('routeReflectorClusterID');
    keep('listen');
    keep('controlSocket');
    keep('nodeName');
    this.config = next;

    const wanted = new Map(next.peers.map((p) => [p.peerIP, p]));
    for (const entry of [...this.peers.values()]) {
      const pc = wanted.get(entry.config.peerIP);
      const rekey = pc !== undefined && peerSecurity(pc, next.secretsDir).fingerprint !== entry.security.fingerprint;
      if (pc && !rekey && JSON.stringify({ ...pc, filters: [] }) === JSON.stringify({ ...entry.config, filters: [] })) {
        // Only its filters (or their definitions) may differ: re-filter without touching the session.
        const before = JSON.stringify(this.filtersOf(entry.config, cur));
        const after = JSON.stringify(this.filtersOf(pc, next));
        entry.config = pc;
        if (before !== after) {
          entry.log.info(`BGP filters changed (${pc.filters.join(', ') || 'none'}): applying without a session reset`);
          this.engine.setImportFilter(entry.source, compileFilters(this.filtersOf(pc, next), 'import'));
          this.engine.setExportFilter(entry.source, compileFilters(this.filtersOf(pc, next), 'export'));
        }
        continue;
      }
      entry.log.info(pc ? 'peer configuration changed: restarting this session' : 'peer removed from the configuration');
      this.removePeer(entry, pc ? { text: 'peer configuration changed' } : { deconfigured: true });
    }
    for (const pc of next.peers) {
      if (this.peers.has(pc.peerIP)) continue;
      const entry = this.addPeer(pc);
      this.listener?.addPeer(entry.peer);
      entry.peer.start();
    }
    this.syncOriginated();
    return notes;
  }

  /**
   * The datastore peering watcher's entry point: make the peer set, the
   * originated prefixes and the route-reflector cluster ID exactly these,
   * touching as little as possible.
   *
   * - a peer whose entry is unchanged keeps its session;
   * - a peer whose change is local only (name, peer type, passive while
   *   Established, becoming a route-reflector client, next-hop mode,
   *   filters) is updated in place: same TCP connection, nothing withdrawn;
   *   its exports are recomputed and re-sent (and, when route reflection
   *   changed, every peer's), which only adds or replaces routes;
   * - any other change (address, port, AS numbers, timers, families, source
   *   address, restart time, TTL security, password, a client demoted) needs
   *   a new OPEN or withdrawals: that one session restarts;
   * - a peer no longer wanted gets a Cease (Peer De-configured).
   *
   * A new cluster ID applies to routes imported and exported from now on.
   * Returns one line per change, for the log.
   */
  applyPeering(next: { peers: PeerConfigEntry[]; originate: OriginateEntry[]; bgpFilters: NamedBgpFilter[]; routeReflectorClusterID?: string }): string[] {
    const changes: string[] = [];
    const cur = this.config;
    const clusterId = next.routeReflectorClusterID ?? this.config.routerId;
    if (clusterId !== this.me.clusterId) {
      changes.push(next.routeReflectorClusterID ? `route reflector with cluster ID ${clusterId}` : 'no longer a route reflector');
      this.me.clusterId = clusterId;
    }
    this.config = { ...cur, peers: next.peers, originate: next.originate, bgpFilters: next.bgpFilters, routeReflectorClusterID: next.routeReflectorClusterID };
    let reflectionChanged = false;
    const wanted = new Map(next.peers.map((p) => [p.peerIP, p]));
    for (const entry of [...this.peers.values()]) {
      const pc = wanted.get(entry.config.peerIP);
      if (!pc) {
        changes.push(`peer ${entry.config.name} (${entry.config.peerIP}) removed`);
        this.removePeer(entry, { deconfigured: true });
        continue;
      }
      const filtersBefore = JSON.stringify(this.filtersOf(entry.config, cur));
      // A password whose secret changed (or appeared) needs a new session, as a changed field does.
      const rekey = peerSecurity(pc, this.config.secretsDir).fingerprint !== entry.security.fingerprint;
      if (rekey || JSON.stringify(pc) !== JSON.stringify(entry.config)) {
        const soft = rekey ? undefined : this.softChange(entry, pc);
        if (soft === undefined) {
          changes.push(`peer ${pc.name} (${pc.peerIP}) changed: restarting that session`);
          this.removePeer(entry, { text: 'peer configuration changed' });
          continue;
        }
        changes.push(`peer ${pc.name} (${pc.peerIP}) updated in place: ${soft.what}`);
        if (soft.reflection) reflectionChanged = true;
        else if (soft.exports) this.queueRefresh([entry]);
      }
      const filters = this.filtersOf(pc);
      if (JSON.stringify(filters) !== filtersBefore) {
        changes.push(`peer ${pc.name} (${pc.peerIP}): BGP filters now ${pc.filters.join(', ') || 'none'}, applied without a session reset`);
        this.engine.setImportFilter(entry.source, compileFilters(filters, 'import'));
        this.engine.setExportFilter(entry.source, compileFilters(filters, 'export'));
      }
    }
    for (const pc of next.peers) {
      if (this.peers.has(pc.peerIP)) continue;
      changes.push(`peer ${pc.name} (${pc.peerIP}) added as ${pc.peerType ?? 'node specific'}${pc.routeReflectorClient ? ', route-reflector client' : ''}`);
      const entry = this.addPeer(pc);
      this.listener?.addPeer(entry.peer);
      entry.peer.start();
    }
    if (reflectionChanged) this.queueRefresh([...this.peers.values()]);
    const before = JSON.stringify([...this.originated]);
    this.syncOriginated();
    if (JSON.stringify([...this.originated]) !== before) changes.push(`now originating ${this.originated.size} prefix(es)`);
    return changes;
  }

  /**
   * Fields whose change keeps the session. Undefined when the change needs a
   * restart; otherwise what changed and whether exports must be re-sent.
   * (Filters are compared separately: their definitions can change too.)
   */
  private softChange(entry: PeerEntry, pc: PeerConfigEntry): { what: string; exports: boolean; reflection: boolean } | undefined {
    const old = entry.config;
    const SOFT = ['name', 'peerType', 'passive', 'routeReflectorClient', 'nextHopMode', 'filters'] as const;
    const strip = (c: PeerConfigEntry): string => JSON.stringify({ ...c, ...Object.fromEntries(SOFT.map((k) => [k, undefined])) });
    if (strip(old) !== strip(pc)) return undefined;
    // Demoting a client would need withdrawals of what it was reflected; a restart is the honest way.
    if (old.routeReflectorClient && !pc.routeReflectorClient) return undefined;
    const established = entry.peer.state === 'Established';
    // Turning active needs the connect timer the Peer starts; only worth it when nothing is lost.
    if (old.passive !== pc.passive && !established) return undefined;
    const what = SOFT.filter((k) => JSON.stringify(old[k]) !== JSON.stringify(pc[k])).join(', ');
    entry.config = pc;
    entry.peer.config.passive = pc.passive;
    entry.log = this.log.child({ component: 'bgp.peer', peer: pc.name === pc.peerIP ? pc.peerIP : `${pc.name} (${pc.peerIP})` });
    const reflection = old.routeReflectorClient !== pc.routeReflectorClient;
    if (reflection) {
      const n = entry.peer.negotiated;
      const localAs = pc.localASNumber ?? this.config.asNumber;
      const ibgp = n ? n.ibgp : localAs === pc.asNumber;
      this.engine.updateSourceInfo(entry.source, {
        name: pc.peerIP,
        summary: { local: false, ibgp, routerId: n ? ipv4ToNumber(n.peerBgpId) : 0, addressKey: addressSortKey(pc.peerIP) },
        origin: { local: false, ibgp, fromRrClient: pc.routeReflectorClient, peerRouterId: n ? n.peerBgpId : '0.0.0.0', localAs: n ? n.localAs : localAs },
        importFilter: compileFilters(this.filtersOf(pc), 'import'),
      });
    }
    return { what, exports: reflection || old.nextHopMode !== pc.nextHopMode, reflection };
  }

  /**
   * Re-send the whole table to these peers once the engine is idle (soft
   * reconfiguration outbound). Announcements replace what the peer has;
   * callers only use this when nothing sent before must be withdrawn.
   */
  private queueRefresh(entries: PeerEntry[]): void {
    for (const e of entries) this.refreshTargets.add(e);
    if (this.refreshQueued) return;
    this.refreshQueued = true;
    void this.engine.idle().then(() => {
      this.refreshQueued = false;
      const targets = [...this.refreshTargets];
      this.refreshTargets.clear();
      for (const e of targets) {
        if (this.peers.get(e.config.peerIP) !== e) continue;
        const n = e.peer.negotiated;
        if (!n) continue;
        this.engine.setTarget(e.source, this.targetFor(e, n)).catch((err: unknown) => e.log.warn(`could not re-send the routing table: ${errorMessage(err)}`));
      }
    });
  }

  // --- originated routes ---------------------------------------------------------

  /** Desired state, diff, apply: the config's originate list against what the engine holds. */
  private syncOriginated(): void {
    const next = new Map<string, { family: Family; key: string; attrs: RouteAttributes }>();
    for (const e of this.config.originate) {
      const attrs = originatedAttributes(e);
      next.set(e.prefix, { family: e.family, key: JSON.stringify(attrs), attrs });
    }
    for (const [prefix, cur] of this.originated) {
      if (!next.has(prefix)) this.engine.withdraw(this.localSource, cur.family, { list: [{ prefix }] });
    }
    for (const [prefix, n] of next) {
      if (this.originated.get(prefix)?.key === n.key) continue;
      this.engine.announce(this.localSource, n.family, n.attrs, { list: [{ prefix }] });
    }
    this.originated = new Map([...next].map(([p, n]) => [p, { family: n.family, key: n.key }]));
  }

  // --- session events ---------------------------------------------------------------

  private onListenerEvent(e: ListenerEvent): void {
    if (e.type === 'rejected') this.log.warn(`refused BGP connection from ${e.remoteAddress} port ${e.remotePort}: ${e.reason}`);
    else if (e.type === 'error') this.log.error(`listener error: ${errorMessage(e.error)}`);
  }

  /**
   * The session layer already logs state changes, NOTIFICATIONs, collisions,
   * refusals and error waits (with the peer in every line); the speaker adds
   * only what it alone knows: routes.
   */
  private onPeerEvent(entry: PeerEntry, e: PeerEvent): void {
    if (!this.peers.has(entry.config.peerIP) || this.peers.get(entry.config.peerIP) !== entry) return;
    switch (e.type) {
      case 'established':
        this.onEstablished(entry, e.negotiated);
        break;
      case 'update':
        this.onUpdate(entry, e.message);
        break;
      case 'down': {
        // Only the end of the connection that was Established ends the session: a collision
        // loser or an abandoned connect attempt says nothing about the routes.
        if (!e.established) break;
        void this.engine.setTarget(entry.source, undefined);
        const gr = entry.lastNegotiated?.gracefulRestart;
        // RFC 4724 §4.2: the TCP session of a peer that advertised Graceful Restart ended without a
        // NOTIFICATION: it is restarting. Keep its routes (and our kernel routes) as stale, for at
        // most the restart time it announced.
        if (gr && gr.restartTime > 0 && e.reason.kind === 'connection-lost' && this.peers.get(entry.config.peerIP) === entry) {
          const kept = this.engine.markStale(entry.source);
          entry.log.info(`graceful restart: keeping ${kept} route(s) of the restarting peer for up to ${gr.restartTime} s`);
          this.armStaleTimer(entry, gr.restartTime, 'did not come back within its restart time');
          break;
        }
        if (entry.staleTimer) clearTimeout(entry.staleTimer);
        const removed = this.engine.clearSource(entry.source);
        if (removed) entry.log.info(`removed ${removed} route(s) learned from the peer`);
        break;
      }
      case 'notification-sent':
      case 'notification-received': {
        const k = `${e.type === 'notification-sent' ? 'sent' : 'received'}:${e.code}:${e.subcode}`;
        entry.notifications.set(k, (entry.notifications.get(k) ?? 0) + 1);
        break;
      }
      case 'route-refresh': {
        // RFC 2918 §4 / RFC 7313: resend the Adj-RIB-Out for the family (we resend all, then End-of-RIB).
        const n = entry.peer.negotiated;
        entry.log.info(`route refresh requested for afi ${e.message.afi} safi ${e.message.safi}`);
        if (n && e.message.subtype === 0) void this.engine.setTarget(entry.source, this.targetFor(entry, n));
        break;
      }
      default:
        break;
    }
  }

  private armStaleTimer(entry: PeerEntry, seconds: number, why: string): void {
    if (entry.staleTimer) clearTimeout(entry.staleTimer);
    entry.staleTimer = setTimeout(() => {
      entry.staleTimer = undefined;
      if (this.peers.get(entry.config.peerIP) !== entry) return;
      const n = this.engine.purgeStale(entry.source);
      if (n) entry.log.info(`graceful restart: removed ${n} stale route(s): the peer ${why}`);
    }, seconds * 1000);
    entry.staleTimer.unref();
  }

  /**
   * RFC 4724 §4.2 on the new session of a restarting peer: families it no
   * longer preserves (no capability, or F bit clear) lose their stale routes
   * at once; the others keep them until the peer's End-of-RIB, at most
   * STALE_PATH_TIME_S.
   */
  private resumeAfterRestart(entry: PeerEntry, n: Negotiated): void {
    if (this.engine.staleCount(entry.source) === 0) return;
    const preserved = new Set((n.gracefulRestart?.families ?? []).filter((f) => f.forwarding).map((f) => f.family));
    for (const f of ['ipv4-unicast', 'ipv6-unicast'] as const) {
      if (preserved.has(f)) continue;
      const gone = this.engine.purgeStale(entry.source, f);
      if (gone) entry.log.info(`graceful restart: the peer did not preserve ${f} forwarding; removed ${gone} stale route(s)`);
    }
    if (this.engine.staleCount(entry.source) > 0) this.armStaleTimer(entry, STALE_PATH_TIME_S, 'sent no End-of-RIB in time');
    else if (entry.staleTimer) clearTimeout(entry.staleTimer);
  }

  private onEstablished(entry: PeerEntry, n: Negotiated): void {
    entry.endOfRib.clear();
    entry.lastNegotiated = n;
    this.resumeAfterRestart(entry, n);
    entry.log.info(
      `Established: ${n.ibgp ? 'iBGP' : 'eBGP'} AS${n.localAs} -> AS${n.peerAs}, peer router ID ${n.peerBgpId}, ` +
        `hold ${n.holdTime} s, keepalive ${n.keepaliveTime} s, families ${n.families.join(' ') || 'none'}`,
      { peerCapabilities: n.peerCapabilities.map((c) => describeCapability(c)) },
    );
    this.engine.updateSourceInfo(entry.source, {
      name: entry.config.peerIP,
      summary: { local: false, ibgp: n.ibgp, routerId: ipv4ToNumber(n.peerBgpId), addressKey: addressSortKey(entry.config.peerIP) },
      origin: { local: false, ibgp: n.ibgp, fromRrClient: entry.config.routeReflectorClient, peerRouterId: n.peerBgpId, localAs: n.localAs },
      importFilter: compileFilters(this.filtersOf(entry.config), 'import'),
    });
    this.engine.setTarget(entry.source, this.targetFor(entry, n)).catch((err: unknown) => entry.log.warn(`could not send the routing table: ${errorMessage(err)}`));
  }

  private targetFor(entry: PeerEntry, n: Negotiated): Parameters<RibEngine['setTarget']>[1] {
    const local = entry.peer.status().connection?.localAddress;
    return {
      ibgp: n.ibgp,
      rrClient: entry.config.routeReflectorClient,
      localAs: n.localAs,
      nextHopMode: entry.config.nextHopMode === 'Self' ? 'self' : entry.config.nextHopMode === 'Keep' ? 'keep' : 'auto',
      nextHopSelf: {
        ipv4: this.config.ipv4Address ?? (local && isIP(local) === 4 ? local : undefined),
        ipv6: this.config.ipv6Address ?? (local && isIP(local) === 6 && !local.startsWith('fe80') ? local : undefined),
      },
      families: n.families,
      codec: codecOptionsFor(n).encode,
      exportFilter: compileFilters(this.filtersOf(entry.config), 'export'),
      send: (buffers) => entry.peer.sendUpdates(buffers),
    };
  }

  private onUpdate(entry: PeerEntry, update: UpdateMessage): void {
    const n = entry.peer.negotiated;
    if (!n) return;
    for (const err of update.errors ?? []) entry.log.warn(`malformed UPDATE handled per RFC 7606 (${err.action}): ${err.message}`);
    const eor = endOfRibFamily(update);
    if (eor) {
      entry.endOfRib.add(eor);
      // RFC 4724 §4.2: End-of-RIB ends the restart for that family; what was not resent goes.
      const gone = this.engine.purgeStale(entry.source, eor);
      if (gone) entry.log.info(`graceful restart: End-of-RIB for ${eor}; removed ${gone} stale route(s) the peer did not resend`);
      if (this.engine.staleCount(entry.source) === 0 && entry.staleTimer) {
        clearTimeout(entry.staleTimer);
        entry.staleTimer = undefined;
      }
      entry.log.info(`End-of-RIB for ${eor}: ${this.engine.counts(entry.source, eor).received} route(s) received`);
      return;
    }
    if (entry.accepts?.negotiated !== n) entry.accepts = { negotiated: n, families: new Set(n.families), addPath: new Set(codecOptionsFor(n).decode.addPath) };
    const { families, addPath } = entry.accepts;
    const asWithdraw = update.errors?.some((e) => e.action === 'treat-as-withdraw') ?? false;
    const a = update.attributes;
    const nlriOf = (family: Family, packed: Buffer | undefined, list: UpdateMessage['nlri']): NlriInput =>
      packed ? { packed, addPath: addPath.has(family) } : { list, addPath: addPath.has(family) };

    // RFC 4271 §9: withdrawals first, so a prefix withdrawn and re-announced in one UPDATE stays.
    if (update.packed?.withdrawn.length || update.withdrawn.length) {
      if (families.has('ipv4-unicast')) this.engine.withdraw(entry.source, 'ipv4-unicast', nlriOf('ipv4-unicast', update.packed?.withdrawn, update.withdrawn));
    }
    if (a.mpUnreach) {
      const f = familyOf(a.mpUnreach.afi, a.mpUnreach.safi);
      if (f && families.has(f)) this.engine.withdraw(entry.source, f, nlriOf(f, a.mpUnreach.packed, a.mpUnreach.withdrawn));
    }
    const { mpReach, mpUnreach: _u, nextHop, ...rest } = a;
    const announce = (family: Family, nlri: NlriInput, nextHops: string[]): void => {
      if (!families.has(family)) {
        entry.log.warn(`ignored routes of ${family}, which was not negotiated`);
        return;
      }
      // RFC 7606 §2: treat-as-withdraw — the prefixes this UPDATE announces are withdrawn instead.
      if (asWithdraw) this.engine.withdraw(entry.source, family, nlri);
      else this.engine.announce(entry.source, family, { ...rest, nextHops }, nlri);
    };
    if (update.packed?.nlri.length || update.nlri.length) {
      const nlri = nlriOf('ipv4-unicast', update.packed?.nlri, update.nlri);
      if (!families.has('ipv4-unicast') || asWithdraw) announce('ipv4-unicast', nlri, []);
      else {
        if (entry.lastIpv4Attrs?.from !== a) entry.lastIpv4Attrs = { from: a, attrs: { ...rest, nextHops: nextHop ? [nextHop] : [] } };
        this.engine.announce(entry.source, 'ipv4-unicast', entry.lastIpv4Attrs.attrs, nlri);
      }
    }
    if (mpReach) {
      const f = familyOf(mpReach.afi, mpReach.safi);
      if (f) announce(f, nlriOf(f, mpReach.packed, mpReach.nlri), mpReach.nextHops);
    }
  }

  // --- views for the control API ---------------------------------------------

  status(): NodeStatus {
    return {
      nodeName: this.config.nodeName,
      asNumber: this.config.asNumber,
      routerId: this.config.routerId,
      version: VERSION,
      pid: process.pid,
      startedAt: this.startedAt.toISOString(),
      peers: [...this.peers.values()].map((e) => this.peerStatus(e)),
      locRib: { 'ipv4-unicast': this.engine.locSize('ipv4-unicast'), 'ipv6-unicast': this.engine.locSize('ipv6-unicast') },
      ribTableBytes: this.engine.tableBytes(),
    };
  }

  /** status() plus what only metrics need: NOTIFICATIONs by code and withdrawal counts. */
  metricsSnapshot(): NodeStatus & { peers: (PeerStatusView & { withdrawals: { received: number; sent: number } })[]; notifications: { peer: string; direction: 'sent' | 'received'; code: number; subcode: number; count: number }[] } {
    const st = this.status();
    const byAddress = new Map([...this.peers.values()].map((e) => [e.config.peerIP, e]));
    const notifications = [...this.peers.values()].flatMap((e) =>
      [...e.notifications].map(([k, count]) => {
        const [direction, code, subcode] = k.split(':');
        return { peer: e.config.peerIP, direction: direction as 'sent' | 'received', code: Number(code), subcode: Number(subcode), count };
      }),
    );
    return {
      ...st,
      peers: st.peers.map((p) => {
        const e = byAddress.get(p.address);
        return { ...p, withdrawals: e ? this.engine.withdrawalCounts(e.source) : { received: 0, sent: 0 } };
      }),
      notifications,
    };
  }

  private peerStatus(entry: PeerEntry): PeerStatusView {
    const s = entry.peer.status();
    const localAs = entry.config.localASNumber ?? this.config.asNumber;
    const n = s.negotiated;
    const view: PeerStatusView = {
      name: entry.config.name,
      address: entry.config.peerIP,
      port: entry.config.port,
      asNumber: entry.config.asNumber,
      localAsNumber: localAs,
      peerType: entry.config.peerType ?? 'node specific',
      session: localAs === entry.config.asNumber ? 'ibgp' : 'ebgp',
      enabled: s.enabled,
      passive: entry.config.passive,
      state: s.state,
      since: new Date(s.since).toISOString(),
      families: entry.config.families.map((family) => {
        const c = this.engine.counts(entry.source, family);
        return { family, received: c.received, accepted: c.accepted, advertised: n ? this.engine.advertisedCount(entry.source, family) : 0 };
      }),
      messages: {
        received: s.counters.messagesIn,
        sent: s.counters.messagesOut,
        updatesReceived: s.counters.updatesIn,
        updatesSent: s.counters.updatesOut,
        notificationsReceived: s.counters.notificationsIn,
        notificationsSent: s.counters.notificationsOut,
      },
    };
    if (s.lastError && s.state !== 'Established') view.lastError = s.lastError.text;
    if (entry.security.error !== undefined) Object.assign(view, { enabled: entry.config.enabled, lastError: entry.security.error });
    const stale = this.engine.staleCount(entry.source);
    if (stale > 0) {
      view.staleRoutes = stale;
      if (s.state !== 'Established') view.gracefulRestart = true;
    }
    if (n) {
      view.negotiated = {
        holdTime: n.holdTime,
        keepaliveTime: n.keepaliveTime,
        peerRouterId: n.peerBgpId,
        fourOctetAs: n.fourOctetAs,
        families: n.families,
        peerCapabilities: n.peerCapabilities.map((c) => describeCapability(c)),
        localAddress: s.connection?.localAddress,
        localPort: s.connection?.localPort,
        remotePort: s.connection?.remotePort,
      };
    }
    return view;
  }

  routes(q: RouteQuery): RouteView[] {
    const prefix = q.prefix ? parsePrefix(q.prefix)?.cidr ?? q.prefix : undefined;
    const out: RouteView[] = [];
    if (q.table === 'loc') {
      for (const family of ['ipv4-unicast', 'ipv6-unicast'] as const) {
        for (const r of this.engine.best(family, prefix)) {
          if (q.peer && q.peer !== r.source) continue;
          const v: RouteView = { family, prefix: r.prefix, table: 'loc', peer: r.source, attributes: attributesView(r.attrs), since: new Date(r.since).toISOString(), best: true };
          if (r.multipath) v.multipath = true;
          out.push(v);
        }
      }
      return out;
    }
    for (const entry of this.peers.values()) {
      if (q.peer && q.peer !== entry.config.peerIP && q.peer !== entry.config.name) continue;
      for (const family of entry.config.families) {
        if (q.table !== 'out') {
          for (const r of this.engine.received(entry.source, family, prefix)) {
            const v: RouteView = { family, prefix: r.prefix, table: 'in', peer: entry.config.peerIP, attributes: attributesView(r.attrs), since: new Date(r.since).toISOString() };
            if (r.pathId !== undefined) v.pathId = r.pathId;
            if (r.rejected) v.rejected = r.rejected;
            if (r.best) v.best = true;
            if (r.stale) v.stale = true;
            if (r.nextHopUnreachable) v.nextHopUnreachable = true;
            out.push(v);
          }
        }
        if (q.table !== 'in') {
          for (const r of this.engine.advertised(entry.source, family, prefix)) {
            out.push({ family, prefix: r.prefix, table: 'out', peer: entry.config.peerIP, ...(r.pathId !== undefined ? { pathId: r.pathId } : {}), attributes: attributesView({ ...r.attributes, nextHops: [r.nextHop] }), since: new Date().toISOString() });
          }
        }
      }
    }
    return out;
  }
}

/** The attributes of a locally originated route, before export rewrites them per peer. */
function originatedAttributes(e: OriginateEntry): RouteAttributes {
  const attrs: PathAttributes & { nextHops: string[] } = { origin: Origin.IGP, asPath: [], nextHops: e.nextHop ? [e.nextHop] : [] };
  if (e.med !== undefined) attrs.med = e.med;
  if (e.localPref !== undefined) attrs.localPref = e.localPref;
  const communities = e.communities.map(parseCommunity).filter((c): c is number => c !== null);
  if (communities.length) attrs.communities = communities;
  const large = e.largeCommunities.map(parseLargeCommunity).filter((c) => c !== null);
  if (large.length) attrs.largeCommunities = large;
  return attrs;
}
