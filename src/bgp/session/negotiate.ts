/**
 * OPEN validation and capability negotiation (pure).
 *
 * `validateOpen` checks the peer's OPEN against our configuration in the
 * order of RFC 4271 §6.2 and, if it is acceptable, returns what the session
 * negotiated. Negotiation is permissive (RFC 5492 §3): a capability that only
 * one side advertised is simply not used. Only capabilities that the
 * configuration REQUIRES, and a peer with no family in common, refuse the
 * session with OPEN error 2/7.
 */

import {
  AddPathMode,
  AS_TRANS,
  BgpWireError,
  type Capability,
  CapabilityCode,
  type CodecOptions,
  ErrorCode,
  type Family,
  familyOf,
  type OpenMessage,
  OpenSubcode,
} from '../wire';
import { encodeCapabilities } from './capability-bytes';
import type { RequirableCapability, SessionConfig } from './config';
import { BGP_VERSION, localCapabilities } from './local-open';

/** The peer's graceful restart state (RFC 4724 §3), when both sides advertised the capability. */
export interface PeerGracefulRestart {
  /** Seconds we should keep the peer's routes after its session drops. */
  restartTime: number;
  /** R bit: the peer is restarting. */
  restarting: boolean;
  /** N bit: the peer supports RFC 8538. */
  notification: boolean;
  /** Negotiated families the peer will preserve, with its F bit. */
  families: { family: Family; forwarding: boolean }[];
}

/** What one session negotiated. Plain data: safe to log, serialise and show in the CLI. */
export interface Negotiated {
  localAs: number;
  peerAs: number;
  localBgpId: string;
  peerBgpId: string;
  /** Same AS on both sides. */
  ibgp: boolean;
  /** min(ours, theirs) in seconds; 0 means no hold timer and no KEEPALIVEs (RFC 4271 §4.4). */
  holdTime: number;
  /** Seconds between our KEEPALIVEs; 0 when holdTime is 0. */
  keepaliveTime: number;
  /** Peer's hold time as it offered it, for display. */
  peerHoldTime: number;
  fourOctetAs: boolean;
  routeRefresh: boolean;
  enhancedRouteRefresh: boolean;
  /** Families both sides advertised (in our configured order). */
  families: Family[];
  /** RFC 7911 §4: families on which path identifiers are received from / sent to the peer. */
  addPath: { receive: Family[]; send: Family[] };
  extendedMessage: boolean;
  /** RFC 8950: families whose NLRI may carry an IPv6 next hop. */
  extendedNextHop: Family[];
  gracefulRestart: PeerGracefulRestart | undefined;
  /** Everything the peer advertised, in its order, for display. */
  peerCapabilities: Capability[];
}

export type OpenCheck = { ok: true; negotiated: Negotiated } | { ok: false; error: BgpWireError };

/** RFC 2918 §2 predecessor: Cisco's pre-standard Route Refresh code, still sent by some peers. */
const OLD_ROUTE_REFRESH_CODE = 128;

function refuse(message: string, subcode: OpenSubcode, data?: Buffer): OpenCheck {
  return { ok: false, error: new BgpWireError(message, { code: ErrorCode.OPEN_MESSAGE, subcode, data }) };
}

function findCap<C extends CapabilityCode>(
  caps: readonly Capability[],
  code: C,
): Extract<Capability, { code: C }> | undefined {
  return caps.find((c): c is Extract<Capability, { code: C }> => c.code === code);
}

function hasCap(caps: readonly Capability[], code: CapabilityCode): boolean {
  return caps.some((c) => c.code === code);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** Peer AS from OPEN, RFC 6793 §4.1; a string when the OPEN is inconsistent. */
function peerAsOf(open: OpenMessage): number | string {
  const cap = findCap(open.capabilities, CapabilityCode.FOUR_OCTET_AS);
  if (cap === undefined) {
    // RFC 6793 §4.1: AS_TRANS in My AS is meaningful only with the capability.
    if (open.myAs === AS_TRANS) return 'AS_TRANS in My Autonomous System without the 4-octet AS capability';
    return open.myAs;
  }
  // RFC 6793 §9: AS_TRANS is not an AS anyone may use as its own.
  if (cap.asn === AS_TRANS) return 'the 4-octet AS capability carries AS_TRANS';
  // RFC 6793 §4.1: My AS is the AS itself when it fits, AS_TRANS when it does not.
  if (open.myAs !== AS_TRANS && open.myAs !== cap.asn) {
    return `My Autonomous System ${open.myAs} disagrees with 4-octet AS ${cap.asn}`;
  }
  return cap.asn;
}

function includesMode(mode: AddPathMode, want: AddPathMode.RECEIVE | AddPathMode.SEND): boolean {
  return mode === want || mode === AddPathMode.BOTH;
}

/** Families of the peer's multiprotocol capabilities; none at all implies IPv4 unicast (RFC 4760 §8, as BIRD and FRR). */
function peerFamilies(caps: readonly Capability[]): Set<Family> {
  const mp = caps.filter((c) => c.code === CapabilityCode.MULTIPROTOCOL);
  if (mp.length === 0) return new Set<Family>(['ipv4-unicast']);
  const out = new Set<Family>();
  for (const c of mp) {
    if (c.code !== CapabilityCode.MULTIPROTOCOL) continue;
    const f = familyOf(c.afi, c.safi);
    if (f !== undefined) out.add(f);
  }
  return out;
}

function negotiateAddPath(
  local: readonly Capability[],
  peer: readonly Capability[],
  families: readonly Family[],
): { receive: Family[]; send: Family[] } {
  const modes = (caps: readonly Capability[]): Map<Family, AddPathMode> => {
    const m = new Map<Family, AddPathMode>();
    const cap = findCap(caps, CapabilityCode.ADD_PATH);
    for (const e of cap?.families ?? []) {
      const f = familyOf(e.afi, e.safi);
      if (f !== undefined) m.set(f, e.mode);
    }
    return m;
  };
  const ours = modes(local);
  const theirs = modes(peer);
  const receive: Family[] = [];
  const send: Family[] = [];
  for (const f of families) {
    const o = ours.get(f);
    const t = theirs.get(f);
    if (o === undefined || t === undefined) continue;
    // RFC 7911 §4: we receive path IDs if we said Receive and they said Send, and vice versa.
    if (includesMode(o, AddPathMode.RECEIVE) && includesMode(t, AddPathMode.SEND)) receive.push(f);
    if (includesMode(o, AddPathMode.SEND) && includesMode(t, AddPathMode.RECEIVE)) send.push(f);
  }
  return { receive, send };
}

function negotiateExtendedNextHop(
  local: readonly Capability[],
  peer: readonly Capability[],
  families: readonly Family[],
): Family[] {
  const entries = (caps: readonly Capability[]): string[] =>
    (findCap(caps, CapabilityCode.EXTENDED_NEXT_HOP)?.entries ?? []).map((e) => `${e.afi}/${e.safi}/${e.nextHopAfi}`);
  const theirs = new Set(entries(peer));
  const out = new Set<Family>();
  for (const e of findCap(local, CapabilityCode.EXTENDED_NEXT_HOP)?.entries ?? []) {
    const f = familyOf(e.afi, e.safi);
    if (f !== undefined && families.includes(f) && theirs.has(`${e.afi}/${e.safi}/${e.nextHopAfi}`)) out.add(f);
  }
  return [...out];
}

function negotiateGracefulRestart(
  local: readonly Capability[],
  peer: readonly Capability[],
  families: readonly Family[],
): PeerGracefulRestart | undefined {
  const theirs = findCap(peer, CapabilityCode.GRACEFUL_RESTART);
  // RFC 4724 §3: the procedures apply only when both sides advertised the capability.
  if (theirs === undefined || !hasCap(local, CapabilityCode.GRACEFUL_RESTART)) return undefined;
  const fams: PeerGracefulRestart['families'] = [];
  for (const e of theirs.families) {
    const f = familyOf(e.afi, e.safi);
    if (f !== undefined && families.includes(f)) fams.push({ family: f, forwarding: e.forwarding });
  }
  return {
    restartTime: theirs.restartTime,
    restarting: theirs.restarting,
    notification: theirs.notification,
    families: fams,
  };
}

/** Keepalive interval: a third of the hold time, or the configured value if smaller, never below 1 s (RFC 4271 §4.4). */
export function keepaliveFor(holdTime: number, configured: number | undefined): number {
  if (holdTime === 0) return 0;
  return Math.max(1, Math.min(configured ?? Infinity, Math.floor(holdTime / 3)));
}

const REQUIRABLE_CODE: Record<RequirableCapability, CapabilityCode> = {
  'four-octet-as': CapabilityCode.FOUR_OCTET_AS,
  'route-refresh': CapabilityCode.ROUTE_REFRESH,
  'enhanced-route-refresh': CapabilityCode.ENHANCED_ROUTE_REFRESH,
  'extended-message': CapabilityCode.EXTENDED_MESSAGE,
  'graceful-restart': CapabilityCode.GRACEFUL_RESTART,
};

function isNegotiated(n: Negotiated, cap: RequirableCapability): boolean {
  switch (cap) {
    case 'four-octet-as':
      return n.fourOctetAs;
    case 'route-refresh':
      return n.routeRefresh;
    case 'enhanced-route-refresh':
      return n.enhancedRouteRefresh;
    case 'extended-message':
      return n.extendedMessage;
    case 'graceful-restart':
      return n.gracefulRestart !== undefined;
  }
}

/**
 * Check the peer's OPEN (RFC 4271 §6.2) and negotiate. On refusal, the error
 * carries the NOTIFICATION to send.
 */
export function validateOpen(open: OpenMessage, config: SessionConfig): OpenCheck {
  // RFC 4271 §6.2: data is the largest locally supported version (we only speak 4).
  if (open.version !== BGP_VERSION) {
    return refuse(`unsupported BGP version ${open.version}`, OpenSubcode.UNSUPPORTED_VERSION, u16(BGP_VERSION));
  }
  const peerAs = peerAsOf(open);
  if (typeof peerAs === 'string') return refuse(`bad peer AS: ${peerAs}`, OpenSubcode.BAD_PEER_AS);
  if (peerAs !== config.peerAs) {
    return refuse(`bad peer AS: expected ${config.peerAs}, peer says ${peerAs}`, OpenSubcode.BAD_PEER_AS);
  }
  const ibgp = peerAs === config.localAs;
  // RFC 6286 §2.2: zero is never valid; our own ID is invalid from an internal peer.
  if (open.bgpId === '0.0.0.0') return refuse('bad BGP identifier 0.0.0.0', OpenSubcode.BAD_BGP_IDENTIFIER);
  if (ibgp && open.bgpId === config.routerId) {
    return refuse(`bad BGP identifier: iBGP peer uses our own ${open.bgpId}`, OpenSubcode.BAD_BGP_IDENTIFIER);
  }
  // RFC 4271 §6.2: a Hold Time of one or two seconds MUST be rejected.
  if (open.holdTime === 1 || open.holdTime === 2) {
    return refuse(`unacceptable hold time ${open.holdTime}`, OpenSubcode.UNACCEPTABLE_HOLD_TIME);
  }

  const local = localCapabilities(config);
  const peer = open.capabilities;
  const theirFamilies = peerFamilies(peer);
  const families = config.families.filter((f) => theirFamilies.has(f));
  if (families.length === 0) {
    // As FRR: a session without a common family carries nothing; name the families we offered.
    const ours = local.filter((c) => c.code === CapabilityCode.MULTIPROTOCOL);
    return refuse('no address family in common', OpenSubcode.UNSUPPORTED_CAPABILITY, encodeCapabilities(ours));
  }
  const holdTime = Math.min(config.holdTime, open.holdTime);
  const negotiated: Negotiated = {
    localAs: config.localAs,
    peerAs,
    localBgpId: config.routerId,
    peerBgpId: open.bgpId,
    ibgp,
    holdTime,
    keepaliveTime: keepaliveFor(holdTime, config.keepaliveTime),
    peerHoldTime: open.holdTime,
    fourOctetAs: hasCap(peer, CapabilityCode.FOUR_OCTET_AS),
    routeRefresh:
      hasCap(peer, CapabilityCode.ROUTE_REFRESH) ||
      peer.some((c) => c.code === 'unknown' && c.typeCode === OLD_ROUTE_REFRESH_CODE),
    enhancedRouteRefresh:
      hasCap(local, CapabilityCode.ENHANCED_ROUTE_REFRESH) && hasCap(peer, CapabilityCode.ENHANCED_ROUTE_REFRESH),
    families,
    addPath: negotiateAddPath(local, peer, families),
    extendedMessage: hasCap(local, CapabilityCode.EXTENDED_MESSAGE) && hasCap(peer, CapabilityCode.EXTENDED_MESSAGE),
    extendedNextHop: negotiateExtendedNextHop(local, peer, families),
    gracefulRestart: negotiateGracefulRestart(local, peer, families),
    peerCapabilities: [...peer],
  };

  // RFC 5492 §5: data lists the capabilities that caused the refusal, encoded as in OPEN.
  const missing = config.requireCapabilities.filter((c) => !isNegotiated(negotiated, c));
  if (missing.length > 0) {
    const codes = new Set(missing.map((m) => REQUIRABLE_CODE[m]));
    const data = encodeCapabilities(local.filter((c) => c.code !== 'unknown' && codes.has(c.code)));
    return refuse(`peer lacks required capabilities: ${missing.join(', ')}`, OpenSubcode.UNSUPPORTED_CAPABILITY, data);
  }
  return { ok: true, negotiated };
}

/** Codec options for what we decode from the peer and what we encode to it (RFC 7911 differs per direction). */
export function codecOptionsFor(n: Negotiated): { decode: CodecOptions; encode: CodecOptions } {
  return {
    decode: { fourOctetAs: n.fourOctetAs, extendedMessage: n.extendedMessage, addPath: new Set(n.addPath.receive) },
    encode: { fourOctetAs: n.fourOctetAs, extendedMessage: n.extendedMessage, addPath: new Set(n.addPath.send) },
  };
}
