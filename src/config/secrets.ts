/**
 * Peer passwords (TCP-MD5 keys) from the secrets directory.
 *
 * Calico names a BGP password with a Kubernetes secretKeyRef {name, key}.
 * Tartan reads it from `<secretsDir>/<name>/<key>`: the files a Kubernetes
 * secret volume holds when each secret is mounted at `<secretsDir>/<name>`,
 * and easy to lay out by hand (`install -m 0600`). The file's bytes are the
 * password; one trailing newline ("\n" or "\r\n", as an editor or `echo`
 * leaves it) is not part of it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TartanError } from '../errors';
import type { PeerPassword } from './types';

/** The secret file is not there or cannot be read. */
export const SECRET_NOT_FOUND = 'SECRET_NOT_FOUND';
/** The secret exists but cannot be a TCP-MD5 key (empty, longer than 80 bytes), or its name is not a name. */
export const SECRET_INVALID = 'SECRET_INVALID';

/** TCP_MD5SIG_MAXKEYLEN. */
export const MAX_PASSWORD_BYTES = 80;

/** Secret and key names as Kubernetes allows them; never a path. */
const NAME = /^[A-Za-z0-9._-]+$/;

/** A secret or key name: one path component, as Kubernetes allows them. */
export function isSecretName(v: string): boolean {
  return NAME.test(v) && v !== '.' && v !== '..';
}

function checkName(what: string, v: string): void {
  if (!isSecretName(v)) throw new TartanError(SECRET_INVALID, `${what} "${v}" is not a valid name (letters, digits, ".", "_", "-")`);
}

function checkKey(where: string, key: Buffer): Buffer {
  if (key.length === 0) throw new TartanError(SECRET_INVALID, `${where} is empty`);
  if (key.length > MAX_PASSWORD_BYTES) throw new TartanError(SECRET_INVALID, `${where} is ${key.length} bytes; a TCP-MD5 key is at most ${MAX_PASSWORD_BYTES}`);
  return key;
}

/** The bytes of `<dir>/<name>/<key>`, without one trailing newline. */
export function readSecret(dir: string, name: string, key: string): Buffer {
  checkName('secret name', name);
  checkName('secret key', key);
  const file = join(dir, name, key);
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code;
    throw new TartanError(SECRET_NOT_FOUND, `secret ${name}/${key}: cannot read ${file}: ${why}`, { cause: err });
  }
  let end = data.length;
  if (end > 0 && data[end - 1] === 0x0a) end -= 1;
  if (end > 0 && data[end - 1] === 0x0d && end < data.length) end -= 1;
  return data.subarray(0, end);
}

/** The TCP-MD5 key a peer's password names. Throws SECRET_NOT_FOUND / SECRET_INVALID. */
export function resolvePassword(password: PeerPassword, secretsDir: string): Buffer {
  if ('inline' in password) return checkKey('the inline password', Buffer.from(password.inline, 'utf8'));
  const key = readSecret(secretsDir, password.secretName, password.secretKey);
  return checkKey(`secret ${password.secretName}/${password.secretKey} (${join(secretsDir, password.secretName, password.secretKey)})`, key);
}
