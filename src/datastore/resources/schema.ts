/**
 * A tiny schema language for resource validation: every check walks the
 * value, records each problem with its field path (`spec.peerIP: ...`) and
 * keeps going, so one `calicoctl apply` shows all mistakes at once. Unknown
 * fields are problems too (a misspelt `nodeToNodeMeshEnabeld` must not
 * silently mean "default"), as in Calico's strict decoding.
 *
 * Everything here is pure.
 */
import { isIP } from 'node:net';
import { parsePrefix } from '../../util/ip';
import { parseSelector, SelectorError } from '../../selector';

export interface Problem {
  path: string;
  message: string;
}

/** Checks `value` at `path`, appending problems; never throws. */
export type Check = (value: unknown, path: string, problems: Problem[]) => void;

export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

export interface ObjectOptions {
  required?: readonly string[];
  /** Cross-field rules, run only when the fields themselves were fine. */
  refine?: (obj: Record<string, unknown>, path: string, problems: Problem[]) => void;
}

export function obj(fields: Readonly<Record<string, Check>>, opts: ObjectOptions = {}): Check {
  return (value, path, problems) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push({ path, message: `must be a mapping, got ${describeValue(value)}` });
      return;
    }
    const rec = value as Record<string, unknown>;
    const before = problems.length;
    for (const name of opts.required ?? []) {
      if (rec[name] === undefined || rec[name] === null) problems.push({ path: join(path, name), message: 'is required' });
    }
    for (const [name, v] of Object.entries(rec)) {
      const check = fields[name];
      if (!check) {
        problems.push({ path: join(path, name), message: 'unknown field' });
        continue;
      }
      // null is "not set", as with Go's omitempty decoding.
      if (v !== null && v !== undefined) check(v, join(path, name), problems);
    }
    if (opts.refine && problems.length === before) opts.refine(rec, path, problems);
  };
}

export function arrayOf(item: Check, maxLength?: number): Check {
  return (value, path, problems) => {
    if (!Array.isArray(value)) {
      problems.push({ path, message: `must be a list, got ${describeValue(value)}` });
      return;
    }
    if (maxLength !== undefined && value.length > maxLength) {
      problems.push({ path, message: `must have at most ${maxLength} items` });
    }
    value.forEach((v, i) => item(v, `${path}[${i}]`, problems));
  };
}

/** A string → string map (labels, annotations, labelsToApply). */
export function stringMap(key?: Check): Check {
  return (value, path, problems) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push({ path, message: `must be a mapping, got ${describeValue(value)}` });
      return;
    }
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (key) key(k, `${path}[${JSON.stringify(k)}]`, problems);
      if (typeof v !== 'string') problems.push({ path: `${path}.${k}`, message: `must be a string, got ${describeValue(v)}` });
    }
  };
}

export function str(pattern?: RegExp, what?: string): Check {
  return (value, path, problems) => {
    if (typeof value !== 'string') {
      problems.push({ path, message: `must be a string, got ${describeValue(value)}` });
    } else if (pattern && !pattern.test(value)) {
      problems.push({ path, message: `${JSON.stringify(value)} is not ${what ?? `a match for ${pattern}`}` });
    }
  };
}

export const anyString = str();

export const bool: Check = (value, path, problems) => {
  if (typeof value !== 'boolean') problems.push({ path, message: `must be true or false, got ${describeValue(value)}` });
};

export function int(min: number, max: number): Check {
  return (value, path, problems) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      problems.push({ path, message: `must be ${min}..${max}, got ${describeValue(value)}` });
    }
  };
}

export const float: Check = (value, path, problems) => {
  if (typeof value !== 'number' || !Number.isFinite(value)) problems.push({ path, message: `must be a number, got ${describeValue(value)}` });
};

export function oneOf(values: readonly string[]): Check {
  return (value, path, problems) => {
    if (typeof value !== 'string' || !values.includes(value)) {
      problems.push({ path, message: `must be one of ${values.join(', ')}, got ${describeValue(value)}` });
    }
  };
}

/** Calico `numorstring.ASNumber`: 1..4294967295, or the "a.b" dotted form. */
export const asNumber: Check = (value, path, problems) => {
  if (typeof value === 'string' && /^\d+\.\d+$/.test(value)) {
    const [hi, lo] = value.split('.').map(Number) as [number, number];
    if (hi <= 65535 && lo <= 65535 && hi * 65536 + lo > 0) return;
  }
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 4294967295) return;
  problems.push({ path, message: `must be 1..4294967295, got ${describeValue(value)}` });
};

export function ipOf(family?: 4 | 6): Check {
  return (value, path, problems) => {
    const v = typeof value === 'string' ? isIP(value) : 0;
    if (v === 0 || (family && v !== family)) {
      problems.push({ path, message: `${describeValue(value)} is not an ${family ? `IPv${family}` : 'IP'} address` });
    }
  };
}
export const ip = ipOf();

/**
 * A CIDR. `allowHostBits` accepts an address with its subnet (Node
 * `ipv4Address: 10.0.0.5/24`); otherwise the network form is required and the
 * message names it.
 */
export function cidrOf(opts: { family?: 4 | 6; allowHostBits?: boolean; allowBareIP?: boolean } = {}): Check {
  return (value, path, problems) => {
    if (typeof value !== 'string' || (!opts.allowBareIP && !value.includes('/'))) {
      problems.push({ path, message: `${describeValue(value)} is not a CIDR` });
      return;
    }
    const p = parsePrefix(value);
    if (!p) {
      problems.push({ path, message: `${describeValue(value)} is not a CIDR` });
      return;
    }
    const fam = p.family === 'ipv4-unicast' ? 4 : 6;
    if (opts.family && fam !== opts.family) {
      problems.push({ path, message: `${describeValue(value)} is not an IPv${opts.family} CIDR` });
      return;
    }
    if (!opts.allowHostBits && value.includes('/') && !parsePrefix(value, true)) {
      problems.push({ path, message: `${describeValue(value)} has host bits set (the network is ${p.cidr})` });
    }
  };
}
export const cidr = cidrOf();

export const selector: Check = (value, path, problems) => {
  if (typeof value !== 'string') {
    problems.push({ path, message: `must be a selector string, got ${describeValue(value)}` });
    return;
  }
  try {
    parseSelector(value);
  } catch (e) {
    if (!(e instanceof SelectorError)) throw e;
    problems.push({ path, message: `${e.problem} at position ${e.position} in ${JSON.stringify(value)}` });
  }
};

/** Go `time.Duration` text, e.g. "120s", "1m30s", "500ms". */
export const duration = str(/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$|^0$/, 'a duration such as "120s" or "1m30s"');

/** A port (1..65535) or, where allowed, a "min:max" range or a named port. */
export function port(opts: { range?: boolean; named?: boolean } = {}): Check {
  return (value, path, problems) => {
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 65535) return;
    if (typeof value === 'string') {
      const m = /^(\d+):(\d+)$/.exec(value);
      if (opts.range && m && Number(m[1]) <= Number(m[2]) && Number(m[2]) <= 65535) return;
      if (/^\d+$/.test(value) && Number(value) <= 65535) return;
      if (opts.named && /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,13}[a-zA-Z0-9])?$/.test(value) && /[a-z]/i.test(value)) return;
    }
    problems.push({ path, message: `${describeValue(value)} is not a valid port${opts.range ? ' or range' : ''}` });
  };
}

/** Accept any value (fields Calico leaves opaque, such as k8s ownerReferences). */
export const opaque: Check = () => undefined;

/** Checks run one after another on the same value. */
export function all(...checks: Check[]): Check {
  return (value, path, problems) => {
    for (const c of checks) c(value, path, problems);
  };
}
