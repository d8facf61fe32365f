/**
 * Resource commands, after calicoctl's `crud_commands.go`, `get_command.go`,
 * `patch.go`, `label.go` and `validate.go`:
 *
 *   create|apply|replace|delete -f FILE|DIR|- [-R]   every document validated first
 *   delete KIND NAME...                              [-s/--skip-not-exists]
 *   get KIND [NAME...] [-o ps|wide|yaml|json|custom-columns=A,B] [-n NS | -A]
 *   patch KIND NAME -p JSON [--type merge|json]
 *   label KIND NAME key=value|key- [--overwrite]
 *   validate -f FILE|DIR|-
 *
 * Writes happen only after every document parsed and validated and every
 * precondition (exists / does not exist / resourceVersion current) held.
 */
import { Command, Option } from 'commander';
import {
  DEFAULT_AS_NUMBER, DEFAULT_NAMESPACE, KINDS, RESOURCE_NOT_FOUND, kindInfo, lookupKind, validateResource,
  type Datastore, type DatastoreConfig, type Kind, type KindInfo, type Resource,
} from '../datastore';
import { isTartanError } from '../errors';
import { CliError, UsageError } from './errors';
import { parseManifests, readManifests } from './manifests';
import { checkJsonPatch, jsonPatch, mergePatch } from './patch';
import { parseOutputFormat, renderObjects, renderTable, type PrintContext } from './printer';
import { withDatastore } from './datastore-session';

export interface CliContext {
  out: (s: string) => void;
  datastore: (cmd: Command) => DatastoreConfig;
  stdin?: () => string;
}

type Verb = 'create' | 'apply' | 'replace' | 'delete';
const PAST: Record<Verb, string> = { create: 'created', apply: 'applied', replace: 'replaced', delete: 'deleted' };

/** "bgppeer (bgpp, bp), node (no), …": each kind and its short names, plurals left out. */
export const KIND_HELP = KINDS.map((k) => {
  const short = k.names.slice(1).filter((n) => n !== k.plural && !(n.endsWith('s') && k.names.includes(n.slice(0, -1))) && !n.endsWith('ies'));
  return short.length > 0 ? `${k.names[0]} (${short.join(', ')})` : k.names[0];
}).join(', ');

export function resolveKind(text: string): KindInfo {
  const info = lookupKind(text);
  if (!info) throw new UsageError(`resource type '${text}' is not supported (known: ${KINDS.map((k) => k.kind.toLowerCase()).join(', ')})`);
  return info;
}

function ref(r: Resource): string {
  const ns = r.metadata.namespace ? `${r.metadata.namespace}/` : '';
  return `${r.kind} "${ns}${r.metadata.name}"`;
}

/** "Successfully applied 2 'BGPPeer' resource(s)", or without the kind when several kinds. */
function successLine(verb: string, items: readonly Resource[] | readonly Kind[], n = items.length): string {
  const kinds = new Set(items.map((i) => (typeof i === 'string' ? i : i.kind)));
  return kinds.size === 1 ? `Successfully ${verb} ${n} '${[...kinds][0]}' resource(s)` : `Successfully ${verb} ${n} resource(s)`;
}

/** Put namespaced resources without a namespace into -n (or "default"); refuse a mismatch. */
function placeNamespaces(resources: Resource[], namespace: string | undefined): Resource[] {
  return resources.map((r) => {
    if (!kindInfo(r.kind)?.namespaced) return r;
    const ns = r.metadata.namespace;
    if (ns !== undefined && namespace !== undefined && ns !== namespace) {
      throw new CliError(`${ref(r)}: its namespace does not match -n ${namespace}`);
    }
    return ns !== undefined ? r : ({ ...r, metadata: { ...r.metadata, namespace: namespace ?? DEFAULT_NAMESPACE } } as Resource);
  });
}

async function exists(ds: Datastore, r: Resource): Promise<Resource | undefined> {
  try {
    return await ds.get(r.kind, r.metadata.name, r.metadata.namespace);
  } catch (e) {
    if (isTartanError(e, RESOURCE_NOT_FOUND)) return undefined;
    throw e;
  }
}

/** Check what must hold before the first write. */
async function preconditions(ds: Datastore, verb: Verb, resources: readonly Resource[], opts: { skipExists?: boolean; skipNotExists?: boolean }): Promise<boolean[]> {
  const skip: boolean[] = [];
  for (const r of resources) {
    const current = await exists(ds, r);
    const rv = r.metadata.resourceVersion;
    if (verb === 'create' && current) {
      if (!opts.skipExists) throw new CliError(`${ref(r)} already exists; nothing was created (use apply to update, or --skip-exists)`);
      skip.push(true);
      continue;
    }
    if ((verb === 'replace' || verb === 'delete') && !current) {
      if (verb === 'delete' && opts.skipNotExists) {
        skip.push(true);
        continue;
      }
      throw new CliError(`resource does not exist: ${ref(r)}; nothing was ${PAST[verb]}`);
    }
    if (current && rv !== undefined && rv !== current.metadata.resourceVersion) {
      throw new CliError(
        `update conflict: ${ref(r)} was modified: resourceVersion ${rv} is stale (now ${current.metadata.resourceVersion}); read it again (tartanctl get ... -o yaml) and retry, or remove metadata.resourceVersion to overwrite`,
      );
    }
    skip.push(false);
  }
  return skip;
}

async function writeAll(ds: Datastore, verb: Verb, resources: readonly Resource[], skip: readonly boolean[], out: (s: string) => void): Promise<void> {
  let done = 0;
  for (const [i, r] of resources.entries()) {
    if (skip[i]) {
      done++;
      continue;
    }
    try {
      if (verb === 'create') await ds.create(r);
      else if (verb === 'apply') await ds.apply(r);
      else if (verb === 'replace') await ds.update(r);
      else await ds.delete(r.kind, r.metadata.name, { namespace: r.metadata.namespace, resourceVersion: r.metadata.resourceVersion });
      done++;
    } catch (e) {
      // Someone changed the datastore between our checks and this write.
      if (done > 0) out(`Partial success: ${PAST[verb]} the first ${done} out of ${resources.length} resources`);
      throw e;
    }
  }
}

function fileAction(verb: Verb, ctx: CliContext) {
  return async (opts: { filename: string; recursive?: boolean; skipExists?: boolean; skipNotExists?: boolean; namespace?: string }, cmd: Command): Promise<void> => {
    const resources = placeNamespaces(parseManifests(readManifests(opts.filename, { recursive: opts.recursive, stdin: ctx.stdin })), opts.namespace);
    await withDatastore(ctx.datastore(cmd), async (ds) => {
      const skip = await preconditions(ds, verb, resources, opts);
      await writeAll(ds, verb, resources, skip, ctx.out);
    });
    ctx.out(successLine(PAST[verb], resources));
  };
}

const fileOption = (): Option => new Option('-f, --filename <file>', 'file, directory or - (stdin) of YAML/JSON resources').makeOptionMandatory();
const recursiveOption = (): Option => new Option('-R, --recursive', 'process the directory in -f recursively');
const namespaceOption = (): Option => new Option('-n, --namespace <namespace>', 'namespace of namespaced resources (default "default")');

export function addResourceCommands(program: Command, ctx: CliContext): void {
  program
    .command('create')
    .description('create resources from a file; fails if any already exists')
    .addOption(fileOption())
    .addOption(recursiveOption())
    .option('--skip-exists', 'skip resources that already exist instead of failing')
    .addOption(namespaceOption())
    .exitOverride()
    .action(fileAction('create', ctx));

  program
    .command('apply')
    .description('create or update resources from a file')
    .addOption(fileOption())
    .addOption(recursiveOption())
    .addOption(namespaceOption())
    .exitOverride()
    .action(fileAction('apply', ctx));

  program
    .command('replace')
    .description('replace existing resources from a file (honours metadata.resourceVersion)')
    .addOption(fileOption())
    .addOption(recursiveOption())
    .addOption(namespaceOption())
    .exitOverride()
    .action(fileAction('replace', ctx));

  program
    .command('delete')
    .description('delete resources named on the command line or in a file')
    .usage('(-f FILE | KIND NAME...) [options]')
    .argument('[kind]', `resource kind: ${KIND_HELP}`)
    .argument('[names...]', 'resource names')
    .addOption(new Option('-f, --filename <file>', 'file, directory or - (stdin) of resources to delete'))
    .addOption(recursiveOption())
    .option('--skip-not-exists', 'skip resources that do not exist instead of failing (calicoctl -s; here -s is --socket)')
    .addOption(namespaceOption())
    .exitOverride()
    .action(async (kindText: string | undefined, names: string[], opts: { filename?: string; recursive?: boolean; skipNotExists?: boolean; namespace?: string }, cmd: Command) => {
      if (opts.filename !== undefined) {
        if (kindText !== undefined) throw new UsageError('give either -f FILE or KIND NAME..., not both');
        await fileAction('delete', ctx)({ ...opts, filename: opts.filename }, cmd);
        return;
      }
      if (kindText === undefined || names.length === 0) throw new UsageError('delete needs -f FILE or KIND NAME...');
      const info = resolveKind(kindText);
      const namespace = info.namespaced ? (opts.namespace ?? DEFAULT_NAMESPACE) : undefined;
      const targets = names.map((n) => ({ apiVersion: 'projectcalico.org/v3', kind: info.kind, metadata: { name: n, ...(namespace ? { namespace } : {}) }, spec: {} }) as unknown as Resource);
      await withDatastore(ctx.datastore(cmd), async (ds) => {
        const skip = await preconditions(ds, 'delete', targets, opts);
        await writeAll(ds, 'delete', targets, skip, ctx.out);
      });
      ctx.out(successLine('deleted', targets));
    });

  program
    .command('get')
    .description('show resources of one kind')
    .argument('<kind>', `resource kind: ${KIND_HELP}`)
    .argument('[names...]', 'only these resources')
    .option('-o, --output <format>', 'ps | wide | yaml | json | custom-columns=A,B', 'ps')
    .addOption(namespaceOption())
    .option('-A, --all-namespaces', 'namespaced kinds: every namespace')
    .exitOverride()
    .action(async (kindText: string, names: string[], opts: { output: string; namespace?: string; allNamespaces?: boolean }, cmd: Command) => {
      const info = resolveKind(kindText);
      const fmt = parseOutputFormat(opts.output);
      const all = info.namespaced && opts.allNamespaces === true;
      const namespace = info.namespaced && !all ? (opts.namespace ?? DEFAULT_NAMESPACE) : undefined;
      const text = await withDatastore(ctx.datastore(cmd), async (ds) => {
        let items: Resource[];
        let revision: number | undefined;
        if (names.length > 0) {
          if (all) throw new UsageError('-A cannot be used with resource names');
          items = [];
          for (const n of names) items.push(await ds.get(info.kind, n, namespace));
        } else {
          const listed = await ds.list(info.kind, namespace);
          items = listed.items;
          revision = listed.revision;
        }
        if (fmt.type === 'yaml' || fmt.type === 'json') return renderObjects(items, fmt.type, `${info.kind}List`, revision);
        const pctx: PrintContext = { defaultAsNumber: info.kind === 'Node' ? await clusterAsNumber(ds) : DEFAULT_AS_NUMBER };
        return renderTable(info.kind, items, fmt, pctx, { namespaceColumn: all });
      });
      ctx.out(text);
    });

  program
    .command('patch')
    .description('change fields of one resource with a JSON merge patch or a JSON patch')
    .argument('<kind>', 'resource kind')
    .argument('<name>', 'resource name')
    .requiredOption('-p, --patch <json>', `the patch, e.g. '{"spec":{"asNumber":64513}}' or '[{"op":"replace","path":"/spec/asNumber","value":64513}]'`)
    .addOption(new Option('-t, --type <type>', 'merge = RFC 7386 merge patch, json = RFC 6902 JSON patch').choices(['merge', 'json']).default('merge'))
    .addOption(namespaceOption())
    .exitOverride()
    .action(async (kindText: string, name: string, opts: { patch: string; type: 'merge' | 'json'; namespace?: string }, cmd: Command) => {
      const info = resolveKind(kindText);
      let body: unknown;
      try {
        body = JSON.parse(opts.patch);
      } catch (e) {
        throw new CliError(`invalid patch: not JSON: ${(e as Error).message}`);
      }
      const ops = opts.type === 'json' ? checkJsonPatch(body) : undefined;
      if (opts.type === 'merge' && (typeof body !== 'object' || body === null || Array.isArray(body))) {
        throw new CliError('invalid patch: a merge patch must be a JSON object (use --type json for a list of operations)');
      }
      const namespace = info.namespaced ? (opts.namespace ?? DEFAULT_NAMESPACE) : undefined;
      await withDatastore(ctx.datastore(cmd), (ds) =>
        modify(ds, info.kind, name, namespace, (current) => {
          const next = (ops ? jsonPatch(current, ops) : mergePatch(current, body)) as Resource;
          if (typeof next !== 'object' || next === null || next.kind !== current.kind || next.metadata?.name !== current.metadata.name || next.metadata?.namespace !== current.metadata.namespace) {
            throw new CliError('invalid patch: it may not change kind, metadata.name or metadata.namespace');
          }
          return next;
        }),
      );
      ctx.out(`Successfully patched 1 '${info.kind}' resource`);
    });

  program
    .command('label')
    .description('set (key=value) or remove (key-) a label of one resource')
    .argument('<kind>', 'resource kind')
    .argument('<name>', 'resource name')
    .argument('<labels...>', 'key=value to set, key- to remove')
    .option('--overwrite', 'replace the value of a label that is already set')
    .addOption(namespaceOption())
    .exitOverride()
    .action(async (kindText: string, name: string, labelArgs: string[], opts: { overwrite?: boolean; namespace?: string }, cmd: Command) => {
      const info = resolveKind(kindText);
      const changes = labelArgs.map(parseLabelArg);
      const namespace = info.namespaced ? (opts.namespace ?? DEFAULT_NAMESPACE) : undefined;
      const what = `${info.kind.toLowerCase()} ${name}`;
      await withDatastore(ctx.datastore(cmd), (ds) =>
        modify(ds, info.kind, name, namespace, (current) => {
          const labels = { ...(current.metadata.labels ?? {}) };
          for (const c of changes) {
            if (c.value === undefined) {
              if (!(c.key in labels)) throw new CliError(`cannot remove label ${c.key} from ${what}: it is not set`);
              delete labels[c.key];
            } else {
              const old = labels[c.key];
              if (old !== undefined && old !== c.value && !opts.overwrite) {
                throw new CliError(`cannot set label ${c.key} on ${what}: it is already set to ${JSON.stringify(old)}; use --overwrite to change it`);
              }
              labels[c.key] = c.value;
            }
          }
          return { ...current, metadata: { ...current.metadata, labels } } as Resource;
        }),
      );
      for (const c of changes) ctx.out(c.value === undefined ? `Successfully removed label ${c.key} from ${what}` : `Successfully set label ${c.key} on ${what}`);
    });

  program
    .command('validate')
    .description('check resource files without touching the datastore')
    .addOption(fileOption())
    .addOption(recursiveOption())
    .exitOverride()
    .action((opts: { filename: string; recursive?: boolean }) => {
      const resources = parseManifests(readManifests(opts.filename, { recursive: opts.recursive, stdin: ctx.stdin }));
      ctx.out(successLine('validated', resources));
    });
}

function parseLabelArg(arg: string): { key: string; value?: string } {
  if (arg.endsWith('-') && !arg.includes('=')) return { key: arg.slice(0, -1) };
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new UsageError(`invalid label ${JSON.stringify(arg)}: use key=value to set or key- to remove`);
  return { key: arg.slice(0, eq), value: arg.slice(eq + 1) };
}

/**
 * Read-modify-write with the read resourceVersion, so a concurrent writer is
 * never overwritten; on a conflict, read again and redo the change.
 */
async function modify(ds: Datastore, kind: Kind, name: string, namespace: string | undefined, change: (r: Resource) => Resource): Promise<Resource> {
  for (let attempt = 0; ; attempt++) {
    const current = await ds.get(kind, name, namespace);
    const next = change(current);
    // Validate here so field errors name the patched field, not a conflict.
    validateResource({ ...next, metadata: { ...next.metadata, resourceVersion: current.metadata.resourceVersion } });
    try {
      return await ds.update({ ...next, metadata: { ...next.metadata, resourceVersion: current.metadata.resourceVersion } } as Resource);
    } catch (e) {
      if (attempt < 4 && isTartanError(e, 'RESOURCE_CONFLICT')) continue;
      throw e;
    }
  }
}

async function clusterAsNumber(ds: Datastore): Promise<number | string> {
  try {
    const asn = (await ds.get('BGPConfiguration', 'default')).spec.asNumber;
    return asn ?? DEFAULT_AS_NUMBER;
  } catch (e) {
    if (isTartanError(e, RESOURCE_NOT_FOUND)) return DEFAULT_AS_NUMBER;
    throw e;
  }
}
