/**
 * Where an attachment's addresses come from:
 *
 * - `ipam.type: tartan-ipam`: Tartan's IPAM (src/ipam), in this process:
 *   affine blocks of the node, pools that select it (optionally only
 *   `ipv4_pools`/`ipv6_pools`), handle "<network>.<containerID>". A handle
 *   that already holds addresses (a repeated ADD) gets them back instead of
 *   new ones.
 * - any other type: that IPAM plugin, found on CNI_PATH and run with the
 *   same environment and stdin (CNI spec 1.0.0 §4 "Plugin Delegation").
 */
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import type { Ipam } from '../ipam';
import type { CniArgs } from './args';
import type { DnsConf, IpamConf } from './config';
import { CniError, TARTAN_CNI_DELEGATE } from './errors';
import type { Runner } from './exec';
import { addressOf, parseResult } from './result';

export interface Assigned {
  /** Plain addresses. */
  addresses: string[];
  dns?: DnsConf;
  /** False when the handle already held them (a repeated ADD). */
  fresh: boolean;
}

export interface AddressSource {
  assign(): Promise<Assigned>;
  release(): Promise<void>;
  /** CHECK: why the addresses are not (all) held any more, or undefined. */
  verify(addresses: readonly string[]): Promise<string | undefined>;
}

export class TartanIpamSource implements AddressSource {
  constructor(
    private readonly ipam: Ipam,
    private readonly p: { node: string; handleId: string; conf: IpamConf; attrs: Record<string, string> },
  ) {}

  async assign(): Promise<Assigned> {
    const held = await this.ipam.ipsByHandle(this.p.handleId);
    if (held.length > 0) return { addresses: held, fresh: false };
    const got = await this.ipam.autoAssign({
      node: this.p.node,
      handleId: this.p.handleId,
      num4: this.p.conf.assignIpv4 ? 1 : 0,
      num6: this.p.conf.assignIpv6 ? 1 : 0,
      attrs: this.p.attrs,
      ipv4Pools: this.p.conf.ipv4Pools,
      ipv6Pools: this.p.conf.ipv6Pools,
    });
    return { addresses: [...got.ipv4, ...got.ipv6], fresh: true };
  }

  async release(): Promise<void> {
    await this.ipam.releaseByHandle(this.p.handleId);
  }

  async verify(addresses: readonly string[]): Promise<string | undefined> {
    const held = new Set(await this.ipam.ipsByHandle(this.p.handleId));
    const missing = addresses.filter((a) => !held.has(a));
    return missing.length > 0 ? `IPAM handle ${this.p.handleId} does not hold ${missing.join(', ')}` : undefined;
  }
}

/** Find an executable `type` on CNI_PATH. */
export function findPlugin(type: string, path: readonly string[]): string | undefined {
  for (const dir of path) {
    const candidate = join(dir, type);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export class DelegatedIpamSource implements AddressSource {
  constructor(
    private readonly run: Runner,
    private readonly p: { type: string; args: CniArgs; env: NodeJS.ProcessEnv; stdin: string },
  ) {}

  async assign(): Promise<Assigned> {
    const out = await this.exec('ADD');
    let parsed: unknown;
    try {
      parsed = JSON.parse(out);
    } catch {
      throw new CniError(TARTAN_CNI_DELEGATE, `IPAM plugin ${this.p.type} printed no JSON result`, out.slice(0, 500));
    }
    const r = parseResult(parsed, `IPAM plugin ${this.p.type} result`);
    if (r.ips.length === 0) throw new CniError(TARTAN_CNI_DELEGATE, `IPAM plugin ${this.p.type} assigned no address`);
    const out2: Assigned = { addresses: r.ips.map((i) => addressOf(i.address)), fresh: true };
    if (r.dns) out2.dns = r.dns;
    return out2;
  }

  async release(): Promise<void> {
    await this.exec('DEL');
  }

  async verify(): Promise<string | undefined> {
    // CHECK is passed on to the delegate; its error is ours.
    await this.exec('CHECK');
    return undefined;
  }

  private async exec(command: 'ADD' | 'DEL' | 'CHECK'): Promise<string> {
    const bin = findPlugin(this.p.type, this.p.args.path);
    if (!bin) throw new CniError(TARTAN_CNI_DELEGATE, `IPAM plugin ${JSON.stringify(this.p.type)} not found`, `looked in CNI_PATH: ${this.p.args.path.join(':') || '(empty)'}`);
    let res;
    try {
      res = await this.run([bin], { input: this.p.stdin, env: { ...this.p.env, CNI_COMMAND: command } });
    } catch (e) {
      throw new CniError(TARTAN_CNI_DELEGATE, `IPAM plugin ${bin} could not be run`, (e as Error).message, { cause: e });
    }
    // The delegate's stderr is ours (spec §4).
    if (res.stderr) process.stderr.write(res.stderr);
    if (res.code === 0) return res.stdout;
    let err: { code?: unknown; msg?: unknown; details?: unknown } = {};
    try {
      err = JSON.parse(res.stdout) as typeof err;
    } catch {
      // not the spec's error object
    }
    // Pass the delegate's own error through, code and all.
    const code = typeof err.code === 'number' ? err.code : TARTAN_CNI_DELEGATE;
    throw new CniError(code, `IPAM plugin ${this.p.type} ${command} failed: ${typeof err.msg === 'string' ? err.msg : `exit ${res.code}`}`, typeof err.details === 'string' ? err.details : res.stdout.slice(0, 500));
  }
}
