/**
 * Pure diff of desired vs programmed state → one `iptables-restore --noflush`
 * batch for a table.
 *
 * Granularity: a whole chain. A chain whose hash list differs is redeclared
 * (`:chain - -`, which creates it or, with --noflush, flushes it) and all of
 * its rules re-added, in the same atomic batch. This is simpler than Felix's
 * per-rule -R/-D/-I edits and gives the same guarantee that matters: chains
 * whose hash did not change are never written (their counters survive).
 * Chains no longer wanted are flushed (dropping their own references) and
 * deleted with `-X` in the same batch, after every chain referencing them
 * has been rewritten. Hooks in kernel chains are inserted at the top
 * (Felix ChainInsertMode=insert) when missing; duplicates, hooks with
 * unknown hashes and rules that jump to our chains without our hash are
 * deleted by their exact spec. Nothing else in kernel chains is touched.
 */
import type { RenderedChain, RenderedTable } from '../render/types';
import { ruleLine } from '../render/text';
import type { HookEntry, ProgrammedTable } from './saved';

export interface TablePlan {
  /** null when nothing needs writing. */
  text: string | null;
  /** Chains rewritten because they existed with different content. */
  rewritten: string[];
  created: string[];
  deleted: string[];
  hooksInserted: number;
  hooksDeleted: number;
  /** Number of restore lines (metrics: felix_iptables_lines_executed). */
  lines: number;
  /** Desired chains that are not the very objects of `applied` (written, or found equal by their hashes). */
  renewed: RenderedChain[];
}

/**
 * `applied`: the chains of the last successful apply when `actual` is that
 * apply's cache (not a read-back); a chain that is the very same object is
 * unchanged and skipped without comparing its hashes.
 */
export function planTable(
  desired: RenderedTable,
  actual: ProgrammedTable,
  commentPrefix: string,
  applied?: ReadonlyMap<string, RenderedChain>,
): TablePlan {
  const declare: string[] = [];
  const adds: string[] = [];
  const rewritten: string[] = [];
  const created: string[] = [];
  const renewed: RenderedChain[] = [];
  /** Desired chains that exist in `actual` (when that is all of them, nothing is deleted). */
  let present = 0;
  for (const c of desired.chains) {
    const have = actual.chains.get(c.name);
    if (have !== undefined) present++;
    if (applied !== undefined && have !== undefined && applied.get(c.name) === c) continue;
    renewed.push(c);
    if (have !== undefined && have.length === c.rules.length && c.rules.every((r, i) => r.hash === have[i])) continue;
    (have === undefined ? created : rewritten).push(c.name);
    declare.push(`:${c.name} - -`);
    for (const r of c.rules) adds.push(ruleLine(c.name, r.hash, r.body, commentPrefix));
  }
  let deleted: string[] = [];
  if (present !== actual.chains.size) {
    const wanted = new Set(desired.chains.map((c) => c.name));
    deleted = [...actual.chains.keys()].filter((n) => !wanted.has(n)).sort();
  }
  for (const n of deleted) declare.push(`:${n} - -`);

  // Hooks: keep exactly one copy of each desired hook; delete everything else we own in kernel chains.
  const hookDeletes: string[] = [];
  const inserts: string[] = [];
  const byChain = new Map<string, HookEntry[]>();
  for (const h of actual.hooks) {
    const l = byChain.get(h.kernelChain) ?? [];
    l.push(h);
    byChain.set(h.kernelChain, l);
  }
  const desiredByChain = new Map<string, typeof desired.hooks>();
  for (const h of desired.hooks) desiredByChain.set(h.kernelChain, [...(desiredByChain.get(h.kernelChain) ?? []), h]);
  for (const [kc, present] of byChain) {
    const want = new Set((desiredByChain.get(kc) ?? []).map((h) => h.hash));
    const kept = new Set<string>();
    for (const h of present) {
      if (h.hash !== null && want.has(h.hash) && !kept.has(h.hash)) kept.add(h.hash);
      else hookDeletes.push(`-D ${kc} ${h.spec}`);
    }
  }
  for (const [kc, hooks] of desiredByChain) {
    const present = new Set((byChain.get(kc) ?? []).map((h) => h.hash));
    // Inserted at 1 in reverse so they end up in rendered order at the top.
    for (const h of [...hooks].reverse()) {
      if (!present.has(h.hash)) inserts.push(`-I ${kc} 1 -m comment --comment "${commentPrefix}${h.hash}" ${h.body}`);
    }
  }
  const body = [...declare, ...hookDeletes, ...adds, ...inserts, ...deleted.map((n) => `-X ${n}`)];
  return {
    text: body.length === 0 ? null : [`*${desired.table}`, ...body, 'COMMIT', ''].join('\n'),
    rewritten,
    created,
    deleted,
    hooksInserted: inserts.length,
    hooksDeleted: hookDeletes.length,
    lines: body.length,
    renewed,
  };
}

/**
 * Update the apply cache in place after a successful batch: only the
 * chains the plan wrote or deleted change (cheaper than `programmedAfter`).
 */
export function updateProgrammed(cache: ProgrammedTable, desired: RenderedTable, plan: TablePlan, commentPrefix: string): ProgrammedTable {
  const touched = new Set([...plan.created, ...plan.rewritten]);
  // Every written chain is in `renewed` (it was not the applied object).
  if (touched.size > 0) for (const c of plan.renewed) if (touched.has(c.name)) cache.chains.set(c.name, c.rules.map((r) => r.hash));
  for (const n of plan.deleted) cache.chains.delete(n);
  cache.hooks = programmedAfter({ ...desired, chains: [] }, commentPrefix).hooks;
  return cache;
}

/** What the table looks like after `planTable`'s batch succeeded (the apply cache). */
export function programmedAfter(desired: RenderedTable, commentPrefix: string): ProgrammedTable {
  return {
    chains: new Map(desired.chains.map((c) => [c.name, c.rules.map((r) => r.hash)])),
    hooks: desired.hooks.map((h) => ({
      kernelChain: h.kernelChain,
      hash: h.hash,
      spec: `-m comment --comment "${commentPrefix}${h.hash}" ${h.body}`,
    })),
  };
}
