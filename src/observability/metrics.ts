/**
 * Prometheus metrics, one `tartan_` family (Felix's `felix_*` names where
 * Felix has the same thing, calico.md §4d), served on :9091 /metrics.
 *
 * Pull-style: every gauge and counter is filled from the snapshot
 * providers when Prometheus scrapes, so a metric can never disagree with
 * `tartanctl node status`. The one push-style family is the iptables-restore
 * duration histogram, fed by wrapping the policy dataplane's CommandRunner
 * (`instrumentRunner`), because a duration exists only while a call runs.
 *
 * Counters mirror monotonic counters the daemon already keeps: at scrape
 * they are reset and set to the current value (a peer that is removed
 * disappears instead of lingering).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { VERSION } from '../version';
import type { BgpSnapshot, FibSnapshot, ObservedPeer, SnapshotProviders } from './types';

export const METRICS_PREFIX = 'tartan_';
export const DEFAULT_METRICS_PORT = 9091;

const PEER_STATES = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'] as const;
const SYNC_STATES = ['connecting', 'connected', 'disconnected', 'resyncing', 'stopped'] as const;

/** RFC 4271 §4.5 (+ RFC 2918 code 7) error code names, for the `error` label. */
export const NOTIFICATION_CODES: Record<number, string> = {
  1: 'message_header_error',
  2: 'open_message_error',
  3: 'update_message_error',
  4: 'hold_timer_expired',
  5: 'fsm_error',
  6: 'cease',
  7: 'route_refresh_message_error',
};

type RunResult = { code: number; stdout: string; stderr: string };

/** A command runner as src/dataplane/policy defines it (argv, stdin → exit code and output). */
export interface CommandRunner {
  (argv: readonly string[], input?: string): Promise<RunResult>;
  /** A long-lived process fed batches (iptables-nft-restore): each batch counts as one restore. */
  session?: (argv: readonly string[]) => { run(input: string): Promise<RunResult & { unsupported?: boolean }>; close(): Promise<void> };
}

export interface MetricsOptions {
  /** Process metrics (CPU, memory, event loop, GC) as tartan_process_* / tartan_nodejs_*; default true. */
  processMetrics?: boolean;
  registry?: Registry;
}

function setCounter(c: Counter<string>, labels: Record<string, string | number>, value: number): void {
  if (Number.isFinite(value) && value > 0) c.inc(labels, value);
  else c.inc(labels, 0);
}

export class TartanMetrics {
  readonly registry: Registry;
  private readonly restoreDuration: Histogram<'family'>;
  private readonly restoreCalls: Counter<'family'>;
  private readonly restoreErrors: Counter<'family'>;
  private readonly ipsetCalls: Counter<string>;
  private readonly ipsetErrors: Counter<string>;

  constructor(
    private readonly sources: SnapshotProviders,
    opts: MetricsOptions = {},
  ) {
    const registry = opts.registry ?? new Registry();
    this.registry = registry;
    const reg = [registry];
    const bgp = (): BgpSnapshot | undefined => this.sources.bgp?.();

    new Gauge({
      name: 'tartan_build_info',
      help: 'Tartan version; always 1',
      labelNames: ['version'],
      registers: reg,
      collect() {
        this.reset();
        this.set({ version: VERSION }, 1);
      },
    });

    // ---- BGP --------------------------------------------------------------
    new Gauge({
      name: 'tartan_bgp_sessions',
      help: 'BGP sessions by FSM state (RFC 4271 §8.2.2)',
      labelNames: ['state'],
      registers: reg,
      collect() {
        const s = bgp();
        this.reset();
        if (!s) return;
        for (const st of PEER_STATES) this.set({ state: st }, s.peers.filter((p) => p.enabled && p.state === st).length);
        this.set({ state: 'Disabled' }, s.peers.filter((p) => !p.enabled).length);
      },
    });
    new Gauge({
      name: 'tartan_bgp_peer_established',
      help: '1 while the session with the peer is Established, else 0',
      labelNames: ['peer', 'peer_as', 'peer_type'],
      registers: reg,
      collect() {
        const s = bgp();
        this.reset();
        for (const p of s?.peers ?? []) this.set({ peer: p.address, peer_as: String(p.asNumber), peer_type: p.session }, p.state === 'Established' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'tartan_bgp_routes',
      help: 'Routes per peer, address family and table: received (Adj-RIB-In), accepted (after import policy), advertised (Adj-RIB-Out)',
      labelNames: ['peer', 'family', 'table'],
      registers: reg,
      collect() {
        const s = bgp();
        this.reset();
        for (const p of s?.peers ?? []) {
          for (const f of p.families) {
            this.set({ peer: p.address, family: f.family, table: 'received' }, f.received);
            this.set({ peer: p.address, family: f.family, table: 'accepted' }, f.accepted);
            this.set({ peer: p.address, family: f.family, table: 'advertised' }, f.advertised);
          }
        }
      },
    });
    // Three per-peer counters with an in/out direction, read from the same snapshot.
    const perPeerInOut = (name: string, help: string, pick: (p: ObservedPeer) => { in: number; out: number } | undefined): void => {
      new Counter({
        name,
        help,
        labelNames: ['peer', 'direction'],
        registers: reg,
        collect() {
          const s = bgp();
          this.reset();
          for (const p of s?.peers ?? []) {
            const v = pick(p);
            if (!v) continue;
            setCounter(this, { peer: p.address, direction: 'in' }, v.in);
            setCounter(this, { peer: p.address, direction: 'out' }, v.out);
          }
        },
      });
    };
    perPeerInOut('tartan_bgp_messages_total', 'BGP messages per peer and direction', (p) => ({ in: p.messages.received, out: p.messages.sent }));
    perPeerInOut('tartan_bgp_updates_total', 'BGP UPDATE messages per peer and direction', (p) => ({ in: p.messages.updatesReceived, out: p.messages.updatesSent }));
    perPeerInOut('tartan_bgp_withdrawals_total', 'Withdrawn prefixes per peer and direction', (p) =>
      p.withdrawals ? { in: p.withdrawals.received, out: p.withdrawals.sent } : undefined,
    );
    new Counter({
      name: 'tartan_bgp_notifications_total',
      help: 'BGP NOTIFICATION messages per peer, direction and error code/subcode (code "unknown" when the speaker did not say)',
      labelNames: ['peer', 'direction', 'code', 'subcode', 'error'],
      registers: reg,
      collect() {
        const s = bgp();
        this.reset();
        for (const p of s?.peers ?? []) {
          for (const [direction, total] of [
            ['in', p.messages.notificationsReceived],
            ['out', p.messages.notificationsSent],
          ] as const) {
            const known = (s?.notifications ?? []).filter((n) => n.peer === p.address && (n.direction === 'received') === (direction === 'in'));
            let counted = 0;
            for (const n of known) {
              setCounter(this, { peer: p.address, direction, code: String(n.code), subcode: String(n.subcode), error: NOTIFICATION_CODES[n.code] ?? 'unassigned' }, n.count);
              counted += n.count;
            }
            if (total > counted) setCounter(this, { peer: p.address, direction, code: 'unknown', subcode: 'unknown', error: 'unknown' }, total - counted);
          }
        }
      },
    });

    // ---- kernel FIB -------------------------------------------------------
    const fibs = (): FibSnapshot[] => {
      const f = this.sources.fib?.();
      return f === undefined ? [] : Array.isArray(f) ? f : [f];
    };
    new Counter({
      name: 'tartan_fib_operations_total',
      help: 'Kernel route operations that succeeded, per routing table and operation',
      labelNames: ['table', 'op'],
      registers: reg,
      collect() {
        this.reset();
        for (const f of fibs()) {
          const table = String(f.table);
          setCounter(this, { table, op: 'add' }, f.counters.adds);
          setCounter(this, { table, op: 'replace' }, f.counters.replaces);
          setCounter(this, { table, op: 'delete' }, f.counters.deletes);
        }
      },
    });
    new Counter({
      name: 'tartan_fib_errors_total',
      help: 'Kernel route operations that failed, per routing table',
      labelNames: ['table'],
      registers: reg,
      collect() {
        this.reset();
        for (const f of fibs()) setCounter(this, { table: String(f.table) }, f.counters.errors);
      },
    });
    new Counter({
      name: 'tartan_fib_repairs_total',
      help: 'Kernel route operations that fixed drift (a route changed or removed behind our back)',
      labelNames: ['table'],
      registers: reg,
      collect() {
        this.reset();
        for (const f of fibs()) setCounter(this, { table: String(f.table) }, f.counters.repairs);
      },
    });
    new Counter({
      name: 'tartan_fib_resyncs_total',
      help: 'Full kernel route table resyncs (dump and diff), per routing table',
      labelNames: ['table'],
      registers: reg,
      collect() {
        this.reset();
        for (const f of fibs()) setCounter(this, { table: String(f.table) }, f.counters.resyncs);
      },
    });
    new Gauge({
      name: 'tartan_fib_routes',
      help: 'Routes Tartan owns in the kernel routing table (felix_route_table_num_routes)',
      labelNames: ['table'],
      registers: reg,
      collect() {
        this.reset();
        for (const f of fibs()) if (f.routes !== undefined) this.set({ table: String(f.table) }, f.routes);
      },
    });

    // ---- policy dataplane (iptables / ipset) ------------------------------
    const policy = () => this.sources.policy?.();
    const policyGauge = (name: string, help: string, pick: (p: NonNullable<ReturnType<typeof policy>>) => number | undefined): void => {
      new Gauge({
        name,
        help,
        registers: reg,
        collect() {
          this.reset();
          const p = policy();
          const v = p ? pick(p) : undefined;
          if (v !== undefined) this.set(v);
        },
      });
    };
    policyGauge('tartan_iptables_chains', 'iptables chains Tartan programs (felix_iptables_chains)', (p) => p.chains);
    policyGauge('tartan_iptables_rules', 'iptables rules in those chains (felix_iptables_rules)', (p) => p.rules);
    policyGauge('tartan_ipsets', 'ipsets Tartan programs (felix_ipsets_calico)', (p) => p.ipsets);
    const policyCounter = (name: string, help: string, pick: (p: NonNullable<ReturnType<typeof policy>>) => number | undefined): void => {
      new Counter({
        name,
        help,
        registers: reg,
        collect() {
          this.reset();
          const p = policy();
          const v = p ? pick(p) : undefined;
          if (v !== undefined) setCounter(this, {}, v);
        },
      });
    };
    policyCounter('tartan_policy_repairs_total', 'iptables chains, hooks and ipsets rewritten because they had drifted', (p) => p.repairs);
    policyCounter('tartan_policy_resyncs_total', 'Periodic read-backs of iptables and ipsets', (p) => p.resyncs);
    policyCounter('tartan_iptables_save_calls_total', 'iptables-save runs (felix_iptables_save_calls)', (p) => p.iptables?.saveCalls);
    policyCounter('tartan_iptables_save_errors_total', 'iptables-save runs that failed (felix_iptables_save_errors)', (p) => p.iptables?.saveErrors);
    policyCounter('tartan_iptables_lines_executed_total', 'iptables-restore input lines (felix_iptables_lines_executed)', (p) => p.iptables?.linesExecuted);

    this.restoreCalls = new Counter({ name: 'tartan_iptables_restore_calls_total', help: 'iptables-restore / ip6tables-restore runs (felix_iptables_restore_calls)', labelNames: ['family'], registers: reg });
    this.restoreErrors = new Counter({
      name: 'tartan_iptables_restore_errors_total',
      help: 'iptables-restore runs that failed (felix_iptables_restore_errors)',
      labelNames: ['family'],
      registers: reg,
    });
    this.restoreDuration = new Histogram({
      name: 'tartan_iptables_restore_duration_seconds',
      help: 'Time one iptables-restore run took',
      labelNames: ['family'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: reg,
    });
    this.ipsetCalls = new Counter({ name: 'tartan_ipset_calls_total', help: 'ipset runs (felix_ipset_calls)', registers: reg });
    this.ipsetErrors = new Counter({ name: 'tartan_ipset_errors_total', help: 'ipset runs that failed (felix_ipset_errors)', registers: reg });

    // ---- datastore --------------------------------------------------------
    const ds = () => this.sources.datastore?.();
    new Gauge({
      name: 'tartan_datastore_synced',
      help: '1 when the datastore watch is in sync, else 0',
      registers: reg,
      collect() {
        this.reset();
        const s = ds();
        if (s) this.set((s.synced ?? s.state === 'connected') ? 1 : 0);
      },
    });
    new Gauge({
      name: 'tartan_datastore_state',
      help: 'Datastore watch state; 1 for the current one',
      labelNames: ['state'],
      registers: reg,
      collect() {
        this.reset();
        const s = ds();
        if (s) for (const st of SYNC_STATES) this.set({ state: st }, s.state === st ? 1 : 0);
      },
    });
    new Gauge({
      name: 'tartan_datastore_watch_lag_revisions',
      help: 'etcd store revision minus the last revision delivered to Tartan (0 when caught up)',
      registers: reg,
      collect() {
        this.reset();
        const s = ds();
        if (s) this.set(s.lag);
      },
    });
    new Gauge({
      name: 'tartan_datastore_revision',
      help: 'Last etcd revision delivered to Tartan',
      registers: reg,
      collect() {
        this.reset();
        const s = ds();
        if (s) this.set(s.revision);
      },
    });
    new Counter({
      name: 'tartan_datastore_reconnects_total',
      help: 'Times the datastore watch reconnected after losing etcd',
      registers: reg,
      collect() {
        this.reset();
        const s = ds();
        if (s?.reconnects !== undefined) setCounter(this, {}, s.reconnects);
      },
    });

    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: METRICS_PREFIX });
  }

  /**
   * Wrap the policy dataplane's CommandRunner to time iptables-restore and
   * count ipset runs: `new PolicyDataplane({ runner: metrics.instrumentRunner(processRunner()) })`.
   */
  instrumentRunner(run: CommandRunner): CommandRunner {
    const restoreFamily = (argv: readonly string[]): string | null => {
      const prog = (argv[0] ?? '').split('/').pop() ?? '';
      return /^ip6?tables(-legacy|-nft)?-restore$/.test(prog) ? (prog.startsWith('ip6') ? '6' : '4') : null;
    };
    const timed = async <R extends RunResult & { unsupported?: boolean }>(family: string, fn: () => Promise<R>): Promise<R> => {
      const end = this.restoreDuration.startTimer({ family });
      try {
        const res = await fn();
        // A session that could not start ran nothing (the batch is then run, and counted, one-shot).
        if (res.unsupported !== true) {
          this.restoreCalls.inc({ family });
          if (res.code !== 0) this.restoreErrors.inc({ family });
          end();
        }
        return res;
      } catch (e) {
        this.restoreCalls.inc({ family });
        this.restoreErrors.inc({ family });
        end();
        throw e;
      }
    };
    const wrapped: CommandRunner = async (argv, input) => {
      const prog = (argv[0] ?? '').split('/').pop() ?? '';
      const family = restoreFamily(argv);
      if (family !== null) return timed(family, () => run(argv, input));
      if (prog === 'ipset') {
        this.ipsetCalls.inc();
        try {
          const res = await run(argv, input);
          if (res.code !== 0) this.ipsetErrors.inc();
          return res;
        } catch (e) {
          this.ipsetErrors.inc();
          throw e;
        }
      }
      return run(argv, input);
    };
    const session = run.session;
    if (session !== undefined) {
      wrapped.session = (argv) => {
        const s = session(argv);
        const family = restoreFamily(argv);
        return { run: (input) => (family === null ? s.run(input) : timed(family, () => s.run(input))), close: () => s.close() };
      };
    }
    return wrapped;
  }

  /** The exposition text (what /metrics serves). */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** Count reconnects of a Syncer from its status events; returns a `datastore` provider. */
export function trackSyncer(syncer: {
  status(): import('../datastore').SyncStatus;
  on(l: (e: { type: string; status?: import('../datastore').SyncStatus }) => void): () => void;
  ready(): Promise<void>;
}): { snapshot: () => import('./types').DatastoreSnapshot; stop: () => void } {
  let reconnects = 0;
  let wasDown = false;
  let synced = false;
  void syncer.ready().then(() => {
    synced = true;
  });
  const off = syncer.on((e) => {
    if (e.type !== 'status' || !e.status) return;
    if (e.status.state === 'disconnected') wasDown = true;
    if (e.status.state === 'connected' && wasDown) {
      reconnects++;
      wasDown = false;
    }
  });
  return {
    snapshot: () => {
      const s = syncer.status();
      return { ...s, synced: synced && s.state === 'connected', reconnects };
    },
    stop: off,
  };
}
