/**
 * The four daemons under test, started fresh in a lab host with benchmark
 * configs (not the harness's test configs): one passive eBGP neighbor (the
 * sender, AS 65100) of the daemon's AS 65000, import everything, export
 * nothing back, and kernel programming on or off per `mode`:
 *
 *   BIRD  rib: no kernel protocol           fib: protocol kernel { ipv4 { export all; }; merge paths on; }
 *   FRR   rib: zebra + bgpd, `bgp no-rib`   fib: zebra + bgpd (bgpd hands best paths to zebra, zebra to the kernel)
 *   GoBGP rib only (gobgpd has no FIB of its own)
 *   Tartan rib/fib: startTartan + `extra` config; the FIB column fills in once
 *         tartan-node installs routes (detected in the namespace's FIB)
 *
 * Route counts ("full RIB"):
 *   BIRD   `show protocols all <p>` "Routes: N imported" (routes in the master table from the peer)
 *   FRR    `show bgp ipv4 unicast summary json` peers[sender].pfxRcd (paths in the BGP table
 *          from the peer; best-path runs from a work queue right after)
 *   GoBGP  `gobgp neighbor <sender> -j` afi_safis[].state.accepted (received if absent)
 *   Tartan control API status() locRib[ipv4-unicast]: best routes after the decision process, the
 *          point BIRD's count is at (BIRD decides as it imports). The Adj-RIB-In count
 *          (peers[].families[].received, before decisions, like FRR's pfxRcd) was used up to
 *          2026-11-25 09:49 and flattered Tartan by the decision time (see BENCHMARKS.md).
 */
import { chownSync, mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { type Host, type ProcessHandle, sleep, waitFor } from '../../test/integration/harness';
import { startTartan, type TartanNode } from '../../test/integration/tartan/tartan-node';
import { BirdSocket, FrrVtySocket } from './probes';

export type DaemonKind = 'tartan' | 'bird' | 'frr' | 'gobgp' | 'sink';
export type Mode = 'rib' | 'fib';

export const LOCAL_AS = 65000;
export const SENDER_AS = 65100;

export interface StartOptions {
  mode: Mode;
  /** The sender's address (the daemon's one neighbor). */
  sender: string;
  /** Extra tartan-node config fields (merged last into the generated config). */
  tartanExtra?: Record<string, unknown>;
}

export interface RunningDaemon {
  kind: DaemonKind;
  mode: Mode;
  /** Processes whose memory counts for the RIB (and, in fib mode, for the FIB too). */
  memPids: { name: string; pid: number }[];
  /** Any process in the daemon's namespace (for /proc/<pid>/net). */
  nsPid: number;
  /** Routes from the sender in the daemon's RIB, by the method in the file header. */
  ribCount(): Promise<number>;
  /** Exact completion time (ms epoch) when the "daemon" reports it itself (the sink). */
  doneAt?(): number | undefined;
  /** A second, independent count after the run (recorded in the JSON as a sanity check). */
  verify(): Promise<string>;
  /** Short free-form description of the count method, for the report. */
  countMethod: string;
  /** Does this daemon program the kernel in this mode? (Tartan: 'auto'.) */
  fib: boolean | 'auto';
  logTail(): string;
  stop(): Promise<void>;
}

function tail(file: string, n = 30): string {
  if (!existsSync(file)) return `(no ${file})`;
  return execFileSync('tail', ['-n', String(n), file]).toString();
}

// ---------------------------------------------------------------- BIRD

function birdConf(host: Host, o: StartOptions, log: string): string {
  const l = [
    `log "${log}" { info, remote, warning, error, auth, fatal, bug };`,
    `router id ${host.addr('ipv4')};`,
    'protocol device { scan time 10; }',
  ];
  if (o.mode === 'fib') l.push('protocol kernel k4 {\n  ipv4 { export all; };\n  merge paths on;\n}');
  l.push(
    [
      'protocol bgp sender {',
      `  local ${host.addr('ipv4')} as ${LOCAL_AS};`,
      `  neighbor ${o.sender} as ${SENDER_AS};`,
      '  passive on;',
      '  ipv4 { import all; export none; gateway direct; };',
      '}',
    ].join('\n'),
  );
  return `${l.join('\n\n')}\n`;
}

async function startBird(host: Host, o: StartOptions): Promise<RunningDaemon> {
  const dir = join(host.dir, 'bird');
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'bird.conf');
  const ctl = join(dir, 'bird.ctl');
  const log = join(dir, 'bird.log');
  writeFileSync(conf, birdConf(host, o, log));
  const proc = host.spawn(['bird', '-f', '-c', conf, '-s', ctl, '-P', join(dir, 'bird.pid')], { logFile: join(dir, 'stderr.log'), cwd: dir });
  const sock = new BirdSocket(ctl);
  await waitFor(
    async () => {
      if (!proc.running) throw new Error(`bird exited: ${tail(join(dir, 'stderr.log'))}`);
      return (await sock.command('show status')).includes('Daemon is up');
    },
    { what: 'bird control socket', timeoutMs: 10_000, intervalMs: 50 },
  );
  return {
    kind: 'bird',
    mode: o.mode,
    memPids: [{ name: 'bird', pid: proc.pid }],
    nsPid: proc.pid,
    countMethod: 'birdc show protocols all: "Routes: N imported"',
    fib: o.mode === 'fib',
    async ribCount() {
      const out = await sock.command('show protocols all sender');
      const m = /Routes:\s+(\d+) imported/.exec(out);
      return m?.[1] ? Number(m[1]) : 0;
    },
    async verify() {
      return (await sock.command('show route count')).split('\n').find((l) => /routes for/.test(l))?.replace(/^\d{4}[ -]/, '').trim() ?? '?';
    },
    logTail: () => tail(log),
    async stop() {
      sock.close();
      await proc.stop();
    },
  };
}

// ---------------------------------------------------------------- FRR

const BGPD = '/usr/lib/frr/bgpd';
const ZEBRA = '/usr/lib/frr/zebra';

function chownToFrr(dir: string): void {
  const uid = Number(execFileSync('id', ['-u', 'frr']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'frr']).toString().trim());
  chownSync(dir, uid, gid);
  for (const f of readdirSync(dir)) chownSync(join(dir, f), uid, gid);
}

function bgpdConf(host: Host, o: StartOptions, log: string): string {
  const n = ` neighbor ${o.sender}`;
  const l = ['frr defaults traditional', `hostname ${host.name}`, `log file ${log} informational`, '!'];
  // Global (not per-instance) switch: bgpd keeps its RIB but sends nothing to zebra.
  if (o.mode === 'rib') l.push('bgp no-rib', '!');
  l.push('route-map TT-ALL permit 10', 'exit', '!', 'route-map TT-NONE deny 10', 'exit', '!');
  l.push(
    `router bgp ${LOCAL_AS}`,
    ` bgp router-id ${host.addr('ipv4')}`,
    ' no bgp default ipv4-unicast',
    `${n} remote-as ${SENDER_AS}`,
    `${n} passive`,
    ' address-family ipv4 unicast',
    `${n} activate`,
    `${n} route-map TT-ALL in`,
    `${n} route-map TT-NONE out`,
    ' exit-address-family',
    'exit',
    '!',
  );
  return `${l.join('\n')}\n`;
}

async function startFrr(host: Host, o: StartOptions): Promise<RunningDaemon> {
  const dir = join(host.dir, 'frr');
  mkdirSync(dir, { recursive: true });
  const zserv = join(dir, 'zserv.api');
  const bgpLog = join(dir, 'bgpd.log');
  writeFileSync(join(dir, 'zebra.conf'), `hostname ${host.name}\nlog file ${join(dir, 'zebra.log')} informational\n`);
  writeFileSync(join(dir, 'bgpd.conf'), bgpdConf(host, o, bgpLog));
  // zebra runs as the packaged `frr` user (it refuses root without frrvty), which must own dir.
  chownToFrr(dir);
  const common = ['--vty_socket', dir, '-P', '0'];
  const zebra = host.spawn([ZEBRA, '-f', join(dir, 'zebra.conf'), '-i', join(dir, 'zebra.pid'), '-z', zserv, ...common], {
    logFile: join(dir, 'zebra.stderr.log'),
    cwd: dir,
  });
  await waitFor(() => existsSync(zserv), { what: 'zebra zserv socket', timeoutMs: 10_000, intervalMs: 50 });
  const bgpd = host.spawn([BGPD, '-S', '-f', join(dir, 'bgpd.conf'), '-i', join(dir, 'bgpd.pid'), '-z', zserv, ...common, '-p', '179'], {
    logFile: join(dir, 'bgpd.stderr.log'),
    cwd: dir,
  });
  const vty = new FrrVtySocket(join(dir, 'bgpd.vty'));
  await waitFor(
    async () => {
      if (!bgpd.running) throw new Error(`bgpd exited: ${tail(join(dir, 'bgpd.stderr.log'))}`);
      return (await vty.command('show bgp summary json')).includes('{');
    },
    { what: 'bgpd vty socket', timeoutMs: 10_000, intervalMs: 50 },
  );
  const memPids = [{ name: 'bgpd', pid: bgpd.pid }];
  if (o.mode === 'fib') memPids.push({ name: 'zebra', pid: zebra.pid });
  return {
    kind: 'frr',
    mode: o.mode,
    memPids,
    nsPid: bgpd.pid,
    countMethod: 'show bgp ipv4 unicast summary json: peers[sender].pfxRcd',
    fib: o.mode === 'fib',
    async ribCount() {
      const out = await vty.command('show bgp ipv4 unicast summary json');
      const j = JSON.parse(out) as { peers?: Record<string, { pfxRcd?: number }> };
      return j.peers?.[o.sender]?.pfxRcd ?? 0;
    },
    async verify() {
      const j = JSON.parse(await vty.command('show bgp ipv4 unicast summary json')) as { ribCount?: number; ribMemory?: number };
      return `bgpd ribCount ${j.ribCount ?? '?'} (ribMemory ${j.ribMemory ?? '?'} B)`;
    },
    logTail: () => tail(bgpLog),
    async stop() {
      vty.close();
      await bgpd.stop();
      await zebra.stop();
    },
  };
}

// ---------------------------------------------------------------- GoBGP

const GOBGP_API_PORT = 50051;

function gobgpConf(host: Host, o: StartOptions): string {
  return [
    '[global.config]',
    `  as = ${LOCAL_AS}`,
    `  router-id = "${host.addr('ipv4')}"`,
    '  port = 179',
    `  local-address-list = ["${host.addr('ipv4')}"]`,
    '[global.apply-policy.config]',
    '  default-import-policy = "accept-route"',
    '  default-export-policy = "reject-route"',
    '',
    '[[neighbors]]',
    '  [neighbors.config]',
    `    neighbor-address = "${o.sender}"`,
    `    peer-as = ${SENDER_AS}`,
    '  [neighbors.transport.config]',
    '    passive-mode = true',
    '  [[neighbors.afi-safis]]',
    '    [neighbors.afi-safis.config]',
    '      afi-safi-name = "ipv4-unicast"',
    '',
  ].join('\n');
}

async function startGobgp(host: Host, o: StartOptions): Promise<RunningDaemon> {
  if (o.mode !== 'rib') throw new Error('gobgp has no FIB mode');
  const dir = join(host.dir, 'gobgp');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'gobgpd.toml'), gobgpConf(host, o));
  const log = join(dir, 'gobgpd.log');
  const proc = host.spawn(
    ['gobgpd', '-f', join(dir, 'gobgpd.toml'), '-t', 'toml', '-p', '--pprof-disable', `--api-hosts=127.0.0.1:${GOBGP_API_PORT}`],
    { logFile: log, cwd: dir },
  );
  const cli = (args: string[]): Promise<string> =>
    host.exec(['gobgp', '-u', '127.0.0.1', '-p', String(GOBGP_API_PORT), ...args], { timeoutMs: 60_000 });
  await waitFor(
    async () => {
      if (!proc.running) throw new Error(`gobgpd exited: ${tail(log)}`);
      await cli(['global']);
      return true;
    },
    { what: 'gobgpd API', timeoutMs: 10_000, intervalMs: 100 },
  );
  return {
    kind: 'gobgp',
    mode: o.mode,
    memPids: [{ name: 'gobgpd', pid: proc.pid }],
    nsPid: proc.pid,
    countMethod: 'gobgp neighbor <sender> -j: afi_safis[].state.accepted',
    fib: false,
    async ribCount() {
      const j = JSON.parse(await cli(['neighbor', o.sender, '-j'])) as {
        afi_safis?: { state?: { received?: number; accepted?: number } }[];
      };
      let n = 0;
      for (const a of j.afi_safis ?? []) n += a.state?.accepted ?? a.state?.received ?? 0;
      return n;
    },
    async verify() {
      return (await cli(['global', 'rib', 'summary', '-a', 'ipv4'])).replace(/\s+/g, ' ').trim();
    },
    logTail: () => tail(log),
    async stop() {
      await proc.stop();
    },
  };
}

// ---------------------------------------------------------------- Tartan

const TARTAN_DIST = join(__dirname, '../../dist');

/**
 * Does the built tartan-node program the kernel? True once dist/ has the
 * `fib` config section (src/config/load.ts `top.child('fib')`, kernel FIB in
 * src/bgp/fib, rtnetlink protocol 201, table 254 by default, enabled by default).
 * An older build rejects an unknown `fib` key, so it must not be sent then.
 */
export function tartanHasFib(): boolean {
  const load = join(TARTAN_DIST, 'config/load.js');
  return existsSync(load) && readFileSync(load, 'utf8').includes("child('fib')") && existsSync(join(TARTAN_DIST, 'bgp/fib/kernel-fib.js'));
}

async function startTartanBench(host: Host, o: StartOptions): Promise<RunningDaemon> {
  const hasFib = tartanHasFib();
  // rib runs: kernel programming off (it is on by default); fib runs: the daemon's defaults.
  const fibCfg = hasFib && o.mode === 'rib' ? { fib: { enabled: false } } : {};
  const node: TartanNode = await startTartan(host, {
    asn: LOCAL_AS,
    peers: [{ address: o.sender, asn: SENDER_AS, passive: true, families: ['ipv4-unicast'] }],
    // The driver's default is debug logging, which a benchmark should not pay for.
    extra: { log: { level: 'info', format: 'json' }, ...fibCfg, ...(o.tartanExtra ?? {}) },
  });
  const proc: ProcessHandle = node.proc;
  return {
    kind: 'tartan',
    mode: o.mode,
    memPids: [{ name: 'tartan-node', pid: proc.pid }],
    nsPid: proc.pid,
    countMethod: 'control API status(): locRib[ipv4-unicast] (best routes, after the decision process)',
    // With a FIB in the build, wait for it like BIRD/FRR; otherwise detect (n/a after a grace period).
    fib: o.mode === 'fib' ? (hasFib ? true : 'auto') : false,
    async ribCount() {
      const s = await node.status();
      return s.locRib?.['ipv4-unicast'] ?? 0;
    },
    async verify() {
      const m = /End-of-RIB for ipv4-unicast: (\d+) route\(s\) received","peer":"[^"]*","timestamp":"([^"]+)"/.exec(node.logTail(200));
      return m ? `log: End-of-RIB with ${m[1]} routes at ${m[2]}` : 'no End-of-RIB log line';
    },
    logTail: () => node.logTail(30),
    async stop() {
      await node.stop();
    },
  };
}

// ---------------------------------------------------------------- sink (calibration)

async function startSink(host: Host, o: StartOptions): Promise<RunningDaemon> {
  if (o.mode !== 'rib') throw new Error('the sink has no FIB mode');
  const logFile = join(host.dir, 'sink.jsonl');
  const args = { sink: true, local: host.addr('ipv4'), port: 179, asn: LOCAL_AS, routerId: host.addr('ipv4') };
  const proc = host.spawn([process.execPath, '-r', join(__dirname, 'ts-hook.js'), join(__dirname, 'sender.ts'), JSON.stringify(args)], { logFile });
  const events = (): { ev: string; t?: number }[] =>
    existsSync(logFile)
      ? readFileSync(logFile, 'utf8')
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { ev: string; t?: number })
      : [];
  await waitFor(
    () => {
      if (!proc.running) throw new Error(`sink exited: ${tail(logFile)}`);
      return events().some((e) => e.ev === 'listening');
    },
    { what: 'sink listening', timeoutMs: 15_000, intervalMs: 20 },
  );
  const eor = (): number | undefined => events().find((e) => e.ev === 'eor')?.t;
  return {
    kind: 'sink',
    mode: o.mode,
    memPids: [{ name: 'sink', pid: proc.pid }],
    nsPid: proc.pid,
    countMethod: 'sink: End-of-RIB arrival time, reported by the sink itself (exact)',
    fib: false,
    doneAt: eor,
    async ribCount() {
      return eor() !== undefined ? Number.MAX_SAFE_INTEGER : 0;
    },
    async verify() {
      return JSON.stringify(events().find((e) => e.ev === 'eor') ?? null);
    },
    logTail: () => tail(logFile),
    async stop() {
      await proc.stop();
    },
  };
}

export async function startDaemon(kind: DaemonKind, host: Host, o: StartOptions): Promise<RunningDaemon> {
  switch (kind) {
    case 'bird':
      return startBird(host, o);
    case 'frr':
      return startFrr(host, o);
    case 'gobgp':
      return startGobgp(host, o);
    case 'tartan':
      return startTartanBench(host, o);
    case 'sink':
      return startSink(host, o);
  }
}

/** Version strings for the report. */
export async function daemonVersions(): Promise<Record<string, string>> {
  const v = (cmd: string, args: string[]): string => {
    try {
      const r = execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
      return r.split('\n')[0]?.trim() ?? '';
    } catch (e) {
      const err = e as { stderr?: Buffer; stdout?: Buffer };
      return (err.stderr?.toString() || err.stdout?.toString() || String(e)).split('\n')[0]?.trim() ?? '';
    }
  };
  // `bird --version` prints to stderr and exits 0 on 2.0.12; capture both ways.
  const bird = (() => {
    try {
      const r = execFileSync('sh', ['-c', 'bird --version 2>&1']).toString();
      return r.trim();
    } catch {
      return 'unknown';
    }
  })();
  await sleep(0);
  return {
    bird,
    gobgpd: v('gobgpd', ['--version']),
    frr: v(BGPD, ['--version']),
    node: process.version,
    tartan: v('node', [join(__dirname, '../../dist/daemon/main.js'), '--version']),
    iproute2: v('ip', ['-V']),
    kernel: v('uname', ['-r']),
  };
}
