/**
 * Session defaults, in one place so each choice carries its reason.
 *
 * Timers are in seconds, like every BGP configuration language (BIRD, FRR,
 * Calico's BGPPeer.keepaliveTime); the driver converts to milliseconds at the
 * clock edge.
 */

/** IANA port for BGP, RFC 4271 §8.2.1. */
export const BGP_PORT = 179;

/**
 * Hold time we offer: 90 s, FRR's default and the RFC 4271 §10 suggestion
 * (BIRD defaults to 240 s). Calico's BIRD template does not set a hold time,
 * but fast failure detection matters more to a pod network than to a transit
 * router, and BFD is not part of Tartan yet, so the shorter value wins.
 */
export const DEFAULT_HOLD_TIME = 90;

/**
 * Hold timer while OpenSent waits for the peer's OPEN: "a large value",
 * RFC 4271 §8.2.2 suggests 4 minutes.
 */
export const OPEN_SENT_HOLD_TIME = 240;

/**
 * Delay before the first outgoing connection after a peer is started:
 * Calico's BIRD template sets `connect delay time 1` (BIRD's default is 5).
 * It gives the peer's own connection a moment to arrive first.
 */
export const DEFAULT_CONNECT_DELAY_TIME = 1;

/**
 * ConnectRetryTimer: Calico sets `connect retry time 3` (BIRD's default is
 * 120, RFC 4271 §10 suggests 120). A pod network wants a node that reboots to
 * rejoin within seconds; a refused SYN costs nothing.
 */
export const DEFAULT_CONNECT_RETRY_TIME = 3;

/**
 * Wait after a session error before the next attempt, doubling per error:
 * Calico sets `error wait time 5,60` (BIRD's default is 60,300). It is the
 * IdleHoldTimer of RFC 4271 §8.1.1 (DampPeerOscillations), and the reason a
 * peer that answers every OPEN with a Cease cannot make us spin (MetalLB #780).
 */
export const DEFAULT_ERROR_WAIT_MIN = 5;
export const DEFAULT_ERROR_WAIT_MAX = 60;

/**
 * After this long without a session error the error wait falls back to its
 * minimum (BIRD `error forget time`, default 300 s).
 */
export const DEFAULT_ERROR_FORGET_TIME = 300;

/** Graceful restart time we advertise, RFC 4724 §3: BIRD's default, also Calico's mesh default. */
export const DEFAULT_GRACEFUL_RESTART_TIME = 120;

/** Largest Restart Time the 12-bit field can carry, RFC 4724 §3. */
export const MAX_GRACEFUL_RESTART_TIME = 4095;

/**
 * TCP connect timeout. A SYN that is neither answered nor refused must not
 * hold the attempt past the ConnectRetryTimer, which restarts it anyway.
 */
export const DEFAULT_CONNECT_TIMEOUT = 5;

/** RFC 4271 §10: timers that need jitter are multiplied by a random factor in [0.75, 1.0]. */
export const TIMER_JITTER_MIN = 0.75;
