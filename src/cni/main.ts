#!/usr/bin/env node
/**
 * The `tartan` CNI plugin executable (install as /opt/cni/bin/tartan, and as
 * /opt/cni/bin/tartan-ipam for other plugins to use as their IPAM). The
 * runtime gives CNI_* variables and the network configuration on stdin; the
 * result or the error object goes to stdout, logs to stderr (or
 * log_file_path). All the work is in run.ts.
 */
import { CNI_IO_FAILURE, toErrorJson, CniError } from './errors';
import { runCni } from './run';
import { DEFAULT_VERSION } from './version';

/** Configurations are small; anything past this is not one. */
const MAX_STDIN = 4 * 1024 * 1024;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_STDIN) throw new CniError(CNI_IO_FAILURE, `stdin is larger than ${MAX_STDIN} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function main(): Promise<number> {
  let stdin: string;
  try {
    // VERSION may be run with nothing on stdin and a terminal attached.
    stdin = process.env['CNI_COMMAND'] === 'VERSION' && process.stdin.isTTY ? '' : await readStdin();
  } catch (e) {
    const err = e instanceof CniError ? e : new CniError(CNI_IO_FAILURE, 'reading the network configuration from stdin failed', (e as Error).message);
    process.stdout.write(`${JSON.stringify(toErrorJson(err, DEFAULT_VERSION))}\n`);
    return 1;
  }
  const { stdout, exitCode } = await runCni(process.env, stdin);
  if (stdout) await new Promise<void>((resolve) => process.stdout.write(`${stdout}\n`, () => resolve()));
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stdout.write(`${JSON.stringify(toErrorJson(e, DEFAULT_VERSION))}\n`, () => process.exit(1));
  },
);
