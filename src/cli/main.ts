#!/usr/bin/env node
/**
 * tartanctl: the operator's CLI, after calicoctl. It talks to the local
 * daemon's control API (node status, bgp routes) and to the datastore
 * (resources, IPAM, other nodes' status). It imports only src/control,
 * src/datastore, src/ipam and src/selector — never speaker internals.
 *
 * Exit codes: 0 success, 1 the operation failed, 2 the command line was wrong.
 */
import { Argument, Command, CommanderError, Option } from 'commander';
import { ControlClient, type RouteTable } from '../control';
import type { CalicoNodeStatus } from '../datastore';
import { TartanError, errorMessage } from '../errors';
import { VERSION } from '../version';
import { renderCalicoNodeStatus, renderNodeStatus } from './node-status';
import { renderRoutes } from './bgp-routes';
import { addResourceCommands } from './resources';
import { addIpamCommands } from './ipam';
import { bashCompletion } from './completion';
import { resolveDatastoreConfig, DEFAULT_CLI_CONFIG } from './datastore-config';
import { withDatastore } from './datastore-session';
import { CliError, EXIT_FAILURE, EXIT_USAGE, UsageError } from './errors';

export { EXIT_FAILURE, EXIT_USAGE };

/** The daemon's default control socket (src/config DEFAULT_CONTROL_SOCKET; a unit test keeps them equal). */
export const DEFAULT_CONTROL_SOCKET = '/run/tartan/tartan.sock';

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Reads all of stdin for `-f -` (default: fd 0). */
  stdin?: () => string;
  env?: NodeJS.ProcessEnv;
}

function socketOf(cmd: Command, env: NodeJS.ProcessEnv): string {
  const opts = cmd.optsWithGlobals<{ socket?: string }>();
  return opts.socket ?? env['TARTAN_SOCKET'] ?? DEFAULT_CONTROL_SOCKET;
}

export function buildProgram(io: CliIo): Command {
  const write = io.out;
  const env = io.env ?? process.env;
  const datastore = (cmd: Command) => resolveDatastoreConfig(cmd.optsWithGlobals<{ config?: string; etcdEndpoints?: string }>(), env);
  const program = new Command('tartanctl')
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .configureHelp({ showGlobalOptions: true })
    .description('Control and inspect a Tartan node (Calico-style BGP routing daemon).')
    .version(VERSION, '-v, --version')
    .addOption(new Option('-s, --socket <path>', `daemon control socket (env TARTAN_SOCKET; default ${DEFAULT_CONTROL_SOCKET})`))
    .addOption(new Option('-c, --config <file>', `datastore config file, a CalicoAPIConfig (default ${DEFAULT_CLI_CONFIG} if present, else ETCD_* variables)`))
    .addOption(new Option('--etcd-endpoints <urls>', 'etcd endpoints, comma-separated (overrides the config file and ETCD_ENDPOINTS)'))
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  const node = program.command('node').description('node-level commands').exitOverride();
  node
    .command('status')
    .description('show BGP peers of the local node (from the daemon), or of --node NAME (from the datastore), like calicoctl node status')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'wide', 'json']).default('table'))
    .option('--node <name>', 'read the status NAME published to the datastore (CalicoNodeStatus) instead of asking the local daemon')
    .exitOverride()
    .action(async (opts: { output: string; node?: string }, cmd: Command) => {
      if (opts.node !== undefined) {
        const name = opts.node;
        const found = await withDatastore(datastore(cmd), async (ds) => {
          const { items } = await ds.list('CalicoNodeStatus');
          return items
            .filter((r) => r.spec.node === name)
            .sort((a, b) => (b.status?.lastUpdated ?? '').localeCompare(a.status?.lastUpdated ?? ''))[0] as CalicoNodeStatus | undefined;
        });
        if (!found) throw new CliError(`no status for node ${name} in the datastore (no CalicoNodeStatus has spec.node ${name}; is tartan-node running there and publishing status?)`);
        write(opts.output === 'json' ? JSON.stringify(found, null, 2) : renderCalicoNodeStatus(name, found));
        return;
      }
      const status = await new ControlClient(socketOf(cmd, env)).status();
      write(opts.output === 'json' ? JSON.stringify(status, null, 2) : renderNodeStatus(status, { wide: opts.output === 'wide' }));
    });

  const bgp = program.command('bgp').description('BGP commands').exitOverride();
  bgp
    .command('routes')
    .description('list routes received from and advertised to peers, like birdc show route all')
    .argument('[prefix]', 'only this prefix')
    .option('--peer <address>', 'only routes from/to this peer')
    .addOption(new Option('--table <table>', 'in = received (Adj-RIB-In), loc = best paths (Loc-RIB), out = advertised (Adj-RIB-Out)').choices(['in', 'loc', 'out']))
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .exitOverride()
    .action(async (prefix: string | undefined, opts: { peer?: string; table?: RouteTable; output: string }, cmd: Command) => {
      const routes = await new ControlClient(socketOf(cmd, env)).routes({ prefix, peer: opts.peer, table: opts.table });
      write(opts.output === 'json' ? JSON.stringify(routes, null, 2) : renderRoutes(routes));
    });

  addResourceCommands(program, { out: write, datastore, stdin: io.stdin });
  addIpamCommands(program, { out: write, datastore });

  program
    .command('completion')
    .description('print a shell completion script')
    .addArgument(new Argument('<shell>', 'shell').choices(['bash']))
    .exitOverride()
    .action(() => {
      write(bashCompletion(program).trimEnd());
    });

  return program;
}

/** Run tartanctl; returns the exit code instead of exiting, so tests can call it. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exitCode 0; usage errors were already printed.
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    io.err(`Error: ${err instanceof TartanError ? err.message : errorMessage(err)}`);
    return err instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
  }
}

if (require.main === module) {
  run(process.argv.slice(2), {
    out: (s) => process.stdout.write(`${s}\n`),
    err: (s) => process.stderr.write(`${s}\n`),
  }).then((code) => {
    process.exitCode = code;
  });
}
