/**
 * Our OPEN message, built from configuration (pure).
 *
 * Capabilities (RFC 5492), in the order FRR sends them:
 * - Multiprotocol (RFC 4760 §8), one per configured family;
 * - Route Refresh (RFC 2918) and Enhanced Route Refresh (RFC 7313);
 * - 4-octet AS (RFC 6793), always: every modern speaker has it;
 * - ADD-PATH (RFC 7911) for families that have a setting;
 * - Graceful Restart (RFC 4724) when enabled;
 * - Extended Message (RFC 8654) and Extended Next Hop (RFC 8950) when enabled.
 */

import {
  AddPathMode,
  AS_TRANS,
  Afi,
  afiSafiOf,
  type Capability,
  CapabilityCode,
  type Family,
  MessageType,
  type OpenMessage,
} from '../wire';
import type { AddPathSetting, SessionConfig } from './config';

/** BGP version we speak, RFC 4271 §4.2. */
export const BGP_VERSION = 4;

const ADD_PATH_MODE: Record<AddPathSetting, AddPathMode> = {
  receive: AddPathMode.RECEIVE,
  send: AddPathMode.SEND,
  both: AddPathMode.BOTH,
};

/** The 2-octet My Autonomous System field: AS_TRANS when the AS does not fit (RFC 6793 §4.1). */
export function twoOctetAs(asn: number): number {
  return asn > 0xffff ? AS_TRANS : asn;
}

/** Our capabilities, in advertisement order. */
export function localCapabilities(config: SessionConfig): Capability[] {
  const caps: Capability[] = [];
  for (const family of config.families) {
    caps.push({ code: CapabilityCode.MULTIPROTOCOL, ...afiSafiOf(family) });
  }
  caps.push({ code: CapabilityCode.ROUTE_REFRESH });
  if (config.enhancedRouteRefresh) caps.push({ code: CapabilityCode.ENHANCED_ROUTE_REFRESH });
  caps.push({ code: CapabilityCode.FOUR_OCTET_AS, asn: config.localAs });
  const addPathFamilies = config.families.flatMap((family: Family) => {
    const setting = config.addPath[family];
    return setting === undefined ? [] : [{ ...afiSafiOf(family), mode: ADD_PATH_MODE[setting] }];
  });
  if (addPathFamilies.length > 0) caps.push({ code: CapabilityCode.ADD_PATH, families: addPathFamilies });
  const gr = config.gracefulRestart;
  if (gr !== undefined) {
    caps.push({
      code: CapabilityCode.GRACEFUL_RESTART,
      restarting: gr.restarting,
      // N bit (RFC 8538) stays clear: we do not implement the NOTIFICATION extension.
      notification: false,
      restartTime: gr.restartTime,
      families: config.families.map((family) => ({ ...afiSafiOf(family), forwarding: gr.forwarding })),
    });
  }
  if (config.extendedMessage) caps.push({ code: CapabilityCode.EXTENDED_MESSAGE });
  if (config.extendedNextHop && config.families.includes('ipv4-unicast')) {
    // RFC 8950 §3: IPv4 unicast NLRI with an IPv6 next hop.
    caps.push({
      code: CapabilityCode.EXTENDED_NEXT_HOP,
      entries: [{ ...afiSafiOf('ipv4-unicast'), nextHopAfi: Afi.IPV6 }],
    });
  }
  return caps;
}

/** Our OPEN for one session. */
export function buildLocalOpen(config: SessionConfig): OpenMessage {
  return {
    type: MessageType.OPEN,
    version: BGP_VERSION,
    myAs: twoOctetAs(config.localAs),
    holdTime: config.holdTime,
    bgpId: config.routerId,
    capabilities: localCapabilities(config),
  };
}
