/** Whole-dataplane rendering: golden text, layout, ordering, determinism, change locality. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderDataplane, ruleLine, tableText, type PolicyInput, type RenderedTable } from '../../../src/dataplane/policy';
import { baseInput, CFG } from './helpers';

const OPTS = { config: { workloadIfacePrefix: 'tt' } };

function golden(name: string, text: string): void {
  const file = join(__dirname, 'golden', name);
  if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(file)) writeFileSync(file, text);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

const chain = (t: RenderedTable, name: string): string[] => {
  const c = t.chains.find((x) => x.name === name);
  if (c === undefined) throw new Error(`no chain ${name}; have ${t.chains.map((x) => x.name).join(' ')}`);
  return c.rules.map((r) => r.body);
};

const withPolicies: PolicyInput = baseInput({
  tiers: [{ name: 'security', order: 10 }],
  policies: [
    { kind: 'GlobalNetworkPolicy', name: 'sec', spec: { tier: 'security', selector: 'all()', ingress: [{ action: 'Pass' }] } },
    {
      kind: 'NetworkPolicy',
      name: 'web',
      namespace: 'prod',
      spec: {
        order: 100,
        selector: "app == 'web'",
        ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "role == 'fe'" }, destination: { ports: [80, 'http'] } }],
      },
    },
    {
      kind: 'GlobalNetworkPolicy',
      name: 'egress-log',
      spec: { order: 5, selector: "role == 'fe'", types: ['Egress'], egress: [{ action: 'Log' }, { action: 'Deny', destination: { nets: ['198.19.0.0/16'] } }, { action: 'Allow' }] },
    },
  ],
});

describe('ruleLine', () => {
  test("a rule's descriptive comment shares the hash comment's match (one comment match per rule)", () => {
    expect(ruleLine('c', 'h', '-m mark --mark 0x1/0x1 -m comment --comment "Return if policy accepted" -j RETURN', 'ttn:')).toBe(
      '-A c -m comment --comment "ttn:h Return if policy accepted" -m mark --mark 0x1/0x1 -j RETURN',
    );
    expect(ruleLine('c', 'h', '-m comment --comment "Clear marks" -j MARK --set-xmark 0x0/0x30000', 'ttn:')).toBe(
      '-A c -m comment --comment "ttn:h Clear marks" -j MARK --set-xmark 0x0/0x30000',
    );
    expect(ruleLine('c', 'h', '-j DROP -m comment --comment "x"', 'ttn:')).toBe('-A c -m comment --comment "ttn:h x" -j DROP');
    expect(ruleLine('c', 'h', '-i tt+ -j ACCEPT', 'ttn:')).toBe('-A c -m comment --comment "ttn:h" -i tt+ -j ACCEPT');
    // Too long for one comment match (255 characters): kept apart.
    const long = `End of tier ${'t'.repeat(250)}`;
    expect(ruleLine('c', 'h', `-m comment --comment "${long}" -j DROP`, 'ttn:')).toBe(`-A c -m comment --comment "ttn:h" -m comment --comment "${long}" -j DROP`);
  });
});

describe('renderDataplane', () => {
  test('golden: filter, raw and mangle tables and ipsets (v4)', () => {
    const r = renderDataplane(withPolicies, OPTS);
    golden('basic.v4.filter.txt', tableText(r.v4.tables.filter, CFG));
    golden('basic.v4.raw-mangle.txt', tableText(r.v4.tables.raw, CFG) + tableText(r.v4.tables.mangle, CFG));
    golden('basic.v4.ipsets.json', JSON.stringify(r.v4.ipsets, null, 2) + '\n');
  });

  test('golden: v6 filter', () => {
    golden('basic.v6.filter.txt', tableText(renderDataplane(withPolicies, OPTS).v6.tables.filter, CFG));
  });

  test('deterministic: identical output for shuffled input', () => {
    const a = renderDataplane(withPolicies, OPTS);
    const shuffled: PolicyInput = {
      ...withPolicies,
      policies: [...withPolicies.policies].reverse(),
      workloadEndpoints: [...withPolicies.workloadEndpoints].reverse(),
      profiles: [...withPolicies.profiles].reverse(),
    };
    expect(renderDataplane(shuffled, OPTS)).toEqual(a);
  });

  test('chain names fit 28 characters and carry Tartan prefixes; every rule has a 16-char hash', () => {
    const r = renderDataplane(withPolicies, OPTS);
    for (const fam of [r.v4, r.v6]) {
      for (const t of Object.values(fam.tables)) {
        for (const c of t.chains) {
          expect(c.name.length).toBeLessThanOrEqual(28);
          expect(c.name).toMatch(/^(tartan-|ttn-)/);
          for (const rule of c.rules) expect(rule.hash).toMatch(/^[A-Za-z0-9_-]{16}$/);
        }
      }
    }
  });

  test('tiers: security (order 10) before default; Pass reaches the next tier, then profiles', () => {
    const tw = chain(renderDataplane(withPolicies, OPTS).v4.tables.filter, 'ttn-tw-ttweb');
    const idx = (re: RegExp): number => tw.findIndex((l) => re.test(l));
    expect(idx(/Start of tier security/)).toBeLessThan(idx(/Start of tier default/));
    expect(idx(/End of tier security/)).toBeLessThan(idx(/Start of tier default/));
    expect(idx(/End of tier default/)).toBeLessThan(idx(/-j ttn-pri-/));
    expect(tw[tw.length - 1]).toMatch(/Drop if no profiles matched.*-j DROP$/);
    expect(tw.slice(0, 2)).toEqual(['-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT', '-m conntrack --ctstate INVALID -j DROP']);
  });

  test('endpoint with no policy in a direction goes straight to its profiles; no profiles means drop', () => {
    const input = baseInput();
    const r = renderDataplane(input, OPTS).v4.tables.filter;
    const fw = chain(r, 'ttn-fw-ttfe');
    expect(fw.some((l) => /Start of tier/.test(l))).toBe(false);
    expect(fw.filter((l) => /-j ttn-pro-/.test(l))).toHaveLength(1);
    const noProf = baseInput({ profiles: [] });
    const tw = chain(renderDataplane(noProf, OPTS).v4.tables.filter, 'ttn-tw-ttfe');
    expect(tw.slice(-1)[0]).toMatch(/-j DROP$/);
    expect(tw.some((l) => /ttn-pri-/.test(l))).toBe(false);
  });

  test('order: lower first, missing last, ties by name', () => {
    const input = baseInput({
      policies: ['c', 'a', 'b', 'z'].map((name) => ({
        kind: 'GlobalNetworkPolicy' as const,
        name,
        spec: { selector: "app == 'web'", ...(name === 'z' ? {} : { order: name === 'c' ? 1 : 2 }), ingress: [{ action: 'Allow' as const, protocol: name }] },
      })).map((p) => ({ ...p, spec: { ...p.spec, ingress: [{ action: 'Allow' as const }] } })),
    });
    const r = renderDataplane(input, OPTS).v4.tables.filter;
    const jumps = chain(r, 'ttn-tw-ttweb').filter((l) => /-j ttn-pi-/.test(l)).map((l) => l.replace(/.*-j /, ''));
    const { ChainNames } = jest.requireActual<typeof import('../../../src/dataplane/policy/render/names')>('../../../src/dataplane/policy/render/names');
    const names = new ChainNames(CFG);
    expect(jumps).toEqual(['c', 'a', 'b', 'z'].map((n) => names.policy('pi', `GlobalNetworkPolicy/${n}`)));
  });

  test('types default: Ingress only unless egress rules exist', () => {
    const input = baseInput({
      policies: [{ kind: 'GlobalNetworkPolicy', name: 'p', spec: { selector: "app == 'web'", ingress: [{ action: 'Allow' }] } }],
    });
    const r = renderDataplane(input, OPTS).v4.tables.filter;
    expect(chain(r, 'ttn-tw-ttweb').some((l) => /ttn-pi-/.test(l))).toBe(true);
    expect(chain(r, 'ttn-fw-ttweb').some((l) => /ttn-po-/.test(l))).toBe(false);
  });

  test('NetworkPolicy selects only endpoints of its namespace', () => {
    const input = baseInput({
      workloadEndpoints: [...baseInput().workloadEndpoints, { name: 'web2', namespace: 'dev', node: 'n1', interfaceName: 'ttweb2', ipNetworks: ['198.18.0.9/32'], labels: { app: 'web' }, profiles: ['kns.dev'] }],
      policies: [{ kind: 'NetworkPolicy', name: 'p', namespace: 'prod', spec: { selector: "app == 'web'", ingress: [] } }],
    });
    const r = renderDataplane(input, OPTS).v4.tables.filter;
    expect(chain(r, 'ttn-tw-ttweb').some((l) => /ttn-pi-/.test(l))).toBe(true);
    expect(chain(r, 'ttn-tw-ttweb2').some((l) => /ttn-pi-/.test(l))).toBe(false);
  });

  test('host endpoints: normal, applyOnForward, doNotTrack (raw) and preDNAT (mangle) chains', () => {
    const input = baseInput({
      hostEndpoints: [{ name: 'h', node: 'n1', interfaceName: 'eth0', expectedIPs: ['198.19.0.1'], labels: { host: 'yes' } }],
      policies: [
        { kind: 'GlobalNetworkPolicy', name: 'norm', spec: { selector: 'has(host)', ingress: [{ action: 'Allow' }] } },
        { kind: 'GlobalNetworkPolicy', name: 'fwd', spec: { selector: 'has(host)', applyOnForward: true, ingress: [{ action: 'Deny' }] } },
        { kind: 'GlobalNetworkPolicy', name: 'untr', spec: { selector: 'has(host)', doNotTrack: true, applyOnForward: true, ingress: [{ action: 'Allow', protocol: 'UDP' }] } },
        { kind: 'GlobalNetworkPolicy', name: 'pd', spec: { selector: 'has(host)', preDNAT: true, applyOnForward: true, ingress: [{ action: 'Deny', protocol: 'TCP' }] } },
        { kind: 'NetworkPolicy', name: 'np', namespace: 'prod', spec: { selector: 'all()', ingress: [{ action: 'Deny' }] } },
      ],
    });
    const r = renderDataplane(input, OPTS).v4.tables;
    const fh = chain(r.filter, 'ttn-fh-eth0');
    expect(fh.filter((l) => /-j ttn-pi-/.test(l))).toHaveLength(2); // norm + fwd (applyOnForward also applies to host traffic); np never selects HEPs
    expect(chain(r.filter, 'ttn-fhfw-eth0').filter((l) => /-j ttn-pi-/.test(l))).toHaveLength(1);
    expect(chain(r.filter, 'ttn-from-hep-forward')).toEqual(['-i eth0 -g ttn-fhfw-eth0']);
    expect(chain(r.filter, 'tartan-INPUT')).toEqual(expect.arrayContaining(['-j ttn-failsafe-in', '-j ttn-from-hep-dispatch']));
    expect(chain(r.filter, 'ttn-failsafe-in')).toEqual(['-p tcp -m multiport --dports 22,179,2379,2380,5473,6443,6666,6667 -j ACCEPT', '-p udp -m multiport --dports 68 -j ACCEPT']);
    const raw = chain(r.raw, 'ttn-fh-eth0');
    expect(raw.some((l) => /-j NOTRACK$/.test(l))).toBe(true);
    expect(raw.some((l) => /End of tier/.test(l))).toBe(false); // no default drop for untracked policy
    expect(chain(r.raw, 'tartan-PREROUTING')).toContain('-i eth0 -g ttn-fh-eth0');
    expect(chain(r.mangle, 'tartan-PREROUTING')).toContain('-i eth0 -g ttn-fh-eth0');
    const hooks = Object.fromEntries(Object.values(r).map((t) => [t.table, t.hooks.map((h) => `${h.kernelChain}->${h.body}`)]));
    expect(hooks).toEqual({
      raw: ['PREROUTING->-j tartan-PREROUTING', 'OUTPUT->-j tartan-OUTPUT'],
      mangle: ['PREROUTING->-j tartan-PREROUTING'],
      filter: ['INPUT->-j tartan-INPUT', 'FORWARD->-j tartan-FORWARD', 'OUTPUT->-j tartan-OUTPUT'],
    });
  });

  test('a one-endpoint change only changes that endpoint\'s chains, the dispatch chains and affected sets', () => {
    const before = renderDataplane(withPolicies, OPTS).v4;
    const moved = { ...withPolicies, workloadEndpoints: [...withPolicies.workloadEndpoints, { name: 'new', namespace: 'prod', node: 'n1', interfaceName: 'ttnew', ipNetworks: ['198.18.0.50/32'], labels: { role: 'fe' }, profiles: ['kns.prod'] }] };
    const after = renderDataplane(moved, OPTS).v4;
    const hashes = (f: typeof before): Map<string, string> => new Map(f.tables.filter.chains.map((c) => [c.name, c.hash]));
    const hb = hashes(before);
    const changed = [...hashes(after)].filter(([n, h]) => hb.get(n) !== h).map(([n]) => n).sort();
    expect(changed).toEqual(['ttn-from-wl-dispatch', 'ttn-fw-ttnew', 'ttn-to-wl-dispatch', 'ttn-tw-ttnew']);
    const setsChanged = after.ipsets.filter((s) => JSON.stringify(before.ipsets.find((b) => b.name === s.name)?.members) !== JSON.stringify(s.members));
    expect(setsChanged.map((s) => s.members)).toEqual([['198.18.0.3', '198.18.0.50']]);
  });

  test('remote endpoints contribute set members but no chains', () => {
    const r = renderDataplane(withPolicies, OPTS).v4;
    expect(r.tables.filter.chains.some((c) => c.name.endsWith('ttdev1'))).toBe(false);
  });

  test('invalid input is rejected with a stable code naming the policy', () => {
    const bad = baseInput({ policies: [{ kind: 'GlobalNetworkPolicy', name: 'broken', spec: { selector: "app == 'web'", ingress: [{ action: 'Allow', destination: { ports: [80] } }] } }] });
    expect(() => renderDataplane(bad, OPTS)).toThrow(/GlobalNetworkPolicy GlobalNetworkPolicy\/broken rule 0: ports need protocol/);
    const dup = baseInput({ workloadEndpoints: [...baseInput().workloadEndpoints, { name: 'x', namespace: 'prod', node: 'n1', interfaceName: 'ttweb', ipNetworks: ['198.18.0.99/32'] }] });
    expect(() => renderDataplane(dup, OPTS)).toThrow(/share interface ttweb/);
  });
});

test('a warm RenderCache gives exactly the uncached output, also after changes', async () => {
  const { RenderCache } = await import('../../../src/dataplane/policy');
  const cache = new RenderCache();
  const a = renderDataplane(withPolicies, { ...OPTS, cache });
  expect(renderDataplane(withPolicies, { ...OPTS, cache })).toEqual(a);
  const changed: PolicyInput = { ...withPolicies, policies: withPolicies.policies.slice(1) };
  expect(renderDataplane(changed, { ...OPTS, cache })).toEqual(renderDataplane(changed, OPTS));
  expect(renderDataplane(withPolicies, { ...OPTS, cache })).toEqual(a);
});
