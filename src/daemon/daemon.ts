import type { NodeConfig } from '../config';
import type { Logger } from '../util/log';
import { errorMessage } from '../errors';
import { Speaker } from '../bgp/speaker';
import { KernelFib } from '../bgp/fib/kernel-fib';
import { ControlServer } from '../control';
import { VERSION } from '../version';

const CONVERGENCE_POLL_MS = 200;

/**
 * The running node: control API, BGP speaker and the kernel FIB today; the
 * peering watcher and dataplane controller join here. Owns start order and
 * stop order.
 */
export class Daemon {
  private readonly speaker: Speaker;
  private readonly control: ControlServer;
  private readonly fib: KernelFib | undefined;
  private fibStart: NodeJS.Timeout | undefined;

  constructor(
    private config: NodeConfig,
    private readonly log: Logger,
  ) {
    this.fib = config.fib.enabled
      ? new KernelFib({
          table: config.fib.table,
          metric: config.fib.metric,
          resyncIntervalMs: config.fib.resyncIntervalSeconds * 1000,
          log: log.child({ component: 'fib' }),
        })
      : undefined;
    this.speaker = new Speaker(config, log, { fib: this.fib });
    this.control = new ControlServer(config.controlSocket, {
      status: () => this.speaker.status(),
      routes: (q) => this.speaker.routes(q),
    });
  }

  async start(): Promise<void> {
    this.log.info(`tartan-node ${VERSION} starting: node ${this.config.nodeName}, AS ${this.config.asNumber}, router ID ${this.config.routerId}, ${this.config.peers.length} peer(s)`);
    await this.control.listen();
    this.log.info(`control API on ${this.config.controlSocket}`);
    await this.speaker.start();
    if (this.fib) this.startFibWhenConverged(this.fib);
  }

  /**
   * The first kernel reconcile waits for the peers' End-of-RIB (or the
   * start-up hold), so routes a previous run installed and still valid are
   * adopted untouched instead of being removed and added back.
   */
  private startFibWhenConverged(fib: KernelFib): void {
    const deadline = Date.now() + this.config.fib.startupHoldSeconds * 1000;
    const tick = (): void => {
      this.fibStart = undefined;
      if (Date.now() < deadline && !this.speaker.converged()) {
        this.fibStart = setTimeout(tick, CONVERGENCE_POLL_MS);
        return;
      }
      void this.speaker
        .idle()
        .then(() => fib.start())
        .catch((err: unknown) => this.log.error(`kernel FIB start failed: ${errorMessage(err)}`));
    };
    tick();
  }

  /** SIGHUP: re-read the config file; a bad file is reported and changes nothing. */
  reload(next: NodeConfig): void {
    if (next.log.level !== this.config.log.level) {
      this.log.level = next.log.level;
      this.log.info(`log level is now ${next.log.level}`);
    }
    if (JSON.stringify(next.fib) !== JSON.stringify(this.config.fib)) this.log.warn('fib settings changed: take effect after a restart');
    for (const note of this.speaker.reconfigure(next)) this.log.warn(note);
    this.config = { ...next, fib: this.config.fib };
    this.log.info('configuration reloaded');
  }

  async stop(text?: string): Promise<void> {
    if (this.fibStart) clearTimeout(this.fibStart);
    await this.speaker.stop(text);
    this.fib?.close();
    await this.control.close();
  }
}
