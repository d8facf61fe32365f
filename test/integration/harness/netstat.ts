/**
 * Kernel TCP counters (/proc/net/netstat, "TcpExt" rows) of one network
 * namespace: evidence of what the kernel dropped, e.g. TCPMD5Failure (a
 * segment signed with the wrong TCP-MD5 key), TCPMD5NotFound (unsigned where
 * a key is set), TCPMD5Unexpected (signed where none is), TCPMinTTLDrop
 * (below IP_MINTTL / IPV6_MINHOPCOUNT).
 */
import { readFileSync } from 'node:fs';
import type { Host } from './host';

/** The TcpExt counters of /proc/net/netstat text, by name. */
export function parseTcpExt(text: string): Record<string, number> {
  const rows = text.split('\n').filter((l) => l.startsWith('TcpExt:'));
  const [names, values] = rows.map((l) => l.split(/\s+/).slice(1));
  const out: Record<string, number> = {};
  (names ?? []).forEach((n, i) => (out[n] = Number(values?.[i] ?? NaN)));
  return out;
}

/** One TcpExt counter in a lab host's namespace, or (no host) in this process's own. */
export async function tcpExt(host: Host | undefined, name: string): Promise<number> {
  const text = host ? await host.exec(['cat', '/proc/net/netstat']) : readFileSync('/proc/net/netstat', 'utf8');
  const v = parseTcpExt(text)[name];
  if (v === undefined || Number.isNaN(v)) throw new Error(`no TcpExt counter ${name} in /proc/net/netstat`);
  return v;
}
