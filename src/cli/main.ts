#!/usr/bin/env node
/**
 * tartanctl: the operator's CLI. It talks only to the daemon's control API
 * (and, later, to etcd); it never imports speaker internals.
 */
import { Command, CommanderError, Option } from 'commander';
import { ControlClient, type RouteTable } from '../control';
import { DEFAULT_CONTROL_SOCKET } from '../config';
import { TartanError, errorMessage } from '../errors';
import { renderNodeStatus } from './node-status';
import { renderRoutes } from './bgp-routes';
import { VERSION } from '../version';

/** Exit codes: 0 success, 1 the operation failed, 2 the command line was wrong. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

function socketOf(cmd: Command): string {
  const opts = cmd.optsWithGlobals<{ socket?: string }>();
  return opts.socket ?? process.env.TARTAN_SOCKET ?? DEFAULT_CONTROL_SOCKET;
}

export function buildProgram(io: { out: (s: string) => void; err: (s: string) => void }): Command {
  const write = io.out;
  const program = new Command('tartanctl')
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .description('Control and inspect a Tartan node (Calico-style BGP routing daemon).')
    .version(VERSION, '-v, --version')
    .addOption(new Option('-s, --socket <path>', `daemon control socket (env TARTAN_SOCKET; default ${DEFAULT_CONTROL_SOCKET})`))
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  const node = program.command('node').description('node-level commands').exitOverride();
  node
    .command('status')
    .description('show BGP peers of the local node, like calicoctl node status')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'wide', 'json']).default('table'))
    .exitOverride()
    .action(async (opts: { output: string }, cmd: Command) => {
      const status = await new ControlClient(socketOf(cmd)).status();
      write(opts.output === 'json' ? JSON.stringify(status, null, 2) : renderNodeStatus(status, { wide: opts.output === 'wide' }));
    });

  const bgp = program.command('bgp').description('BGP commands').exitOverride();
  bgp
    .command('routes')
    .description('list routes received from and advertised to peers, like birdc show route all')
    .argument('[prefix]', 'only this prefix')
    .option('--peer <address>', 'only routes from/to this peer')
    .addOption(new Option('--table <table>', 'in = received (Adj-RIB-In), out = advertised (Adj-RIB-Out)').choices(['in', 'out']))
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .exitOverride()
    .action(async (prefix: string | undefined, opts: { peer?: string; table?: RouteTable; output: string }, cmd: Command) => {
      const routes = await new ControlClient(socketOf(cmd)).routes({ prefix, peer: opts.peer, table: opts.table });
      write(opts.output === 'json' ? JSON.stringify(routes, null, 2) : renderRoutes(routes));
    });

  return program;
}

/** Run tartanctl; returns the exit code instead of exiting, so tests can call it. */
export async function run(argv: string[], io: { out: (s: string) => void; err: (s: string) => void }): Promise<number> {
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
    return EXIT_FAILURE;
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
