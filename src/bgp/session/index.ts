/**
 * BGP session layer: everything between a TCP byte stream and decoded
 * UPDATEs.
 *
 * Design (one job per file):
 * - fsm.ts          RFC 4271 §8 FSM as a pure `step(state, event, ctx)`, guarded transitions
 * - negotiate.ts    OPEN checks (RFC 4271 §6.2, RFC 6793, RFC 6286) and capability negotiation (RFC 5492)
 * - local-open.ts   our OPEN from configuration
 * - collision.ts    RFC 4271 §6.8 / RFC 6286 §2.3 collision resolution
 * - session.ts      one connection: FSM + framer + codec + timers over a Transport
 * - peer.ts         one neighbour: outgoing/incoming connections, collisions, error wait
 * - listener.ts     the TCP listener that hands connections to peers
 * - transport.ts / tcp-transport.ts   the I/O seam and its node:net implementation
 * - clock.ts, timers.ts, backoff.ts   injected time, named timers, error-wait backoff
 *
 * RFCs: 4271 (BGP-4), 4486 (Cease subcodes), 4724 (graceful restart, capability
 * and restart detection only), 4760 (multiprotocol), 5492 (capabilities),
 * 6286 (BGP Identifier), 6608 (FSM error subcodes), 6793 (4-octet AS),
 * 7313 (enhanced route refresh), 7606 (revised error handling, via the codec),
 * 7911 (ADD-PATH), 8203/9003 (shutdown communication), 8654 (extended
 * message), 8950 (extended next hop), 2918 (route refresh), 2385 (TCP-MD5)
 * and 5082 (GTSM), both through src/netsock.
 *
 * Only what the daemon needs is exported here.
 */

export { Peer, type PeerOptions, type PeerStatus, type PeerStopOptions } from './peer';
export { Listener, type ListenerEvent, type ListenerOptions } from './listener';
export type {
  AddPathSetting,
  GracefulRestartConfig,
  PeerConfig,
  RequirableCapability,
  ResolvedPeerConfig,
  SpeakerIdentity,
} from './config';
export { PEER_CONFIG_INVALID, resolvePeerConfig } from './config';
export type {
  ConnectionDirection,
  DownReason,
  NotificationInfo,
  PeerEvent,
  PeerIdentity,
  SessionEvent,
  SessionState,
} from './events';
export { describeDownReason } from './events';
export type { Negotiated, PeerGracefulRestart } from './negotiate';
export { codecOptionsFor } from './negotiate';
export { type Clock, realClock, type TimerHandle } from './clock';
export type { ConnectOptions, Connector, Transport, TransportEvents } from './transport';
export { connectTcp } from './tcp-transport';
export {
  MESSAGE_TOO_LONG,
  SESSION_CLOSED,
  SESSION_NOT_ESTABLISHED,
  type SessionCounters,
  type SessionLogger,
} from './session';
export { CONNECT_FAILED } from './tcp-transport';
export * as defaults from './defaults';
