import type { NodeConfig } from '../config';
import type { Logger } from '../util/log';
import { Speaker } from '../bgp/speaker';
import { ControlServer } from '../control';
import { VERSION } from '../version';

/**
 * The running node: BGP speaker and control API today; the peering watcher
 * and dataplane controller join here. Owns start order and stop order.
 */
export class Daemon {
  private readonly speaker: Speaker;
  private readonly control: ControlServer;

  constructor(
    private config: NodeConfig,
    private readonly log: Logger,
  ) {
    this.speaker = new Speaker(config, log);
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
  }

  /** SIGHUP: re-read the config file; a bad file is reported and changes nothing. */
  reload(next: NodeConfig): void {
    if (next.log.level !== this.config.log.level) {
      this.log.level = next.log.level;
      this.log.info(`log level is now ${next.log.level}`);
    }
    for (const note of this.speaker.reconfigure(next)) this.log.warn(note);
    this.config = next;
    this.log.info('configuration reloaded');
  }

  async stop(text?: string): Promise<void> {
    await this.speaker.stop(text);
    await this.control.close();
  }
}
