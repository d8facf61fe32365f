/**
 * The BGP finite state machine of RFC 4271 §8, as a pure function.
 *
 * `step(state, event, ctx)` returns the next state and the actions the
 * driver must perform, as data: send a message, open or close the TCP
 * connection, start or stop a timer, report establishment or session down.
 * Nothing here touches a socket or a clock, so every transition is a table
 * test.
 *
 * One FSM instance drives one TCP connection attempt (BIRD's `bgp_conn`).
 * The peer owns up to two of them (outgoing and incoming) and resolves
 * collisions between them (RFC 4271 §6.8, see collision.ts); events 14-17
 * for a second connection therefore never reach this FSM in OpenSent or
 * later.
 *
 * State table (events not listed leave the state unchanged in Idle; in the
 * other states they are FSM errors, RFC 4271 §8.2.2 "any other event"):
 *
 * | state       | event                          | next        | actions                                       |
 * |-------------|--------------------------------|-------------|-----------------------------------------------|
 * | Idle        | ManualStart / AutomaticStart   | Connect     | start ConnectRetry, connect                   |
 * |             |   (passive)                    | Active      | (wait for an incoming connection)             |
 * | Connect     | ConnectRetryTimer_Expires      | Connect     | close, connect, restart ConnectRetry          |
 * |             | TcpConnectionEstablished (16)  | OpenSent    | stop ConnectRetry, send OPEN, hold := 240 s   |
 * |             | TcpConnectionFails (18)        | Active      | close, restart ConnectRetry                   |
 * | Active      | ConnectRetryTimer_Expires      | Connect     | connect, restart ConnectRetry                 |
 * |             | TcpConnectionConfirmed (17)    | OpenSent    | stop ConnectRetry, send OPEN, hold := 240 s   |
 * |             | TcpConnectionFails (passive)   | Idle        | close, down                                   |
 * | OpenSent    | BGPOpen, valid                 | OpenConfirm | send KEEPALIVE, hold := negotiated, keepalive |
 * |             | BGPOpen, invalid               | Idle        | NOTIFICATION 2/x, close, down                 |
 * |             | TcpConnectionFails             | Active/Idle | close, restart ConnectRetry (Idle if passive) |
 * |             | KEEPALIVE/UPDATE/ROUTE-REFRESH | Idle        | NOTIFICATION 5/1 (RFC 6608)                   |
 * | OpenConfirm | KeepAliveMsg                   | Established | restart hold, report established              |
 * |             | KeepaliveTimer_Expires         | OpenConfirm | send KEEPALIVE                                |
 * |             | OPEN/UPDATE/ROUTE-REFRESH      | Idle        | NOTIFICATION 5/2 (RFC 6608)                   |
 * | Established | KEEPALIVE/UPDATE/ROUTE-REFRESH | Established | restart hold; deliver UPDATE / ROUTE-REFRESH  |
 * |             | KeepaliveTimer_Expires         | Established | send KEEPALIVE                                |
 * |             | OPEN                           | Idle        | NOTIFICATION 5/3 (RFC 6608)                   |
 * | any but Idle| ManualStop                     | Idle        | NOTIFICATION Cease (if connected), close      |
 * |             | HoldTimer_Expires              | Idle        | NOTIFICATION 4/0, close                       |
 * |             | NotifMsg                       | Idle        | close                                         |
 * |             | DecodeError                    | Idle        | its NOTIFICATION, close                       |
 *
 * Deliberate differences from the RFC text, as in BIRD and FRR:
 * - Connect + TcpConnectionFails goes to Active and retries on the
 *   ConnectRetryTimer (the RFC's DelayOpen branch) instead of Idle, so an
 *   unreachable peer costs a SYN every ConnectRetryTime, not an error wait.
 * - A passive FSM (incoming connection, or `passive on`) never starts the
 *   ConnectRetryTimer and never connects; it ends in Idle when its
 *   connection fails.
 * - Receiving UPDATE in Established does not restart our KeepaliveTimer:
 *   KEEPALIVEs go out on schedule even while a table streams, because queued
 *   UPDATEs may not have reached the wire (FRR's keepalive thread does the same).
 */

import {
  type BgpWireError,
  CeaseSubcode,
  describeNotification,
  ErrorCode,
  FsmSubcode,
  type BgpMessage,
  MessageType,
  type NotificationMessage,
  type OpenMessage,
  type RouteRefreshMessage,
  type UpdateMessage,
  familyOf,
} from '../wire';
import type { SessionConfig } from './config';
import { OPEN_SENT_HOLD_TIME } from './defaults';
import type { DownReason, NotificationInfo, SessionState } from './events';
import { type Negotiated, validateOpen } from './negotiate';

export type { SessionState } from './events';

/** FSM state as plain data; the negotiated result lives in the states that have one. */
export type FsmState =
  | { name: 'Idle' | 'Connect' | 'Active' | 'OpenSent' }
  | { name: 'OpenConfirm' | 'Established'; negotiated: Negotiated };

/** Inputs, named after RFC 4271 §8.1 events. */
export type FsmEvent =
  | { type: 'ManualStart' } // Event 1
  | { type: 'AutomaticStart' } // Event 3
  /** Event 2; `cease` picks the Cease subcode and data (RFC 4486, RFC 8203). */
  | { type: 'ManualStop'; cease?: { subcode: CeaseSubcode; data?: Buffer } }
  | { type: 'ConnectRetryTimer_Expires' } // Event 9
  | { type: 'HoldTimer_Expires' } // Event 10
  | { type: 'KeepaliveTimer_Expires' } // Event 11
  | { type: 'TcpConnectionEstablished' } // Event 16 Tcp_CR_Acked: our connection is up
  | { type: 'TcpConnectionConfirmed' } // Event 17: an incoming connection is up
  | { type: 'TcpConnectionFails'; detail: string } // Event 18
  | { type: 'BGPOpen'; message: OpenMessage } // Event 19 (validated here; Event 22 when it fails)
  | { type: 'NotifMsg'; message: NotificationMessage } // Events 24/25
  | { type: 'KeepAliveMsg' } // Event 26
  | { type: 'UpdateMsg'; message: UpdateMessage } // Event 27
  | { type: 'RouteRefreshMsg'; message: RouteRefreshMessage } // RFC 2918, handled like 27
  | { type: 'DecodeError'; error: BgpWireError }; // Events 21/22/28: header, OPEN, UPDATE errors

export type TimerName = 'connectRetry' | 'hold' | 'keepalive';

/** What the driver must do, in order. */
export type FsmAction =
  | { type: 'connect' }
  | { type: 'close' }
  | { type: 'send'; message: BgpMessage }
  /** `jitter`: RFC 4271 §10, multiply by a random factor in [0.75, 1.0]. */
  | { type: 'start-timer'; timer: TimerName; seconds: number; jitter: boolean }
  | { type: 'stop-timer'; timer: TimerName }
  | { type: 'established'; negotiated: Negotiated }
  | { type: 'deliver'; message: UpdateMessage | RouteRefreshMessage }
  | { type: 'session-down'; reason: DownReason };

/** What the FSM reads but never changes. */
export interface FsmContext {
  config: SessionConfig;
  /** Our OPEN, built once per session. */
  localOpen: OpenMessage;
  /** Never connect; wait for TcpConnectionConfirmed (incoming connection or `passive on`). */
  passive: boolean;
}

export interface FsmResult {
  state: FsmState;
  actions: FsmAction[];
  /** Why the state changed, for the log line "OpenSent -> Idle (hold timer expired)". */
  reason: string;
  /** Set when the handler proposed a move the transition table forbids; nothing was done. */
  refused?: { from: SessionState; to: SessionState };
}

/** The edges of RFC 4271 §8.2.2 (self-loops included). */
export const ALLOWED_TRANSITIONS: Readonly<Record<SessionState, readonly SessionState[]>> = {
  Idle: ['Idle', 'Connect', 'Active'],
  Connect: ['Connect', 'Active', 'OpenSent', 'Idle'],
  Active: ['Active', 'Connect', 'OpenSent', 'Idle'],
  OpenSent: ['OpenSent', 'OpenConfirm', 'Active', 'Idle'],
  OpenConfirm: ['OpenConfirm', 'Established', 'Idle'],
  Established: ['Established', 'Idle'],
};

const IDLE: FsmState = { name: 'Idle' };
const ALL_TIMERS: readonly TimerName[] = ['connectRetry', 'hold', 'keepalive'];
const KEEPALIVE: BgpMessage = { type: MessageType.KEEPALIVE };

/** RFC 6608 §4: the FSM error subcode for an unexpected message in each state. */
const UNEXPECTED_MESSAGE_SUBCODE: Partial<Record<SessionState, FsmSubcode>> = {
  OpenSent: FsmSubcode.UNEXPECTED_MESSAGE_IN_OPENSENT,
  OpenConfirm: FsmSubcode.UNEXPECTED_MESSAGE_IN_OPENCONFIRM,
  Established: FsmSubcode.UNEXPECTED_MESSAGE_IN_ESTABLISHED,
};

export function notificationInfo(code: number, subcode: number, data: Buffer = Buffer.alloc(0)): NotificationInfo {
  return { code, subcode, data, text: describeNotification(code, subcode, data) };
}

function notificationMessage(n: NotificationInfo): NotificationMessage {
  return { type: MessageType.NOTIFICATION, code: n.code, subcode: n.subcode, data: n.data };
}

function stay(state: FsmState, actions: FsmAction[] = [], reason = ''): FsmResult {
  return { state, actions, reason };
}

function stopAll(): FsmAction[] {
  return ALL_TIMERS.map((timer) => ({ type: 'stop-timer', timer }));
}

/** Tear the connection down, optionally sending a NOTIFICATION first, and report the session down. */
function toIdle(reason: DownReason, why: string, notification?: NotificationInfo): FsmResult {
  const actions: FsmAction[] = stopAll();
  if (notification !== undefined) actions.push({ type: 'send', message: notificationMessage(notification) });
  actions.push({ type: 'close' }, { type: 'session-down', reason });
  return { state: IDLE, actions, reason: why };
}

/** We send a NOTIFICATION because of an error on our side of the judgement. */
function failWith(notification: NotificationInfo, detail: string): FsmResult {
  return toIdle({ kind: 'notification-sent', notification, detail }, detail, notification);
}

function fsmError(state: SessionState, what: string, subcode?: FsmSubcode): FsmResult {
  const n = notificationInfo(ErrorCode.FSM, subcode ?? FsmSubcode.UNSPECIFIED);
  return failWith(n, `${what} in ${state}`);
}

function connectRetry(ctx: FsmContext): FsmAction {
  return { type: 'start-timer', timer: 'connectRetry', seconds: ctx.config.connectRetryTime, jitter: true };
}

/** Timers on entering OpenConfirm (RFC 4271 §8.2.2); a negotiated hold time of 0 runs neither. */
function negotiatedTimers(n: Negotiated): FsmAction[] {
  if (n.holdTime === 0) return [{ type: 'stop-timer', timer: 'hold' }, { type: 'stop-timer', timer: 'keepalive' }];
  return [
    { type: 'start-timer', timer: 'hold', seconds: n.holdTime, jitter: false },
    { type: 'start-timer', timer: 'keepalive', seconds: n.keepaliveTime, jitter: true },
  ];
}

/** After sending a KEEPALIVE: schedule the next one. */
function nextKeepalive(n: Negotiated): FsmAction[] {
  return n.holdTime === 0 ? [] : [{ type: 'start-timer', timer: 'keepalive', seconds: n.keepaliveTime, jitter: true }];
}

function restartHold(n: Negotiated): FsmAction[] {
  return n.holdTime === 0 ? [] : [{ type: 'start-timer', timer: 'hold', seconds: n.holdTime, jitter: false }];
}

/** Events common to every state that has a TCP connection or is trying to get one. */
function common(state: FsmState, event: FsmEvent): FsmResult | undefined {
  const connected = state.name === 'OpenSent' || state.name === 'OpenConfirm' || state.name === 'Established';
  switch (event.type) {
    case 'ManualStop': {
      if (!connected) return toIdle({ kind: 'stopped' }, 'stopped');
      // RFC 4271 §8.2.2 and RFC 4486 §4: a connected session says why it goes away.
      const subcode = event.cease?.subcode ?? CeaseSubcode.ADMINISTRATIVE_SHUTDOWN;
      const n = notificationInfo(ErrorCode.CEASE, subcode, event.cease?.data);
      return toIdle({ kind: 'stopped', notification: n }, 'stopped', n);
    }
    case 'HoldTimer_Expires': {
      if (!connected) return undefined;
      // RFC 4271 §6.5: NOTIFICATION with Hold Timer Expired, no data.
      const n = notificationInfo(ErrorCode.HOLD_TIMER_EXPIRED, 0);
      return toIdle({ kind: 'hold-timer-expired', notification: n }, 'hold timer expired', n);
    }
    case 'NotifMsg': {
      if (!connected) return undefined;
      const m = event.message;
      const n = notificationInfo(m.code, m.subcode, m.data);
      return toIdle({ kind: 'notification-received', notification: n }, `received ${n.text}`);
    }
    case 'DecodeError': {
      if (!connected) return undefined;
      const e = event.error.notification;
      return failWith(notificationInfo(e.code, e.subcode, e.data), event.error.message);
    }
    case 'TcpConnectionFails':
      if (state.name === 'OpenConfirm' || state.name === 'Established') {
        return toIdle({ kind: 'connection-lost', detail: event.detail }, `connection lost: ${event.detail}`);
      }
      return undefined;
    default:
      return undefined;
  }
}

function onIdle(event: FsmEvent, ctx: FsmContext): FsmResult {
  if (event.type === 'ManualStart' || event.type === 'AutomaticStart') {
    if (ctx.passive) return stay({ name: 'Active' }, [], 'started, waiting for the peer to connect');
    return stay({ name: 'Connect' }, [connectRetry(ctx), { type: 'connect' }], 'started');
  }
  // RFC 4271 §8.2.2: any other event in Idle is ignored.
  return stay(IDLE);
}

/** Events 16/17 in Connect or Active: the TCP connection is up, send OPEN (RFC 4271 §8.2.2). */
function connectionUp(ctx: FsmContext, how: string): FsmResult {
  return stay(
    { name: 'OpenSent' },
    [
      { type: 'stop-timer', timer: 'connectRetry' },
      { type: 'send', message: ctx.localOpen },
      { type: 'start-timer', timer: 'hold', seconds: OPEN_SENT_HOLD_TIME, jitter: false },
    ],
    how,
  );
}

/** A message event without a connection: cannot happen through the driver; drop everything. */
function noConnection(state: SessionState, what: string): FsmResult {
  return toIdle({ kind: 'connection-lost', detail: `${what} in ${state}` }, `${what} in ${state}`);
}

function onConnect(event: FsmEvent, ctx: FsmContext): FsmResult {
  switch (event.type) {
    case 'ConnectRetryTimer_Expires':
      return stay({ name: 'Connect' }, [{ type: 'close' }, connectRetry(ctx), { type: 'connect' }], 'connect retry');
    case 'TcpConnectionEstablished':
    case 'TcpConnectionConfirmed':
      return connectionUp(ctx, 'connection established');
    case 'TcpConnectionFails':
      return stay({ name: 'Active' }, [{ type: 'close' }, connectRetry(ctx)], `connect failed: ${event.detail}`);
    case 'ManualStart':
    case 'AutomaticStart':
      return stay({ name: 'Connect' });
    default:
      return noConnection('Connect', event.type);
  }
}

function onActive(event: FsmEvent, ctx: FsmContext): FsmResult {
  switch (event.type) {
    case 'ConnectRetryTimer_Expires':
      if (ctx.passive) return stay({ name: 'Active' });
      return stay({ name: 'Connect' }, [connectRetry(ctx), { type: 'connect' }], 'connect retry');
    case 'TcpConnectionEstablished':
    case 'TcpConnectionConfirmed':
      return connectionUp(ctx, 'connection established');
    case 'TcpConnectionFails':
      if (ctx.passive) return toIdle({ kind: 'connection-lost', detail: event.detail }, event.detail);
      return stay({ name: 'Active' }, [{ type: 'close' }, connectRetry(ctx)], `connect failed: ${event.detail}`);
    case 'ManualStart':
    case 'AutomaticStart':
      return stay({ name: 'Active' });
    default:
      return noConnection('Active', event.type);
  }
}

function onOpenSent(event: FsmEvent, ctx: FsmContext): FsmResult {
  switch (event.type) {
    case 'BGPOpen': {
      const check = validateOpen(event.message, ctx.config);
      if (!check.ok) {
        const e = check.error.notification;
        return failWith(notificationInfo(e.code, e.subcode, e.data), check.error.message);
      }
      const n = check.negotiated;
      return stay(
        { name: 'OpenConfirm', negotiated: n },
        [
          { type: 'stop-timer', timer: 'connectRetry' },
          { type: 'send', message: KEEPALIVE },
          ...negotiatedTimers(n),
        ],
        `OPEN from ${n.peerBgpId} AS ${n.peerAs}`,
      );
    }
    case 'TcpConnectionFails':
      // RFC 4271 §8.2.2: close, restart ConnectRetryTimer, keep listening, go to Active.
      if (ctx.passive) return toIdle({ kind: 'connection-lost', detail: event.detail }, event.detail);
      return stay(
        { name: 'Active' },
        [{ type: 'stop-timer', timer: 'hold' }, { type: 'close' }, connectRetry(ctx)],
        `connection lost: ${event.detail}`,
      );
    case 'KeepAliveMsg':
    case 'UpdateMsg':
    case 'RouteRefreshMsg':
      return fsmError('OpenSent', `${messageName(event)} received`, UNEXPECTED_MESSAGE_SUBCODE.OpenSent);
    case 'TcpConnectionEstablished':
    case 'TcpConnectionConfirmed':
    case 'ManualStart':
    case 'AutomaticStart':
      // A second connection is the peer's business (collision.ts); starts are idempotent.
      return stay({ name: 'OpenSent' });
    default:
      return fsmError('OpenSent', event.type);
  }
}

function messageName(event: FsmEvent): string {
  switch (event.type) {
    case 'KeepAliveMsg':
      return 'KEEPALIVE';
    case 'UpdateMsg':
      return 'UPDATE';
    case 'RouteRefreshMsg':
      return 'ROUTE-REFRESH';
    case 'BGPOpen':
      return 'OPEN';
    default:
      return event.type;
  }
}

function onOpenConfirm(event: FsmEvent, state: { negotiated: Negotiated }): FsmResult {
  const n = state.negotiated;
  switch (event.type) {
    case 'KeepAliveMsg':
      return stay(
        { name: 'Established', negotiated: n },
        [...restartHold(n), { type: 'established', negotiated: n }],
        'KEEPALIVE received',
      );
    case 'KeepaliveTimer_Expires':
      return stay(
        { name: 'OpenConfirm', negotiated: n },
        [{ type: 'send', message: KEEPALIVE }, ...nextKeepalive(n)],
      );
    case 'BGPOpen':
    case 'UpdateMsg':
    case 'RouteRefreshMsg':
      return fsmError('OpenConfirm', `${messageName(event)} received`, UNEXPECTED_MESSAGE_SUBCODE.OpenConfirm);
    case 'TcpConnectionEstablished':
    case 'TcpConnectionConfirmed':
    case 'ManualStart':
    case 'AutomaticStart':
      return stay({ name: 'OpenConfirm', negotiated: n });
    default:
      return fsmError('OpenConfirm', event.type);
  }
}

function onEstablished(event: FsmEvent, state: { negotiated: Negotiated }): FsmResult {
  const n = state.negotiated;
  const here: FsmState = { name: 'Established', negotiated: n };
  switch (event.type) {
    case 'KeepAliveMsg':
      return stay(here, restartHold(n));
    case 'UpdateMsg':
      return stay(here, [...restartHold(n), { type: 'deliver', message: event.message }]);
    case 'RouteRefreshMsg': {
      const m = event.message;
      const family = familyOf(m.afi, m.safi);
      // RFC 2918 §4: a ROUTE-REFRESH for a family we did not negotiate is ignored.
      const ok = n.routeRefresh && family !== undefined && n.families.includes(family);
      return stay(here, [...restartHold(n), ...(ok ? [{ type: 'deliver' as const, message: m }] : [])]);
    }
    case 'KeepaliveTimer_Expires':
      return stay(here, [{ type: 'send', message: KEEPALIVE }, ...nextKeepalive(n)]);
    case 'BGPOpen':
      return fsmError('Established', 'OPEN received', UNEXPECTED_MESSAGE_SUBCODE.Established);
    case 'TcpConnectionEstablished':
    case 'TcpConnectionConfirmed':
    case 'ManualStart':
    case 'AutomaticStart':
      return stay(here);
    default:
      return fsmError('Established', event.type);
  }
}

function propose(state: FsmState, event: FsmEvent, ctx: FsmContext): FsmResult {
  if (state.name === 'Idle') return onIdle(event, ctx);
  const c = common(state, event);
  if (c !== undefined) return c;
  switch (state.name) {
    case 'Connect':
      return onConnect(event, ctx);
    case 'Active':
      return onActive(event, ctx);
    case 'OpenSent':
      return onOpenSent(event, ctx);
    case 'OpenConfirm':
      return onOpenConfirm(event, state);
    case 'Established':
      return onEstablished(event, state);
  }
}

/**
 * The guard (grpc-js `transitionToState`): a move that is not an edge of the
 * RFC 4271 §8 graph is refused; the state stays and no action runs.
 */
export function guardTransition(from: FsmState, proposed: FsmResult): FsmResult {
  if (ALLOWED_TRANSITIONS[from.name].includes(proposed.state.name)) return proposed;
  return { state: from, actions: [], reason: proposed.reason, refused: { from: from.name, to: proposed.state.name } };
}

/** One FSM step: `(state, event, ctx) => { state, actions }`. */
export function step(state: FsmState, event: FsmEvent, ctx: FsmContext): FsmResult {
  return guardTransition(state, propose(state, event, ctx));
}

/** The initial state. */
export function initialState(): FsmState {
  return IDLE;
}
