/** Text forms of rendered tables (golden tests, debugging, `tartanctl` later). */
import type { RenderConfig } from '../config';
import type { RenderedTable } from './types';

/** `-A <chain> -m comment --comment "<prefix><hash>" <body>`: the exact line Tartan writes. */
export function ruleLine(chain: string, hash: string, body: string, commentPrefix: string): string {
  return `-A ${chain} -m comment --comment "${commentPrefix}${hash}" ${body}`;
}

/** The whole table as iptables-save would list it (chains, then rules), hooks first. */
export function tableText(t: RenderedTable, cfg: Pick<RenderConfig, 'commentPrefix'>): string {
  const lines = [`*${t.table}`];
  for (const c of t.chains) lines.push(`:${c.name} - [0:0]`);
  for (const h of t.hooks) lines.push(ruleLine(h.kernelChain, h.hash, h.body, cfg.commentPrefix));
  for (const c of t.chains) for (const r of c.rules) lines.push(ruleLine(c.name, r.hash, r.body, cfg.commentPrefix));
  lines.push('COMMIT');
  return lines.join('\n') + '\n';
}
