/**
 * Per-endpoint chain bodies (felix/rules/endpoints.go).
 *
 * filter (normal): conntrack first (ESTABLISHED,RELATED accepted, INVALID
 * dropped), clear marks, then per tier: "start of tier" clears Pass, each
 * policy is jumped to while Pass is clear and returns the endpoint chain as
 * soon as Accept is set, and the tier ends with a DROP unless a policy passed
 * the packet on. Then the profiles in order, and a final DROP. A tier list
 * that is empty means no policy selects the endpoint in this direction, so
 * the profiles decide (Calico's "default allow via profile").
 *
 * forward (host endpoint applyOnForward): the same without profiles and
 * without the final DROP (Felix renders no profiles for forward chains).
 *
 * untracked (raw, doNotTrack) / preDNAT (mangle): no default drop at all —
 * traffic no such policy decides continues to normal processing; an accepted
 * packet is NOTRACKed (raw) and ACCEPTed so the table stops there.
 */
import type { RenderConfig } from '../config';
import type { ChainNames } from './names';
import type { TierGroup } from './policies';
import { hex } from './rules';

export type EndpointChainMode = 'filter' | 'forward' | 'untracked' | 'preDNAT';

export interface EndpointChainSpec {
  mode: EndpointChainMode;
  dir: 'pi' | 'po';
  tiers: TierGroup[];
  /** Profile chain names, only for mode filter. */
  profileChains: string[];
  fromWorkload: boolean;
}

export function comment(text: string): string {
  return `-m comment --comment "${text.replace(/[^A-Za-z0-9 ._:/,()-]/g, '_')}"`;
}

export function endpointChainBody(spec: EndpointChainSpec, names: ChainNames, cfg: RenderConfig): string[] {
  const A = `${hex(cfg.markAccept)}/${hex(cfg.markAccept)}`;
  const notPass = `0x0/${hex(cfg.markPass)}`;
  const out: string[] = [];
  const tracked = spec.mode === 'filter' || spec.mode === 'forward';
  if (tracked) {
    out.push('-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
    out.push('-m conntrack --ctstate INVALID -j DROP');
  }
  out.push(`${comment('Clear marks')} -j MARK --set-xmark 0x0/${hex(cfg.markAccept | cfg.markPass)}`);
  if (spec.fromWorkload) {
    // Felix: workloads may not send encapsulated traffic that the host would decapsulate.
    out.push(`-p udp -m multiport --dports 4789 ${comment('Drop VXLAN encapped packets originating in workloads')} -j DROP`);
    out.push(`-p 4 ${comment('Drop IPinIP encapped packets originating in workloads')} -j DROP`);
  }
  for (const t of spec.tiers) {
    out.push(`${comment(`Start of tier ${t.tier}`)} -j MARK --set-xmark ${notPass}`);
    for (const p of t.policies) {
      out.push(`-m mark --mark ${notPass} -j ${names.policy(spec.dir, p.id)}`);
      if (spec.mode === 'untracked') out.push(`-m mark --mark ${A} -j NOTRACK`);
      if (tracked) out.push(`-m mark --mark ${A} ${comment('Return if policy accepted')} -j RETURN`);
      else out.push(`-m mark --mark ${A} ${comment('Accept if policy accepted')} -j ACCEPT`);
    }
    if (tracked) out.push(`-m mark --mark ${notPass} ${comment(`End of tier ${t.tier}. Drop if no policies passed packet`)} -j DROP`);
  }
  if (spec.mode === 'filter') {
    for (const pc of spec.profileChains) {
      out.push(`-j ${pc}`);
      out.push(`-m mark --mark ${A} ${comment('Return if profile accepted')} -j RETURN`);
    }
    out.push(`${comment('Drop if no profiles matched')} -j DROP`);
  }
  return out;
}
