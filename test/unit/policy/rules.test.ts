/** Table-driven: one Calico rule → iptables rule bodies (match + action). */
import { isTartanError } from '../../../src/errors';
import type { Rule } from '../../../src/dataplane/policy';
import { renderRule } from '../../../src/dataplane/policy/render/rules';
import { ruleCtx } from './helpers';

const SET = /ttn[46]-[scn]:[A-Za-z0-9_-]+/g;
/** Set names are hashes; tests compare them as placeholders and check membership separately. */
const norm = (lines: string[]): string[] => lines.map((l) => l.replace(SET, (m) => m.slice(0, 7) + '*'));

const A = '-j MARK --set-xmark 0x10000/0x10000';
const RET_A = '-m mark --mark 0x10000/0x10000 -j RETURN';

const cases: Array<[string, Rule, 4 | 6, string[]]> = [
  ['allow all', { action: 'Allow' }, 4, [A, RET_A]],
  ['deny tcp by name', { action: 'Deny', protocol: 'TCP' }, 4, ['-p tcp -j DROP']],
  ['protocol number maps to name', { action: 'Deny', protocol: 17 }, 4, ['-p udp -j DROP']],
  ['unknown number kept', { action: 'Deny', protocol: 47 }, 4, ['-p 47 -j DROP']],
  ['notProtocol', { action: 'Deny', notProtocol: 'UDP' }, 4, ['! -p udp -j DROP']],
  ['pass', { action: 'Pass', protocol: 'TCP' }, 4, ['-p tcp -j MARK --set-xmark 0x20000/0x20000', '-m mark --mark 0x20000/0x20000 -j RETURN']],
  ['log', { action: 'Log' }, 4, ['-j LOG --log-prefix "tartan-packet: " --log-level 5']],
  ['icmp type/code', { action: 'Allow', protocol: 'ICMP', icmp: { type: 8, code: 0 } }, 4, [`-p icmp -m icmp --icmp-type 8/0 ${A}`, RET_A]],
  ['notICMP type', { action: 'Deny', protocol: 'ICMP', notICMP: { type: 3 } }, 4, ['-p icmp -m icmp ! --icmp-type 3 -j DROP']],
  ['icmpv6 in v6', { action: 'Deny', protocol: 'ICMPv6', icmp: { type: 128 } }, 6, ['-p icmpv6 -m icmp6 --icmpv6-type 128 -j DROP']],
  ['icmp rule absent from v6', { action: 'Deny', protocol: 'ICMP' }, 6, []],
  ['ipVersion 6 absent from v4', { action: 'Deny', ipVersion: 6 }, 4, []],
  ['v6-only nets absent from v4', { action: 'Deny', source: { nets: ['fd00:7a7a::/48'] } }, 4, []],
  ['v6 nets in v6', { action: 'Deny', source: { nets: ['fd00:7a7a::/48'] } }, 6, ['-s fd00:7a7a::/48 -j DROP']],
  [
    'nets are ORed: cross product src × dst',
    { action: 'Deny', source: { nets: ['198.18.0.0/24', '198.18.1.0/24'] }, destination: { nets: ['198.19.0.0/24', '198.19.1.5'] } },
    4,
    [
      '-s 198.18.0.0/24 -d 198.19.0.0/24 -j DROP',
      '-s 198.18.0.0/24 -d 198.19.1.5/32 -j DROP',
      '-s 198.18.1.0/24 -d 198.19.0.0/24 -j DROP',
      '-s 198.18.1.0/24 -d 198.19.1.5/32 -j DROP',
    ],
  ],
  ['host bits cleared', { action: 'Deny', destination: { nets: ['198.18.0.7/24'] } }, 4, ['-d 198.18.0.0/24 -j DROP']],
  ['one notNet', { action: 'Deny', destination: { notNets: ['198.18.0.0/24'] } }, 4, ['! -d 198.18.0.0/24 -j DROP']],
  [
    'nets + notNets → negated CIDR set',
    { action: 'Deny', destination: { nets: ['198.18.0.0/15'], notNets: ['198.18.0.2/32'] } },
    4,
    ['-m set ! --match-set ttn4-c:* dst -d 198.18.0.0/15 -j DROP'],
  ],
  ['notNets 0.0.0.0/0 never matches', { action: 'Deny', source: { notNets: ['0.0.0.0/0'] } }, 4, []],
  [
    'ports, range and notPorts',
    { action: 'Deny', protocol: 'TCP', destination: { ports: [80, '1000:2000', '443'], notPorts: [1500] } },
    4,
    ['-p tcp -m multiport ! --dports 1500 -m multiport --dports 80,1000:2000,443 -j DROP'],
  ],
  [
    'source ports',
    { action: 'Deny', protocol: 'UDP', source: { ports: [53] } },
    4,
    ['-p udp -m multiport --sports 53 -j DROP'],
  ],
  [
    'more than 15 multiport slots are chunked',
    { action: 'Deny', protocol: 'TCP', destination: { ports: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, '20:30'] } },
    4,
    ['-p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14 -j DROP', '-p tcp -m multiport --dports 20:30 -j DROP'],
  ],
  [
    'named port → hash:ip,port set',
    { action: 'Allow', protocol: 'TCP', destination: { ports: ['http', 80] } },
    4,
    [`-p tcp -m multiport --dports 80 ${A}`, `-p tcp -m set --match-set ttn4-n:* dst,dst ${A}`, RET_A],
  ],
  [
    'selector and notSelector',
    { action: 'Allow', source: { selector: "role == 'fe'", notSelector: "env == 'x'" } },
    4,
    [`-m set --match-set ttn4-s:* src -m set ! --match-set ttn4-s:* src ${A}`, RET_A],
  ],
];

describe('renderRule', () => {
  test.each(cases)('%s', (_name, rule, v, want) => {
    expect(norm(renderRule(rule, ruleCtx(v)))).toEqual(want);
  });

  test('selector set members: global scope sees every namespace, NetworkPolicy scope only its own', () => {
    const rule: Rule = { action: 'Allow', source: { selector: "role == 'fe'" } };
    const global = ruleCtx(4, null);
    renderRule(rule, global);
    expect(global.sets.all().map((s) => s.members)).toEqual([['198.18.0.3', '198.18.1.2']]);
    const scoped = ruleCtx(4, 'prod');
    renderRule(rule, scoped);
    expect(scoped.sets.all().map((s) => s.members)).toEqual([['198.18.0.3']]);
  });

  test('namespaceSelector picks endpoints by their namespace labels', () => {
    const ctx = ruleCtx(4, 'prod');
    renderRule({ action: 'Allow', source: { namespaceSelector: "env == 'dev'" } }, ctx);
    expect(ctx.sets.all().map((s) => [s.type, s.members])).toEqual([['hash:net', ['198.18.1.2']]]);
  });

  test('named port members are address,proto:port of matching endpoints, per family', () => {
    const v4 = ruleCtx(4, 'prod');
    renderRule({ action: 'Allow', protocol: 'TCP', destination: { ports: ['http'] } }, v4);
    expect(v4.sets.all().map((s) => [s.type, s.members])).toEqual([['hash:ip,port', ['198.18.0.2,tcp:8080']]]);
    const v6 = ruleCtx(6, 'prod');
    renderRule({ action: 'Allow', protocol: 'TCP', destination: { ports: ['http'] } }, v6);
    expect(v6.sets.all().map((s) => s.members)).toEqual([['fd00:7a7a::2,tcp:8080']]);
    expect(v6.sets.all()[0]?.name.startsWith('ttn6-n:')).toBe(true);
  });

  test('set names are ≤ 31 characters and stable', () => {
    const a = ruleCtx();
    const b = ruleCtx();
    const rule: Rule = { action: 'Allow', source: { selector: "role == 'fe' && has(role)" } };
    expect(renderRule(rule, a)).toEqual(renderRule(rule, b));
    for (const s of a.sets.all()) expect(s.name.length).toBeLessThanOrEqual(31);
  });

  test.each<[string, Rule, string]>([
    ['ports without protocol', { action: 'Allow', destination: { ports: [80] } }, 'POLICY_INVALID'],
    ['ports with ICMP', { action: 'Allow', protocol: 'ICMP', destination: { ports: [80] } }, 'POLICY_INVALID'],
    ['bad range', { action: 'Allow', protocol: 'TCP', destination: { ports: ['2000:1000'] } }, 'POLICY_INVALID'],
    ['bad CIDR', { action: 'Allow', source: { nets: ['198.18.0.0/33'] } }, 'POLICY_INVALID'],
    ['unknown protocol', { action: 'Allow', protocol: 'XTP' }, 'POLICY_INVALID'],
    ['icmp without ICMP protocol', { action: 'Allow', protocol: 'TCP', icmp: { type: 8 } }, 'POLICY_INVALID'],
    ['bad selector', { action: 'Allow', source: { selector: "app == 'x" } }, 'SELECTOR_INVALID'],
  ])('rejects %s with %s', (_n, rule, code) => {
    let err: unknown;
    try {
      renderRule(rule, ruleCtx());
    } catch (e) {
      err = e;
    }
    expect(isTartanError(err, code)).toBe(true);
  });
});
