/**
 * Cluster membership: the thin imperative shell around the pure peering
 * functions, doing for the speaker what confd does for BIRD.
 *
 *   start:  find this node's addresses → register its Node → list + watch
 *           the datastore → first desired state (peers, prefixes, listen
 *           port, AS, router ID) → the daemon starts the speaker with it
 *   then:   every datastore change → new snapshot → desired state →
 *           `Speaker.applyPeering` (per-peer diff, no restart) and the
 *           blackhole routes of this node's blocks (RouteTable, protocol 203)
 *   always: liveness key and CalicoNodeStatus (StatusReporter)
 *
 * While etcd is away the watcher emits nothing, so sessions and routes stay
 * as they are; the syncer resumes (or relists after a compaction) and the
 * next snapshot brings the node up to date.
 */
import type { NodeConfig, DatastoreSettings } from '../config/types';
import { Datastore, type BGPFilter, type BGPFilterRule, type CorruptValue } from '../datastore';
import type { DatastoreConfig } from '../datastore/config';
import type { BgpFilterRule, NamedBgpFilter } from '../bgp/policy/bgp-filter';
import type { Speaker } from '../bgp/speaker';
import type { NodeStatus } from '../control/types';
import { RouteDriver, NetlinkMonitor } from '../netlink';
import { RTPROT_TARTAN_BLACKHOLE } from '../netlink/constants';
import { RouteTable } from '../dataplane/routes';
import { errorMessage } from '../errors';
import type { Logger } from '../util/log';
import { detectAddress } from './autodetect';
import { computePeering, type LocalBgpIdentity } from './peers';
import { computeOriginated } from './prefixes';
import { registerNode } from './registration';
import { asNumberOf, stripMask, type ClusterSnapshot } from './snapshot';
import { StatusReporter } from './status';
import { PeeringWatcher } from './watcher';
import { effectiveBGPConfiguration } from '../datastore';
import type { LogLevelName } from '../util/log';

/** What the datastore says the speaker should run with. Pure. */
export interface DesiredState {
  local: LocalBgpIdentity | undefined;
  peers: NodeConfig['peers'];
  originate: NodeConfig['originate'];
  bgpFilters: NamedBgpFilter[];
  blackholes: string[];
  notes: string[];
}

export function desiredState(base: NodeConfig, s: ClusterSnapshot): DesiredState {
  const peering = computePeering(s, { holdTime: base.bgp.holdTime, keepaliveTime: base.bgp.keepaliveTime, connectRetryTime: base.bgp.connectRetryTime });
  const orig = computeOriginated(s);
  const bgpFilters = s.bgpFilters.map(namedFilter).sort((a, b) => a.name.localeCompare(b.name));
  return { local: peering.local, peers: peering.peers, originate: orig.originate, bgpFilters, blackholes: orig.blackholes, notes: [...peering.notes, ...orig.notes] };
}

/** A BGPFilter resource in the engine's shape (AS numbers as numbers). Pure. */
export function namedFilter(f: BGPFilter): NamedBgpFilter {
  const asns = (xs: readonly (number | string)[] | undefined): number[] | undefined => xs?.map(asNumberOf).filter((n): n is number => n !== undefined);
  const rules = (rs: readonly BGPFilterRule[] | undefined): BgpFilterRule[] | undefined =>
    rs?.map(({ asPathPrefix, operations, ...rest }) => ({
      ...rest,
      ...(asPathPrefix ? { asPathPrefix: asns(asPathPrefix) } : {}),
      ...(operations
        ? { operations: operations.map(({ prependASPath, ...op }) => ({ ...op, ...(prependASPath ? { prependASPath: { prefix: asns(prependASPath.prefix) } } : {}) })) }
        : {}),
    }));
  const spec: NamedBgpFilter['spec'] = {};
  for (const k of ['exportV4', 'importV4', 'exportV6', 'importV6'] as const) {
    const r = rules(f.spec[k]);
    if (r) spec[k] = r;
  }
  return { name: f.metadata.name, spec };
}

/** The speaker's start-up config in cluster mode: identity from the datastore, peers and prefixes from the desired state. */
export function clusterNodeConfig(base: NodeConfig, d: DesiredState): NodeConfig {
  const local = d.local;
  if (!local) throw new Error(`Node "${base.nodeName}" is not in the datastore`);
  const routerId = base.routerId || local.ipv4;
  if (!routerId) throw new Error('no router ID: this node has no IPv4 address; set routerId in the node config');
  const listenAddress = local.bindMode === 'NodeIP' ? (local.ipv4 ?? local.ipv6 ?? base.listen.address) : base.listen.address;
  return {
    ...base,
    asNumber: local.asNumber,
    routerId,
    ...(local.ipv4 ? { ipv4Address: local.ipv4 } : {}),
    ...(local.ipv6 ? { ipv6Address: local.ipv6 } : {}),
    routeReflectorClusterID: local.routeReflectorClusterID,
    listen: { ...base.listen, address: listenAddress, port: local.listenPort },
    peers: d.peers,
    originate: d.originate,
    bgpFilters: d.bgpFilters,
  };
}

export function etcdConfigOf(ds: DatastoreSettings): DatastoreConfig {
  const { endpoints, caCertFile, certFile, keyFile, username, password } = ds;
  return { endpoints, ...(caCertFile ? { caCertFile } : {}), ...(certFile ? { certFile } : {}), ...(keyFile ? { keyFile } : {}), ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

const BOOT_RETRY_MIN_MS = 500;
const BOOT_RETRY_MAX_MS = 5000;

export class ClusterMember {
  private readonly ds: Datastore;
  private readonly etcd: DatastoreConfig;
  private watcher: PeeringWatcher | undefined;
  private speaker: Speaker | undefined;
  private blackholes: RouteTable | undefined;
  private blackholeIo: { driver: RouteDriver; monitor: NetlinkMonitor } | undefined;
  private reporter: StatusReporter | undefined;
  private startup: NodeConfig | undefined;
  private lastNotes = new Set<string>();
  private warnedRestart = new Set<string>();
  private reconfiguredAt: Date | undefined;
  private stopped = false;
  private readonly log: Logger;
  /** Set by the daemon: called when BGPConfiguration.logSeverityScreen changes the log level. */
  onLogLevel: ((level: LogLevelName, severity: string) => void) | undefined;
  private lastLogLevel: LogLevelName | undefined;

  constructor(
    private readonly base: NodeConfig & { datastore: DatastoreSettings },
    log: Logger,
  ) {
    this.log = log.child({ component: 'peering' });
    this.etcd = etcdConfigOf(base.datastore);
    this.ds = Datastore.connect(this.etcd, { onCorrupt: (c: CorruptValue) => this.log.warn(`skipping a corrupt value at ${c.key}: ${c.reason}`) });
  }

  /** Register, sync, and return the config the speaker starts with. Retries until etcd answers (or stop()). */
  async bootstrap(): Promise<NodeConfig> {
    const dsCfg = this.base.datastore;
    const ipv4 = await detectAddress(dsCfg.ipAutodetectionMethod, 4, this.base.ipv4Address);
    const ipv6 = await detectAddress(dsCfg.ip6AutodetectionMethod, 6, this.base.ipv6Address);
    this.log.info(`node ${this.base.nodeName}: IPv4 ${ipv4 ?? 'none'} (${this.base.ipv4Address ? 'configured' : dsCfg.ipAutodetectionMethod}), IPv6 ${ipv6 ?? 'none'} (${this.base.ipv6Address ? 'configured' : dsCfg.ip6AutodetectionMethod})`);
    await this.retry('register the Node resource', async () => {
      await registerNode(this.ds, { name: this.base.nodeName, ipv4Address: ipv4, ipv6Address: ipv6, ...(dsCfg.nodeASNumber !== undefined ? { asNumber: dsCfg.nodeASNumber } : {}) });
    });
    this.log.info(`registered Node ${this.base.nodeName} in ${this.etcd.endpoints.join(',')}`);
    const watcher = new PeeringWatcher({ kv: this.ds.kv, nodeName: this.base.nodeName, log: this.log, onSnapshot: (s) => this.onSnapshot(s) });
    this.watcher = watcher;
    watcher.start();
    await watcher.ready();
    const d = desiredState(this.base, watcher.snapshot());
    this.logNotes(d.notes);
    const cfg = clusterNodeConfig(this.base, d);
    // The addresses just registered, even if the watch has not caught up with our own write.
    if (!cfg.ipv4Address && ipv4) cfg.ipv4Address = stripMask(ipv4);
    this.startup = cfg;
    if (this.base.fib.enabled) {
      const driver = RouteDriver.open();
      const monitor = NetlinkMonitor.open({ routes: false });
      this.blackholeIo = { driver, monitor };
      this.blackholes = new RouteTable({
        driver,
        events: monitor,
        protocol: RTPROT_TARTAN_BLACKHOLE,
        table: this.base.fib.table,
        resyncIntervalMs: this.base.fib.resyncIntervalSeconds * 1000,
        onFailures: (fs) => fs.slice(0, 5).forEach((f) => this.log.warn(`blackhole route ${f.op.kind} ${f.op.route.dst} failed: ${f.error.message}`)),
      });
      this.blackholes.replaceAll(d.blackholes.map((p) => [p, { type: 'blackhole' }] as const));
      await this.blackholes.start();
    }
    this.log.info(`cluster state: ${d.peers.length} peer(s), ${d.originate.length} originated prefix(es), ${d.blackholes.length} blackholed block(s)`);
    return cfg;
  }

  /** From now on, datastore changes go to this speaker; status reports begin. */
  attach(speaker: Speaker, status: () => NodeStatus): void {
    this.speaker = speaker;
    const ds = this.base.datastore;
    this.reporter = new StatusReporter({
      nodeName: this.base.nodeName,
      etcd: this.etcd,
      datastore: this.ds,
      intervalSeconds: ds.reportIntervalSeconds,
      ttlSeconds: ds.reportTTLSeconds,
      status,
      reconfiguredAt: () => this.reconfiguredAt,
      log: this.log,
    });
    this.reporter.start();
    // Anything that changed between bootstrap and now.
    if (this.watcher) this.onSnapshot(this.watcher.snapshot());
  }

  /** The etcd connection, shared with the dataplane controller's watch. */
  get kv(): Datastore['kv'] {
    return this.ds.kv;
  }

  /** Sync state for the control API / logs. */
  syncStatus(): ReturnType<PeeringWatcher['status']> | undefined {
    return this.watcher?.status();
  }

  /**
   * BGPConfiguration logSeverityScreen (default, overlaid by node.<name>)
   * sets the log level live, as it does for calico-node; an explicit
   * --log-level on the command line wins.
   */
  private applyLogSeverity(s: ClusterSnapshot): void {
    if (!this.onLogLevel) return;
    const severity = effectiveBGPConfiguration(s.bgpConfigurations, this.base.nodeName).logSeverityScreen;
    const level = logLevelOf(severity);
    if (level && level !== this.lastLogLevel) {
      this.lastLogLevel = level;
      this.onLogLevel(level, String(severity));
    }
  }

  private onSnapshot(s: ClusterSnapshot): void {
    this.applyLogSeverity(s);
    if (this.stopped || !this.speaker || !this.startup) return;
    const d = desiredState(this.base, s);
    this.logNotes(d.notes);
    if (!d.local) {
      this.log.warn(`Node ${this.base.nodeName} is missing from the datastore: keeping the current peers and routes`);
      return;
    }
    this.warnStartupOnly(d.local);
    const changes = this.speaker.applyPeering({ peers: d.peers, originate: d.originate, bgpFilters: d.bgpFilters, routeReflectorClusterID: d.local.routeReflectorClusterID });
    for (const c of changes) this.log.info(c);
    if (changes.length) this.reconfiguredAt = new Date();
    this.blackholes?.replaceAll(d.blackholes.map((p) => [p, { type: 'blackhole' }] as const));
  }

  private warnStartupOnly(local: LocalBgpIdentity): void {
    const cur = this.startup!;
    const checks: [string, unknown, unknown][] = [
      ['AS number', local.asNumber, cur.asNumber],
      ['listen port', local.listenPort, cur.listen.port],
      ['IPv4 address', local.ipv4, cur.ipv4Address],
      ['IPv6 address', local.ipv6, cur.ipv6Address],
    ];
    for (const [what, now, was] of checks) {
      const key = `${what}:${String(now)}`;
      if (now === was || this.warnedRestart.has(key)) continue;
      this.warnedRestart.add(key);
      this.log.warn(`${what} changed in the datastore (${String(was)} -> ${String(now)}): takes effect after a restart`);
    }
  }

  private logNotes(notes: string[]): void {
    const next = new Set(notes);
    for (const n of next) if (!this.lastNotes.has(n)) this.log.warn(n);
    this.lastNotes = next;
  }

  private async retry(what: string, fn: () => Promise<void>): Promise<void> {
    let delay = BOOT_RETRY_MIN_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        await fn();
        return;
      } catch (e) {
        if (this.stopped) throw e;
        if (attempt === 1 || attempt % 10 === 0) this.log.warn(`cannot ${what} yet (attempt ${attempt}, retrying): ${errorMessage(e)}`);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(BOOT_RETRY_MAX_MS, delay * 2);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.stop();
    await this.reporter?.stop();
    // Blackholes stay in the kernel (like the BGP routes), for the next start to adopt.
    this.blackholes?.stop();
    this.blackholeIo?.monitor.close();
    this.blackholeIo?.driver.close();
    this.ds.close();
  }
}

/** Calico's logSeverityScreen (Debug, Info, Warning, Error, Fatal, None) as a winston level. */
export function logLevelOf(severity: unknown): LogLevelName | undefined {
  switch (String(severity ?? '').toLowerCase()) {
    case 'debug':
      return 'debug';
    case 'info':
      return 'info';
    case 'warning':
      return 'warn';
    case 'error':
    case 'fatal':
    case 'none':
      return 'error';
    default:
      return undefined;
  }
}
