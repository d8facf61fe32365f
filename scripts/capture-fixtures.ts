/**
 * Captures real BGP wire bytes from BIRD, GoBGP and FRR for the codec's golden
 * tests and writes test/fixtures/wire/captures.json (see README.md there).
 *
 * Each scenario is a fresh lab: daemon A and daemon B both peer with a proxy
 * host P (A actively, B passively); P relays and records both directions
 * (IPv4 and IPv6 sessions). The script then drives the sessions through
 * announcements, withdrawals, ROUTE-REFRESH and an administrative shutdown
 * with a message, and labels every distinct message it saw.
 *
 * Run (root; needs bird, gobgpd, frr installed):
 *   npx tsc -p test/fixtures/wire/tsconfig.capture.json && node /tmp/tartan-capture-build/scripts/capture-fixtures.js
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Lab,
  startBird,
  startFrr,
  startGobgp,
  waitFor,
  type BirdDaemon,
  type DaemonConfig,
  type DaemonHandle,
  type FrrDaemon,
  type GobgpDaemon,
  type Host,
  type OriginateRoute,
  type PeerConfig,
} from '../test/integration/harness';
import { RecordingProxy, type RecordedMessage } from '../test/integration/harness/recording-proxy';
import { addPathFamilies, describeMessage, messageType, parseOpen } from '../test/integration/harness/bgp-peek';

type Kind = 'bird' | 'gobgp' | 'frr';
type Steerable = BirdDaemon | GobgpDaemon | FrrDaemon;

interface Capture {
  daemon: Kind;
  direction: string;
  scenario: string;
  description: string;
  fourOctetAs: boolean;
  addPath: string[];
  hex: string;
}

interface Side {
  kind: Kind;
  asn: number;
  /** Extra per-peer options for the proxied sessions. */
  peer?: Partial<PeerConfig>;
  originate: OriginateRoute[];
}

interface Scenario {
  name: string;
  a: Side;
  b: Side;
  ipv6: boolean;
  /** Optional daemons peering directly (not recorded) with A or B to inject routes. */
  feeders?: Array<Side & { attach: 'a' | 'b' }>;
}

function start(kind: Kind, host: Host, cfg: DaemonConfig): Promise<Steerable> {
  if (kind === 'bird') return startBird(host, cfg);
  if (kind === 'gobgp') return startGobgp(host, cfg);
  return startFrr(host, cfg);
}

function routesFor(n: number, asn: number, extras: Partial<OriginateRoute> = {}): OriginateRoute[] {
  const lc = `${asn}:${n}:1`;
  return [
    { prefix: `10.${n}.0.0/24`, communities: [`65000:${n}`], largeCommunities: [lc], med: n, ...extras },
    { prefix: `10.${n}.1.0/24` },
    { prefix: `2001:db8:${n}::/48`, communities: [`65000:${n}`, `65001:${n}`], largeCommunities: [lc], med: n },
    { prefix: `2001:db8:${n}:1::/64` },
  ];
}

const SCENARIOS: Scenario[] = [
  {
    name: 'bird-gobgp',
    a: { kind: 'bird', asn: 4200000001, originate: routesFor(1, 4200000001, { extCommunities: ['rt:65000:1'] }) },
    b: { kind: 'gobgp', asn: 4200000002, originate: routesFor(2, 4200000002) },
    ipv6: true,
  },
  {
    name: 'gobgp-frr',
    a: { kind: 'gobgp', asn: 4200000002, originate: routesFor(3, 4200000002, { extCommunities: ['rt:65000:3'] }) },
    b: { kind: 'frr', asn: 4200000003, originate: routesFor(4, 4200000003) },
    ipv6: true,
  },
  {
    name: 'frr-bird',
    a: { kind: 'frr', asn: 4200000003, originate: routesFor(5, 4200000003, { extCommunities: ['rt:65000:5'] }) },
    b: { kind: 'bird', asn: 4200000001, originate: routesFor(6, 4200000001) },
    ipv6: true,
  },
  {
    // BIRD as a 2-octet-only speaker (AS 65010) towards GoBGP (AS 65002). Routes
    // from 4-octet feeders cross the session as AS_PATH with AS_TRANS + AS4_PATH,
    // in both directions. (BIRD with as4 off cannot peer with a 4-octet AS at all.)
    name: 'bird-as2-gobgp',
    a: { kind: 'bird', asn: 65010, peer: { twoOctetOnly: true }, originate: routesFor(7, 65010).slice(0, 1) },
    b: { kind: 'gobgp', asn: 65002, originate: routesFor(8, 65002).slice(0, 1) },
    feeders: [
      { attach: 'a', kind: 'frr', asn: 4200000003, originate: routesFor(9, 4200000003).slice(0, 1) },
      { attach: 'b', kind: 'frr', asn: 4200000004, originate: routesFor(14, 4200000004).slice(0, 1) },
    ],
    ipv6: false,
  },
  {
    // FRR's only "2-octet" mode: an OPEN with no capabilities at all (IPv4 unicast only).
    name: 'frr-nocap-bird',
    a: { kind: 'frr', asn: 65020, peer: { twoOctetOnly: true }, originate: routesFor(15, 65020).slice(0, 2) },
    b: { kind: 'bird', asn: 65001, originate: routesFor(16, 65001).slice(0, 2) },
    feeders: [{ attach: 'b', kind: 'gobgp', asn: 4200000005, originate: routesFor(17, 4200000005).slice(0, 1) }],
    ipv6: false,
  },
  {
    name: 'bird-gobgp-addpath',
    a: { kind: 'bird', asn: 4200000001, peer: { addPath: true }, originate: routesFor(10, 4200000001) },
    b: { kind: 'gobgp', asn: 4200000002, peer: { addPath: true }, originate: routesFor(11, 4200000002) },
    ipv6: true,
  },
  {
    name: 'frr-gobgp-addpath',
    a: { kind: 'frr', asn: 4200000003, peer: { addPath: true }, originate: routesFor(12, 4200000003) },
    b: { kind: 'gobgp', asn: 4200000002, peer: { addPath: true }, originate: routesFor(13, 4200000002) },
    ipv6: false,
  },
];

const fam = (v6: boolean): 'ipv6-unicast' | 'ipv4-unicast' => (v6 ? 'ipv6-unicast' : 'ipv4-unicast');

async function runScenario(s: Scenario): Promise<Capture[]> {
  const lab = await Lab.create(`capture-${s.name}`);
  try {
    const ha = await lab.addHost('a');
    const hb = await lab.addHost('b');
    const hp = await lab.addHost('p');
    const feeders = s.feeders ?? [];
    const feederHosts: Host[] = [];
    for (const [i] of feeders.entries()) feederHosts.push(await lab.addHost(`f${i}`));
    const transports = s.ipv6 ? [false, true] : [false];
    const via = (v6: boolean): string => hp.addr(v6 ? 'ipv6' : 'ipv4');
    const proxy = await RecordingProxy.start(
      hp,
      transports.map((v6) => ({ listenHost: via(v6), listenPort: 179, targetHost: hb.addr(v6 ? 'ipv6' : 'ipv4'), targetPort: 179 })),
    );
    const peersOf = (self: Side, other: Side, passive: boolean): PeerConfig[] =>
      transports.map((v6) => ({ address: via(v6), asn: other.asn, passive, holdTime: 30, families: [fam(v6)], ...self.peer }));
    const originateV = (side: Side): OriginateRoute[] => side.originate.filter((r) => s.ipv6 || !r.prefix.includes(':'));
    const aPeers = peersOf(s.a, s.b, false);
    const bPeers = peersOf(s.b, s.a, true);
    feeders.forEach((f, i) => {
      const host = feederHosts[i] as Host;
      (f.attach === 'a' ? aPeers : bPeers).push({ address: host.addr('ipv4'), asn: f.asn, families: ['ipv4-unicast'] });
    });
    const a = await start(s.a.kind, ha, { asn: s.a.asn, routerId: ha.addr('ipv4'), peers: aPeers, originate: originateV(s.a) });
    const b = await start(s.b.kind, hb, { asn: s.b.asn, routerId: hb.addr('ipv4'), peers: bPeers, originate: originateV(s.b) });
    for (const [i, f] of feeders.entries()) {
      const host = feederHosts[i] as Host;
      const [attachHost, attachSide] = f.attach === 'a' ? [ha, s.a] : [hb, s.b];
      const fd = await start(f.kind, host, {
        asn: f.asn,
        routerId: host.addr('ipv4'),
        peers: [{ address: attachHost.addr('ipv4'), asn: attachSide.asn }],
        originate: f.originate,
      });
      await fd.waitEstablished(attachHost.addr('ipv4'), 30_000);
    }
    for (const v6 of transports) {
      await a.waitEstablished(via(v6), 30_000);
      await b.waitEstablished(via(v6), 30_000);
    }
    const expectAll = async (d: DaemonHandle, prefixes: string[], v6: boolean): Promise<void> => {
      await waitFor(async () => {
        const have = new Set((await d.receivedRoutes(fam(v6))).map((r) => r.prefix));
        return prefixes.every((p) => have.has(p));
      }, { what: `${d.kind} to receive ${prefixes.join(', ')}`, timeoutMs: 20_000 });
    };
    for (const v6 of transports) {
      const isFam = (r: OriginateRoute): boolean => r.prefix.includes(':') === v6;
      await expectAll(b, originateV(s.a).filter(isFam).map((r) => r.prefix), v6);
      await expectAll(a, originateV(s.b).filter(isFam).map((r) => r.prefix), v6);
    }
    for (const f of feeders) await expectAll(f.attach === 'a' ? b : a, f.originate.map((r) => r.prefix), false);

    // Run-time withdrawals (second prefix of each family) and a fresh announcement.
    for (const v6 of transports) {
      const second = (side: Side): string | undefined => originateV(side).filter((r) => r.prefix.includes(':') === v6)[1]?.prefix;
      const wa = second(s.a);
      const wb = second(s.b);
      if (wa) await a.withdraw(wa);
      if (wb) await b.withdraw(wb);
      await waitFor(async () => !(await b.receivedRoutes(fam(v6))).some((r) => r.prefix === wa), { what: `withdrawal of ${wa}` });
      await waitFor(async () => !(await a.receivedRoutes(fam(v6))).some((r) => r.prefix === wb), { what: `withdrawal of ${wb}` });
    }
    await a.announce({ prefix: '10.200.0.0/24', communities: ['65000:200'] });
    await expectAll(b, ['10.200.0.0/24'], false);

    // ROUTE-REFRESH both ways (FRR with dont-capability-negotiate cannot; none of ours does that here).
    for (const v6 of transports) {
      // Without the route-refresh capability (FRR's no-capability mode) the daemons refuse; that is fine.
      await a.refreshIn(via(v6), fam(v6)).catch((e: unknown) => console.warn(`${s.name}: A refresh: ${String(e)}`));
      await b.refreshIn(via(v6), fam(v6)).catch((e: unknown) => console.warn(`${s.name}: B refresh: ${String(e)}`));
    }
    await new Promise((r) => setTimeout(r, 1500));

    // Administrative shutdown with an RFC 8203 message: A on the IPv4 session, B on the IPv6 one.
    await a.disablePeer(via(false), `tartan capture ${s.a.kind} shutdown`);
    if (s.ipv6) await b.disablePeer(via(true), `tartan capture ${s.b.kind} shutdown`);
    await waitFor(async () => (await b.peerState(via(false))) !== 'Established', { what: 'B to see the shutdown' });
    if (s.ipv6) await waitFor(async () => (await a.peerState(via(true))) !== 'Established', { what: 'A to see the shutdown' });
    await new Promise((r) => setTimeout(r, 500));
    await proxy.stop();
    return label(s, proxy.messages());
  } finally {
    await lab.destroy();
  }
}

function label(s: Scenario, msgs: RecordedMessage[]): Capture[] {
  const out: Capture[] = [];
  const conns = new Set(msgs.map((m) => m.conn));
  for (const conn of conns) {
    const inConn = msgs.filter((m) => m.conn === conn);
    const openOf = (dir: 'c2s' | 's2c'): Buffer | undefined => inConn.find((m) => m.dir === dir && messageType(m.bytes) === 1)?.bytes;
    const oa = openOf('c2s');
    const ob = openOf('s2c');
    const fa = oa ? parseOpen(oa) : undefined;
    const fb = ob ? parseOpen(ob) : undefined;
    const four = !!(fa?.fourOctetAsCap && fb?.fourOctetAsCap);
    for (const m of inConn) {
      const fromA = m.dir === 'c2s';
      const sender = fromA ? s.a.kind : s.b.kind;
      const receiver = fromA ? s.b.kind : s.a.kind;
      const addPath = fa && fb ? (fromA ? addPathFamilies(fa, fb) : addPathFamilies(fb, fa)) : [];
      out.push({
        daemon: sender,
        direction: `${sender}->${receiver}`,
        scenario: s.name,
        description: describeMessage(m.bytes),
        fourOctetAs: four,
        addPath,
        hex: m.bytes.toString('hex'),
      });
    }
  }
  return out;
}

async function main(): Promise<void> {
  const only = process.argv[2];
  const all: Capture[] = [];
  for (const s of SCENARIOS.filter((x) => !only || x.name === only)) {
    const t0 = Date.now();
    const caps = await runScenario(s);
    console.log(`${s.name}: ${caps.length} messages in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    all.push(...caps);
  }
  // Dedupe identical bytes in the same negotiated context (keepalives, repeated EoRs...).
  const seen = new Set<string>();
  const unique = all.filter((c) => {
    const key = `${c.hex}|${c.fourOctetAs}|${c.addPath.join(',')}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  // Run from the repository root (the build output lives elsewhere, so __dirname is no guide).
  const target = process.env['CAPTURE_OUT'] ?? join(process.cwd(), 'test', 'fixtures', 'wire', 'captures.json');
  writeFileSync(target, `${JSON.stringify(unique, null, 1)}\n`);
  console.log(`wrote ${unique.length} unique messages (${all.length} total) to ${target}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
