/**
 * Peer configuration as the daemon hands it over, and its resolution into
 * the fully defaulted, validated form the session uses (pure).
 */

import { isIP } from 'node:net';
import { TartanError } from '../../errors';
import type { Family } from '../wire';
import type { SocketSecurity } from '../../netsock';
import { TCP_MD5_MAX_KEY_LENGTH } from '../../netsock/struct';
import {
  BGP_PORT,
  DEFAULT_CONNECT_DELAY_TIME,
  DEFAULT_CONNECT_RETRY_TIME,
  DEFAULT_CONNECT_TIMEOUT,
  DEFAULT_ERROR_FORGET_TIME,
  DEFAULT_ERROR_WAIT_MAX,
  DEFAULT_ERROR_WAIT_MIN,
  DEFAULT_GRACEFUL_RESTART_TIME,
  DEFAULT_HOLD_TIME,
  MAX_GRACEFUL_RESTART_TIME,
} from './defaults';

/** Which ADD-PATH directions (RFC 7911) we offer for one family. */
export type AddPathSetting = 'receive' | 'send' | 'both';

/**
 * Capabilities whose absence at the peer makes us refuse the session with
 * OPEN error 2/7 (RFC 5492 §5). Anything not listed is negotiated
 * permissively: missing at the peer simply means "not used".
 */
export type RequirableCapability =
  | 'four-octet-as'
  | 'route-refresh'
  | 'enhanced-route-refresh'
  | 'extended-message'
  | 'graceful-restart';

/** Graceful restart (RFC 4724) as we advertise it. */
export interface GracefulRestartConfig {
  /** Seconds the peer should keep our routes after we disappear (0..4095). */
  restartTime: number;
  /** F bit for every family: our forwarding state survived the restart. */
  forwarding: boolean;
  /** R bit: we are restarting right now (daemon start with retained routes). */
  restarting: boolean;
}

/** Who we are: shared by every peer of one speaker. */
export interface SpeakerIdentity {
  /** Our AS number (4-octet value). */
  localAs: number;
  /** Our BGP Identifier, dotted quad. */
  routerId: string;
}

/** One configured neighbour, as the daemon's config layer describes it. */
export interface PeerConfig {
  /** Peer IP address. */
  address: string;
  /** Peer TCP port; default 179. */
  port?: number;
  peerAs: number;
  /** Overrides SpeakerIdentity.localAs for this peer (BIRD `local as`, Calico `localASNumber`). */
  localAs?: number;
  /** Never connect, only accept (BIRD `passive on`). */
  passive?: boolean;
  /** Hold time we offer, seconds; 0 or at least 3 (RFC 4271 §4.2). Default 90. */
  holdTime?: number;
  /** Keepalive interval cap, seconds (Calico keepaliveTime); default a third of the negotiated hold time. */
  keepaliveTime?: number;
  /** ConnectRetryTimer, seconds; default 3. */
  connectRetryTime?: number;
  /** Delay before the first outgoing connection, seconds; default 1. */
  connectDelayTime?: number;
  /** Error wait [min, max], seconds; default [5, 60]. */
  errorWaitTime?: [number, number];
  /** Seconds without errors after which the error wait resets; default 300. */
  errorForgetTime?: number;
  /** TCP connect timeout, seconds; default 5. */
  connectTimeout?: number;
  /** Local (source) address of outgoing connections. */
  sourceAddress?: string;
  /** Local (source) port of outgoing connections; default ephemeral. */
  sourcePort?: number;
  /** TCP-MD5 key (RFC 2385, BIRD `password`), 1..80 bytes, on outgoing and accepted connections; default none. */
  tcpMd5Key?: Buffer;
  /** GTSM (RFC 5082, BIRD `ttl security on` + `multihop N`): the peer is at most this many hops away, 1..255; default off. */
  ttlSecurity?: number;
  /** Families to negotiate; default the family of `address` (one session per family, as Calico). */
  families?: Family[];
  /** ADD-PATH per family; default none. */
  addPath?: Partial<Record<Family, AddPathSetting>>;
  /** Graceful restart; default advertised with 120 s, no forwarding state. `false` disables. */
  gracefulRestart?: Partial<GracefulRestartConfig> | false;
  /** Advertise Extended Message (RFC 8654); default true. */
  extendedMessage?: boolean;
  /** Advertise Enhanced Route Refresh (RFC 7313); default true. */
  enhancedRouteRefresh?: boolean;
  /** Advertise Extended Next Hop for ipv4-unicast over IPv6 (RFC 8950); default false. */
  extendedNextHop?: boolean;
  /** Capabilities the peer must support; default none. */
  requireCapabilities?: RequirableCapability[];
  /** Administratively enabled; default true. */
  enabled?: boolean;
  /** Deliver UPDATE NLRI in wire form (`packed` fields, see CodecOptions.packedNlri); default false. */
  packedNlri?: boolean;
}

/**
 * The local half of one session: everything OPEN construction, OPEN
 * validation and the FSM need. Plain data.
 */
export interface SessionConfig {
  localAs: number;
  routerId: string;
  peerAs: number;
  holdTime: number;
  keepaliveTime: number | undefined;
  connectRetryTime: number;
  families: Family[];
  addPath: Partial<Record<Family, AddPathSetting>>;
  gracefulRestart: GracefulRestartConfig | undefined;
  extendedMessage: boolean;
  enhancedRouteRefresh: boolean;
  extendedNextHop: boolean;
  requireCapabilities: RequirableCapability[];
  /** Deliver NLRI in wire form (CodecOptions.packedNlri). */
  packedNlri?: boolean;
}

/** PeerConfig with every default applied and every value checked. */
export interface ResolvedPeerConfig {
  address: string;
  port: number;
  passive: boolean;
  enabled: boolean;
  connectDelayTime: number;
  errorWaitMin: number;
  errorWaitMax: number;
  errorForgetTime: number;
  connectTimeout: number;
  sourceAddress: string | undefined;
  sourcePort: number | undefined;
  /** TCP-MD5 key and TTL security of this peer's connections (empty: none). */
  security: SocketSecurity;
  session: SessionConfig;
}

/** Code of the error thrown for an unusable peer configuration. */
export const PEER_CONFIG_INVALID = 'BGP_PEER_CONFIG_INVALID';

function invalid(address: string, field: string, message: string): TartanError {
  return new TartanError(PEER_CONFIG_INVALID, `peer ${address}: ${field}: ${message}`);
}

function isDottedQuad(s: string): boolean {
  return isIP(s) === 4;
}

function checkUint(address: string, field: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw invalid(address, field, `must be an integer in ${min}..${max}, got ${v}`);
  }
  return v;
}

function checkKey(address: string, key: Buffer): Buffer {
  if (key.length < 1 || key.length > TCP_MD5_MAX_KEY_LENGTH) {
    throw invalid(address, 'tcpMd5Key', `must be 1..${TCP_MD5_MAX_KEY_LENGTH} bytes, got ${key.length}`);
  }
  return key;
}

/**
 * Apply defaults and validate. Throws TartanError `BGP_PEER_CONFIG_INVALID`
 * naming the field, so the daemon can report a config error instead of a
 * session that never comes up.
 */
export function resolvePeerConfig(config: PeerConfig, speaker: SpeakerIdentity): ResolvedPeerConfig {
  const a = config.address;
  const ipVersion = isIP(a);
  if (ipVersion === 0) throw invalid(a, 'address', 'not an IP address');
  const localAs = checkUint(a, 'localAs', config.localAs ?? speaker.localAs, 1, 0xffffffff);
  const peerAs = checkUint(a, 'peerAs', config.peerAs, 1, 0xffffffff);
  if (!isDottedQuad(speaker.routerId) || speaker.routerId === '0.0.0.0') {
    // RFC 6286 §2.1: a non-zero 4-octet value.
    throw invalid(a, 'routerId', `must be a non-zero dotted quad, got ${speaker.routerId}`);
  }
  const holdTime = checkUint(a, 'holdTime', config.holdTime ?? DEFAULT_HOLD_TIME, 0, 65535);
  // RFC 4271 §4.2: the Hold Time MUST be either zero or at least three seconds.
  if (holdTime === 1 || holdTime === 2) throw invalid(a, 'holdTime', 'must be 0 or at least 3');
  const keepaliveTime =
    config.keepaliveTime === undefined ? undefined : checkUint(a, 'keepaliveTime', config.keepaliveTime, 1, 21845);
  const families = config.families ?? [ipVersion === 4 ? 'ipv4-unicast' : 'ipv6-unicast'];
  if (families.length === 0) throw invalid(a, 'families', 'at least one family is needed');
  const [errorWaitMin, errorWaitMax] = config.errorWaitTime ?? [DEFAULT_ERROR_WAIT_MIN, DEFAULT_ERROR_WAIT_MAX];
  checkUint(a, 'errorWaitTime[0]', errorWaitMin, 0, 86400);
  checkUint(a, 'errorWaitTime[1]', errorWaitMax, errorWaitMin, 86400);
  if (config.sourceAddress !== undefined && isIP(config.sourceAddress) !== ipVersion) {
    throw invalid(a, 'sourceAddress', `must be an IPv${ipVersion} address, got ${config.sourceAddress}`);
  }
  let gracefulRestart: GracefulRestartConfig | undefined;
  if (config.gracefulRestart !== false) {
    const gr = config.gracefulRestart ?? {};
    gracefulRestart = {
      restartTime: checkUint(
        a,
        'gracefulRestart.restartTime',
        gr.restartTime ?? DEFAULT_GRACEFUL_RESTART_TIME,
        0,
        MAX_GRACEFUL_RESTART_TIME,
      ),
      forwarding: gr.forwarding ?? false,
      restarting: gr.restarting ?? false,
    };
  }
  const addPath = { ...(config.addPath ?? {}) };
  for (const f of Object.keys(addPath) as Family[]) {
    if (!families.includes(f)) throw invalid(a, `addPath.${f}`, 'family is not configured');
  }
  const requireCapabilities = [...(config.requireCapabilities ?? [])];
  const advertised: Record<RequirableCapability, boolean> = {
    'four-octet-as': true,
    'route-refresh': true,
    'enhanced-route-refresh': config.enhancedRouteRefresh ?? true,
    'extended-message': config.extendedMessage ?? true,
    'graceful-restart': gracefulRestart !== undefined,
  };
  for (const cap of requireCapabilities) {
    // Requiring what we do not advertise could never be negotiated: the session would never come up.
    if (!advertised[cap]) throw invalid(a, 'requireCapabilities', `${cap} is required but not advertised`);
  }
  return {
    address: a,
    port: checkUint(a, 'port', config.port ?? BGP_PORT, 1, 65535),
    passive: config.passive ?? false,
    enabled: config.enabled ?? true,
    connectDelayTime: checkUint(a, 'connectDelayTime', config.connectDelayTime ?? DEFAULT_CONNECT_DELAY_TIME, 0, 3600),
    errorWaitMin,
    errorWaitMax,
    errorForgetTime: checkUint(a, 'errorForgetTime', config.errorForgetTime ?? DEFAULT_ERROR_FORGET_TIME, 0, 86400),
    connectTimeout: checkUint(a, 'connectTimeout', config.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT, 1, 3600),
    sourceAddress: config.sourceAddress,
    sourcePort: config.sourcePort === undefined ? undefined : checkUint(a, 'sourcePort', config.sourcePort, 1, 65535),
    security: {
      ...(config.tcpMd5Key !== undefined ? { tcpMd5Key: checkKey(a, config.tcpMd5Key) } : {}),
      ...(config.ttlSecurity !== undefined ? { ttlSecurity: checkUint(a, 'ttlSecurity', config.ttlSecurity, 1, 255) } : {}),
    },
    session: {
      localAs,
      routerId: speaker.routerId,
      peerAs,
      holdTime,
      keepaliveTime,
      connectRetryTime: checkUint(
        a,
        'connectRetryTime',
        config.connectRetryTime ?? DEFAULT_CONNECT_RETRY_TIME,
        1,
        65535,
      ),
      families: [...families],
      addPath,
      gracefulRestart,
      extendedMessage: config.extendedMessage ?? true,
      enhancedRouteRefresh: config.enhancedRouteRefresh ?? true,
      extendedNextHop: config.extendedNextHop ?? false,
      requireCapabilities,
      packedNlri: config.packedNlri ?? false,
    },
  };
}
