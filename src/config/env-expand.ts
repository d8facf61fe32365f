import { ConfigError } from './errors';

/**
 * `${NAME}` and `${NAME:-default}` in a node config file, replaced from the
 * environment before the YAML is parsed, so one file serves every node (the
 * demo's nodes and the docker-compose services share one), as calico-node
 * takes NODENAME and IP from its environment. `$$` is a literal `$`; a `$`
 * not followed by `{` is left alone. Comment lines are not expanded, so a
 * comment may show the syntax.
 *
 * A variable that is unset (or empty) and has no default is an error naming
 * the line: a node must not start with an empty name or address.
 */
export function expandEnv(text: string, env: NodeJS.ProcessEnv, file?: string): string {
  return text
    .split('\n')
    .map((line, i) => {
      if (/^\s*#/.test(line)) return line;
      return line.replace(/\$\$|\$\{([^}]*)\}/g, (match: string, body: string | undefined) => {
        if (match === '$$') return '$';
        const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s.exec(body ?? '');
        if (!m) throw new ConfigError(`line ${i + 1}`, `"${match}" is not a variable reference (\${NAME} or \${NAME:-default})`, file);
        const value = env[m[1]!];
        if (value !== undefined && value !== '') return value;
        if (m[2] !== undefined) return m[2];
        throw new ConfigError(`line ${i + 1}`, `environment variable ${m[1]} is not set (write \${${m[1]}:-default} for a default)`, file);
      });
    })
    .join('\n');
}
