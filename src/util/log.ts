import winston from 'winston';

export type Logger = winston.Logger;
export type LogLevelName = 'error' | 'warn' | 'info' | 'debug';

export interface LoggerOptions {
  level: LogLevelName;
  /** auto: readable on a terminal, JSON lines otherwise (journald, files, pipes). */
  format: 'auto' | 'json' | 'text';
  /** Where lines go; defaults to stdout. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * The process logger. Components take a child with their name and object id,
 * e.g. `log.child({ component: 'bgp.peer', peer: '192.0.2.1' })`, so every
 * line can be filtered by either (journalctl -o json | jq 'select(.peer==...)').
 */
export function createLogger(opts: LoggerOptions): Logger {
  const stream = opts.stream ?? process.stdout;
  const json = opts.format === 'json' || (opts.format === 'auto' && !stream.isTTY);
  return winston.createLogger({
    level: opts.level,
    format: json
      ? winston.format.combine(winston.format.timestamp(), winston.format.json())
      : winston.format.combine(winston.format.timestamp({ format: 'HH:mm:ss.SSS' }), readable),
    transports: [new winston.transports.Stream({ stream })],
  });
}

/** "12:00:01.123 info  bgp.peer 192.0.2.1: Established (4-octet AS, ...)  key=value" */
const readable = winston.format.printf((info) => {
  const { level, message, timestamp, component, peer, ...rest } = info as Record<string, unknown>;
  const who = [component, peer].filter((x) => x !== undefined).join(' ');
  const extra = Object.entries(rest)
    .filter(([k]) => typeof k === 'string')
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${String(timestamp)} ${String(level).padEnd(5)} ${who ? `${who}: ` : ''}${String(message)}${extra ? `  ${extra}` : ''}`;
});

/** A logger that drops everything, for tests and library use. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
