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
    private readonly config: NodeConfig,
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

  async stop(text?: string): Promise<void> {
    await this.speaker.stop(text);
    await this.control.close();
  }
}
