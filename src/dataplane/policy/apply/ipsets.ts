/**
 * ipsets: read back with `ipset save`, written with `ipset restore`.
 *
 * Changed sets are edited member by member (add/del), so a set is never
 * empty or missing while rules reference it; a set whose type changed is
 * rebuilt under a temporary name and swapped in (Felix does the same with
 * `cali4t*` sets). `ipset restore` is not atomic across lines (Felix notes
 * this too), so new sets are written before the iptables batch that
 * references them and stale sets destroyed only after it.
 */
import { TartanError } from '../../../errors';
import type { IpVersion } from '../model';
import type { RenderedIpSet, IpSetType } from '../render/types';
import { hashedName, MAX_IPSET_NAME } from '../render/hash';
import type { CommandRunner } from './exec';

export interface ProgrammedSet {
  type: string;
  family: string;
  members: Set<string>;
}

export type ProgrammedSets = Map<string, ProgrammedSet>;

/** `ipset save` output → our sets only (names starting with `<prefix><v>`). */
export function parseIpsetSave(text: string, ownPrefixes: readonly string[]): ProgrammedSets {
  const out: ProgrammedSets = new Map();
  const ours = (n: string): boolean => ownPrefixes.some((p) => n.startsWith(p));
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'create' && f[1] !== undefined && ours(f[1])) {
      const fi = f.indexOf('family');
      out.set(f[1], { type: f[2] ?? '', family: fi >= 0 ? (f[fi + 1] ?? '') : '', members: new Set() });
    } else if (f[0] === 'add' && f[1] !== undefined && f[2] !== undefined) {
      out.get(f[1])?.members.add(f[2]);
    }
  }
  return out;
}

export interface IpsetPlan {
  /** Before iptables: creations and member edits. null if nothing to do. */
  update: string | null;
  /** After iptables: destroy sets nothing references any more. */
  destroy: string | null;
  created: string[];
  updated: string[];
  destroyed: string[];
}

function famOf(v: IpVersion): string {
  return v === 4 ? 'inet' : 'inet6';
}

function createLine(name: string, type: IpSetType, v: IpVersion): string {
  return `create ${name} ${type} family ${famOf(v)} maxelem 1048576`;
}

export function planIpsets(
  desired: readonly RenderedIpSet[],
  actual: ProgrammedSets,
  v: IpVersion,
  ownPrefix: string,
  /** The sets of the last successful apply when `actual` is its cache: identical objects are unchanged. */
  applied?: ReadonlyMap<string, RenderedIpSet>,
): IpsetPlan {
  const up: string[] = [];
  const created: string[] = [];
  const updated: string[] = [];
  const want = new Set<string>();
  for (const s of desired) {
    want.add(s.name);
    if (applied !== undefined && applied.get(s.name) === s && actual.has(s.name)) continue;
    const have = actual.get(s.name);
    if (have === undefined) {
      created.push(s.name);
      up.push(createLine(s.name, s.type, v));
      for (const m of s.members) up.push(`add ${s.name} ${m}`);
      continue;
    }
    if (have.type !== s.type || have.family !== famOf(v)) {
      const tmp = hashedName(`${ownPrefix}t-`, s.name, MAX_IPSET_NAME);
      updated.push(s.name);
      up.push(`create ${tmp} ${s.type} family ${famOf(v)} maxelem 1048576`, `flush ${tmp}`);
      for (const m of s.members) up.push(`add ${tmp} ${m}`);
      up.push(`swap ${tmp} ${s.name}`, `destroy ${tmp}`);
      continue;
    }
    const wantMembers = new Set(s.members);
    const adds = s.members.filter((m) => !have.members.has(m));
    const dels = [...have.members].filter((m) => !wantMembers.has(m)).sort();
    if (adds.length + dels.length === 0) continue;
    updated.push(s.name);
    for (const m of dels) up.push(`del ${s.name} ${m}`);
    for (const m of adds) up.push(`add ${s.name} ${m}`);
  }
  const destroyed = [...actual.keys()].filter((n) => !want.has(n)).sort();
  return {
    update: up.length > 0 ? up.join('\n') + '\n' : null,
    destroy: destroyed.length > 0 ? destroyed.map((n) => `destroy ${n}`).join('\n') + '\n' : null,
    created,
    updated,
    destroyed,
  };
}

/** What is programmed after a successful plan (the apply cache). */
export function setsAfter(desired: readonly RenderedIpSet[], v: IpVersion): ProgrammedSets {
  return new Map(desired.map((s) => [s.name, { type: s.type, family: famOf(v), members: new Set(s.members) }]));
}

/** Update the apply cache in place after a successful plan: only the sets it wrote or destroyed change. */
export function updateSets(cache: ProgrammedSets, desired: readonly RenderedIpSet[], plan: IpsetPlan, v: IpVersion): ProgrammedSets {
  const touched = new Set([...plan.created, ...plan.updated]);
  for (const s of desired) {
    if (touched.has(s.name)) cache.set(s.name, { type: s.type, family: famOf(v), members: new Set(s.members) });
  }
  for (const n of plan.destroyed) cache.delete(n);
  return cache;
}

export class IpsetDriver {
  calls = 0;
  errors = 0;

  constructor(private readonly run: CommandRunner) {}

  async save(ownPrefixes: readonly string[]): Promise<ProgrammedSets> {
    this.calls++;
    const res = await this.exec(['ipset', 'save']);
    if (res.code !== 0) {
      this.errors++;
      throw new TartanError('IPSET_FAILED', `ipset save exited ${res.code}: ${res.stderr.trim()}`);
    }
    return parseIpsetSave(res.stdout, ownPrefixes);
  }

  async restore(text: string): Promise<void> {
    this.calls++;
    // -exist: re-adding a present member or re-creating an identical set is not an error.
    const res = await this.exec(['ipset', '-exist', 'restore'], text);
    if (res.code !== 0) {
      this.errors++;
      const m = /line (\d+)/i.exec(res.stderr);
      const n = m ? Number(m[1]) : NaN;
      const line = Number.isInteger(n) ? text.split('\n')[n - 1] : undefined;
      throw new TartanError(
        'IPSET_FAILED',
        `ipset restore exited ${res.code}${line !== undefined ? ` at line ${n}: ${line}` : ''}: ${res.stderr.trim()}`,
      );
    }
  }

  private async exec(argv: string[], input?: string): ReturnType<CommandRunner> {
    try {
      return await this.run(argv, input);
    } catch (e) {
      throw new TartanError('IPSET_FAILED', `cannot run ${argv.join(' ')}`, { cause: e });
    }
  }
}
