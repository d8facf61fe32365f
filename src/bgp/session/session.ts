/**
 * One BGP connection: the pure FSM (fsm.ts) plus the imperative shell
 * around it: framer, codec, timers and the transport.
 *
 * Every input (start/stop, timer expiry, TCP up/down, a received message)
 * becomes an FSM event; the FSM's actions are carried out here in order.
 * Inputs are queued and run to completion one at a time, so a listener that
 * calls stop() from inside an event handler is safe.
 *
 * Output has two lanes: control messages (OPEN, KEEPALIVE, NOTIFICATION,
 * ROUTE-REFRESH) are written straight to the transport, and UPDATEs from
 * sendUpdates() wait in a queue that honours write() === false / 'drain'.
 * A KEEPALIVE therefore never waits behind a table dump in our queue.
 */

import { EventEmitter } from 'node:events';
import { TartanError, errorMessage } from '../../errors';
import {
  afiSafiOf,
  type BgpMessage,
  BgpWireError,
  CeaseSubcode,
  type CodecOptions,
  decodeMessage,
  DEFAULT_CODEC_OPTIONS,
  describeNotification,
  encodeMessage,
  encodeShutdownCommunication,
  type Family,
  MAX_EXTENDED_MESSAGE_LENGTH,
  MAX_MESSAGE_LENGTH,
  MessageFramer,
  MessageType,
} from '../wire';
import { type Clock, jittered } from './clock';
import type { SessionConfig } from './config';
import { type ConnectionDirection, describeDownReason, type SessionEvent, type SessionState } from './events';
import { type FsmAction, type FsmContext, type FsmEvent, type FsmState, initialState, step, type TimerName } from './fsm';
import { buildLocalOpen } from './local-open';
import { codecOptionsFor, type Negotiated } from './negotiate';
import { TimerSet } from './timers';
import type { ConnectOptions, Connector, Transport } from './transport';

/** Structural subset of a winston logger, so any logger (or none) fits. */
export interface SessionLogger {
  debug(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
}

const SILENT: SessionLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined };

/** Error codes a session rejects sendUpdates() with. */
export const SESSION_NOT_ESTABLISHED = 'BGP_SESSION_NOT_ESTABLISHED';
export const SESSION_CLOSED = 'BGP_SESSION_CLOSED';
export const MESSAGE_TOO_LONG = 'BGP_MESSAGE_TOO_LONG';

export interface SessionCounters {
  messagesIn: number;
  messagesOut: number;
  updatesIn: number;
  updatesOut: number;
  keepalivesIn: number;
  keepalivesOut: number;
  notificationsIn: number;
  notificationsOut: number;
  routeRefreshesIn: number;
  routeRefreshesOut: number;
}

export function zeroCounters(): SessionCounters {
  return {
    messagesIn: 0,
    messagesOut: 0,
    updatesIn: 0,
    updatesOut: 0,
    keepalivesIn: 0,
    keepalivesOut: 0,
    notificationsIn: 0,
    notificationsOut: 0,
    routeRefreshesIn: 0,
    routeRefreshesOut: 0,
  };
}

/** How stop() closes the session: Cease subcode (RFC 4486) and optional RFC 8203 shutdown communication. */
export interface StopOptions {
  /** Default Administrative Shutdown (2). */
  subcode?: CeaseSubcode;
  /** RFC 8203/9003 text, sent with subcodes 2 and 4 only. */
  text?: string;
}

export interface SessionOptions {
  config: SessionConfig;
  direction: ConnectionDirection;
  /** Never connect out; outgoing sessions of `passive on` peers do not exist, incoming ones are always passive. */
  passive: boolean;
  /** The peer's address and port (for outgoing connections and logs). */
  remote: { address: string; port: number };
  /** How outgoing connections are made; required unless passive. */
  connect?: { connector: Connector; localAddress?: string; localPort?: number; security?: ConnectOptions['security']; timeoutMs: number };
  clock: Clock;
  /** Random source in [0, 1) for timer jitter; injected for tests. */
  random?: () => number;
  logger?: SessionLogger;
}

/** One sendUpdates() call waiting to be written. */
interface PendingBatch {
  bufs: Buffer[];
  next: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Queued input: an FSM event, or a framed message decoded only when its turn comes (options may change before). */
type Input = { kind: 'event'; event: FsmEvent } | { kind: 'raw'; raw: Buffer; transport: Transport };

const TIMER_EVENTS: Record<TimerName, FsmEvent> = {
  connectRetry: { type: 'ConnectRetryTimer_Expires' },
  hold: { type: 'HoldTimer_Expires' },
  keepalive: { type: 'KeepaliveTimer_Expires' },
};

export class Session extends EventEmitter<{ event: [SessionEvent] }> {
  readonly direction: ConnectionDirection;
  readonly counters: SessionCounters = zeroCounters();
  private fsm: FsmState = initialState();
  private readonly ctx: FsmContext;
  private readonly timers: TimerSet<TimerName>;
  private readonly random: () => number;
  private readonly log: SessionLogger;
  /** Null exactly when no TCP connection is up (Idle, Connect, Active). */
  private transport: Transport | null = null;
  private framer = new MessageFramer();
  private decodeOpts: CodecOptions = DEFAULT_CODEC_OPTIONS;
  private encodeOpts: CodecOptions = DEFAULT_CODEC_OPTIONS;
  private connecting: AbortController | null = null;
  private readonly inputs: Input[] = [];
  private running = false;
  private readonly bulk: PendingBatch[] = [];
  /** The transport said write() === false and has not drained yet. */
  private blocked = false;
  private readonly detach: (() => void)[] = [];

  constructor(private readonly opts: SessionOptions) {
    super();
    this.direction = opts.direction;
    this.ctx = { config: opts.config, localOpen: buildLocalOpen(opts.config), passive: opts.passive };
    this.timers = new TimerSet(opts.clock);
    this.random = opts.random ?? Math.random;
    this.log = opts.logger ?? SILENT;
    if (!opts.passive && opts.connect === undefined) {
      throw new TartanError('INVALID_ARGUMENT', 'an active session needs a connector');
    }
  }

  get state(): SessionState {
    return this.fsm.name;
  }

  /** What OPEN negotiated, from OpenConfirm on. */
  get negotiated(): Negotiated | undefined {
    return this.fsm.name === 'OpenConfirm' || this.fsm.name === 'Established' ? this.fsm.negotiated : undefined;
  }

  /** Addresses of the TCP connection, while there is one. */
  get connection(): { localAddress: string; localPort: number; remoteAddress: string; remotePort: number } | undefined {
    const t = this.transport;
    if (t === null) return undefined;
    return { localAddress: t.localAddress, localPort: t.localPort, remoteAddress: t.remoteAddress, remotePort: t.remotePort };
  }

  /**
   * ManualStart. With a transport (an accepted incoming connection) the
   * session goes straight through Active to OpenSent.
   */
  start(transport?: Transport): void {
    if (transport !== undefined) {
      if (!this.opts.passive) throw new TartanError('INVALID_ARGUMENT', 'only a passive session takes an accepted connection');
      if (this.fsm.name !== 'Idle') throw new TartanError('INVALID_ARGUMENT', `cannot accept a connection in ${this.fsm.name}`);
      this.attach(transport);
      this.enqueue({ type: 'ManualStart' });
      this.enqueue({ type: 'TcpConnectionConfirmed' });
      return;
    }
    this.enqueue({ type: 'ManualStart' });
  }

  /**
   * ManualStop. A session with a BGP connection sends NOTIFICATION Cease
   * (subcode 2 Administrative Shutdown by default, RFC 4486) with the RFC
   * 8203 shutdown communication when given, then closes.
   */
  stop(options: StopOptions = {}): void {
    const subcode = options.subcode ?? CeaseSubcode.ADMINISTRATIVE_SHUTDOWN;
    let data: Buffer | undefined;
    if (options.text !== undefined && options.text !== '') {
      // RFC 8203 §2: the communication rides on Administrative Shutdown and Administrative Reset only.
      if (subcode === CeaseSubcode.ADMINISTRATIVE_SHUTDOWN || subcode === CeaseSubcode.ADMINISTRATIVE_RESET) {
        data = encodeShutdownCommunication(options.text);
      }
    }
    this.enqueue({ type: 'ManualStop', cease: { subcode, ...(data !== undefined ? { data } : {}) } });
  }

  /**
   * Close without a NOTIFICATION, as if TCP had failed (RFC 4271 Event 18).
   * For a connection whose far end is known to be gone, e.g. replaced by the
   * peer's new connection after it restarted (RFC 4724 §4.2).
   */
  drop(detail: string): void {
    if (this.transport === null) return;
    this.enqueue({ type: 'TcpConnectionFails', detail });
  }

  /**
   * Queue pre-encoded UPDATE messages (each buffer whole messages, encoded
   * with `negotiated` encode options). The promise resolves once all of them
   * are handed to the transport and it is ready for more, so `await`ing it
   * is the backpressure signal; it rejects if the session goes down first.
   */
  sendUpdates(raw: readonly Buffer[]): Promise<void> {
    if (this.fsm.name !== 'Established' || this.transport === null) {
      return Promise.reject(new TartanError(SESSION_NOT_ESTABLISHED, `cannot send UPDATEs in ${this.fsm.name}`));
    }
    const max = this.encodeOpts.extendedMessage ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH;
    const tooLong = raw.find((b) => b.length > max);
    if (tooLong !== undefined) {
      return Promise.reject(new TartanError(MESSAGE_TOO_LONG, `UPDATE of ${tooLong.length} bytes exceeds ${max}`));
    }
    return new Promise<void>((resolve, reject) => {
      this.bulk.push({ bufs: [...raw], next: 0, resolve, reject });
      this.pump();
    });
  }

  /** Ask the peer to resend a family (RFC 2918); false when route refresh or the family was not negotiated. */
  requestRouteRefresh(family: Family): boolean {
    const n = this.negotiated;
    if (this.fsm.name !== 'Established' || n === undefined || !n.routeRefresh || !n.families.includes(family)) {
      return false;
    }
    this.sendControl({ type: MessageType.ROUTE_REFRESH, ...afiSafiOf(family), subtype: 0 });
    return true;
  }

  // --- input -------------------------------------------------------------

  private enqueue(event: FsmEvent): void {
    this.inputs.push({ kind: 'event', event });
    this.run();
  }

  private run(): void {
    if (this.running) return;
    this.running = true;
    try {
      for (let input = this.inputs.shift(); input !== undefined; input = this.inputs.shift()) {
        if (input.kind === 'event') {
          this.apply(input.event);
          continue;
        }
        // A message framed on a connection that has since been closed is stale.
        if (input.transport !== this.transport) continue;
        const event = this.decode(input.raw);
        this.apply(event);
      }
    } finally {
      this.running = false;
    }
  }

  private decode(raw: Buffer): FsmEvent {
    let msg: BgpMessage;
    try {
      msg = decodeMessage(raw, this.decodeOpts);
    } catch (err) {
      if (err instanceof BgpWireError) return { type: 'DecodeError', error: err };
      throw err;
    }
    this.counters.messagesIn++;
    switch (msg.type) {
      case MessageType.OPEN:
        return { type: 'BGPOpen', message: msg };
      case MessageType.UPDATE:
        this.counters.updatesIn++;
        return { type: 'UpdateMsg', message: msg };
      case MessageType.NOTIFICATION: {
        this.counters.notificationsIn++;
        const text = describeNotification(msg.code, msg.subcode, msg.data);
        this.log.info(`received NOTIFICATION ${text}`);
        this.emitEvent({ type: 'notification-received', code: msg.code, subcode: msg.subcode, data: msg.data, text });
        return { type: 'NotifMsg', message: msg };
      }
      case MessageType.KEEPALIVE:
        this.counters.keepalivesIn++;
        return { type: 'KeepAliveMsg' };
      case MessageType.ROUTE_REFRESH:
        this.counters.routeRefreshesIn++;
        return { type: 'RouteRefreshMsg', message: msg };
    }
  }

  private apply(event: FsmEvent): void {
    const from = this.fsm;
    const result = step(from, event, this.ctx);
    if (result.refused !== undefined) {
      this.log.warn(`refused illegal transition ${result.refused.from} -> ${result.refused.to} on ${event.type}`);
      return;
    }
    this.fsm = result.state;
    if (result.state.name === 'OpenConfirm' && from.name !== 'OpenConfirm') this.useNegotiated(result.state.negotiated);
    if (result.state.name !== from.name) {
      this.log.info(`${from.name} -> ${result.state.name} (${result.reason})`);
      this.emitEvent({ type: 'state-change', from: from.name, to: result.state.name, reason: result.reason });
    }
    for (const action of result.actions) this.perform(action);
  }

  /** RFC 8654 and RFC 7911: from here on, frame and code with what OPEN negotiated. */
  private useNegotiated(n: Negotiated): void {
    const opts = codecOptionsFor(n);
    // The RIB takes NLRI in wire form (CodecOptions.packedNlri) when the daemon asks for it.
    this.decodeOpts = { ...opts.decode, ...(this.ctx.config.packedNlri ? { packedNlri: true } : {}), attributeMemo: {} };
    this.encodeOpts = opts.encode;
    if (n.extendedMessage) this.framer.maxMessageLength = MAX_EXTENDED_MESSAGE_LENGTH;
  }

  // --- actions -----------------------------------------------------------

  private perform(action: FsmAction): void {
    switch (action.type) {
      case 'connect':
        this.connect();
        return;
      case 'close':
        this.closeConnection();
        return;
      case 'send':
        this.sendControl(action.message);
        return;
      case 'start-timer': {
        const ms = action.seconds * 1000;
        const event = TIMER_EVENTS[action.timer];
        this.timers.start(action.timer, action.jitter ? jittered(ms, this.random) : ms, () => this.enqueue(event));
        return;
      }
      case 'stop-timer':
        this.timers.stop(action.timer);
        return;
      case 'established':
        this.emitEvent({ type: 'established', negotiated: action.negotiated });
        return;
      case 'deliver':
        if (action.message.type === MessageType.UPDATE) this.emitEvent({ type: 'update', message: action.message });
        else this.emitEvent({ type: 'route-refresh', message: action.message });
        return;
      case 'session-down':
        this.log.info(`session down: ${describeDownReason(action.reason)}`);
        this.emitEvent({ type: 'down', reason: action.reason });
        return;
    }
  }

  private connect(): void {
    const c = this.opts.connect;
    if (c === undefined) return; // passive: the FSM never asks
    this.connecting?.abort();
    const attempt = new AbortController();
    this.connecting = attempt;
    const { address, port } = this.opts.remote;
    this.log.debug(`connecting to ${address} port ${port}`);
    c.connector({
      host: address,
      port,
      ...(c.localAddress !== undefined ? { localAddress: c.localAddress } : {}),
      ...(c.localPort !== undefined ? { localPort: c.localPort } : {}),
      ...(c.security !== undefined ? { security: c.security } : {}),
      timeoutMs: c.timeoutMs,
      signal: attempt.signal,
    }).then(
      (transport) => {
        if (attempt.signal.aborted || this.connecting !== attempt) {
          transport.destroy();
          return;
        }
        this.connecting = null;
        this.attach(transport);
        this.enqueue({ type: 'TcpConnectionEstablished' });
      },
      (err: unknown) => {
        if (attempt.signal.aborted || this.connecting !== attempt) return;
        this.connecting = null;
        this.enqueue({ type: 'TcpConnectionFails', detail: errorMessage(err) });
      },
    );
  }

  private attach(transport: Transport): void {
    this.transport = transport;
    this.framer = new MessageFramer();
    const onData = (chunk: Buffer): void => this.onData(transport, chunk);
    const onDrain = (): void => {
      this.blocked = false;
      this.pump();
    };
    const onClose = (error: Error | undefined): void => {
      if (this.transport !== transport) return;
      this.enqueue({ type: 'TcpConnectionFails', detail: error === undefined ? 'closed by peer' : errorMessage(error) });
    };
    transport.on('data', onData).on('drain', onDrain).on('close', onClose);
    this.detach.push(() => transport.off('data', onData).off('drain', onDrain).off('close', onClose));
  }

  private onData(transport: Transport, chunk: Buffer): void {
    if (this.transport !== transport) return;
    let raws: Buffer[];
    try {
      raws = this.framer.push(chunk);
    } catch (err) {
      if (!(err instanceof BgpWireError)) throw err;
      this.inputs.push({ kind: 'event', event: { type: 'DecodeError', error: err } });
      this.run();
      return;
    }
    for (const raw of raws) this.inputs.push({ kind: 'raw', raw, transport });
    this.run();
  }

  private closeConnection(): void {
    this.connecting?.abort();
    this.connecting = null;
    for (const d of this.detach.splice(0)) d();
    const t = this.transport;
    this.transport = null;
    this.blocked = false;
    this.decodeOpts = DEFAULT_CODEC_OPTIONS;
    this.encodeOpts = DEFAULT_CODEC_OPTIONS;
    this.framer = new MessageFramer();
    if (t !== null) t.close();
    const err = new TartanError(SESSION_CLOSED, 'session closed before the UPDATEs were written');
    for (const batch of this.bulk.splice(0)) batch.reject(err);
  }

  /** Control messages bypass the UPDATE queue. */
  private sendControl(msg: BgpMessage): void {
    const t = this.transport;
    if (t === null) return;
    const bytes = encodeMessage(msg, this.encodeOpts);
    if (!t.write(bytes)) this.blocked = true;
    this.counters.messagesOut++;
    switch (msg.type) {
      case MessageType.KEEPALIVE:
        this.counters.keepalivesOut++;
        return;
      case MessageType.ROUTE_REFRESH:
        this.counters.routeRefreshesOut++;
        return;
      case MessageType.NOTIFICATION: {
        this.counters.notificationsOut++;
        const text = describeNotification(msg.code, msg.subcode, msg.data);
        this.log.info(`sent NOTIFICATION ${text}`);
        this.emitEvent({ type: 'notification-sent', code: msg.code, subcode: msg.subcode, data: msg.data, text });
        return;
      }
      default:
        return;
    }
  }

  /** Write queued UPDATEs until the transport pushes back. */
  private pump(): void {
    const t = this.transport;
    if (t === null) return;
    while (this.bulk.length > 0 && !this.blocked) {
      const batch = this.bulk[0] as PendingBatch;
      while (batch.next < batch.bufs.length && !this.blocked) {
        const buf = batch.bufs[batch.next++] as Buffer;
        if (!t.write(buf)) this.blocked = true;
        this.counters.messagesOut++;
        this.counters.updatesOut++;
      }
      // The batch is done only when everything is written and the transport takes more.
      if (batch.next < batch.bufs.length || this.blocked) return;
      this.bulk.shift();
      batch.resolve();
    }
  }

  private emitEvent(event: SessionEvent): void {
    this.emit('event', event);
  }

  /** Timer state, for tests and `tartanctl` detail views. */
  timerRunning(name: TimerName): boolean {
    return this.timers.isRunning(name);
  }
}
