/**
 * How tartanctl fails: a UsageError is a wrong command line (exit 2); any
 * other error is a failed operation (exit 1). Both print one line.
 */
import { TartanError } from '../errors';

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class UsageError extends TartanError {
  constructor(message: string) {
    super('CLI_USAGE', message);
  }
}

export class CliError extends TartanError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CLI_FAILED', message, options);
  }
}

/** Fold a multi-line message (e.g. every invalid field) onto one line. */
export function oneLine(message: string): string {
  const lines = message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  if (lines.length <= 1) return lines[0] ?? '';
  // "X is invalid:" + "  a: b" lines → "X is invalid: a: b; c: d"
  const [head, ...rest] = lines as [string, ...string[]];
  return head.endsWith(':') ? `${head} ${rest.join('; ')}` : lines.join('; ');
}
