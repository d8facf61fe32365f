/**
 * A configured peer's transport protections as the session layer takes
 * them: the TCP-MD5 key its password names (read from the secrets directory
 * now) and its TTL security hop count.
 */
import { createHash } from 'node:crypto';
import type { PeerConfigEntry } from '../../config/types';
import { resolvePassword } from '../../config/secrets';
import { errorMessage } from '../../errors';

export interface PeerSecurity {
  tcpMd5Key?: Buffer;
  ttlSecurity?: number;
  /** Why the peer cannot run: its password could not be read. */
  error?: string;
  /** Identifies the key (or the error) without holding it: a change means a new session. */
  fingerprint: string;
}

export function peerSecurity(pc: PeerConfigEntry, secretsDir: string): PeerSecurity {
  const ttl = pc.ttlSecurity !== undefined ? { ttlSecurity: pc.ttlSecurity } : {};
  if (pc.password === undefined) return { ...ttl, fingerprint: 'none' };
  try {
    const tcpMd5Key = resolvePassword(pc.password, secretsDir);
    return { ...ttl, tcpMd5Key, fingerprint: `key:${createHash('sha256').update(tcpMd5Key).digest('hex')}` };
  } catch (err) {
    const error = `TCP-MD5 password unavailable: ${errorMessage(err)}`;
    return { ...ttl, error, fingerprint: `error:${error}` };
  }
}
