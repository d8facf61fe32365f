/**
 * DataplaneController: Felix's job for one node. It watches the datastore
 * (a Syncer over CONTROLLER_KINDS) and keeps this network namespace's kernel
 * equal to it:
 *
 * - workload routes: for every WorkloadEndpoint with spec.node == nodeName,
 *   one /32 or /128 per ipNetworks entry via spec.interfaceName, scope link,
 *   protocol 202 (RTPROT_TARTAN_WORKLOAD), metric IPv4/IPv6NormalRoutePriority
 *   (RouteTable: adopt without churn, skip down links and retry on link up,
 *   grace period for stale routes on workload interfaces, periodic resync,
 *   routes of other protocols never touched);
 * - the workload interfaces' sysctls (proxy_arp, forwarding, rp_filter,
 *   route_localnet, proxy_delay; IPv6 proxy_ndp, forwarding, accept_ra);
 * - network policy: GlobalNetworkPolicy, NetworkPolicy, Profile,
 *   HostEndpoint (and every node's endpoints as ipset members) rendered to
 *   iptables chains and ipsets and applied with iptables-restore --noflush
 *   (PolicyDataplane: incremental render, read-back repair of tampering).
 *
 * Nothing is written before the feed is in sync (Felix: no partial
 * dispatch chains, no removal of routes that are merely not listed yet).
 * Changes are coalesced (`coalesceMs`) and applied one batch at a time.
 * Settings that come from FelixConfiguration are read once, at the first
 * in-sync; a later change to them only sets `status().restartRequired` and
 * calls `onRestartRequired` (Felix restarts itself for such changes).
 *
 *   const syncer = new Syncer(kv, resourceSources(CONTROLLER_KINDS));
 *   const dc = new DataplaneController({ nodeName: 'node1', feed: syncer, log });
 *   await dc.start();      // starts the syncer too (ownFeed default)
 *   await dc.ready();      // first complete programming done
 *   dc.status();           // counters for metrics
 *   dc.stop();             // leaves the dataplane as it is (graceful restart)
 */
import { TartanError, errorMessage } from '../../errors';
import type { Resource } from '../../datastore/resources/types';
import type { SyncListener } from '../../datastore/watch';
import { NetlinkMonitor } from '../../netlink/monitor';
import { RouteDriver, type RouteProgrammer } from '../../netlink/route-driver';
import { RTPROT_TARTAN_BGP, RTPROT_TARTAN_WORKLOAD } from '../../netlink/constants';
import type { NetlinkEvent } from '../../netlink/types';
import { silentLogger, type Logger } from '../../util/log';
import { PolicyDataplane, type ApplyReport, type PolicyCounters } from '../policy/apply/dataplane';
import type { IptablesBackend } from '../policy/apply/backend';
import type { CommandRunner } from '../policy/apply/exec';
import type { RenderConfig } from '../policy/config';
import { RouteTable, type EventSource } from '../routes/route-table';
import type { RouteTableCounters } from '../routes/types';
import { configChanged, resolveFelixConfig, type ConvertProblem, type EffectiveDataplaneConfig, type Family } from './convert';
import { ControllerState, type Dirty } from './state';
import { SysctlManager, type SysctlCounters, type SysctlIo } from './sysctl';

/** Any source of syncer events (a `Syncer<Resource>` over CONTROLLER_KINDS). */
export interface ResourceFeed {
  on(listener: SyncListener<Resource>): () => void;
  start?(): void;
  stop?(): void;
}

/** Sources of link/route events: a NetlinkMonitor, or a fake. */
export interface LinkEventSource extends EventSource {
  close?(): void;
}

export interface DataplaneControllerOptions {
  /** This node's name (WorkloadEndpoint/HostEndpoint spec.node). */
  nodeName: string;
  feed: ResourceFeed;
  /** Start and stop the feed together with the controller; default true. */
  ownFeed?: boolean;
  /** Netlink route driver; default: one opened in this process's network namespace (closed on stop). */
  routeDriver?: RouteProgrammer;
  /** Link and route events; default: a NetlinkMonitor opened here (closed on stop). */
  events?: LinkEventSource;
  /** Workload interface prefix (Felix InterfacePrefix); default FelixConfiguration, else 'cali'. */
  interfacePrefix?: string;
  /** IP families; default FelixConfiguration ipv6Support, else [4]. */
  families?: Family[];
  /** Route resync (and sysctl re-check) period; default FelixConfiguration routeRefreshInterval, else 90 s. */
  routeRefreshMs?: number;
  /** iptables/ipset read-back period; default FelixConfiguration iptablesRefreshInterval, else 180 s. */
  iptablesRefreshMs?: number;
  /** Grace for stale routes on workload interfaces; default 10 s (Felix routeCleanupGracePeriod). */
  routeGraceMs?: number;
  metricV4?: number;
  metricV6?: number;
  policy?: {
    /** Program policy at all; default true. */
    enabled?: boolean;
    backend?: IptablesBackend | 'auto';
    /** How iptables/ipset commands are run; default directly. */
    runner?: CommandRunner;
    /** Renderer overrides (prefixes, marks, failsafe ports...). */
    config?: Partial<RenderConfig>;
  };
  sysctlIo?: SysctlIo;
  /** Batch datastore changes for this long before applying; default 20 ms. */
  coalesceMs?: number;
  /** Retry a failed apply after this long (doubling to 30 s); default 1 s. */
  retryMs?: number;
  log?: Logger;
  onRestartRequired?: (reason: string) => void;
}

export type ControllerPhase = 'stopped' | 'waiting-for-datastore' | 'programming' | 'in-sync' | 'error';

export interface DataplaneStatus {
  state: ControllerPhase;
  /** Feed delivered its first in-sync. */
  datastoreInSync: boolean;
  /** Highest datastore revision received (applied once `state` is 'in-sync' and settle() returned). */
  revision: number;
  restartRequired: boolean;
  config: EffectiveDataplaneConfig | null;
  resources: Record<string, number>;
  localWorkloads: number;
  routes: {
    desired: number;
    /** Desired prefixes waiting for their interface (missing or down). */
    skipped: number;
    counters: RouteTableCounters | null;
  };
  sysctls: SysctlCounters & { pendingInterfaces: string[] };
  policy: {
    enabled: boolean;
    applies: number;
    applyErrors: number;
    lastRenderMs: number;
    lastApplyMs: number;
    /** Chains (table/name) the last apply created, rewrote or deleted. */
    lastTouchedChains: string[];
    counters: PolicyCounters | null;
    chains: number;
    rules: number;
    ipsets: number;
  };
  /** Resources partly or not programmed, with why. */
  problems: ConvertProblem[];
  lastError: { code: string; message: string } | null;
}

export class DataplaneController {
  private readonly state: ControllerState;
  private readonly log: Logger;
  private unsubscribe: (() => void) | null = null;
  private cfg: EffectiveDataplaneConfig | null = null;
  private routes: RouteTable | null = null;
  private policy: PolicyDataplane | null = null;
  private readonly sysctls: SysctlManager;
  private driver: RouteProgrammer | null = null;
  private events: LinkEventSource | null = null;
  private ownDriver: RouteDriver | null = null;
  private ownMonitor: NetlinkMonitor | null = null;
  private pending: Dirty = { routes: false, policy: false, config: false };
  private sysctlPending = false;
  private timer: NodeJS.Timeout | null = null;
  private resyncTimer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private started = false;
  private stopped = false;
  private programmed = false;
  private retryDelay: number;
  private readyResolve!: () => void;
  private readonly readyPromise: Promise<void>;
  private st: ControllerPhase = 'stopped';
  private restartRequired = false;
  private problems: ConvertProblem[] = [];
  private loggedProblems = new Set<string>();
  private lastError: { code: string; message: string } | null = null;
  private desiredRouteCount = 0;
  private revision = 0;
  private localCount = 0;
  private readonly pol = { applies: 0, applyErrors: 0, lastRenderMs: 0, lastApplyMs: 0, lastTouchedChains: [] as string[] };

  constructor(private readonly opts: DataplaneControllerOptions) {
    if (opts.nodeName === '') throw new TartanError('CONTROLLER_CONFIG_INVALID', 'nodeName must not be empty');
    this.state = new ControllerState(opts.nodeName);
    this.log = (opts.log ?? silentLogger()).child({ component: 'dataplane' });
    this.sysctls = new SysctlManager(opts.sysctlIo);
    this.retryDelay = opts.retryMs ?? 1000;
    this.readyPromise = new Promise((r) => (this.readyResolve = r));
  }

  /** Subscribe to the feed (and start it when owned). Writes begin at the feed's first in-sync. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.st = 'waiting-for-datastore';
    this.unsubscribe = this.opts.feed.on((e) => {
      try {
        this.onFeed(e);
      } catch (err) {
        this.fail(err);
      }
    });
    if (this.opts.ownFeed !== false) this.opts.feed.start?.();
  }

  /** Resolves after the first complete programming (routes, sysctls, policy) following in-sync. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  /** Stop watching and timers; the dataplane is left as programmed. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.st = 'stopped';
    this.unsubscribe?.();
    if (this.opts.ownFeed !== false) this.opts.feed.stop?.();
    for (const t of [this.timer, this.resyncTimer]) if (t !== null) clearTimeout(t);
    this.timer = this.resyncTimer = null;
    this.routes?.stop();
    this.policy?.stop();
    this.ownMonitor?.close();
    this.ownDriver?.close();
  }

  /** Wait until every change received so far has been applied (tests, graceful shutdown). */
  async settle(): Promise<void> {
    for (;;) {
      const r = this.running;
      await r;
      if (r === this.running && this.timer === null) return;
      if (this.timer !== null) await new Promise((res) => setTimeout(res, (this.opts.coalesceMs ?? 20) + 1));
    }
  }

  /** Force a read-back of routes, sysctls and iptables/ipsets now. */
  async resync(): Promise<void> {
    await this.serial(async () => {
      await this.routes?.resync();
      await this.sysctls.sync(true);
      if (this.policy !== null && this.programmed) await this.policy.resync();
    });
  }

  status(): DataplaneStatus {
    const p = this.policy;
    const stats = p?.stats() ?? { chains: 0, rules: 0, ipsets: 0 };
    return {
      state: this.st,
      datastoreInSync: this.state.inSync,
      revision: this.revision,
      restartRequired: this.restartRequired,
      config: this.cfg,
      resources: this.state.counts(),
      localWorkloads: this.localCount,
      routes: {
        desired: this.desiredRouteCount,
        skipped: this.routes?.skippedPrefixes().size ?? 0,
        counters: this.routes ? { ...this.routes.counters } : null,
      },
      sysctls: { ...this.sysctls.counters, pendingInterfaces: this.sysctls.pending() },
      policy: {
        enabled: this.opts.policy?.enabled !== false,
        ...this.pol,
        counters: p?.counters() ?? null,
        ...stats,
      },
      problems: [...this.problems],
      lastError: this.lastError,
    };
  }

  // ---- internals ---------------------------------------------------------

  private onFeed(e: Parameters<SyncListener<Resource>>[0]): void {
    if (this.stopped) return;
    if (e.type === 'corrupt') {
      this.log.warn(`ignoring corrupt datastore value ${e.key}: ${e.reason}`);
      return;
    }
    if (e.type === 'status') {
      this.log.debug(`datastore ${e.status.state}`, { reason: e.status.reason });
      return;
    }
    if ('revision' in e) this.revision = Math.max(this.revision, e.revision);
    const d = this.state.apply(e);
    if (d === null) return;
    if (d.config && this.cfg !== null) this.checkConfig();
    this.pending = { routes: this.pending.routes || d.routes, policy: this.pending.policy || d.policy, config: false };
    if (this.state.inSync) this.schedule();
  }

  private explicitConfig(): Partial<EffectiveDataplaneConfig> {
    const o = this.opts;
    return {
      interfacePrefix: o.interfacePrefix,
      families: o.families,
      routeRefreshMs: o.routeRefreshMs,
      iptablesRefreshMs: o.iptablesRefreshMs,
      metricV4: o.metricV4,
      metricV6: o.metricV6,
    } as Partial<EffectiveDataplaneConfig>;
  }

  private checkConfig(): void {
    const next = resolveFelixConfig(this.state.felixConfigurations(), this.opts.nodeName, this.explicitConfig());
    if (this.cfg !== null && !this.restartRequired && configChanged(this.cfg, next)) {
      this.restartRequired = true;
      const why = 'FelixConfiguration changed settings that are fixed at start';
      this.log.warn(`${why}; restart to apply them`);
      this.opts.onRestartRequired?.(why);
    }
  }

  private schedule(delay = this.opts.coalesceMs ?? 20): void {
    if (this.stopped || this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.serial(() => this.flush());
    }, delay);
    this.timer.unref?.();
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    const next = this.running.then(fn, fn);
    this.running = next.catch(() => undefined);
    return next;
  }

  /** First in-sync: settings, drivers, start-up adoption. */
  private async init(): Promise<void> {
    const cfg = resolveFelixConfig(this.state.felixConfigurations(), this.opts.nodeName, this.explicitConfig());
    this.cfg = cfg;
    const prefix = cfg.interfacePrefix;
    if (this.opts.routeDriver !== undefined) this.driver = this.opts.routeDriver;
    else this.driver = this.ownDriver = RouteDriver.open();
    if (this.opts.events !== undefined) this.events = this.opts.events;
    else this.events = this.ownMonitor = NetlinkMonitor.open({ routes: true, ignoreProtocol: RTPROT_TARTAN_BGP });
    this.events.on((ev) => this.onNetlink(ev));
    this.routes = new RouteTable({
      driver: this.driver,
      events: this.events,
      protocol: RTPROT_TARTAN_WORKLOAD,
      families: cfg.families,
      defaultMetric: cfg.metricV4,
      resyncIntervalMs: cfg.routeRefreshMs,
      graceMs: this.opts.routeGraceMs ?? 10_000,
      isWorkloadInterface: (n) => n.startsWith(prefix),
      onFailures: (f) => {
        for (const x of f) this.log.warn(`route ${x.op.kind} ${x.op.route.dst} failed: ${x.error.code}`);
      },
    });
    if (this.opts.policy?.enabled !== false) {
      const pc = this.opts.policy ?? {};
      this.policy = new PolicyDataplane({
        families: cfg.families,
        resyncIntervalMs: cfg.iptablesRefreshMs,
        ...(pc.backend !== undefined ? { backend: pc.backend } : {}),
        ...(pc.runner !== undefined ? { runner: pc.runner } : {}),
        config: {
          workloadIfacePrefix: prefix,
          endpointToHostAction: cfg.endpointToHostAction,
          ...(cfg.failsafeInbound !== undefined ? { failsafeInbound: cfg.failsafeInbound } : {}),
          ...(cfg.failsafeOutbound !== undefined ? { failsafeOutbound: cfg.failsafeOutbound } : {}),
          ...(pc.config ?? {}),
        },
        onError: (e) => this.fail(e),
      });
    }
    // Desired state first, then start: the start-up resync adopts correct routes without touching them.
    this.computeRoutes();
    await this.routes.start();
    this.log.info(`in sync with the datastore; programming node ${this.opts.nodeName}`, { prefix, families: cfg.families });
  }

  private computeRoutes(): void {
    const cfg = this.cfg;
    if (cfg === null || this.routes === null) return;
    const problems: ConvertProblem[] = [];
    const { routes, sysctls } = this.state.desiredRoutes({ families: cfg.families, metricV4: cfg.metricV4, metricV6: cfg.metricV6 }, problems);
    this.routes.replaceAll(routes);
    this.sysctls.setDesired(sysctls);
    this.desiredRouteCount = routes.size;
    this.localCount = sysctls.size;
    this.routeProblems = problems;
  }

  private routeProblems: ConvertProblem[] = [];
  private policyProblems: ConvertProblem[] = [];

  private async flush(): Promise<void> {
    if (this.stopped || !this.state.inSync) return;
    const first = this.routes === null;
    const work = this.pending;
    this.pending = { routes: false, policy: false, config: false };
    const sysctlWork = this.sysctlPending;
    this.sysctlPending = false;
    this.st = 'programming';
    try {
      if (first) await this.init();
      else if (work.routes) this.computeRoutes();
      if (first || work.routes) await this.routes?.apply();
      if (first || work.routes || sysctlWork) {
        const r = await this.sysctls.sync();
        for (const f of r.failed) this.log.warn(f.error.message);
      }
      if ((first || work.policy) && this.policy !== null) {
        const problems: ConvertProblem[] = [];
        const input = this.state.policyInput(problems);
        this.policyProblems = problems;
        try {
          const rep = await this.policy.apply(input);
          this.recordApply(rep);
          if (first) this.policy.start();
        } catch (e) {
          this.pol.applyErrors++;
          // Keep wanting policy: retried after the delay (or at the next change).
          this.pending.policy = true;
          throw e;
        }
      }
      this.updateProblems();
      this.lastError = null;
      this.retryDelay = this.opts.retryMs ?? 1000;
      this.st = 'in-sync';
      if (!this.programmed) {
        this.programmed = true;
        this.scheduleResync();
        this.readyResolve();
      }
    } catch (e) {
      if (first) {
        // Nothing usable yet: start over at the next attempt.
        this.routes?.stop();
        this.routes = null;
        this.policy = null;
        this.pending = { routes: true, policy: true, config: false };
      }
      this.fail(e);
      const delay = this.retryDelay;
      this.retryDelay = Math.min(30_000, this.retryDelay * 2);
      this.schedule(delay);
    }
    if (this.pending.routes || this.pending.policy || this.sysctlPending) this.schedule();
  }

  private recordApply(rep: ApplyReport): void {
    this.pol.applies++;
    this.pol.lastRenderMs = rep.renderMs;
    this.pol.lastApplyMs = rep.applyMs;
    const touched: string[] = [];
    for (const [t, r] of Object.entries(rep.tables)) for (const c of [...r.created, ...r.rewritten, ...r.deleted]) touched.push(`${t}/${c}`);
    this.pol.lastTouchedChains = touched;
    this.log.debug('policy applied', { renderMs: rep.renderMs.toFixed(1), applyMs: rep.applyMs.toFixed(1), touched: touched.length });
  }

  private updateProblems(): void {
    this.problems = [...this.routeProblems, ...this.policyProblems];
    const now = new Set<string>();
    for (const p of this.problems) {
      const k = `${p.key}: ${p.message}`;
      now.add(k);
      if (!this.loggedProblems.has(k)) this.log.warn(k);
    }
    this.loggedProblems = now;
  }

  private fail(e: unknown): void {
    const code = e instanceof TartanError ? e.code : 'DATAPLANE_ERROR';
    this.lastError = { code, message: errorMessage(e) };
    if (!this.stopped) this.st = 'error';
    this.log.error(`dataplane: ${code}: ${errorMessage(e)}`);
  }

  private onNetlink(ev: NetlinkEvent): void {
    if (this.stopped || ev.kind !== 'link' || ev.action !== 'new') return;
    if (!this.sysctls.pending().includes(ev.link.name) && !this.isDesiredIface(ev.link.name)) return;
    // A (re)created interface starts with default sysctls: check it again.
    this.sysctls.invalidate(ev.link.name);
    this.sysctlPending = true;
    this.schedule();
  }

  private isDesiredIface(name: string): boolean {
    const prefix = this.cfg?.interfacePrefix;
    return prefix !== undefined && name.startsWith(prefix);
  }

  private scheduleResync(): void {
    const every = this.cfg?.routeRefreshMs ?? 90_000;
    if (this.stopped || every <= 0) return;
    this.resyncTimer = setTimeout(() => {
      this.resyncTimer = null;
      void this.serial(async () => {
        const r = await this.sysctls.sync(true);
        for (const f of r.failed) this.log.warn(f.error.message);
      })
        .catch((e: unknown) => this.fail(e))
        .finally(() => this.scheduleResync());
    }, every);
    this.resyncTimer.unref?.();
  }
}
