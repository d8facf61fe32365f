/**
 * Parsing `iptables-save -t TABLE` output — only what Tartan owns.
 *
 * As Felix (felix/iptables/table.go `readHashesAndRulesFrom`), only hash
 * comments are read, never rule text: a chain is "as programmed" iff its
 * list of hashes equals the rendered one. In foreign (kernel or other
 * software's) chains only our hook rules are recorded: rules carrying our
 * comment prefix or jumping to one of our chains. Everything else is
 * invisible to Tartan and therefore never touched.
 */
export interface HookEntry {
  kernelChain: string;
  /** null when a rule jumps to our chain without our comment (left over or hand-made). */
  hash: string | null;
  /** The rule spec after `-A <chain> `, usable with `-D <chain> <spec>`. */
  spec: string;
}

export interface ProgrammedTable {
  /** Our chains → rule hashes ('' for a rule without a hash comment). */
  chains: Map<string, string[]>;
  hooks: HookEntry[];
}

export interface OwnershipRules {
  owns(chain: string): boolean;
  commentPrefix: string;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function parseSave(text: string, own: OwnershipRules): ProgrammedTable {
  const chains = new Map<string, string[]>();
  const hooks: HookEntry[] = [];
  const hashRe = new RegExp(`--comment "?${escapeRe(own.commentPrefix)}([A-Za-z0-9_-]+)"?`);
  const jumpRe = /(?:^|\s)-[jg] (\S+)/;
  for (const line of text.split('\n')) {
    if (line.startsWith(':')) {
      const name = line.slice(1).split(' ')[0] ?? '';
      if (own.owns(name) && !chains.has(name)) chains.set(name, []);
      continue;
    }
    if (!line.startsWith('-A ')) continue;
    const sp = line.indexOf(' ', 3);
    if (sp < 0) continue;
    const chain = line.slice(3, sp);
    const spec = line.slice(sp + 1);
    const hash = hashRe.exec(spec)?.[1] ?? null;
    if (own.owns(chain)) {
      let list = chains.get(chain);
      if (list === undefined) {
        list = [];
        chains.set(chain, list);
      }
      list.push(hash ?? '');
      continue;
    }
    const target = jumpRe.exec(spec)?.[1];
    if (hash !== null || (target !== undefined && own.owns(target))) hooks.push({ kernelChain: chain, hash, spec });
  }
  return { chains, hooks };
}
