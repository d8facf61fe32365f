/**
 * One configured neighbour: its outgoing connection attempts, the incoming
 * connections the listener hands over, collision resolution between them
 * (RFC 4271 §6.8), and the error wait before trying again after a failure.
 *
 * Each TCP connection runs its own Session (FSM). The peer's state is the
 * most advanced of them. Lifecycle:
 *
 *   start() ── connect delay ──> outgoing Session (unless passive)
 *   acceptConnection() ────────> incoming Session (refused with Cease/5 while
 *                                stopped or during the error wait)
 *   a Session reaches OpenConfirm while another exists ─> collision resolution
 *   a Session goes down with an error ─> error wait (5 s doubling to 60 s),
 *                                then a new outgoing Session
 */

import { EventEmitter } from 'node:events';
import { TartanError } from '../../errors';
import { CeaseSubcode, ErrorCode, type Family } from '../wire';
import { Backoff } from './backoff';
import { type Clock, realClock } from './clock';
import { bgpIdToUint32, resolveCollision } from './collision';
import { type PeerConfig, type ResolvedPeerConfig, resolvePeerConfig, type SpeakerIdentity } from './config';
import {
  type ConnectionDirection,
  describeDownReason,
  type DownReason,
  type PeerEvent,
  type PeerIdentity,
  type SessionEvent,
  type SessionState,
} from './events';
import type { Negotiated } from './negotiate';
import { rejectConnection } from './reject';
import { Session, SESSION_NOT_ESTABLISHED, type SessionCounters, type SessionLogger, zeroCounters } from './session';
import { connectTcp } from './tcp-transport';
import { TimerSet } from './timers';
import type { Connector, Transport } from './transport';

export interface PeerOptions {
  speaker: SpeakerIdentity;
  clock?: Clock;
  /** Opens outgoing connections; default real TCP. */
  connector?: Connector;
  /** Random source in [0, 1) for jitter; injected for tests. */
  random?: () => number;
  logger?: SessionLogger;
}

/** Why the peer is being stopped. */
export interface PeerStopOptions {
  /** The neighbour was removed from configuration: Cease/3 Peer De-configured instead of Cease/2 (RFC 4486). */
  deconfigured?: boolean;
  /** RFC 8203 shutdown communication (with Cease/2 only). */
  text?: string;
}

/** Everything `tartanctl` shows about a peer. */
export interface PeerStatus {
  identity: PeerIdentity;
  state: SessionState;
  /** Wall-clock ms when `state` was entered (uptime start when Established). */
  since: number;
  enabled: boolean;
  /** Last session error and when it happened. */
  lastError: { reason: DownReason; text: string; at: number } | undefined;
  /** When the error wait ends, while it runs. */
  errorWaitUntil: number | undefined;
  negotiated: Negotiated | undefined;
  /** The established connection: who opened it, and its addresses. */
  connection:
    | { direction: ConnectionDirection; localAddress: string; localPort: number; remoteAddress: string; remotePort: number }
    | undefined;
  counters: SessionCounters;
}

const STATE_RANK: Record<SessionState, number> = {
  Idle: 0,
  Active: 1,
  Connect: 2,
  OpenSent: 3,
  OpenConfirm: 4,
  Established: 5,
};

/** States in which a connection carries BGP messages. */
function isConnected(state: SessionState): boolean {
  return state === 'OpenSent' || state === 'OpenConfirm' || state === 'Established';
}

function addCounters(into: SessionCounters, from: SessionCounters): void {
  for (const k of Object.keys(into) as (keyof SessionCounters)[]) into[k] += from[k];
}

export class Peer extends EventEmitter<{ event: [PeerEvent] }> {
  readonly config: ResolvedPeerConfig;
  readonly identity: PeerIdentity;
  private readonly clock: Clock;
  private readonly connector: Connector;
  private readonly random: () => number;
  private readonly log: SessionLogger;
  private readonly timers: TimerSet<'connect-delay' | 'error-wait'>;
  private readonly backoff: Backoff;
  /** Live connections, oldest first (at most an outgoing one and two incoming ones). */
  private sessions: Session[] = [];
  /** Sessions we closed on purpose (collision loser, replaced, stopped): their down is not an error. */
  private readonly retiring = new WeakSet<Session>();
  /** Connections that reached Established (their `down` ends the peer's session). */
  private readonly reachedEstablished = new WeakSet<Session>();
  private running = false;
  private errorWaitUntil: number | undefined;
  private summary: SessionState = 'Idle';
  private summarySince: number;
  private lastError: PeerStatus['lastError'];
  /** Counters of sessions that have ended. */
  private readonly pastCounters: SessionCounters = zeroCounters();

  constructor(config: PeerConfig, options: PeerOptions) {
    super();
    this.config = resolvePeerConfig(config, options.speaker);
    this.identity = { address: this.config.address, port: this.config.port, peerAs: this.config.session.peerAs };
    this.clock = options.clock ?? realClock;
    this.connector = options.connector ?? connectTcp;
    this.random = options.random ?? Math.random;
    this.log = options.logger ?? { debug: () => undefined, info: () => undefined, warn: () => undefined };
    this.timers = new TimerSet(this.clock);
    this.backoff = new Backoff({
      minMs: this.config.errorWaitMin * 1000,
      maxMs: this.config.errorWaitMax * 1000,
      forgetMs: this.config.errorForgetTime * 1000,
      random: this.random,
    });
    this.summarySince = this.clock.now();
  }

  // --- public surface ------------------------------------------------------

  get state(): SessionState {
    return this.summary;
  }

  /** Wall-clock ms when the current state was entered. */
  get since(): number {
    return this.summarySince;
  }

  get negotiated(): Negotiated | undefined {
    return this.established()?.negotiated;
  }

  status(): PeerStatus {
    const counters = { ...this.pastCounters };
    for (const s of this.sessions) addCounters(counters, s.counters);
    return {
      identity: { ...this.identity },
      state: this.summary,
      since: this.summarySince,
      enabled: this.config.enabled,
      lastError: this.lastError,
      errorWaitUntil: this.errorWaitUntil,
      negotiated: this.negotiated,
      connection: this.connectionOf(this.established()),
      counters,
    };
  }

  /** Begin peering: connect after the connect delay (unless passive) and accept incoming connections. */
  start(): void {
    if (this.running || !this.config.enabled) return;
    this.running = true;
    this.backoff.reset();
    this.lastError = undefined;
    this.scheduleOutgoing(this.config.connectDelayTime * 1000);
    this.refreshSummary('started');
  }

  /** Stop peering: every connection gets a Cease (2, or 3 when deconfigured) and no new one is made. */
  stop(options: PeerStopOptions = {}): void {
    this.running = false;
    this.timers.stopAll();
    this.errorWaitUntil = undefined;
    const subcode = options.deconfigured === true ? CeaseSubcode.PEER_DECONFIGURED : CeaseSubcode.ADMINISTRATIVE_SHUTDOWN;
    for (const s of [...this.sessions]) {
      this.retiring.add(s);
      s.stop({ subcode, ...(options.text !== undefined ? { text: options.text } : {}) });
    }
    this.refreshSummary('stopped');
  }

  /**
   * An incoming TCP connection from this peer's address (from the listener).
   * Returns false if it was refused (Cease/5): peer stopped or error wait running.
   */
  acceptConnection(transport: Transport): boolean {
    const refuse = (reason: string): boolean => {
      this.log.info(`refusing connection from ${transport.remoteAddress} port ${transport.remotePort}: ${reason}`);
      rejectConnection(transport);
      this.emitPeer({ type: 'connection-refused', remoteAddress: transport.remoteAddress, remotePort: transport.remotePort, reason });
      return false;
    };
    if (!this.running) return refuse(this.config.enabled ? 'peer is stopped' : 'peer is disabled');
    if (this.errorWaitUntil !== undefined) {
      const left = Math.max(0, Math.ceil((this.errorWaitUntil - this.clock.now()) / 1000));
      return refuse(`error wait, ${left} s left`);
    }
    const session = this.newSession('incoming');
    session.start(transport);
    return true;
  }

  /** Send pre-encoded UPDATEs on the established connection (see Session.sendUpdates for the backpressure contract). */
  sendUpdates(raw: readonly Buffer[]): Promise<void> {
    const s = this.established();
    if (s === undefined) {
      return Promise.reject(new TartanError(SESSION_NOT_ESTABLISHED, `peer ${this.config.address} is ${this.summary}`));
    }
    return s.sendUpdates(raw);
  }

  /** Ask the peer to resend a family (RFC 2918). */
  requestRouteRefresh(family: Family): boolean {
    return this.established()?.requestRouteRefresh(family) ?? false;
  }

  // --- connections -----------------------------------------------------------

  private connectionOf(s: Session | undefined): PeerStatus['connection'] {
    const c = s?.connection;
    return s === undefined || c === undefined ? undefined : { direction: s.direction, ...c };
  }

  private established(): Session | undefined {
    return this.sessions.find((s) => s.state === 'Established');
  }

  private scheduleOutgoing(ms: number): void {
    if (this.config.passive) return;
    this.timers.start('connect-delay', ms, () => this.openOutgoing());
  }

  private openOutgoing(): void {
    if (!this.running || this.config.passive || this.errorWaitUntil !== undefined) return;
    if (this.sessions.some((s) => s.direction === 'outgoing' || s.state === 'Established')) return;
    this.newSession('outgoing').start();
  }

  private newSession(direction: ConnectionDirection): Session {
    const c = this.config;
    const session = new Session({
      config: c.session,
      direction,
      passive: direction === 'incoming',
      remote: { address: c.address, port: c.port },
      ...(direction === 'outgoing'
        ? {
            connect: {
              connector: this.connector,
              ...(c.sourceAddress !== undefined ? { localAddress: c.sourceAddress } : {}),
              ...(c.sourcePort !== undefined ? { localPort: c.sourcePort } : {}),
              ...(c.security.tcpMd5Key !== undefined || c.security.ttlSecurity !== undefined ? { security: c.security } : {}),
              timeoutMs: c.connectTimeout * 1000,
            },
          }
        : {}),
      clock: this.clock,
      random: this.random,
      logger: this.log,
    });
    this.sessions.push(session);
    session.on('event', (e) => this.onSessionEvent(session, e));
    return session;
  }

  private onSessionEvent(session: Session, e: SessionEvent): void {
    if (e.type === 'established') this.reachedEstablished.add(session);
    if (e.type === 'down') this.emit('event', { peer: this.identity, direction: session.direction, established: this.reachedEstablished.has(session), ...e });
    else this.emit('event', { peer: this.identity, direction: session.direction, ...e });
    switch (e.type) {
      case 'state-change':
        this.refreshSummary(`${session.direction}: ${e.reason}`);
        if (e.to === 'OpenConfirm') this.detectCollision(session);
        return;
      case 'established':
        // Outgoing attempts still connecting are pointless now.
        for (const other of this.sessions) {
          if (other !== session && !isConnected(other.state)) {
            this.retiring.add(other);
            other.stop();
          }
        }
        return;
      case 'down':
        this.onSessionDown(session, e.reason);
        return;
      default:
        return;
    }
  }

  /**
   * RFC 4271 §6.8, run when `fresh` has received the peer's OPEN: compare it
   * with every other connection that carries BGP messages.
   */
  private detectCollision(fresh: Session): void {
    const n = fresh.negotiated;
    if (n === undefined) return;
    for (const other of [...this.sessions]) {
      if (other === fresh || !isConnected(other.state) || this.retiring.has(other)) continue;
      if (other.state === 'Established') {
        const old = other.negotiated;
        if (old?.gracefulRestart !== undefined && n.gracefulRestart !== undefined) {
          // RFC 4724 §4.2: a graceful-restart peer opening a new connection has restarted;
          // the old connection is dead on its side, so the new one replaces it.
          this.retiring.add(other);
          other.drop('replaced by a new connection from the restarted peer (graceful restart)');
          this.emitCollision(fresh.direction, 'established session replaced: peer restarted (RFC 4724)');
          continue;
        }
        // RFC 4271 §6.8: an Established connection wins over a new one.
        this.retireSession(fresh, other.direction, 'an established session exists');
        return;
      }
      if (other.direction === fresh.direction) {
        // Two incoming connections: the peer gave up on the older one.
        this.retireSession(other, fresh.direction, 'newer connection from the peer');
        continue;
      }
      const local = { bgpId: n.localBgpId, asn: n.localAs };
      const remote = { bgpId: n.peerBgpId, asn: n.peerAs };
      const keep = resolveCollision(local, remote);
      const winner = keep === 'outgoing' ? 'our' : 'their';
      const why =
        bgpIdToUint32(local.bgpId) === bgpIdToUint32(remote.bgpId)
          ? `equal BGP identifiers, ${winner} AS is higher (RFC 6286)`
          : `${winner} BGP identifier is higher`;
      const loser = keep === fresh.direction ? other : fresh;
      this.retireSession(loser, keep, why);
      if (loser === fresh) return;
    }
  }

  /** Close the losing connection with Cease/7 (RFC 4486). */
  private retireSession(loser: Session, kept: ConnectionDirection, why: string): void {
    this.log.info(`connection collision: keeping ${kept} (${why})`);
    this.retiring.add(loser);
    loser.stop({ subcode: CeaseSubcode.CONNECTION_COLLISION_RESOLUTION });
    this.emitCollision(kept, why);
  }

  private emitCollision(kept: ConnectionDirection, reason: string): void {
    this.emitPeer({ type: 'collision', kept, reason });
  }

  private onSessionDown(session: Session, reason: DownReason): void {
    this.sessions = this.sessions.filter((s) => s !== session);
    addCounters(this.pastCounters, session.counters);
    session.removeAllListeners('event');
    // RFC 4486 Cease/7: the peer resolved a collision against this connection; the other one carries on.
    const collisionLoss =
      reason.kind === 'notification-received' &&
      reason.notification.code === ErrorCode.CEASE &&
      reason.notification.subcode === CeaseSubcode.CONNECTION_COLLISION_RESOLUTION;
    const deliberate = this.retiring.has(session) || reason.kind === 'stopped' || collisionLoss;
    // RFC 4486 Cease/5: the peer refused this connection for now (e.g. its own error wait).
    // That is "try later", not an error of ours: retrying on the connect-retry timer, without an
    // error wait, keeps two peers that refuse each other in turn from backing off forever.
    const refusedByPeer =
      reason.kind === 'notification-received' &&
      reason.notification.code === ErrorCode.CEASE &&
      reason.notification.subcode === CeaseSubcode.CONNECTION_REJECTED;
    if (!deliberate) {
      this.lastError = { reason, text: describeDownReason(reason), at: this.clock.now() };
    }
    if (!this.running) {
      this.refreshSummary('stopped');
      return;
    }
    // Another connection still talking BGP carries on (e.g. the collision winner).
    if (this.sessions.some((s) => isConnected(s.state))) {
      this.refreshSummary(describeDownReason(reason));
      return;
    }
    if (deliberate || refusedByPeer || this.errorWaitUntil !== undefined) {
      // Nothing left (the winner vanished too): try again on the connect retry time, not at once.
      if (this.errorWaitUntil === undefined) this.scheduleOutgoing(this.config.session.connectRetryTime * 1000);
      this.refreshSummary(describeDownReason(reason));
      return;
    }
    this.enterErrorWait();
    this.refreshSummary(describeDownReason(reason));
  }

  /** RFC 4271 §8.1.1 IdleHoldTimer / BIRD error wait: no connection either way until it ends. */
  private enterErrorWait(): void {
    for (const s of [...this.sessions]) {
      this.retiring.add(s);
      s.stop();
    }
    const ms = this.backoff.onError(this.clock.now());
    this.errorWaitUntil = this.clock.now() + ms;
    this.timers.stop('connect-delay');
    this.log.info(`error wait ${(ms / 1000).toFixed(1)} s`);
    this.emitPeer({ type: 'error-wait', seconds: ms / 1000 });
    this.timers.start('error-wait', ms, () => {
      this.errorWaitUntil = undefined;
      this.openOutgoing();
      this.refreshSummary('error wait over');
    });
  }

  private refreshSummary(reason: string): void {
    let next: SessionState = 'Idle';
    for (const s of this.sessions) if (STATE_RANK[s.state] > STATE_RANK[next]) next = s.state;
    // A running peer with no connection yet is waiting for one: RFC 4271 Active.
    if (next === 'Idle' && this.running && this.errorWaitUntil === undefined) next = 'Active';
    if (next === this.summary) return;
    const from = this.summary;
    this.summary = next;
    this.summarySince = this.clock.now();
    this.emitPeer({ type: 'peer-state-change', from, to: next, reason });
  }

  private emitPeer(
    e:
      | { type: 'peer-state-change'; from: SessionState; to: SessionState; reason: string }
      | { type: 'collision'; kept: ConnectionDirection; reason: string }
      | { type: 'connection-refused'; remoteAddress: string; remotePort: number; reason: string }
      | { type: 'error-wait'; seconds: number },
  ): void {
    this.emit('event', { peer: this.identity, ...e });
  }
}
