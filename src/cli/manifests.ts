/**
 * `-f FILE|DIR|-`: read every manifest and validate every document before
 * anything is written, so one bad document leaves the datastore untouched
 * (calicoctl `resourcemgr.CreateResourcesFromBytes` + `-R` directory walk).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseResources, RESOURCE_PARSE_ERROR, RESOURCE_INVALID, type Resource } from '../datastore';
import { isTartanError, errorMessage } from '../errors';
import { CliError, oneLine } from './errors';

const MANIFEST_EXT = /\.(ya?ml|json)$/i;

export interface ManifestSource {
  /** Path as given (or "stdin"). */
  name: string;
  text: string;
}

/** The files behind one -f argument, in sorted order. */
export function readManifests(path: string, opts: { recursive?: boolean; stdin?: () => string } = {}): ManifestSource[] {
  if (path === '-') return [{ name: 'stdin', text: (opts.stdin ?? (() => readFileSync(0, 'utf8')))() }];
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`${path}: ${code === 'ENOENT' ? 'no such file or directory' : (code ?? errorMessage(e))}`);
  }
  if (!st.isDirectory()) return [{ name: path, text: readText(path) }];
  const out: ManifestSource[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (opts.recursive) walk(full);
      } else if (MANIFEST_EXT.test(entry.name)) {
        out.push({ name: full, text: readText(full) });
      }
    }
  };
  walk(path);
  if (out.length === 0) throw new CliError(`${path}: no .yaml, .yml or .json files${opts.recursive ? '' : ' (use -R to include subdirectories)'}`);
  return out;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliError(`${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}`);
  }
}

/** Parse and validate every source; throws the first file's problems as one line. */
export function parseManifests(sources: readonly ManifestSource[]): Resource[] {
  const all: Resource[] = [];
  for (const src of sources) {
    try {
      all.push(...parseResources(src.text, { defaults: false }));
    } catch (e) {
      if (isTartanError(e, RESOURCE_PARSE_ERROR)) {
        // yaml's message: "<what> at line L, column C:\n\n<excerpt>\n^" — keep the first line.
        throw new CliError(`${src.name}: ${e.message.split('\n')[0]!.replace(/:$/, '')}`, { cause: e });
      }
      if (isTartanError(e, RESOURCE_INVALID)) throw new CliError(`${src.name}: ${oneLine(e.message)}`, { cause: e });
      throw e;
    }
  }
  if (all.length === 0) throw new CliError(`${sources.map((s) => s.name).join(', ')}: no resources found`);
  return all;
}
