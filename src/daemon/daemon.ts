import type { NodeConfig } from '../config';
import type { Logger } from '../util/log';
import { errorMessage } from '../errors';
import { Speaker, type SpeakerOptions } from '../bgp/speaker';
import { KernelNextHops } from '../bgp/nexthop';
import { KernelFib } from '../bgp/fib/kernel-fib';
import { warmUpRib } from '../bgp/rib/warm-up';
import { ControlServer } from '../control';
import type { NodeStatus } from '../control/types';
import { ClusterMember } from '../peering/cluster';
import { VERSION } from '../version';
import { Operations } from './operations';
import { DataplaneController, CONTROLLER_KINDS } from '../dataplane/controller';
import { Syncer, resourceSources } from '../datastore';
import { processRunner } from '../dataplane/policy/apply/exec';
import type { PolicySnapshot } from '../observability';

const CONVERGENCE_POLL_MS = 200;

/**
 * The running node: control API, BGP speaker and the kernel FIB; with a
 * datastore configured, the cluster member (src/peering) that registers the
 * node and drives the speaker from etcd. Owns start order and stop order.
 *
 * Standalone: the speaker is built from the file at once. Cluster mode: the
 * control API comes up first (it answers with no peers meanwhile), then the
 * node registers and syncs, and only then is the speaker built from what the
 * datastore says (AS, router ID, listen port, peers, prefixes).
 */
export class Daemon {
  private speaker: Speaker | undefined;
  private readonly control: ControlServer;
  private readonly fib: KernelFib | undefined;
  private readonly nextHops: KernelNextHops | undefined;
  private fibStart: NodeJS.Timeout | undefined;
  private readonly cluster: ClusterMember | undefined;
  private readonly startedAt = new Date();
  private readonly ops: Operations;
  private dataplane: DataplaneController | undefined;

  constructor(
    private config: NodeConfig,
    private readonly log: Logger,
    /** The log level was given on the command line: datastore settings must not override it. */
    private readonly logLevelPinned = false,
  ) {
    this.fib = config.fib.enabled
      ? new KernelFib({
          table: config.fib.table,
          metric: config.fib.metric,
          resyncIntervalMs: config.fib.resyncIntervalSeconds * 1000,
          nexthopObjects: config.fib.nexthopObjects,
          log: log.child({ component: 'fib' }),
        })
      : undefined;
    this.nextHops = config.bgp.nextHopTracking
      ? new KernelNextHops({
          log: log.child({ component: 'bgp.nexthop' }),
          onChange: () => this.speaker?.nextHopsChanged(),
          // An interface that went down took its routes (and nexthop objects) out of the kernel: put them back now, not at the next periodic resync.
          onLinkChange: () => this.fib?.linkChanged(),
        })
      : undefined;
    const { datastore } = config;
    this.cluster = datastore ? new ClusterMember({ ...config, datastore }, log) : undefined;
    this.speaker = this.cluster ? undefined : new Speaker(config, log, this.speakerOptions());
    this.control = new ControlServer(config.controlSocket, {
      status: () => this.status(),
      routes: (q) => this.speaker?.routes(q) ?? [],
    });
    this.ops = new Operations(
      config,
      {
        bgp: () => this.speaker?.metricsSnapshot(),
        fib: () => (this.fib ? [{ table: config.fib.table, counters: this.fib.counters, routes: this.fib.routeCount }] : undefined),
        policy: () => this.policySnapshot(),
        ...(this.cluster
          ? {
              datastore: () => {
                const s = this.cluster?.syncStatus();
                return s ? { ...s, synced: this.speaker !== undefined } : undefined;
              },
            }
          : {}),
      },
      log.child({ component: 'ops' }),
    );
  }

  private speakerOptions(): SpeakerOptions {
    const nh = this.nextHops;
    return { fib: this.fib, ...(nh ? { nextHopReachable: (a: string) => nh.table.reachable(a) } : {}) };
  }

  /**
   * Compile the RIB's per-prefix import path (warmUpRib, on a scratch engine)
   * before the speaker starts its sessions, so the first full table is not
   * imported cold. After the speaker is built, not before: its engine's
   * objects then exist already, so what the warm-up compiles does not assume
   * a field only ever holds the scratch engine's kind of object (the
   * speaker's first store of another kind would throw that code away).
   * Never fatal: a failure only costs that speed.
   */
  private async warmUpRib(): Promise<void> {
    const t0 = process.hrtime.bigint();
    try {
      const r = await warmUpRib();
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      this.log.debug(`RIB import path warmed up in ${ms.toFixed(1)} ms (${r.announced} scratch route(s) announced, decided and withdrawn)`);
    } catch (err) {
      this.log.warn(`RIB warm-up failed, the first table is imported cold: ${errorMessage(err)}`);
    }
  }

  private policySnapshot(): PolicySnapshot | undefined {
    const st = this.dataplane?.status();
    if (!st || !st.policy.enabled) return undefined;
    const c = st.policy.counters;
    return {
      chains: st.policy.chains,
      rules: st.policy.rules,
      ipsets: st.policy.ipsets,
      repairs: c?.repairs ?? 0,
      ...(c ? { iptables: { saveCalls: c.saveCalls, saveErrors: c.saveErrors, restoreCalls: c.restoreCalls, restoreErrors: c.restoreErrors, linesExecuted: c.linesExecuted } } : {}),
    };
  }

  private status(): NodeStatus {
    if (this.speaker) return this.speaker.status();
    // Cluster mode before the speaker exists (registering, first sync).
    return { nodeName: this.config.nodeName, asNumber: this.config.asNumber, routerId: this.config.routerId, version: VERSION, pid: process.pid, startedAt: this.startedAt.toISOString(), peers: [] };
  }

  async start(): Promise<void> {
    if (this.cluster) return this.startCluster(this.cluster);
    this.log.info(`tartan-node ${VERSION} starting: node ${this.config.nodeName}, AS ${this.config.asNumber}, router ID ${this.config.routerId}, ${this.config.peers.length} peer(s)`);
    await this.control.listen();
    this.log.info(`control API on ${this.config.controlSocket}`);
    await this.ops.start();
    await this.nextHops?.start();
    const speaker = this.speaker!;
    await this.warmUpRib();
    await speaker.start();
    if (this.fib) this.startFibWhenConverged(this.fib, speaker);
    else await this.ops.ready(`${this.config.peers.length} peer(s) configured`);
  }

  private async startCluster(cluster: ClusterMember): Promise<void> {
    const ds = this.config.datastore!;
    this.log.info(`tartan-node ${VERSION} starting: node ${this.config.nodeName}, cluster mode (etcd ${ds.endpoints.join(',')})`);
    await this.control.listen();
    this.log.info(`control API on ${this.config.controlSocket}`);
    await this.ops.start();
    cluster.onLogLevel = (level, severity) => {
      if (this.logLevelPinned || this.log.level === level) return;
      // Said before the change, so a quieter level does not swallow the line.
      this.log.info(`log level is now ${level} (BGPConfiguration logSeverityScreen ${severity})`);
      this.log.level = level;
    };
    const config = await cluster.bootstrap();
    this.config = config;
    this.log.info(`BGP identity from the datastore: AS ${config.asNumber}, router ID ${config.routerId}, listening on port ${config.listen.port}${config.routeReflectorClusterID ? `, route reflector (cluster ID ${config.routeReflectorClusterID})` : ''}`);
    await this.nextHops?.start();
    const speaker = new Speaker(config, this.log, this.speakerOptions());
    this.speaker = speaker;
    await this.warmUpRib();
    await speaker.start();
    cluster.attach(speaker, () => speaker.status());
    if (this.config.dataplane.enabled) await this.startDataplane(cluster);
    if (this.fib) this.startFibWhenConverged(this.fib, speaker);
    else await this.ops.ready('in sync with the datastore');
  }

  /** Felix's job: this node's workload routes and network policy, from the same etcd. */
  private async startDataplane(cluster: ClusterMember): Promise<void> {
    const dp = this.config.dataplane;
    const controller = new DataplaneController({
      nodeName: this.config.nodeName,
      feed: new Syncer(cluster.kv, resourceSources(CONTROLLER_KINDS)),
      ...(dp.interfacePrefix ? { interfacePrefix: dp.interfacePrefix } : {}),
      policy: { enabled: dp.policy, runner: this.ops.metrics.instrumentRunner(processRunner()) },
      log: this.log.child({ component: 'dataplane' }),
      onRestartRequired: (reason) => this.log.warn(`dataplane settings changed (${reason}): restart tartan-node to apply them`),
    });
    this.dataplane = controller;
    await controller.start();
  }

  /**
   * When the kernel already holds routes of ours (a restart), the first
   * reconcile waits for the peers' End-of-RIB (or the start-up hold), so
   * routes still valid are adopted untouched instead of being removed and
   * added back. With nothing to adopt, programming starts at once.
   */
  private startFibWhenConverged(fib: KernelFib, speaker: Speaker): void {
    void fib.ownRouteCount().then(
      (n) => {
        if (n > 0) {
          this.log.info(`kernel holds ${n} route(s) of ours from a previous run: adopting them once the peers have converged`);
          this.holdFibUntilConverged(fib, speaker);
          return;
        }
        // Nothing to adopt: program routes as they are learned, like BIRD's kernel protocol.
        fib
          .start()
          .then(() => this.ops.ready('in sync: kernel FIB programming live'))
          .catch((err: unknown) => this.log.error(`kernel FIB start failed: ${errorMessage(err)}`));
      },
      (err: unknown) => {
        this.log.warn(`cannot read the kernel's routes (${errorMessage(err)}): waiting for the peers before the first sync`);
        this.holdFibUntilConverged(fib, speaker);
      },
    );
  }

  private holdFibUntilConverged(fib: KernelFib, speaker: Speaker): void {
    const deadline = Date.now() + this.config.fib.startupHoldSeconds * 1000;
    const tick = (): void => {
      this.fibStart = undefined;
      if (Date.now() < deadline && !speaker.converged()) {
        this.fibStart = setTimeout(tick, CONVERGENCE_POLL_MS);
        return;
      }
      // Decided, not idle: a peer that reads its UPDATEs slowly must not hold the kernel back.
      void speaker
        .decided()
        .then(() => fib.start())
        .then(() => this.ops.ready('in sync: sessions converged and kernel FIB programmed'))
        .catch((err: unknown) => this.log.error(`kernel FIB start failed: ${errorMessage(err)}`));
    };
    tick();
  }

  /** SIGHUP: re-read the config file; a bad file is reported and changes nothing. */
  reload(next: NodeConfig): void {
    if (next.log.level !== this.config.log.level) {
      this.log.info(`log level is now ${next.log.level}`);
      this.log.level = next.log.level;
    }
    if (JSON.stringify(next.fib) !== JSON.stringify(this.config.fib)) this.log.warn('fib settings changed: take effect after a restart');
    if (this.cluster) {
      // Peers, prefixes and identity come from the datastore; the file only tunes logging here.
      if (JSON.stringify(next.datastore) !== JSON.stringify(this.config.datastore)) this.log.warn('datastore settings changed: take effect after a restart');
      this.log.info('configuration reloaded (cluster mode: peers and prefixes follow the datastore)');
      return;
    }
    for (const note of this.speaker?.reconfigure(next) ?? []) this.log.warn(note);
    this.config = { ...next, fib: this.config.fib };
    this.log.info('configuration reloaded');
  }

  async stop(text?: string): Promise<void> {
    if (this.fibStart) clearTimeout(this.fibStart);
    await this.ops.stopping();
    this.dataplane?.stop();
    // The kernel keeps our routes while we are down (BIRD's `persist`): stop programming before
    // the sessions end, or the withdrawals their end causes could reach the kernel first.
    this.fib?.close();
    await this.cluster?.stop();
    await this.speaker?.stop(text);
    this.nextHops?.stop();
    await this.ops.close();
    await this.control.close();
  }
}
