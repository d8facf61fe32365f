#!/usr/bin/env node
/**
 * tartan-node: the per-node daemon. This file only parses the command line,
 * loads the config and wires signals; Daemon does the work.
 */
// First: V8 flags that must apply to every module loaded after it.
import './v8-flags';
import { Command, CommanderError, Option } from 'commander';
import { loadConfigFile, ConfigError, type NodeConfig } from '../config';
import { createLogger } from '../util/log';
import { errorMessage } from '../errors';
import { VERSION } from '../version';
import { Daemon } from './daemon';

/** Exit codes: 0 clean stop, 1 runtime failure, 2 bad command line or config. */
const EXIT_FAILURE = 1;
const EXIT_CONFIG = 2;

interface Options {
  config: string;
  checkConfig?: boolean;
  logLevel?: NodeConfig['log']['level'];
}

function parseArgs(argv: string[]): Options | number {
  const program = new Command('tartan-node')
    .description('Tartan node daemon: BGP speaker, peering watcher and dataplane controller.')
    .version(VERSION, '-v, --version')
    .requiredOption('-c, --config <file>', 'node config file (YAML), e.g. /etc/tartan/tartan-node.yaml')
    .option('--check-config', 'validate the config file, print a summary and exit')
    .addOption(new Option('--log-level <level>', 'override log.level from the config').choices(['error', 'warn', 'info', 'debug']))
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_CONFIG;
    throw err;
  }
  return program.opts<Options>();
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  if (typeof opts === 'number') return opts;

  let config: NodeConfig;
  try {
    config = loadConfigFile(opts.config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tartan-node: invalid config: ${err.message}\n`);
      return EXIT_CONFIG;
    }
    throw err;
  }
  if (opts.logLevel) config.log.level = opts.logLevel;
  if (opts.checkConfig) {
    process.stdout.write(
      config.datastore
        ? `config OK: node ${config.nodeName}, cluster mode: etcd ${config.datastore.endpoints.join(',')} (peers and prefixes from the datastore)\n`
        : `config OK: node ${config.nodeName}, AS ${config.asNumber}, router ID ${config.routerId}, ` +
            `${config.peers.length} peer(s), ${config.originate.length} originated prefix(es)\n`,
    );
    return 0;
  }

  const log = createLogger(config.log);
  const daemon = new Daemon(config, log, opts.logLevel !== undefined);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      log.warn(`${signal} again while stopping: exiting now`);
      process.exit(EXIT_FAILURE);
    }
    stopping = true;
    log.info(`${signal} received: sending Cease to every peer and stopping`);
    daemon.stop(`tartan-node on ${config.nodeName} is shutting down`).then(
      () => {
        log.info('stopped');
        // Let winston flush before the loop empties.
        log.on('finish', () => process.exit(0));
        log.end();
      },
      (err: unknown) => {
        log.error(`error while stopping: ${errorMessage(err)}`);
        process.exit(EXIT_FAILURE);
      },
    );
  };
  process.on('SIGHUP', () => {
    log.info(`SIGHUP received: reloading ${opts.config}`);
    try {
      const next = loadConfigFile(opts.config);
      if (opts.logLevel) next.log.level = opts.logLevel;
      daemon.reload(next);
    } catch (err) {
      log.error(`reload failed, keeping the running configuration: ${errorMessage(err)}`);
    }
  });
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  try {
    await daemon.start();
  } catch (err) {
    log.error(`cannot start: ${errorMessage(err)}`);
    await daemon.stop().catch(() => undefined);
    return EXIT_FAILURE;
  }
  return -1; // keep running until a signal
}

main().then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`tartan-node: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = EXIT_FAILURE;
  },
);
