import { TartanError } from '../errors';

/**
 * A config file problem, naming the field path (e.g. `peers[1].peerIP`) so
 * the operator can go straight to the line. tartan-node exits 2 on it.
 */
export class ConfigError extends TartanError {
  readonly path: string;
  readonly file: string | undefined;

  constructor(path: string, problem: string, file?: string) {
    const where = file ? `${file}: ` : '';
    super('CONFIG_INVALID', path ? `${where}${path}: ${problem}` : `${where}${problem}`);
    this.path = path;
    this.file = file;
  }
}
