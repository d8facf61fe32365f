/**
 * The controller's view of the datastore (pure): resources by key, fed
 * with syncer events, turned into the desired routes / sysctls / policy
 * input on demand.
 *
 * Converted objects are memoised per resource object, so an unchanged
 * resource yields the very same model object on every build; the policy
 * renderer relies on that identity to find what changed cheaply.
 */
import type { FelixConfiguration, Kind, Resource } from '../../datastore/resources/types';
import type { SyncEvent } from '../../datastore/watch';
import type { HostEndpoint, Policy, PolicyInput, Profile, WorkloadEndpoint } from '../policy/model';
import type { RouteTarget } from '../routes/types';
import {
  interfaceSysctls,
  namespacesFromProfiles,
  toHostEndpoint,
  toPolicy,
  toProfile,
  toWorkloadEndpoint,
  usableLocalWorkloads,
  workloadRoutes,
  type ConvertProblem,
  type Family,
  type RouteSettings,
  type SysctlEntry,
} from './convert';

/** The resource kinds the controller consumes. */
export const CONTROLLER_KINDS: readonly Kind[] = [
  'WorkloadEndpoint',
  'HostEndpoint',
  'NetworkPolicy',
  'GlobalNetworkPolicy',
  'Profile',
  'FelixConfiguration',
];

/** What a change affects (routes and sysctls follow local workloads; policy follows everything). */
export interface Dirty {
  routes: boolean;
  policy: boolean;
  config: boolean;
}

interface Memo<T> {
  from: Resource;
  value: T;
  problems: ConvertProblem[];
}

export class ControllerState {
  private readonly byKind = new Map<Kind, Map<string, Resource>>();
  private readonly memo = new Map<string, Memo<unknown>>();
  inSync = false;

  constructor(private readonly nodeName: string) {
    for (const k of CONTROLLER_KINDS) this.byKind.set(k, new Map());
  }

  /** Apply one syncer event; returns what it made dirty (null: nothing). */
  apply(e: SyncEvent<Resource>): Dirty | null {
    if (e.type === 'in-sync') {
      const first = !this.inSync;
      this.inSync = true;
      return first ? { routes: true, policy: true, config: true } : null;
    }
    if (e.type !== 'added' && e.type !== 'updated' && e.type !== 'deleted') return null;
    const r = e.type === 'deleted' ? e.previous : e.value;
    const kinds = this.byKind.get(r.kind);
    if (kinds === undefined) return null;
    const prev = e.type === 'updated' ? e.previous : e.type === 'deleted' ? e.previous : undefined;
    if (e.type === 'deleted') kinds.delete(e.key);
    else kinds.set(e.key, e.value);
    this.memo.delete(e.key);
    return this.affects(r, prev);
  }

  private affects(r: Resource, prev: Resource | undefined): Dirty {
    switch (r.kind) {
      case 'WorkloadEndpoint': {
        const local = r.spec.node === this.nodeName || (prev?.kind === 'WorkloadEndpoint' && prev.spec.node === this.nodeName);
        return { routes: local, policy: true, config: false };
      }
      case 'FelixConfiguration':
        return { routes: false, policy: false, config: true };
      default:
        return { routes: false, policy: true, config: false };
    }
  }

  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, m] of this.byKind) out[k] = m.size;
    return out;
  }

  felixConfigurations(): FelixConfiguration[] {
    return [...(this.byKind.get('FelixConfiguration') ?? new Map<string, Resource>()).values()] as FelixConfiguration[];
  }

  private converted<T>(key: string, r: Resource, fn: (problems: ConvertProblem[]) => T, problems: ConvertProblem[]): T {
    const m = this.memo.get(key) as Memo<T> | undefined;
    if (m !== undefined && m.from === r) {
      problems.push(...m.problems);
      return m.value;
    }
    const own: ConvertProblem[] = [];
    const value = fn(own);
    this.memo.set(key, { from: r, value, problems: own });
    problems.push(...own);
    return value;
  }

  private list<T>(kind: Kind, fn: (r: Resource, key: string, problems: ConvertProblem[]) => T, problems: ConvertProblem[]): Array<readonly [string, T]> {
    const out: Array<readonly [string, T]> = [];
    for (const [key, r] of this.byKind.get(kind) ?? []) out.push([key, this.converted(key, r, (p) => fn(r, key, p), problems)]);
    return out;
  }

  workloadEndpoints(problems: ConvertProblem[]): Array<readonly [string, WorkloadEndpoint]> {
    return this.list('WorkloadEndpoint', (r) => toWorkloadEndpoint(r as Extract<Resource, { kind: 'WorkloadEndpoint' }>), problems);
  }

  localWorkloads(problems: ConvertProblem[]): Array<readonly [string, WorkloadEndpoint]> {
    return usableLocalWorkloads(this.workloadEndpoints([]), this.nodeName, problems);
  }

  /** Desired workload routes and the interfaces (with their sysctls) of local workloads. */
  desiredRoutes(s: RouteSettings, problems: ConvertProblem[]): { routes: Map<string, RouteTarget>; sysctls: Map<string, SysctlEntry[]> } {
    const locals = this.localWorkloads(problems);
    const routes = workloadRoutes(locals, s, problems);
    const sysctls = new Map<string, SysctlEntry[]>();
    for (const [, w] of locals) sysctls.set(w.interfaceName, interfaceSysctls(w.interfaceName, s.families));
    return { routes, sysctls };
  }

  /** The whole policy input (every node's endpoints: remote ones only feed ipsets). */
  policyInput(problems: ConvertProblem[]): PolicyInput {
    const all = this.workloadEndpoints(problems);
    const usable = new Set(this.localWorkloads([]).map(([k]) => k));
    // Local endpoints that cannot be programmed are left out altogether; remote ones stay as set members.
    const workloadEndpoints = all.filter(([k, w]) => w.node !== this.nodeName || usable.has(k)).map(([, w]) => w);
    const policies: Policy[] = [
      ...this.list('GlobalNetworkPolicy', (r, k, p) => toPolicy(r as Extract<Resource, { kind: 'GlobalNetworkPolicy' }>, k, p), problems),
      ...this.list('NetworkPolicy', (r, k, p) => toPolicy(r as Extract<Resource, { kind: 'NetworkPolicy' }>, k, p), problems),
    ].map(([, v]) => v);
    const profiles: Profile[] = this.list('Profile', (r, k, p) => toProfile(r as Extract<Resource, { kind: 'Profile' }>, k, p), problems).map(([, v]) => v);
    const heps = this.list('HostEndpoint', (r) => toHostEndpoint(r as Extract<Resource, { kind: 'HostEndpoint' }>, this.nodeName), problems);
    const hostEndpoints: HostEndpoint[] = [];
    const hepIfaces = new Map<string, string>();
    for (const [k, h] of heps) {
      if (h.node === this.nodeName) {
        const other = hepIfaces.get(h.interfaceName);
        if (other !== undefined) {
          problems.push({ key: k, message: `interface ${h.interfaceName} already has host endpoint ${other}; left out` });
          continue;
        }
        hepIfaces.set(h.interfaceName, k);
      }
      hostEndpoints.push(h);
    }
    return {
      localNode: this.nodeName,
      policies,
      profiles,
      workloadEndpoints,
      hostEndpoints,
      namespaces: namespacesFromProfiles(profiles),
    };
  }
}

export type { Family };
