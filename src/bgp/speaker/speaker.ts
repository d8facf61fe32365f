/**
 * The BGP speaker: the configured peers, the listening socket, each peer's
 * Adj-RIB-In, and what we advertise. It glues the session layer (which
 * knows nothing of routes) to the RIB (which knows nothing of sockets), the
 * way BIRD's proto/bgp sits between its sessions and nest/.
 *
 * Today it originates the configured prefixes and keeps what every peer
 * sends; best-path selection across peers and kernel programming sit on top
 * of the Adj-RIB-In tables exposed here.
 */
import { isIP } from 'node:net';
import type { Logger } from '../../util/log';
import { errorMessage } from '../../errors';
import type { NodeConfig, PeerConfigEntry } from '../../config/types';
import type { NodeStatus, PeerStatus as PeerStatusView, RouteQuery, RouteView } from '../../control/types';
import {
  encodeAnnouncements,
  encodeWithdrawals,
  encodeEndOfRib,
  describeCapability,
  endOfRibFamily,
  type Family,
  type Nlri,
  type UpdateMessage,
} from '../wire';
import { Peer, Listener, codecOptionsFor, type PeerEvent, type Negotiated, type ListenerEvent } from '../session';
import { AdjRibIn, AttributeInterner, applyUpdate, attributeKey, routeView, type RouteAttributes } from '../rib';
import { exportOriginated } from '../policy/export';
import { parsePrefix } from '../../util/ip';
import { VERSION } from '../../version';

/** One advertised route, as remembered for `tartanctl bgp routes --table out`. */
interface AdvertisedRoute {
  family: Family;
  prefix: string;
  attrs: RouteAttributes;
  /** attributeKey(attrs): a changed key means the route must be re-announced. */
  attrKey: string;
  since: number;
}

/** Everything the speaker keeps per configured neighbour. */
interface PeerEntry {
  config: PeerConfigEntry;
  peer: Peer;
  ribIn: AdjRibIn;
  advertised: Map<string, AdvertisedRoute>;
  log: Logger;
}

/** How long stop() waits for Ceases to reach the wire before giving up. */
const STOP_GRACE_MS = 2000;

export class Speaker {
  private readonly interner = new AttributeInterner();
  private readonly peers = new Map<string, PeerEntry>();
  private listener: Listener | undefined;
  private readonly startedAt = new Date();
  private readonly log: Logger;

  constructor(
    private config: NodeConfig,
    log: Logger,
  ) {
    this.log = log.child({ component: 'bgp' });
  }

  private get identity(): { localAs: number; routerId: string } {
    return { localAs: this.config.asNumber, routerId: this.config.routerId };
  }

  async start(): Promise<void> {
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
      waits.push(this.waitIdle(entry.peer));
      entry.peer.stop(text !== undefined ? { text } : {});
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(waits), new Promise((r) => (timer = setTimeout(r, STOP_GRACE_MS)))]);
    clearTimeout(timer);
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
        gracefulRestart: { restartTime: this.config.bgp.gracefulRestartTime },
        enabled: pc.enabled,
      },
      { speaker: this.identity, logger: log },
    );
    const entry: PeerEntry = { config: pc, peer, ribIn: new AdjRibIn(this.interner), advertised: new Map(), log };
    peer.on('event', (e) => this.onPeerEvent(entry, e));
    this.peers.set(pc.peerIP, entry);
    return entry;
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
    keep('listen');
    keep('controlSocket');
    keep('nodeName');
    this.config = next;

    const wanted = new Map(next.peers.map((p) => [p.peerIP, p]));
    for (const [address, entry] of [...this.peers]) {
      const pc = wanted.get(address);
      if (pc && JSON.stringify(pc) === JSON.stringify(entry.config)) continue;
      entry.log.info(pc ? 'peer configuration changed: restarting this session' : 'peer removed from the configuration');
      this.listener?.removePeer(entry.peer);
      entry.peer.stop(pc ? { text: 'peer configuration changed' } : { deconfigured: true });
      entry.ribIn.clear();
      this.peers.delete(address);
    }
    for (const pc of next.peers) {
      if (this.peers.has(pc.peerIP)) continue;
      const entry = this.addPeer(pc);
      this.listener?.addPeer(entry.peer);
      entry.peer.start();
    }
    if (JSON.stringify(next.originate) !== JSON.stringify(cur.originate) || next.ipv4Address !== cur.ipv4Address || next.ipv6Address !== cur.ipv6Address) {
      for (const entry of this.peers.values()) void this.syncAdvertised(entry, 'changes');
    }
    return notes;
  }

  private onListenerEvent(e: ListenerEvent): void {
    switch (e.type) {
      case 'rejected':
        this.log.warn(`refused BGP connection from ${e.remoteAddress} port ${e.remotePort}: ${e.reason}`);
        break;
      case 'error':
        this.log.error(`listener error: ${errorMessage(e.error)}`);
        break;
      default:
        break;
    }
  }

  /**
   * The session layer already logs state changes, NOTIFICATIONs, collisions,
   * refusals and error waits (with the peer in every line); the speaker adds
   * only what it alone knows: routes.
   */
  private onPeerEvent(entry: PeerEntry, e: PeerEvent): void {
    switch (e.type) {
      case 'established':
        this.onEstablished(entry, e.negotiated);
        break;
      case 'update':
        this.onUpdate(entry, e.message);
        break;
      case 'down': {
        const removed = entry.ribIn.clear();
        entry.advertised.clear();
        if (removed) entry.log.info(`removed ${removed} route(s) learned from the peer`);
        break;
      }
      case 'route-refresh':
        // RFC 2918 §4: resend everything we advertise (for simplicity, every family).
        entry.log.info(`route refresh requested for afi ${e.message.afi} safi ${e.message.safi}`);
        void this.syncAdvertised(entry, 'refresh');
        break;
      default:
        break;
    }
  }

  private onEstablished(entry: PeerEntry, n: Negotiated): void {
    entry.log.info(
      `Established: ${n.ibgp ? 'iBGP' : 'eBGP'} AS${n.localAs} -> AS${n.peerAs}, peer router ID ${n.peerBgpId}, ` +
        `hold ${n.holdTime} s, keepalive ${n.keepaliveTime} s, families ${n.families.join(' ') || 'none'}`,
      { peerCapabilities: n.peerCapabilities.map((c) => describeCapability(c)) },
    );
    void this.syncAdvertised(entry, 'initial');
  }

  private onUpdate(entry: PeerEntry, update: UpdateMessage): void {
    const n = entry.peer.negotiated;
    if (!n) return;
    for (const err of update.errors ?? []) {
      entry.log.warn(`malformed UPDATE handled per RFC 7606 (${err.action}): ${err.message}`);
    }
    const eor = endOfRibFamily(update);
    if (eor) {
      entry.log.info(`End-of-RIB for ${eor}: ${entry.ribIn.count(eor)} route(s) received`);
      return;
    }
    const effect = applyUpdate(entry.ribIn, update, new Set(n.families), Date.now());
    if (effect.ignoredFamilies.length) {
      entry.log.warn(`ignored routes of families not negotiated: ${[...new Set(effect.ignoredFamilies)].join(', ')}`);
    }
    entry.log.debug(`UPDATE: ${effect.announced} announced, ${effect.withdrawn} withdrawn, ${effect.treatedAsWithdraw} treated as withdrawn`);
  }

  /**
   * Desired state, diff, apply: compute what this peer should have from us,
   * compare with what it was sent, and send only the difference (new or
   * changed routes as announcements, the rest as withdrawals).
   * - `initial`: right after Established; ends with End-of-RIB per family (RFC 4724 §2).
   * - `refresh`: the peer asked for a ROUTE-REFRESH (RFC 2918 §4): resend everything.
   * - `changes`: our config changed: send the difference only.
   */
  private async syncAdvertised(entry: PeerEntry, mode: 'initial' | 'refresh' | 'changes'): Promise<void> {
    const n = entry.peer.negotiated;
    if (!n) return;
    const local = entry.peer.status().connection?.localAddress;
    const nextHopSelf = {
      ipv4: this.config.ipv4Address ?? (local && isIP(local) === 4 ? local : undefined),
      ipv6: this.config.ipv6Address ?? (local && isIP(local) === 6 && !local.startsWith('fe80') ? local : undefined),
    };
    const { groups, skipped } = exportOriginated(this.config.originate, { localAs: n.localAs, peerAs: n.peerAs, families: n.families, nextHopSelf });
    for (const s of skipped) entry.log.warn(`not advertising ${s.prefix}: ${s.reason}`);

    const opts = codecOptionsFor(n).encode;
    const now = Date.now();
    const buffers: Buffer[] = [];
    const wanted = new Set<string>();
    let announced = 0;
    for (const g of groups) {
      const attrs: RouteAttributes = { ...g.attributes, nextHops: [g.nextHop] };
      const key = attributeKey(attrs);
      const changed = g.nlri.filter((r) => {
        const id = `${g.family}|${r.prefix}`;
        wanted.add(id);
        return mode !== 'changes' || entry.advertised.get(id)?.attrKey !== key;
      });
      if (changed.length === 0) continue;
      buffers.push(...encodeAnnouncements(g.family, g.attributes, changed, opts, g.nextHop));
      for (const r of changed) entry.advertised.set(`${g.family}|${r.prefix}`, { family: g.family, prefix: r.prefix, attrs, attrKey: key, since: now });
      announced += changed.length;
    }
    const gone = new Map<Family, Nlri[]>();
    for (const [id, r] of entry.advertised) {
      if (wanted.has(id)) continue;
      entry.advertised.delete(id);
      const list = gone.get(r.family) ?? [];
      list.push({ prefix: r.prefix });
      gone.set(r.family, list);
    }
    let withdrawn = 0;
    for (const [family, nlri] of gone) {
      buffers.push(...encodeWithdrawals(family, nlri, opts));
      withdrawn += nlri.length;
    }
    const updates = buffers.length;
    if (mode === 'initial') for (const f of n.families) buffers.push(encodeEndOfRib(f, opts));
    if (buffers.length === 0) return;
    try {
      await entry.peer.sendUpdates(buffers);
      entry.log.info(
        `advertised ${announced} route(s)${withdrawn ? `, withdrew ${withdrawn}` : ''} in ${updates} UPDATE(s)${mode === 'initial' ? ', then End-of-RIB' : ''}`,
      );
    } catch (err) {
      entry.log.warn(`could not send UPDATEs: ${errorMessage(err)}`);
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
      peerType: 'node specific',
      session: localAs === entry.config.asNumber ? 'ibgp' : 'ebgp',
      enabled: s.enabled,
      passive: entry.config.passive,
      state: s.state,
      since: new Date(s.since).toISOString(),
      families: entry.config.families.map((family) => {
        const received = entry.ribIn.count(family);
        let advertised = 0;
        for (const r of entry.advertised.values()) if (r.family === family) advertised++;
        return { family, received, accepted: received, advertised };
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
    for (const entry of this.peers.values()) {
      if (q.peer && q.peer !== entry.config.peerIP && q.peer !== entry.config.name) continue;
      if (q.table !== 'out') {
        for (const r of entry.ribIn.routes()) {
          if (prefix && r.prefix !== prefix) continue;
          out.push(routeView(r, 'in', entry.config.peerIP));
        }
      }
      if (q.table !== 'in') {
        for (const r of entry.advertised.values()) {
          if (prefix && r.prefix !== prefix) continue;
          out.push(routeView(r, 'out', entry.config.peerIP));
        }
      }
    }
    return out;
  }
}
