import { ConfigError } from './errors';
import { canonicalIp } from '../util/ip';

/**
 * Reads one YAML mapping field by field, so that every problem is reported
 * with its full path (`peers[2].asNumber: ...`), and unknown keys are caught
 * (a misspelt `pasive: true` must not silently mean "active").
 */
export class FieldReader {
  private readonly seen = new Set<string>();

  constructor(
    private readonly obj: Record<string, unknown>,
    private readonly path: string,
  ) {}

  static of(value: unknown, path: string): FieldReader {
    if (value === null || value === undefined) return new FieldReader({}, path);
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new ConfigError(path, `must be a mapping, got ${describe(value)}`);
    }
    return new FieldReader(value as Record<string, unknown>, path);
  }

  fieldPath(name: string): string {
    return this.path ? `${this.path}.${name}` : name;
  }

  has(name: string): boolean {
    return this.obj[name] !== undefined && this.obj[name] !== null;
  }

  raw(name: string): unknown {
    this.seen.add(name);
    return this.obj[name];
  }

  string(name: string, fallback?: string): string {
    const v = this.raw(name);
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw new ConfigError(this.fieldPath(name), 'is required');
    }
    if (typeof v !== 'string' || v.length === 0) {
      throw new ConfigError(this.fieldPath(name), `must be a non-empty string, got ${describe(v)}`);
    }
    return v;
  }

  optionalString(name: string): string | undefined {
    return this.has(name) ? this.string(name) : (this.raw(name), undefined);
  }

  integer(name: string, min: number, max: number, fallback?: number): number {
    const v = this.raw(name);
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw new ConfigError(this.fieldPath(name), 'is required');
    }
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw new ConfigError(this.fieldPath(name), `must be an integer, got ${describe(v)}`);
    }
    if (v < min || v > max) {
      throw new ConfigError(this.fieldPath(name), `${v} is out of range ${min}..${max}`);
    }
    return v;
  }

  optionalInteger(name: string, min: number, max: number): number | undefined {
    return this.has(name) ? this.integer(name, min, max) : (this.raw(name), undefined);
  }

  boolean(name: string, fallback: boolean): boolean {
    const v = this.raw(name);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') {
      throw new ConfigError(this.fieldPath(name), `must be true or false, got ${describe(v)}`);
    }
    return v;
  }

  ip(name: string, fallback?: string): string {
    const text = this.string(name, fallback);
    const ip = canonicalIp(text);
    if (ip === null) throw new ConfigError(this.fieldPath(name), `"${text}" is not an IP address`);
    return ip;
  }

  optionalIp(name: string): string | undefined {
    return this.has(name) ? this.ip(name) : (this.raw(name), undefined);
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const v = this.raw(name);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      throw new ConfigError(this.fieldPath(name), `must be one of ${allowed.join(', ')}, got ${describe(v)}`);
    }
    return v as T;
  }

  list(name: string): { value: unknown; path: string }[] {
    const v = this.raw(name);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw new ConfigError(this.fieldPath(name), `must be a list, got ${describe(v)}`);
    return v.map((value: unknown, i: number) => ({ value, path: `${this.fieldPath(name)}[${i}]` }));
  }

  child(name: string): FieldReader {
    return FieldReader.of(this.raw(name), this.fieldPath(name));
  }

  /** Call last: rejects keys nobody read, suggesting the closest known one. */
  rejectUnknown(known: readonly string[] = [...this.seen]): void {
    for (const key of Object.keys(this.obj)) {
      if (this.seen.has(key)) continue;
      const hint = closest(key, known);
      throw new ConfigError(this.fieldPath(key), `unknown field${hint ? ` (did you mean "${hint}"?)` : ''}`);
    }
  }
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v);
  return `${typeof v} ${String(v)}`;
}

/** The known name within edit distance 2 of `word`, if any. */
function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(word.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
