/**
 * iptables backend selection (Felix `IptablesBackend` = auto|legacy|nft).
 * `auto` follows what the system's `iptables` is (Debian 12: nf_tables),
 * so Tartan's rules land where the administrator's tools look.
 */
import { TartanError } from '../../../errors';
import type { IpVersion } from '../model';
import type { CommandRunner } from './exec';

export type IptablesBackend = 'nft' | 'legacy';

export async function detectBackend(run: CommandRunner): Promise<IptablesBackend> {
  let res;
  try {
    res = await run(['iptables', '--version']);
  } catch (e) {
    throw new TartanError('IPTABLES_UNAVAILABLE', 'cannot run iptables --version', { cause: e });
  }
  if (res.code !== 0) throw new TartanError('IPTABLES_UNAVAILABLE', `iptables --version: ${res.stderr.trim()}`);
  return /nf_tables/.test(res.stdout) ? 'nft' : 'legacy';
}

export function iptablesCommands(backend: IptablesBackend, v: IpVersion): { save: string; restore: string } {
  const base = v === 4 ? 'iptables' : 'ip6tables';
  return { save: `${base}-${backend}-save`, restore: `${base}-${backend}-restore` };
}
