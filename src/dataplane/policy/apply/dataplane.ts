/**
 * PolicyDataplane: keeps the kernel's Tartan chains and ipsets equal to the
 * rendering of the latest PolicyInput.
 *
 * - `apply(input)` renders, diffs against a cache of what it last programmed
 *   (Felix likewise trusts its cache between read-backs) and writes only the
 *   difference: ipset additions, one iptables-restore batch per table and
 *   family, then ipset deletions.
 * - `resync()` (periodic when started; Felix IptablesRefreshInterval) reads
 *   everything back with iptables-save / ipset save and rewrites whatever
 *   drifted: a deleted rule, a flushed or deleted chain, a deleted hook, a
 *   changed set. Each repaired chain, hook or set counts in `repairs`.
 * - Any failed write drops the cache, so the next operation reads back first.
 * - With the nft backend, iptables batches go to one long-lived
 *   iptables-nft-restore (restore-session.ts). If it dies in the middle of a
 *   batch, whether that batch was committed is unknown: the operation reads
 *   everything back and programs the difference once more, with a new process.
 * Operations are serialised; a resync never interleaves with an apply.
 */
import { TartanError, errorMessage, isTartanError } from '../../../errors';
import { renderConfig, type RenderConfig } from '../config';
import type { IpVersion, PolicyInput } from '../model';
import { PolicyRenderer } from '../render';
import { ChainNames } from '../render/names';
import type { SelectorParser } from '../render/selector-api';
import { TABLES, type RenderedChain, type RenderedDataplane, type RenderedIpSet, type TableName } from '../render/types';
import { detectBackend, type IptablesBackend } from './backend';
import { processRunner, type CommandRunner } from './exec';
import { IpsetDriver, planIpsets, setsAfter, updateSets, type ProgrammedSets } from './ipsets';
import { IptablesDriver } from './iptables';
import { planTable, programmedAfter, updateProgrammed } from './plan';
import type { ProgrammedTable } from './saved';

export interface PolicyDataplaneOptions {
  /** Defaults to running commands directly. */
  runner?: CommandRunner;
  backend?: IptablesBackend | 'auto';
  families?: IpVersion[];
  config?: Partial<RenderConfig>;
  parseSelector?: SelectorParser;
  /** Periodic read-back interval for start() (Felix IptablesRefreshInterval, 180 s). */
  resyncIntervalMs?: number;
  /** Called with errors of periodic resyncs (they cannot be thrown anywhere). */
  onError?: (err: unknown) => void;
  /**
   * nft backend: feed iptables batches to one long-lived iptables-nft-restore
   * when the runner can start one (processRunner can). Default true; false
   * runs one process per batch, as with the legacy backend.
   */
  restoreSession?: boolean;
}

export interface PolicyCounters {
  restoreCalls: number;
  restoreErrors: number;
  /** Total wall time spent in iptables-restore, ms. */
  restoreMs: number;
  saveCalls: number;
  saveErrors: number;
  linesExecuted: number;
  ipsetCalls: number;
  ipsetErrors: number;
  repairs: number;
  resyncs: number;
  /** Operations that read back and programmed again after a restore process died mid-batch. */
  restoreCrashRetries: number;
}

export interface TableReport {
  created: string[];
  rewritten: string[];
  deleted: string[];
  hooksInserted: number;
  hooksDeleted: number;
}

export interface ApplyReport {
  renderMs: number;
  applyMs: number;
  tables: Record<string, TableReport>;
  ipsets: { created: string[]; updated: string[]; destroyed: string[] };
  /** Fixes of drift (only counted when the desired state did not change). */
  repairs: number;
}

interface FamilyState {
  v: IpVersion;
  iptables: IptablesDriver;
  tables: Partial<Record<TableName, ProgrammedTable>>;
  sets: ProgrammedSets | null;
  /** What the cache above was last made from (identity fast path for unchanged chains and sets). */
  appliedChains: Partial<Record<TableName, Map<string, RenderedChain>>>;
  appliedSets: Map<string, RenderedIpSet> | null;
}

export class PolicyDataplane {
  private readonly cfg: RenderConfig;
  private readonly run: CommandRunner;
  private readonly names: ChainNames;
  private readonly ipsets: IpsetDriver;
  private families: FamilyState[] | null = null;
  /** Incremental: keeps its index, selections, chains and sets between applies; renders only our families. */
  private readonly renderer: PolicyRenderer;
  private desired: RenderedDataplane | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  /** Total drift repairs since start (metric). */
  repairs = 0;
  resyncs = 0;
  restoreCrashRetries = 0;

  constructor(private readonly opts: PolicyDataplaneOptions = {}) {
    this.cfg = renderConfig(opts.config);
    this.run = opts.runner ?? processRunner();
    this.names = new ChainNames(this.cfg);
    this.ipsets = new IpsetDriver(this.run);
    this.renderer = new PolicyRenderer({
      config: this.cfg,
      families: opts.families ?? [4, 6],
      ...(opts.parseSelector ? { parseSelector: opts.parseSelector } : {}),
    });
  }

  /** Render `input` and program the difference. Rejects (keeping the old dataplane) on invalid input. */
  apply(input: PolicyInput): Promise<ApplyReport> {
    return this.serial(async () => {
      const t0 = performance.now();
      const rendered = this.renderer.render(input);
      const t1 = performance.now();
      this.desired = rendered;
      const report = await this.programRetrying(false);
      report.renderMs = t1 - t0;
      report.applyMs = performance.now() - t1;
      return report;
    });
  }

  /** Read everything back and repair drift from the last applied state. */
  resync(): Promise<ApplyReport> {
    return this.serial(async () => {
      this.resyncs++;
      const t = performance.now();
      const report = await this.programRetrying(true);
      report.applyMs = performance.now() - t;
      this.repairs += report.repairs;
      return report;
    });
  }

  start(): void {
    if (this.timer !== null) return;
    const every = this.opts.resyncIntervalMs ?? 180_000;
    this.timer = setInterval(() => {
      if (this.desired === null) return;
      this.resync().catch((e: unknown) => this.opts.onError?.(e));
    }, every);
    this.timer.unref();
  }

  /** Stop the periodic resync and end long-lived restore processes (a later apply starts new ones). */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const f of this.families ?? []) f.iptables.close();
  }

  /**
   * Command counters over both families (felix_iptables_restore_calls,
   * _errors, felix_iptables_save_calls, felix_iptables_lines_executed,
   * felix_ipset_calls, felix_ipset_errors) and the summed duration of
   * iptables-restore runs.
   */
  counters(): PolicyCounters {
    const out: PolicyCounters = {
      restoreCalls: 0,
      restoreErrors: 0,
      restoreMs: 0,
      saveCalls: 0,
      saveErrors: 0,
      linesExecuted: 0,
      ipsetCalls: this.ipsets.calls,
      ipsetErrors: this.ipsets.errors,
      repairs: this.repairs,
      resyncs: this.resyncs,
      restoreCrashRetries: this.restoreCrashRetries,
    };
    for (const f of this.families ?? []) {
      const c = f.iptables.counters;
      out.restoreCalls += c.restoreCalls;
      out.restoreErrors += c.restoreErrors;
      out.restoreMs += c.restoreMs;
      out.saveCalls += c.saveCalls;
      out.saveErrors += c.saveErrors;
      out.linesExecuted += c.linesExecuted;
    }
    return out;
  }

  /** Chain and ipset counts (felix_iptables_chains, felix_ipsets_calico). */
  stats(): { chains: number; rules: number; ipsets: number } {
    let chains = 0;
    let rules = 0;
    let ipsets = 0;
    if (this.desired !== null) {
      for (const f of [this.desired.v4, this.desired.v6]) {
        for (const t of TABLES) {
          chains += f.tables[t].chains.length;
          for (const c of f.tables[t].chains) rules += c.rules.length;
        }
        ipsets += f.ipsets.length;
      }
    }
    return { chains, rules, ipsets };
  }

  /**
   * program(), and once more from a full read-back if a restore process died
   * mid-batch (the caches are already dropped; the batch may or may not have
   * been committed, so only a read-back can tell what to write).
   */
  private async programRetrying(readBack: boolean): Promise<ApplyReport> {
    try {
      return await this.program(readBack);
    } catch (e) {
      if (!isTartanError(e, 'IPTABLES_RESTORE_CRASHED')) throw e;
      this.restoreCrashRetries++;
      return this.program(true);
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async familyStates(): Promise<FamilyState[]> {
    if (this.families !== null) return this.families;
    const backend = this.opts.backend === undefined || this.opts.backend === 'auto' ? await detectBackend(this.run) : this.opts.backend;
    const own = { owns: (c: string) => this.names.owns(c), commentPrefix: this.cfg.commentPrefix };
    this.families = (this.opts.families ?? [4, 6]).map((v) => ({
      v,
      iptables: new IptablesDriver(this.run, backend, v, own, undefined, { session: this.opts.restoreSession !== false }),
      tables: {},
      sets: null,
      appliedChains: {},
      appliedSets: null,
    }));
    return this.families;
  }

  private setPrefixes(v: IpVersion): string[] {
    return [`${this.cfg.ipsetPrefix}${v}-`, `${this.cfg.ipsetPrefix}${v}t-`];
  }

  private async program(readBack: boolean): Promise<ApplyReport> {
    const desired = this.desired;
    if (desired === null) throw new TartanError('POLICY_NOT_APPLIED', 'resync before the first apply');
    const report: ApplyReport = { renderMs: 0, applyMs: 0, tables: {}, ipsets: { created: [], updated: [], destroyed: [] }, repairs: 0 };
    const families = await this.familyStates();
    try {
      // Sets first (rules may reference new sets), one ipset save shared by both families.
      if (families.some((f) => readBack || f.sets === null)) {
        const all = await this.ipsets.save(families.flatMap((f) => this.setPrefixes(f.v)));
        for (const fam of families) {
          const mine = this.setPrefixes(fam.v);
          fam.sets = new Map([...all].filter(([n]) => mine.some((p) => n.startsWith(p))));
        }
      }
      const setPlans = families.map((fam) => {
        const want = (fam.v === 4 ? desired.v4 : desired.v6).ipsets;
        const applied = readBack ? undefined : (fam.appliedSets ?? undefined);
        return { fam, want, plan: planIpsets(want, fam.sets ?? new Map(), fam.v, `${this.cfg.ipsetPrefix}${fam.v}`, applied) };
      });
      for (const { plan } of setPlans) {
        if (plan.update !== null) await this.ipsets.restore(plan.update);
        report.ipsets.created.push(...plan.created);
        report.ipsets.updated.push(...plan.updated);
        report.repairs += plan.created.length + plan.updated.length;
      }
      for (const fam of families) {
        const want = fam.v === 4 ? desired.v4 : desired.v6;
        for (const table of TABLES) {
          let actual = fam.tables[table];
          const fromCache = !readBack && actual !== undefined;
          if (!fromCache || actual === undefined) actual = await fam.iptables.save(table);
          const wantTable = want.tables[table];
          const applied = fromCache ? fam.appliedChains[table] : undefined;
          const plan = planTable(wantTable, actual, this.cfg.commentPrefix, applied);
          if (plan.text !== null) {
            fam.tables[table] = undefined;
            fam.appliedChains[table] = undefined;
            await fam.iptables.restore(plan.text, plan.lines);
          }
          fam.tables[table] = fromCache ? updateProgrammed(actual, wantTable, plan, this.cfg.commentPrefix) : programmedAfter(wantTable, this.cfg.commentPrefix);
          if (applied !== undefined) {
            // Only the chains that are new objects, or gone, change in the identity map.
            for (const c of plan.renewed) applied.set(c.name, c);
            for (const n of plan.deleted) applied.delete(n);
            fam.appliedChains[table] = applied;
          } else {
            fam.appliedChains[table] = new Map(wantTable.chains.map((c) => [c.name, c]));
          }
          report.tables[`v${fam.v}/${table}`] = {
            created: plan.created,
            rewritten: plan.rewritten,
            deleted: plan.deleted,
            hooksInserted: plan.hooksInserted,
            hooksDeleted: plan.hooksDeleted,
          };
          report.repairs += plan.created.length + plan.rewritten.length + plan.deleted.length + plan.hooksInserted + plan.hooksDeleted;
        }
      }
      // Rules deleted above still hold their ipsets until nf_tables releases them, after an RCU
      // grace period; a one-shot iptables-restore waits for that when it exits, a long-lived one
      // must be ended first (else: "Set cannot be destroyed: it is in use by a kernel component").
      if (setPlans.some(({ plan }) => plan.destroy !== null)) for (const fam of families) await fam.iptables.settle();
      for (const { fam, want, plan } of setPlans) {
        if (plan.destroy !== null) await this.ipsets.restore(plan.destroy);
        report.ipsets.destroyed.push(...plan.destroyed);
        report.repairs += plan.destroyed.length;
        if (readBack || fam.appliedSets === null) fam.sets = setsAfter(want, fam.v);
        else updateSets(fam.sets ?? new Map(), want, plan, fam.v);
        fam.appliedSets = new Map(want.map((s) => [s.name, s]));
      }
    } catch (e) {
      // Unknown kernel state: read everything back next time.
      for (const fam of families) {
        fam.tables = {};
        fam.sets = null;
        fam.appliedChains = {};
        fam.appliedSets = null;
      }
      if (e instanceof TartanError) throw e;
      throw new TartanError('POLICY_APPLY_FAILED', errorMessage(e), { cause: e });
    }
    return report;
  }
}
