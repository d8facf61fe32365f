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
