/**
 * `patch -p` bodies: RFC 7386 JSON merge patch (`--type merge`, default) and
 * RFC 6902 JSON patch (`--type json`) with RFC 6901 pointers. Pure; inputs
 * are never modified.
 */
import { CliError } from './errors';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** RFC 7386: objects merge recursively, null deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isObject(target) ? { ...(clone(target) as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: unknown;
}

/** RFC 6901 pointer → reference tokens. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new CliError(`invalid JSON pointer ${JSON.stringify(pointer)}: must be empty or start with "/"`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(token: string, length: number, forAdd: boolean, pointer: string): number {
  if (forAdd && token === '-') return length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw new CliError(`path ${pointer}: ${JSON.stringify(token)} is not an array index`);
  const i = Number(token);
  if (i > length || (!forAdd && i === length)) throw new CliError(`path ${pointer}: index ${i} is out of range (length ${length})`);
  return i;
}

/** The parent container of `tokens` and the last token; throws if a parent is missing. */
function parentOf(doc: unknown, tokens: string[], pointer: string): { parent: Json[] | Record<string, Json>; key: string } {
  let cur: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(t, cur.length, false, pointer)];
    else if (isObject(cur) && t in cur) cur = cur[t];
    else throw new CliError(`path ${pointer}: ${JSON.stringify(t)} does not exist`);
  }
  if (!Array.isArray(cur) && !isObject(cur)) throw new CliError(`path ${pointer}: parent is not an object or array`);
  return { parent: cur, key: tokens[tokens.length - 1]! };
}

function getAt(doc: unknown, pointer: string): unknown {
  let cur: unknown = doc;
  for (const t of parsePointer(pointer)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(t, cur.length, false, pointer)];
    else if (isObject(cur) && t in cur) cur = cur[t];
    else throw new CliError(`path ${pointer} does not exist`);
  }
  return cur;
}

function addAt(doc: unknown, pointer: string, value: unknown): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return clone(value);
  const { parent, key } = parentOf(doc, tokens, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(key, parent.length, true, pointer), 0, clone(value) as Json);
  else parent[key] = clone(value) as Json;
  return doc;
}

function removeAt(doc: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) throw new CliError('cannot remove the whole resource');
  const { parent, key } = parentOf(doc, tokens, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(key, parent.length, false, pointer), 1);
  else if (key in parent) delete parent[key];
  else throw new CliError(`path ${pointer} does not exist`);
  return doc;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

/** Check the shape of a parsed `--type json` body. */
export function checkJsonPatch(ops: unknown): JsonPatchOp[] {
  if (!Array.isArray(ops)) throw new CliError('a JSON patch (--type json) must be an array of operations, e.g. [{"op":"replace","path":"/spec/asNumber","value":64513}]');
  return ops.map((o, i) => {
    if (!isObject(o)) throw new CliError(`patch[${i}]: must be an object`);
    const op = o['op'];
    if (typeof op !== 'string' || !['add', 'remove', 'replace', 'move', 'copy', 'test'].includes(op)) {
      throw new CliError(`patch[${i}].op: must be add, remove, replace, move, copy or test, got ${JSON.stringify(op)}`);
    }
    if (typeof o['path'] !== 'string') throw new CliError(`patch[${i}].path: required string`);
    if ((op === 'move' || op === 'copy') && typeof o['from'] !== 'string') throw new CliError(`patch[${i}].from: required for ${op}`);
    if ((op === 'add' || op === 'replace' || op === 'test') && !('value' in o)) throw new CliError(`patch[${i}].value: required for ${op}`);
    return o as unknown as JsonPatchOp;
  });
}

/** RFC 6902: apply every operation in order; any failure fails the whole patch. */
export function jsonPatch(target: unknown, ops: readonly JsonPatchOp[]): unknown {
  let doc = clone(target);
  ops.forEach((o, i) => {
    try {
      switch (o.op) {
        case 'add':
          doc = addAt(doc, o.path, o.value);
          break;
        case 'remove':
          doc = removeAt(doc, o.path);
          break;
        case 'replace':
          getAt(doc, o.path);
          doc = parsePointer(o.path).length === 0 ? clone(o.value) : addAt(removeAt(doc, o.path), o.path, o.value);
          break;
        case 'move': {
          const from = o.from!;
          if (o.path.startsWith(`${from}/`)) throw new CliError(`cannot move ${from} into itself`);
          const v = clone(getAt(doc, from));
          doc = addAt(removeAt(doc, from), o.path, v);
          break;
        }
        case 'copy':
          doc = addAt(doc, o.path, clone(getAt(doc, o.from!)));
          break;
        case 'test':
          if (!deepEqual(getAt(doc, o.path), o.value)) throw new CliError(`test failed: ${o.path} is not ${JSON.stringify(o.value)}`);
          break;
      }
    } catch (e) {
      if (e instanceof CliError) throw new CliError(`patch[${i}] (${o.op}): ${e.message}`);
      throw e;
    }
  });
  return doc;
}
