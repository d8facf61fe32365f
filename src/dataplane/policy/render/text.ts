/** Text forms of rendered tables (golden tests, debugging, `tartanctl` later). */
import type { RenderConfig } from '../config';
import type { RenderedTable } from './types';

/** iptables' comment match holds at most 255 characters. */
const MAX_COMMENT = 255;
const DESCRIPTION = /(^| )-m comment --comment "([^"]*)"( |$)/;

/**
 * `-A <chain> -m comment --comment "<prefix><hash>[ <description>]" <body>`:
 * the exact line Tartan writes. A rule's descriptive comment (Felix's
 * "Return if policy accepted" etc.) shares the hash comment's match instead
 * of being a second one: with iptables-nft every comment is an xt match the
 * kernel visits for every path to the rule at each commit's ruleset
 * validation (~20 % of a commit's cost on a large ruleset; BENCHMARKS.md).
 * The hash is still that of the rendered body, description included, and
 * read-back only looks at `<prefix><hash>`.
 */
export function ruleLine(chain: string, hash: string, body: string, commentPrefix: string): string {
  const m = DESCRIPTION.exec(body);
  if (m !== null) {
    const text = `${commentPrefix}${hash} ${m[2] ?? ''}`;
    if (text.length <= MAX_COMMENT) {
      const before = body.slice(0, m.index);
      const after = body.slice(m.index + m[0].length);
      const rest = before !== '' && after !== '' ? `${before} ${after}` : before + after;
      return `-A ${chain} -m comment --comment "${text}"${rest === '' ? '' : ` ${rest}`}`;
    }
  }
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
