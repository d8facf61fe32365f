/**
 * Dataplane controller (Felix's job): datastore → this node's workload
 * routes, interface sysctls and iptables/ipset policy.
 *
 *   import { Syncer, resourceSources } from '../datastore';
 *   const syncer = new Syncer(kv, resourceSources(CONTROLLER_KINDS));
 *   const dc = new DataplaneController({ nodeName, feed: syncer, log });
 *   await dc.start(); await dc.ready(); dc.status(); dc.stop();
 *
 * Consumes: WorkloadEndpoint, HostEndpoint, NetworkPolicy,
 * GlobalNetworkPolicy, Profile, FelixConfiguration (CONTROLLER_KINDS).
 */
export {
  DataplaneController,
  type DataplaneControllerOptions,
  type DataplaneStatus,
  type ControllerPhase,
  type ResourceFeed,
  type LinkEventSource,
} from './controller';
export { CONTROLLER_KINDS, ControllerState, type Dirty } from './state';
export {
  workloadRoutes,
  interfaceSysctls,
  resolveFelixConfig,
  parseDuration,
  namespacesFromProfiles,
  usableLocalWorkloads,
  toPolicy,
  toProfile,
  toWorkloadEndpoint,
  toHostEndpoint,
  FELIX_DEFAULTS,
  type ConvertProblem,
  type EffectiveDataplaneConfig,
  type Family,
  type RouteSettings,
  type SysctlEntry,
} from './convert';
export { SysctlManager, procSysIo, type SysctlIo, type SysctlCounters, type SysctlSyncResult } from './sysctl';
