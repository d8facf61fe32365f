/**
 * Typed observability: what a session and a peer report, as discriminated
 * unions the daemon turns into logs, metrics and `tartanctl` output.
 */

import type { RouteRefreshMessage, UpdateMessage } from '../wire';
import type { Negotiated } from './negotiate';

/** RFC 4271 §8.2.2 states. */
export type SessionState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

/** A NOTIFICATION as seen on the wire, with its human reading. */
export interface NotificationInfo {
  code: number;
  subcode: number;
  data: Buffer;
  /** describeNotification(code, subcode, data): "Cease/Administrative Shutdown: maintenance". */
  text: string;
}

/** Why a session went back to Idle. */
export type DownReason =
  /** stop() was called; `notification` is the Cease we sent, if a BGP connection existed. */
  | { kind: 'stopped'; notification?: NotificationInfo }
  /** RFC 4271 §6.5: we heard nothing for the hold time; we sent 4/0. */
  | { kind: 'hold-timer-expired'; notification: NotificationInfo }
  /** The peer closed the session with a NOTIFICATION. */
  | { kind: 'notification-received'; notification: NotificationInfo }
  /** We closed the session with a NOTIFICATION (bad OPEN, decode error, FSM error). */
  | { kind: 'notification-sent'; notification: NotificationInfo; detail: string }
  /** The TCP connection closed or failed without a NOTIFICATION. */
  | { kind: 'connection-lost'; detail: string };

/** What one session reports. */
export type SessionEvent =
  | { type: 'state-change'; from: SessionState; to: SessionState; reason: string }
  | { type: 'established'; negotiated: Negotiated }
  /** A decoded UPDATE; `message.errors` carries RFC 7606 errors that did not reset the session. */
  | { type: 'update'; message: UpdateMessage }
  | { type: 'route-refresh'; message: RouteRefreshMessage }
  | ({ type: 'notification-sent' } & NotificationInfo)
  | ({ type: 'notification-received' } & NotificationInfo)
  | { type: 'down'; reason: DownReason };

/** How a peer is known in events and logs. */
export interface PeerIdentity {
  address: string;
  port: number;
  peerAs: number;
}

/** Which side opened a TCP connection. */
export type ConnectionDirection = 'outgoing' | 'incoming';

/** What a peer reports: its connections' session events, plus peer-level facts. */
export type PeerEvent = { peer: PeerIdentity } & (
  /**
   * A connection's own event. On `down`, `established` says whether that
   * connection had reached Established: a collision loser or a connection
   * given up in favour of another never did, and its end does not end the
   * peer's session.
   */
  | ({ direction: ConnectionDirection; established?: boolean } & SessionEvent)
  /** The peer's summary state (the most advanced of its connections) changed. */
  | { type: 'peer-state-change'; from: SessionState; to: SessionState; reason: string }
  /** RFC 4271 §6.8: two connections met; `kept` survives, the other was closed. */
  | { type: 'collision'; kept: ConnectionDirection; reason: string }
  /** An incoming connection was turned away with Cease/5 (peer stopped, error wait running). */
  | { type: 'connection-refused'; remoteAddress: string; remotePort: number; reason: string }
  /** After a session error the peer waits this long before trying again (and refuses incoming connections). */
  | { type: 'error-wait'; seconds: number }
);

/** One line for logs: "hold timer expired", "received Cease/Administrative Shutdown: bye". */
export function describeDownReason(reason: DownReason): string {
  switch (reason.kind) {
    case 'stopped':
      return reason.notification === undefined ? 'stopped' : `stopped, sent ${reason.notification.text}`;
    case 'hold-timer-expired':
      return 'hold timer expired';
    case 'notification-received':
      return `received ${reason.notification.text}`;
    case 'notification-sent':
      return `sent ${reason.notification.text} (${reason.detail})`;
    case 'connection-lost':
      return `connection lost: ${reason.detail}`;
  }
}
