/**
 * The incremental PolicyRenderer must give exactly what a from-scratch
 * render gives, after every kind of change, and must rebuild only the
 * chains a change affects.
 */
import { PolicyRenderer, renderDataplane, type PolicyInput, type RenderedDataplane, type WorkloadEndpoint } from '../../../src/dataplane/policy';
import { baseInput, CFG, wep } from './helpers';

const OPTS = { config: CFG };

function step(r: PolicyRenderer, input: PolicyInput): RenderedDataplane {
  const got = r.render(input);
  expect(got).toEqual(renderDataplane(input, OPTS));
  return got;
}

function chainsOf(d: RenderedDataplane): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const f of [d.v4, d.v6]) for (const t of Object.values(f.tables)) for (const c of t.chains) out.set(`${f.ipVersion}/${t.table}/${c.name}`, c);
  return out;
}

describe('PolicyRenderer (incremental)', () => {
  const policies: PolicyInput['policies'] = [
    { kind: 'GlobalNetworkPolicy', name: 'deny-web', spec: { order: 1, selector: "app == 'web'", ingress: [{ action: 'Deny', protocol: 'UDP' }] } },
    {
      kind: 'NetworkPolicy',
      name: 'fe',
      namespace: 'prod',
      spec: {
        order: 5,
        selector: "app == 'web'",
        ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "role == 'fe'" }, destination: { ports: ['http', 80] } }],
        egress: [{ action: 'Allow', destination: { namespaceSelector: "env == 'dev'" } }],
      },
    },
  ];

  test('equals a from-scratch render after each change', () => {
    const r = new PolicyRenderer(OPTS);
    let input = baseInput({ policies });
    step(r, input);
    // Same input again, then an endpoint label change.
    step(r, input);
    const weps = [...input.workloadEndpoints];
    weps[1] = { ...(weps[1] as WorkloadEndpoint), labels: { app: 'web' } };
    input = { ...input, workloadEndpoints: weps };
    step(r, input);
    // Endpoint added, one removed, address changed.
    input = { ...input, workloadEndpoints: [...weps, wep('new', 'dev', 'n1', '198.18.0.9/32', { role: 'fe' })] };
    step(r, input);
    input = { ...input, workloadEndpoints: input.workloadEndpoints.filter((w) => w.name !== 'fe') };
    step(r, input);
    input = { ...input, workloadEndpoints: input.workloadEndpoints.map((w) => (w.name === 'dev1' ? { ...w, ipNetworks: ['198.18.1.77/32'] } : w)) };
    step(r, input);
    // Policy changed, added, removed.
    input = { ...input, policies: [{ ...policies[0]!, spec: { ...policies[0]!.spec, selector: 'all()' } }, policies[1]!] };
    step(r, input);
    input = { ...input, policies: [policies[1]!] };
    step(r, input);
    // Namespace labels and profile labelsToApply.
    input = { ...input, namespaces: [{ name: 'prod', labels: { env: 'dev' } }, { name: 'dev', labels: { env: 'prod' } }] };
    step(r, input);
    input = { ...input, profiles: input.profiles.map((p) => (p.name === 'kns.dev' ? { ...p, labelsToApply: { role: 'fe' } } : p)) };
    step(r, input);
    // A host endpoint appears.
    input = { ...input, hostEndpoints: [{ name: 'h', node: 'n1', interfaceName: 'eth9', expectedIPs: ['198.19.0.1'], labels: { app: 'web' } }] };
    step(r, input);
  });

  test('a one-endpoint label change rebuilds only that endpoint chains; others are the same objects', () => {
    const r = new PolicyRenderer({ ...OPTS, families: [4] });
    const input = baseInput({ policies });
    const before = chainsOf(r.render(input));
    const weps = input.workloadEndpoints.map((w) => (w.name === 'fe' ? { ...w, labels: { app: 'web' } } : w));
    const after = chainsOf(r.render({ ...input, workloadEndpoints: weps }));
    const changed = [...after].filter(([k, c]) => before.get(k) !== c).map(([k]) => k);
    expect(changed.sort()).toEqual(['4/filter/ttn-fw-ttfe', '4/filter/ttn-tw-ttfe']);
  });

  test('random endpoint changes, rendered in place or in full, always equal a from-scratch render', () => {
    // Deterministic pseudo-random steps (mulberry32).
    let seed = 0x5eed;
    const rnd = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    const apps = ['a', 'b', 'c', 'd'];
    const mk = (i: number): WorkloadEndpoint =>
      wep(`w${i}`, i % 3 === 0 ? 'dev' : 'prod', i % 4 === 0 ? 'n2' : 'n1', `198.18.2.${i + 2}/32`, { app: pick(apps), role: pick(['fe', 'be']) }, {
        ports: i % 2 === 0 ? [{ name: 'http', protocol: 'TCP', port: 8000 + (i % 3) }] : [],
      });
    const pols: PolicyInput['policies'] = apps.flatMap((a, j) => [
      {
        kind: 'GlobalNetworkPolicy' as const,
        name: `g-${a}`,
        spec: { order: j, selector: `app == '${a}'`, ingress: [{ action: 'Allow' as const, protocol: 'TCP', source: { selector: `role == 'fe' && app == '${pick(apps)}'` }, destination: { ports: ['http'] } }] },
      },
      {
        kind: 'NetworkPolicy' as const,
        name: `n-${a}`,
        namespace: 'prod',
        spec: { order: 10 + j, selector: `app == '${a}' && role == 'be'`, egress: [{ action: 'Deny' as const, destination: { selector: `app == '${a}'` } }], types: ['Egress' as const] },
      },
    ]);
    const r = new PolicyRenderer({ ...OPTS, families: [4, 6] });
    let weps = Array.from({ length: 24 }, (_, i) => mk(i));
    let input = baseInput({ policies: pols, workloadEndpoints: weps });
    step(r, input);
    let inPlace = 0;
    for (let n = 0; n < 150; n++) {
      const i = Math.floor(rnd() * weps.length);
      const w = weps[i] as WorkloadEndpoint;
      const what = rnd();
      let next: WorkloadEndpoint = w;
      if (what < 0.6) next = { ...w, labels: { ...w.labels, app: pick(apps) } };
      else if (what < 0.75) next = { ...w, labels: { ...w.labels, role: w.labels?.['role'] === 'fe' ? 'be' : 'fe' } };
      else if (what < 0.85) next = { ...w, ports: [{ name: 'http', protocol: 'TCP', port: 9000 + n }] };
      else if (what < 0.95) next = { ...w, ipNetworks: [`198.18.3.${n + 2}/32`] };
      else next = { ...w, profiles: [] };
      weps = weps.map((x, k) => (k === i ? next : x));
      // Now and then something that needs a full render: a policy, a profile, an endpoint more.
      if (n % 37 === 36) input = { ...input, profiles: input.profiles.map((p) => ({ ...p, labelsToApply: { n: String(n) } })) };
      if (n % 53 === 52) weps = [...weps, mk(100 + n)];
      input = { ...input, workloadEndpoints: weps };
      step(r, input);
      if ((r as unknown as { state: { fams: Map<number, { inPlace: boolean }> } }).state.fams.get(4)?.inPlace === true) inPlace++;
    }
    // Both paths were taken.
    expect(inPlace).toBeGreaterThan(40);
    expect(inPlace).toBeLessThan(150);
  });

  test('only enabled families are rendered', () => {
    const out = new PolicyRenderer({ ...OPTS, families: [4] }).render(baseInput({ policies }));
    expect(out.v6.tables.filter.chains).toEqual([]);
    expect(out.v4.tables.filter.chains.length).toBeGreaterThan(0);
  });

  test('an invalid input throws and the next render starts over', () => {
    const r = new PolicyRenderer(OPTS);
    const input = baseInput({ policies });
    step(r, input);
    const bad = { ...input, policies: [{ kind: 'GlobalNetworkPolicy' as const, name: 'bad', spec: { selector: "app == 'x" } }] };
    expect(() => r.render(bad)).toThrow();
    step(r, input);
  });
});
