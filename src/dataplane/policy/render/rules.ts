/**
 * One Calico rule → iptables rule bodies (felix/rules/policy.go).
 *
 * Positive matches that are lists (nets, ports) mean "any of"; iptables
 * matches are ANDed, so the rule is expanded into the cross product of its
 * list dimensions (one line per source net × destination net × port chunk).
 * Negative lists (notNets, notPorts) are ANDed into every line. multiport
 * takes at most 15 ports (a range counts twice), so port lists are chunked.
 * Named ports become `hash:ip,port` set matches (Felix `n:` sets).
 * Actions (Felix): Allow sets the accept mark and returns; Pass sets the pass
 * mark and returns; Deny drops; Log emits LOG and continues.
 */
import { TartanError } from '../../../errors';
import { parsePrefix } from '../../../util/ip';
import type { RenderConfig } from '../config';
import type { EntityRule, IcmpFields, IpVersion, PortSpec, Protocol, Rule } from '../model';
import type { EndpointIndex, Scope } from './endpoints';
import type { IpSetRegistry } from './ipsets';

export interface RuleContext {
  /** "GlobalNetworkPolicy foo", for error messages. */
  owner: string;
  /** NetworkPolicy namespace: rule selectors without namespaceSelector are scoped to it. */
  namespace: string | null;
  v: IpVersion;
  index: EndpointIndex;
  sets: IpSetRegistry;
  cfg: RenderConfig;
}

const PORT_PROTOCOLS = new Set(['tcp', 'udp', 'sctp', 'udplite']);
const PROTO_NUMBERS: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58, sctp: 132, udplite: 136 };

export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** Canonical iptables protocol: lower-case name, or number when given as one. */
export function protoText(p: Protocol, owner: string): string {
  if (typeof p === 'number' || /^\d+$/.test(p)) {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 1 || n > 255) throw invalid(owner, `bad protocol ${p}`);
    const name = Object.entries(PROTO_NUMBERS).find(([, v]) => v === n)?.[0];
    return name ?? String(n);
  }
  const l = p.toLowerCase();
  if (!(l in PROTO_NUMBERS)) throw invalid(owner, `unknown protocol ${p}`);
  return l;
}

function invalid(owner: string, msg: string): TartanError {
  return new TartanError('POLICY_INVALID', `${owner}: ${msg}`);
}

function cross(dims: string[][]): string[] {
  let acc = [''];
  for (const d of dims) {
    const next: string[] = [];
    for (const a of acc) for (const b of d) next.push(a && b ? `${a} ${b}` : a || b);
    acc = next;
  }
  return acc;
}

function netsOf(list: readonly string[] | undefined, v: IpVersion, owner: string): string[] {
  const out: string[] = [];
  for (const n of list ?? []) {
    const p = parsePrefix(n);
    if (p === null) throw invalid(owner, `bad CIDR ${JSON.stringify(n)}`);
    if ((p.family === 'ipv4-unicast' ? 4 : 6) === v) out.push(p.cidr);
  }
  return out;
}

interface SplitPorts {
  numeric: string[];
  named: string[];
  /** multiport slots used (a range takes two). */
}

function splitPorts(list: readonly PortSpec[] | undefined, owner: string): SplitPorts {
  const numeric: string[] = [];
  const named: string[] = [];
  for (const p of list ?? []) {
    if (typeof p === 'number') {
      if (!Number.isInteger(p) || p < 0 || p > 65535) throw invalid(owner, `bad port ${p}`);
      numeric.push(String(p));
      continue;
    }
    const m = /^(\d+):(\d+)$/.exec(p);
    if (m) {
      const a = Number(m[1]);
      const b = Number(m[2]);
      if (a > b || b > 65535) throw invalid(owner, `bad port range ${p}`);
      numeric.push(a === b ? String(a) : `${a}:${b}`);
    } else if (/^\d+$/.test(p)) {
      numeric.push(String(Number(p)));
    } else if (/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(p)) {
      named.push(p);
    } else {
      throw invalid(owner, `bad port ${JSON.stringify(p)}`);
    }
  }
  return { numeric, named };
}

/** Chunks of ≤15 multiport slots (ranges count as 2). */
function chunkPorts(ports: readonly string[]): string[] {
  const chunks: string[] = [];
  let cur: string[] = [];
  let used = 0;
  for (const p of ports) {
    const w = p.includes(':') ? 2 : 1;
    if (used + w > 15) {
      chunks.push(cur.join(','));
      cur = [];
      used = 0;
    }
    cur.push(p);
    used += w;
  }
  if (cur.length > 0) chunks.push(cur.join(','));
  return chunks;
}

function icmpMatch(f: IcmpFields, v: IpVersion, negate: boolean, owner: string): string {
  if (f.type === undefined) {
    if (f.code !== undefined) throw invalid(owner, 'ICMP code without type');
    return '';
  }
  const t = f.code === undefined ? `${f.type}` : `${f.type}/${f.code}`;
  const not = negate ? '! ' : '';
  return v === 4 ? `-m icmp ${not}--icmp-type ${t}` : `-m icmp6 ${not}--icmpv6-type ${t}`;
}

function entityScope(ctx: RuleContext, e: EntityRule, selector: string | undefined): Scope {
  const sel = ctx.index.selector(selector, ctx.owner);
  if (e.namespaceSelector !== undefined && e.namespaceSelector.trim() !== '') {
    return { selector: sel, namespace: null, namespaceSelector: ctx.index.selector(e.namespaceSelector, ctx.owner) };
  }
  return { selector: sel, namespace: ctx.namespace, namespaceSelector: null };
}

interface SideParts {
  /** Alternatives (ORed): one must match. */
  netAlts: string[];
  portAlts: string[];
  /** ANDed fragments. */
  fixed: string[];
}

function side(ctx: RuleContext, e: EntityRule | undefined, dir: 'src' | 'dst', proto: string | null): SideParts | null {
  const parts: SideParts = { netAlts: [''], portAlts: [''], fixed: [] };
  if (e === undefined) return parts;
  const flag = dir === 'src' ? '-s' : '-d';
  if (e.nets !== undefined && e.nets.length > 0) {
    const nets = netsOf(e.nets, ctx.v, ctx.owner);
    if (nets.length === 0) return null; // only other-family nets: rule does not apply to this family
    parts.netAlts = nets.map((n) => `${flag} ${n}`);
  }
  const notNets = netsOf(e.notNets, ctx.v, ctx.owner);
  if (notNets.some((n) => n.endsWith('/0'))) return null; // excludes every address: the rule never matches
  // iptables takes one -s/-d per rule: with positive nets on this side, or several notNets, use a set.
  const positive = parts.netAlts.some(Boolean);
  if (notNets.length === 1 && !positive) parts.fixed.push(`! ${flag} ${notNets[0] ?? ''}`);
  else if (notNets.length > 0) parts.fixed.push(`-m set ! --match-set ${ctx.sets.netSet(notNets)} ${dir}`);
  const hasSel = (e.selector ?? '').trim() !== '' || (e.namespaceSelector ?? '').trim() !== '';
  if (hasSel) parts.fixed.push(`-m set --match-set ${ctx.sets.selectorSet(entityScope(ctx, e, e.selector))} ${dir}`);
  if ((e.notSelector ?? '').trim() !== '') {
    parts.fixed.push(`-m set ! --match-set ${ctx.sets.selectorSet(entityScope(ctx, e, e.notSelector))} ${dir}`);
  }
  const ports = splitPorts(e.ports, ctx.owner);
  const notPorts = splitPorts(e.notPorts, ctx.owner);
  const anyPorts = ports.numeric.length + ports.named.length + notPorts.numeric.length + notPorts.named.length > 0;
  if (anyPorts && (proto === null || !PORT_PROTOCOLS.has(proto))) {
    throw invalid(ctx.owner, 'ports need protocol TCP, UDP, SCTP or UDPLite');
  }
  const mp = dir === 'src' ? '--sports' : '--dports';
  const setDir = `${dir},${dir}`;
  // Named ports are looked up on the endpoints this side refers to (all() in scope when no selector).
  const namedSet = (name: string): string => ctx.sets.namedPortSet(entityScope(ctx, e, e.selector), proto ?? '', name);
  if (ports.numeric.length + ports.named.length > 0) {
    parts.portAlts = [
      ...chunkPorts(ports.numeric).map((c) => `-m multiport ${mp} ${c}`),
      ...ports.named.map((n) => `-m set --match-set ${namedSet(n)} ${setDir}`),
    ];
  }
  for (const c of chunkPorts(notPorts.numeric)) parts.fixed.push(`-m multiport ! ${mp} ${c}`);
  for (const n of notPorts.named) parts.fixed.push(`-m set ! --match-set ${namedSet(n)} ${setDir}`);
  return parts;
}

/** Match fragments of a rule for one family, one entry per expanded line; [] if the rule does not apply. */
export function ruleMatches(rule: Rule, ctx: RuleContext): string[] {
  if (rule.ipVersion !== undefined && rule.ipVersion !== ctx.v) return [];
  const proto = rule.protocol === undefined ? null : protoText(rule.protocol, ctx.owner);
  if ((proto === 'icmp' && ctx.v === 6) || (proto === 'icmpv6' && ctx.v === 4)) return [];
  const head: string[] = [];
  if (proto !== null) head.push(`-p ${proto}`);
  if (rule.notProtocol !== undefined) head.push(`! -p ${protoText(rule.notProtocol, ctx.owner)}`);
  const src = side(ctx, rule.source, 'src', proto);
  const dst = side(ctx, rule.destination, 'dst', proto);
  if (src === null || dst === null) return [];
  const tail: string[] = [];
  if (rule.icmp !== undefined || rule.notICMP !== undefined) {
    if (proto !== 'icmp' && proto !== 'icmpv6') throw invalid(ctx.owner, 'icmp/notICMP need protocol ICMP or ICMPv6');
    if (rule.icmp !== undefined) tail.push(icmpMatch(rule.icmp, ctx.v, false, ctx.owner));
    if (rule.notICMP !== undefined) tail.push(icmpMatch(rule.notICMP, ctx.v, true, ctx.owner));
  }
  const fixed = [...head, ...src.fixed, ...dst.fixed].filter(Boolean).join(' ');
  const alts = cross([src.netAlts, dst.netAlts, src.portAlts, dst.portAlts]);
  const t = tail.filter(Boolean).join(' ');
  return alts.map((a) => [fixed, a, t].filter(Boolean).join(' '));
}

/** Full rule bodies (match + action) for one Calico rule. */
export function renderRule(rule: Rule, ctx: RuleContext): string[] {
  const matches = ruleMatches(rule, ctx);
  if (matches.length === 0) return [];
  const withMatch = (m: string, action: string): string => (m ? `${m} ${action}` : action);
  const { markAccept: A, markPass: P } = ctx.cfg;
  switch (rule.action) {
    case 'Allow':
      return [
        ...matches.map((m) => withMatch(m, `-j MARK --set-xmark ${hex(A)}/${hex(A)}`)),
        `-m mark --mark ${hex(A)}/${hex(A)} -j RETURN`,
      ];
    case 'Pass':
      return [
        ...matches.map((m) => withMatch(m, `-j MARK --set-xmark ${hex(P)}/${hex(P)}`)),
        `-m mark --mark ${hex(P)}/${hex(P)} -j RETURN`,
      ];
    case 'Deny':
      return matches.map((m) => withMatch(m, '-j DROP'));
    case 'Log':
      return matches.map((m) => withMatch(m, `-j LOG --log-prefix "${ctx.cfg.logPrefix}" --log-level 5`));
    default:
      throw invalid(ctx.owner, `unknown action ${String((rule as { action: unknown }).action)}`);
  }
}
