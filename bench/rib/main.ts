/**
 * Routing benchmark: the same N /32 routes from the same sender into Tartan,
 * BIRD 2, GoBGP 3 and FRR 8 in turn; time from Established to full RIB (and
 * full kernel FIB), peak RSS and bytes per route; `ip -batch` as the FIB
 * baseline. See README.md for method and caveats. Run via run.js.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { Lab, sleep, type Host, type ProcessHandle } from '../../test/integration/harness';
import { daemonVersions, startDaemon, tartanHasFib, LOCAL_AS, SENDER_AS, type DaemonKind, type Mode, type RunningDaemon } from './daemons';
import { fibPrefixes, readMem } from './probes';
import { benchPrefixes, type SenderArgs } from './sender';
import { renderTable } from './report';

// ---------------------------------------------------------------- options

export interface Options {
  ns: number[];
  daemons: DaemonKind[];
  repeat: number;
  out?: string;
  pollMs: number;
  gobgpPollMs: number;
  /** GoBGP count strategy: 'quiet' (ask only once gobgpd's CPU went idle) or 'poll' (ask every gobgpPollMs). */
  gobgpCount: 'quiet' | 'poll';
  timeoutS: number;
  ipBatch: boolean;
  fib: boolean;
  rib: boolean;
  tartanExtra: Record<string, unknown>;
  tartanFibExtra: Record<string, unknown>;
  /** Tartan FIB: give up (n/a) if no route reached the kernel this long after full RIB. */
  tartanFibGraceS: number;
  firstPrefix: string;
  /** Before each run, wait up to this many seconds for the machine to be idle (0 = don't). */
  waitQuietS: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    ns: [100_000, 1_000_000],
    daemons: ['sink', 'tartan', 'bird', 'frr', 'gobgp'],
    repeat: 1,
    pollMs: 25,
    gobgpPollMs: 100,
    gobgpCount: 'quiet',
    timeoutS: 300,
    ipBatch: true,
    fib: true,
    rib: true,
    tartanExtra: {},
    tartanFibExtra: {},
    tartanFibGraceS: 5,
    firstPrefix: '10.0.0.0',
    waitQuietS: 60,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--n':
        o.ns = val()
          .split(',')
          .map((s) => Math.round(Number(s.replace(/k$/i, 'e3').replace(/m$/i, 'e6'))));
        break;
      case '--daemons':
        o.daemons = val().split(',') as DaemonKind[];
        for (const d of o.daemons) if (!['tartan', 'bird', 'frr', 'gobgp', 'sink'].includes(d)) throw new Error(`unknown daemon ${d}`);
        break;
      case '--repeat':
        o.repeat = Number(val());
        break;
      case '--out':
        o.out = val();
        break;
      case '--poll-ms':
        o.pollMs = Number(val());
        break;
      case '--gobgp-poll-ms':
        o.gobgpPollMs = Number(val());
        break;
      case '--gobgp-count': {
        const v = val();
        if (v !== 'quiet' && v !== 'poll') throw new Error('--gobgp-count is quiet or poll');
        o.gobgpCount = v;
        break;
      }
      case '--timeout':
        o.timeoutS = Number(val());
        break;
      case '--no-ip-batch':
        o.ipBatch = false;
        break;
      case '--no-fib':
        o.fib = false;
        break;
      case '--no-rib':
        o.rib = false;
        break;
      case '--tartan-extra':
        o.tartanExtra = JSON.parse(val()) as Record<string, unknown>;
        break;
      case '--tartan-fib-extra':
        o.tartanFibExtra = JSON.parse(val()) as Record<string, unknown>;
        break;
      case '--wait-quiet':
        o.waitQuietS = Number(val());
        break;
      case '--tartan-fib-grace':
        o.tartanFibGraceS = Number(val());
        break;
      case '--help':
      case '-h':
        process.stdout.write(readFileSync(join(__dirname, 'README.md'), 'utf8'));
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${a} (see bench/rib/README.md)`);
    }
  }
  if (o.ns.some((n) => !Number.isSafeInteger(n) || n < 1 || n > 4_000_000)) throw new Error('--n values must be 1..4000000');
  return o;
}

// ---------------------------------------------------------------- results

export interface Bracket {
  /** Time from Established to the first poll that saw the target (reply time), s. */
  s: number;
  /** The target was reached after this (send time of the previous poll), s. */
  lowerS: number;
}

export interface RunResult {
  daemon: DaemonKind | 'ip-batch';
  mode: Mode;
  n: number;
  rep: number;
  status: 'ok' | 'timeout' | 'error';
  error?: string;
  startedAt: string;
  loadavgBefore: number[];
  /** Machine-wide CPU busy % over the 2 s before the run started, and how long we waited for it. */
  busyPctBefore?: number;
  waitedQuietS?: number;
  countMethod?: string;
  /** The daemon's own second count after the run (sanity check). */
  verify?: string;
  /** GoBGP 'quiet' strategy: count queries made, and when the confirming one answered (s after Established). */
  quietCountQueries?: number;
  confirmS?: number;
  /** Tartan only: time of its "End-of-RIB ... received" log line after Established (cross-check of the polled time). */
  eorLogS?: number;
  /** Established → full RIB. */
  rib?: Bracket;
  /** Established → full kernel FIB; 'n/a' when the daemon installed nothing. */
  fib?: Bracket | 'n/a (not implemented)' | 'timeout';
  /** Mean gap between consecutive RIB / FIB polls (the resolution), ms. */
  ribPollMeanMs?: number;
  fibPollMeanMs?: number;
  fibBaseline?: number;
  /** Kernel FIB prefixes above the baseline at the end (sanity check: 0 in rib mode). */
  fibDeltaAtEnd?: number;
  /** Sender: pre-encoding, UPDATE count, bytes, Established → last byte handed to the kernel. */
  sender?: { encodeMs: number; updates: number; bytes: number; writeS?: number };
  /** Per process: idle VmRSS just before the sender starts, VmHWM at the end. */
  mem?: { name: string; pid: number; idleRssKb: number; hwmKb: number }[];
  /** Sum over processes of (VmHWM at end - idle VmRSS). */
  memDeltaKb?: number;
  bytesPerRoute?: number;
  peakRssKb?: number;
  /** ip -batch only: wall time of `ip -batch` for N routes. */
  batchS?: number;
}

// ---------------------------------------------------------------- sender

const SENDER_TS = join(__dirname, 'sender.ts');
const HOOK = join(__dirname, 'ts-hook.js');

interface SenderEvent {
  ev: string;
  t?: number;
  [k: string]: unknown;
}

function readEvents(file: string): SenderEvent[] {
  if (!existsSync(file)) return [];
  const out: SenderEvent[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as SenderEvent);
    } catch {
      // a partial last line
    }
  }
  return out;
}

function startSender(host: Host, args: SenderArgs): { proc: ProcessHandle; events: () => SenderEvent[] } {
  const logFile = join(host.dir, 'sender.jsonl');
  const proc = host.spawn([process.execPath, '-r', HOOK, SENDER_TS, JSON.stringify(args)], { logFile });
  return { proc, events: () => readEvents(logFile) };
}

// ---------------------------------------------------------------- one run

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

let currentLab: Lab | undefined;

/** Machine-wide CPU busy fraction (0..100) over `ms`, from /proc/stat. */
async function busyPct(ms: number): Promise<number> {
  const snap = (): [number, number] => {
    const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    return [f.reduce((a, b) => a + b, 0), idle];
  };
  const [t0, i0] = snap();
  await sleep(ms);
  const [t1, i1] = snap();
  return t1 > t0 ? 100 * (1 - (i1 - i0) / (t1 - t0)) : 0;
}

/**
 * Other work on a 2-core box skews every number: wait (up to maxS) until the
 * machine was at most 15% busy over 2 s. Returns [busy %, seconds waited].
 */
async function waitQuiet(maxS: number): Promise<[number, number]> {
  const t0 = Date.now();
  let b = await busyPct(2000);
  while (b > 15 && Date.now() - t0 < maxS * 1000) b = await busyPct(2000);
  return [b, (Date.now() - t0) / 1000];
}

function log(msg: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 23)}] ${msg}\n`);
}

interface PollTrace {
  /** Reply time of the first poll that saw the target, ms epoch. */
  hit?: number;
  /** Send time of the poll before it. */
  prevSend?: number;
  gaps: number[];
}

/**
 * Poll `count` until it reaches `target`, sleeping `interval(lastCostMs)` between
 * polls; stops at `deadline` or when `abort()` says so.
 */
async function pollUntil(
  count: () => Promise<number> | number,
  target: number,
  interval: (costMs: number) => number,
  deadline: () => number,
  abort: () => string | undefined,
  onValue?: (v: number, t: number) => void,
): Promise<PollTrace> {
  const tr: PollTrace = { gaps: [] };
  let prevSend: number | undefined;
  for (;;) {
    const send = Date.now();
    let v = -1;
    try {
      v = await count();
    } catch {
      // daemon busy or CLI hiccup: counts as "not yet"
    }
    const recv = Date.now();
    onValue?.(v, recv);
    if (prevSend !== undefined) tr.gaps.push(send - prevSend);
    if (v >= target) {
      tr.hit = recv;
      tr.prevSend = prevSend ?? send;
      return tr;
    }
    prevSend = send;
    if (recv > deadline() || abort() !== undefined) return tr;
    await sleep(interval(recv - send));
  }
}

/** Sum of utime + stime (clock ticks) of the given processes, all threads included. */
function cpuTicks(pids: readonly number[]): number {
  let t = 0;
  for (const pid of pids) {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    t += Number(f[11]) + Number(f[12]); // fields 14 and 15 overall
  }
  return t;
}

/** CPU must stay flat this long before the quiet strategy asks for the count. */
const QUIET_MS = 100;

/**
 * Non-intrusive completion detection for daemons whose count query is
 * expensive and served by the busy loop (gobgpd 3.10: `gobgp neighbor` walks
 * the Adj-RIB-In under the server lock; asking every 100 ms made a 1M run 3-5x
 * slower). Samples the daemon's CPU time every `sampleMs` (a /proc read, no
 * daemon involvement); once the sender has written everything and the CPU
 * has been flat for `quietMs`, asks for the count once. If it is N, the RIB
 * was full when the CPU last moved: `hit` = the sample that saw the last
 * increase, `prevSend` = the sample before it. `confirmAt` = reply time of
 * the confirming count.
 */
async function pollWhenQuiet(
  d: RunningDaemon,
  target: number,
  sampleMs: number,
  quietMs: number,
  deadline: () => number,
  abort: () => string | undefined,
  writeDone: () => boolean,
): Promise<PollTrace & { queries: number; confirmAt?: number }> {
  const pids = d.memPids.map((p) => p.pid);
  const tr: PollTrace & { queries: number; confirmAt?: number } = { gaps: [], queries: 0 };
  let ticks = cpuTicks(pids);
  let prevSample = Date.now();
  let lastMove = prevSample;
  let beforeMove = prevSample;
  for (;;) {
    await sleep(sampleMs);
    const now = Date.now();
    const t = cpuTicks(pids);
    tr.gaps.push(now - prevSample);
    if (t !== ticks) {
      ticks = t;
      beforeMove = prevSample;
      lastMove = now;
    } else if (now - lastMove >= quietMs && writeDone()) {
      tr.queries++;
      const asked = Date.now();
      let c = -1;
      try {
        c = await d.ribCount();
      } catch {
        // not yet
      }
      if (c >= target) {
        tr.hit = lastMove;
        tr.prevSend = beforeMove;
        tr.confirmAt = Date.now();
        return tr;
      }
      // The query itself used CPU, so the daemon may have finished anywhere
      // inside it: start a fresh quiet window whose bracket covers the query.
      ticks = cpuTicks(pids);
      lastMove = Date.now();
      beforeMove = asked;
    }
    prevSample = now;
    if (now > deadline() || abort() !== undefined) return tr;
  }
}

async function runOnce(o: Options, kind: DaemonKind, mode: Mode, n: number, rep: number): Promise<RunResult> {
  const [busy, waited] = o.waitQuietS > 0 ? await waitQuiet(o.waitQuietS) : [NaN, 0];
  const res: RunResult = { daemon: kind, mode, n, rep, status: 'error', startedAt: new Date().toISOString(), loadavgBefore: loadavg(), busyPctBefore: busy, waitedQuietS: waited };
  const lab = await Lab.create(`rib-${kind}-${mode}`);
  currentLab = lab;
  let daemon: RunningDaemon | undefined;
  try {
    const dut = await lab.addHost('dut', { ipv6: false });
    const snd = await lab.addHost('snd', { ipv6: false });
    const senderAddr = snd.addr('ipv4');
    daemon = await startDaemon(kind, dut, {
      mode,
      sender: senderAddr,
      tartanExtra: mode === 'fib' ? { ...o.tartanExtra, ...o.tartanFibExtra } : o.tartanExtra,
    });
    res.countMethod = daemon.countMethod;
    await sleep(1000); // let the daemon settle before the idle sample
    const idle = daemon.memPids.map((p) => ({ ...p, idleRssKb: readMem(p.pid).rssKb }));
    const fibBase = fibPrefixes(daemon.nsPid);
    res.fibBaseline = fibBase;

    const sender = startSender(snd, {
      peer: dut.addr('ipv4'),
      port: 179,
      local: senderAddr,
      asn: SENDER_AS,
      routerId: senderAddr,
      n,
      first: o.firstPrefix,
      holdTime: 240,
    });
    const senderProblem = (): string | undefined => {
      const ev = sender.events();
      const bad = ev.find((e) => e.ev === 'error' || e.ev === 'notification' || e.ev === 'closed');
      if (bad) return `sender: ${JSON.stringify(bad)}`;
      if (!sender.proc.running) return `sender exited: ${readFileSync(sender.proc.logFile, 'utf8').slice(-2000)}`;
      return undefined;
    };

    // Polling starts now, before Established (the sender pre-encodes first: a
    // few seconds at 1M), so even a daemon that is done within one poll
    // interval of Established is bracketed correctly.
    let established: number | undefined;
    const spawnedAt = Date.now();
    const deadline = (): number => (established !== undefined ? established + o.timeoutS * 1000 : spawnedAt + 120_000);
    const watchEstablished = (): string | undefined => {
      if (established === undefined) {
        const e = sender.events().find((x) => x.ev === 'established');
        if (e?.t !== undefined) {
          established = e.t;
          log(`${kind}/${mode} N=${n}: Established`);
        }
      }
      return senderProblem();
    };
    const ribPoll = kind === 'gobgp' ? o.gobgpPollMs : o.pollMs;

    // RIB and FIB are polled concurrently; the FIB loop is adaptive because
    // fib_triestat walks the whole trie (about 45 ms at 1M).
    let ribDoneAt: number | undefined;
    let fibSeen = 0;
    const writeDone = (): boolean => sender.events().some((e) => e.ev === 'write-done');
    const ribP = (
      kind === 'gobgp' && o.gobgpCount === 'quiet'
        ? pollWhenQuiet(daemon, n, o.pollMs, QUIET_MS, deadline, watchEstablished, writeDone).then((q) => {
            res.quietCountQueries = q.queries;
            res.confirmS = q.confirmAt !== undefined && established !== undefined ? (q.confirmAt - established) / 1000 : undefined;
            return q;
          })
        : pollUntil(() => (daemon as RunningDaemon).ribCount(), n, () => ribPoll, deadline, watchEstablished)
    ).then((tr) => {
      ribDoneAt = tr.hit;
      return tr;
    });
    const wantFib = mode === 'fib' && daemon.fib !== false;
    const fibP: Promise<PollTrace | 'n/a'> = wantFib
      ? (async () => {
          const tr = await pollUntil(
            () => fibPrefixes((daemon as RunningDaemon).nsPid) - fibBase,
            n,
            (cost) => Math.max(o.pollMs, 3 * cost),
            deadline,
            () => {
              const p = senderProblem();
              if (p) return p;
              // Tartan, auto: nothing in the kernel a while after full RIB → no FIB yet.
              if (daemon?.fib === 'auto' && fibSeen <= 0 && ribDoneAt !== undefined && Date.now() - ribDoneAt > o.tartanFibGraceS * 1000) {
                return 'no-fib';
              }
              return undefined;
            },
            (v) => {
              fibSeen = Math.max(fibSeen, v);
            },
          );
          if (tr.hit === undefined && fibSeen <= 0 && daemon?.fib === 'auto') return 'n/a';
          return tr;
        })()
      : Promise.resolve('n/a' as const);

    const [ribTr, fibTr] = await Promise.all([ribP, fibP]);
    // The count can reach N before the poll loop's last look at the sender's events.
    for (let i = 0; i < 100 && established === undefined && watchEstablished() === undefined; i++) await sleep(20);
    if (established === undefined) throw new Error(senderProblem() ?? 'no Established within 120 s');
    const est = established;
    const bracket = (tr: PollTrace): Bracket | undefined =>
      tr.hit === undefined ? undefined : { s: (tr.hit - est) / 1000, lowerS: ((tr.prevSend ?? tr.hit) - est) / 1000 };
    res.rib = bracket(ribTr);
    const exact = daemon.doneAt?.();
    if (res.rib && exact !== undefined) res.rib = { s: (exact - est) / 1000, lowerS: (exact - est) / 1000 };
    res.ribPollMeanMs = ribTr.gaps.length ? ribTr.gaps.reduce((a, b) => a + b, 0) / ribTr.gaps.length : undefined;
    if (wantFib) {
      if (fibTr === 'n/a') res.fib = 'n/a (not implemented)';
      else {
        res.fib = bracket(fibTr) ?? 'timeout';
        res.fibPollMeanMs = fibTr.gaps.length ? fibTr.gaps.reduce((a, b) => a + b, 0) / fibTr.gaps.length : undefined;
      }
    }
    const problem = senderProblem();
    if (res.rib === undefined) {
      res.status = problem ? 'error' : 'timeout';
      if (problem) res.error = problem;
    } else res.status = res.fib === 'timeout' ? 'timeout' : 'ok';

    // Memory: VmHWM after a short settle (FRR runs best-path from a work queue after pfxRcd counts).
    await sleep(1000);
    res.mem = idle.map((p) => ({ name: p.name, pid: p.pid, idleRssKb: p.idleRssKb, hwmKb: readMem(p.pid).hwmKb }));
    res.memDeltaKb = res.mem.reduce((a, m) => a + (m.hwmKb - m.idleRssKb), 0);
    res.peakRssKb = res.mem.reduce((a, m) => a + m.hwmKb, 0);
    res.bytesPerRoute = (res.memDeltaKb * 1024) / n;
    res.fibDeltaAtEnd = fibPrefixes(daemon.nsPid) - fibBase;
    res.verify = await daemon.verify().catch((e: unknown) => `verify failed: ${String(e)}`);
    const eor = / at (\d{4}-\d\d-\d\dT[\d:.]+Z)$/.exec(res.verify);
    if (eor?.[1]) res.eorLogS = (Date.parse(eor[1]) - est) / 1000;

    const ev = sender.events();
    const enc = ev.find((e) => e.ev === 'encoded');
    const wd = ev.find((e) => e.ev === 'write-done');
    res.sender = {
      encodeMs: Number(enc?.['ms'] ?? NaN),
      updates: Number(enc?.['updates'] ?? NaN),
      bytes: Number(enc?.['bytes'] ?? NaN),
      ...(wd?.t !== undefined ? { writeS: (wd.t - est) / 1000 } : {}),
    };
    if (res.status !== 'ok') log(`${kind}/${mode} N=${n}: ${res.status} ${res.error ?? ''}\n--- daemon log tail ---\n${daemon.logTail()}`);
    await sender.proc.stop(2000);
  } catch (e) {
    res.status = 'error';
    res.error = (e as Error).message;
    log(`${kind}/${mode} N=${n}: error ${res.error}${daemon ? `\n--- daemon log tail ---\n${daemon.logTail()}` : ''}`);
  } finally {
    await daemon?.stop().catch(() => undefined);
    await lab.destroy().catch((e: unknown) => log(`teardown: ${String(e)}`));
    currentLab = undefined;
  }
  return res;
}

/** `ip -batch` of the same N routes into a fresh namespace (the lab host's LAN interface; no dummy module here). */
async function runIpBatch(o: Options, n: number, rep: number): Promise<RunResult> {
  const [busy, waited] = o.waitQuietS > 0 ? await waitQuiet(o.waitQuietS) : [NaN, 0];
  const res: RunResult = { daemon: 'ip-batch', mode: 'fib', n, rep, status: 'error', startedAt: new Date().toISOString(), loadavgBefore: loadavg(), busyPctBefore: busy, waitedQuietS: waited };
  const lab = await Lab.create('rib-ipbatch');
  currentLab = lab;
  try {
    const h = await lab.addHost('dut', { ipv6: false });
    const via = h.addr('ipv4').replace(/\.\d+$/, '.250'); // an on-link next hop, like the sender's address
    const file = join(h.dir, 'routes.batch');
    writeFileSync(file, benchPrefixes(o.firstPrefix, n).map((p) => `route add ${p} via ${via} proto static`).join('\n') + '\n');
    const t0 = process.hrtime.bigint();
    await h.exec(['ip', '-batch', file], { timeoutMs: o.timeoutS * 1000 });
    res.batchS = Number(process.hrtime.bigint() - t0) / 1e9;
    res.fib = { s: res.batchS, lowerS: res.batchS };
    res.status = 'ok';
  } catch (e) {
    res.error = (e as Error).message.slice(0, 500);
  } finally {
    await lab.destroy().catch((e: unknown) => log(`teardown: ${String(e)}`));
    currentLab = undefined;
  }
  return res;
}

// ---------------------------------------------------------------- aggregation

export interface Summary {
  daemon: string;
  n: number;
  ribS?: number;
  ribStatus: string;
  ribResolutionMs?: number;
  peakRssMb?: number;
  bytesPerRoute?: number;
  fibS?: number;
  fibStatus: string;
  fibResolutionMs?: number;
  fibBytesPerRoute?: number;
  senderWriteS?: number;
  /** sink floor / RIB time for the same N; near 1 means the run measured the sender, not the daemon. */
  injectionRatio?: number;
  runs: number;
}

function summarise(results: RunResult[], daemons: string[], ns: number[]): Summary[] {
  const out: Summary[] = [];
  for (const n of ns) {
    for (const d of [...daemons, 'ip-batch']) {
      const rib = results.filter((r) => r.daemon === d && r.n === n && r.mode === 'rib');
      const fib = results.filter((r) => r.daemon === d && r.n === n && r.mode === 'fib');
      if (!rib.length && !fib.length) continue;
      const s: Summary = { daemon: d, n, ribStatus: '', fibStatus: '', runs: Math.max(rib.length, fib.length) };
      const okRib = rib.filter((r) => r.status === 'ok' && r.rib);
      if (okRib.length) {
        s.ribS = median(okRib.map((r) => (r.rib as Bracket).s));
        s.ribResolutionMs = median(okRib.map((r) => ((r.rib as Bracket).s - (r.rib as Bracket).lowerS) * 1000));
        s.peakRssMb = median(okRib.map((r) => (r.peakRssKb ?? 0) / 1024));
        s.bytesPerRoute = median(okRib.map((r) => r.bytesPerRoute ?? 0));
        const w = okRib.filter((r) => r.sender?.writeS !== undefined);
        if (w.length) s.senderWriteS = median(w.map((r) => r.sender?.writeS as number));
        s.ribStatus = okRib.length === rib.length ? 'ok' : `${okRib.length}/${rib.length} ok`;
      } else s.ribStatus = rib.length ? (rib.some((r) => r.status === 'timeout') ? 'timeout' : 'error') : 'n/a';
      const okFib = fib.filter((r) => typeof r.fib === 'object');
      if (okFib.length) {
        s.fibS = median(okFib.map((r) => (r.fib as Bracket).s));
        s.fibResolutionMs = median(okFib.map((r) => ((r.fib as Bracket).s - (r.fib as Bracket).lowerS) * 1000));
        if (d !== 'ip-batch') s.fibBytesPerRoute = median(okFib.map((r) => r.bytesPerRoute ?? 0));
        s.fibStatus = okFib.length === fib.length ? 'ok' : `${okFib.length}/${fib.length} ok`;
      } else if (fib.some((r) => r.fib === 'n/a (not implemented)')) s.fibStatus = 'n/a (not implemented)';
      else if (d === 'gobgp') s.fibStatus = 'n/a (no FIB)';
      else if (d === 'sink') s.fibStatus = '-';
      else s.fibStatus = fib.length ? (fib.some((r) => r.status === 'timeout' || r.fib === 'timeout') ? 'timeout' : 'error') : 'n/a';
      out.push(s);
    }
  }
  for (const s of out) {
    const floor = out.find((x) => x.daemon === 'sink' && x.n === s.n)?.ribS;
    if (floor !== undefined && s.ribS !== undefined && s.daemon !== 'sink') s.injectionRatio = floor / s.ribS;
  }
  return out;
}

// ---------------------------------------------------------------- main

function machine(): Record<string, unknown> {
  return {
    nproc: cpus().length,
    model: cpus()[0]?.model ?? 'unknown',
    memTotalMb: Math.round(totalmem() / 2 ** 20),
    loadavg: loadavg(),
  };
}

async function main(): Promise<void> {
  // The harness unref()s spawned children, so awaiting a child's exit (ProcessHandle.stop
  // after SIGKILL) would let the event loop drain and node exit mid-run; keep it alive.
  const keepAlive = setInterval(() => undefined, 60_000);
  try {
    await benchmark();
  } finally {
    clearInterval(keepAlive);
  }
}

async function benchmark(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (o.daemons.includes('tartan') && !existsSync(join(__dirname, '../../dist/daemon/main.js'))) {
    throw new Error('dist/daemon/main.js is missing: run "npm run build" first');
  }
  const startedAt = new Date().toISOString();
  const mach = machine();
  const versions = await daemonVersions();
  log(`machine ${JSON.stringify(mach)}`);
  if (o.daemons.includes('tartan')) log(`tartan-node build ${tartanHasFib() ? 'has' : 'has NO'} kernel FIB (dist/bgp/fib)`);
  const results: RunResult[] = [];
  const plan: { kind: DaemonKind; mode: Mode }[] = [];
  for (const d of o.daemons) {
    if (o.rib || d === 'sink' || d === 'gobgp') plan.push({ kind: d, mode: 'rib' });
    // Tartan's FIB run: tartan-node + --tartan-fib-extra; "n/a (not implemented)" if no route reaches the kernel.
    if (o.fib && d !== 'gobgp' && d !== 'sink') plan.push({ kind: d, mode: 'fib' });
  }
  for (const n of o.ns) {
    for (let rep = 0; rep < o.repeat; rep++) {
      for (const p of plan) {
        log(`run ${p.kind}/${p.mode} N=${n} rep ${rep + 1}/${o.repeat} (load ${loadavg().map((x) => x.toFixed(2)).join(' ')})`);
        const r = await runOnce(o, p.kind, p.mode, n, rep);
        results.push(r);
        const rib = r.rib ? `${r.rib.s.toFixed(3)} s` : r.status;
        const fib = typeof r.fib === 'object' ? `${r.fib.s.toFixed(3)} s` : (r.fib ?? '-');
        log(
          `  → RIB ${rib}, FIB ${fib}, B/route ${r.bytesPerRoute?.toFixed(0) ?? '-'}, sender write ${r.sender?.writeS?.toFixed(3) ?? '-'} s` +
            ` (machine ${r.busyPctBefore?.toFixed(0) ?? '?'}% busy before, waited ${r.waitedQuietS?.toFixed(0) ?? 0} s)`,
        );
      }
      if (o.ipBatch) {
        const r = await runIpBatch(o, n, rep);
        results.push(r);
        log(`  → ip -batch N=${n}: ${r.batchS?.toFixed(3) ?? r.error} s`);
      }
    }
  }
  const summary = summarise(results, o.daemons, o.ns);
  const doc = {
    benchmark: 'bench/rib',
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: mach,
    loadavgAtEnd: loadavg(),
    versions,
    tartanHasFib: o.daemons.includes('tartan') ? tartanHasFib() : undefined,
    options: o,
    method: {
      session: `eBGP, sender AS ${SENDER_AS} -> daemon AS ${LOCAL_AS}, daemon passive, sender in its own namespace`,
      routes: `N consecutive /32s from ${o.firstPrefix}, ORIGIN IGP, AS_PATH [${SENDER_AS}], NEXT_HOP sender, packed into 4096-byte UPDATEs`,
      time: 'Established (sender: first KEEPALIVE after OPENs) to the reply of the first poll that saw count >= N',
      pollMs: {
        default: o.pollMs,
        gobgp:
          o.gobgpCount === 'quiet'
            ? `CPU time sampled every ${o.pollMs} ms; count asked once CPU flat ${QUIET_MS} ms after the sender wrote everything; time = last CPU increase`
            : o.gobgpPollMs,
        fib: `max(${o.pollMs}, 3 x cost of reading fib_triestat)`,
      },
      memory: 'sum over daemon processes of VmHWM (1 s after full) minus VmRSS idle just before the sender starts',
    },
    summary,
    runs: results,
  };
  const table = renderTable(doc.summary, doc);
  process.stdout.write(`${table}\n`);
  if (o.out) {
    writeFileSync(o.out, JSON.stringify({ ...doc, table }, null, 2));
    log(`results written to ${o.out}`);
  }
}

process.on('beforeExit', () => {
  // The event loop drained while a run was awaiting something that can no longer happen: a bug.
  if (currentLab) {
    log(`internal error: event loop drained mid-run (lab ${currentLab.label})`);
    process.exitCode = 3;
  }
});

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    log(`${sig}: tearing down`);
    const lab = currentLab;
    void (lab ? lab.destroy() : Promise.resolve()).finally(() => process.exit(130));
  });
}

main().catch((e: unknown) => {
  log(`fatal: ${(e as Error).stack ?? String(e)}`);
  void (currentLab ? currentLab.destroy() : Promise.resolve()).finally(() => process.exit(1));
});
