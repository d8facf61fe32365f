import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, ConfigError, type PeerConfigEntry } from '../../../src/config';
import { readSecret, resolvePassword, SECRET_INVALID, SECRET_NOT_FOUND } from '../../../src/config/secrets';
import { DEFAULT_SECRETS_DIR } from '../../../src/config/types';
import { peerSecurity } from '../../../src/bgp/speaker/peer-security';
import { resolvePeerConfig, PEER_CONFIG_INVALID } from '../../../src/bgp/session';
import { isTartanError } from '../../../src/errors';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tartan-secrets-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function put(name: string, key: string, content: string | Buffer): void {
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(join(dir, name, key), content);
}

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    return isTartanError(err) ? err.code : 'not a TartanError';
  }
  return undefined;
}

describe('secrets directory', () => {
  it('reads <dir>/<name>/<key> as bytes, without one trailing newline', () => {
    put('bgp', 'tor1', 's3cret\n');
    put('bgp', 'tor2', 'with space\r\n');
    put('bgp', 'tor3', 'two\n\n');
    put('bgp', 'raw', Buffer.from([0x01, 0xff, 0x00, 0x7f]));
    expect(readSecret(dir, 'bgp', 'tor1').toString()).toBe('s3cret');
    expect(readSecret(dir, 'bgp', 'tor2').toString()).toBe('with space');
    expect(readSecret(dir, 'bgp', 'tor3').toString()).toBe('two\n');
    expect([...readSecret(dir, 'bgp', 'raw')]).toEqual([0x01, 0xff, 0x00, 0x7f]);
  });

  it('a missing secret is SECRET_NOT_FOUND naming the file', () => {
    expect(codeOf(() => readSecret(dir, 'bgp', 'nope'))).toBe(SECRET_NOT_FOUND);
    expect(() => readSecret(dir, 'bgp', 'nope')).toThrow(`secret bgp/nope: cannot read ${join(dir, 'bgp', 'nope')}: no such file`);
  });

  it('names are one path component: no traversal out of the directory', () => {
    put('bgp', 'k', 'x');
    for (const [name, key] of [['..', 'k'], ['bgp', '../bgp/k'], ['a/b', 'k'], ['bgp', ''], ['.', 'k']] as const) {
      expect(codeOf(() => readSecret(dir, name, key))).toBe(SECRET_INVALID);
    }
  });

  it('a password must be a usable TCP-MD5 key: 1..80 bytes', () => {
    put('bgp', 'empty', '\n');
    put('bgp', 'long', 'x'.repeat(81));
    put('bgp', 'max', 'x'.repeat(80));
    expect(codeOf(() => resolvePassword({ secretName: 'bgp', secretKey: 'empty' }, dir))).toBe(SECRET_INVALID);
    expect(() => resolvePassword({ secretName: 'bgp', secretKey: 'long' }, dir)).toThrow(/81 bytes; a TCP-MD5 key is at most 80/);
    expect(resolvePassword({ secretName: 'bgp', secretKey: 'max' }, dir)).toHaveLength(80);
    expect(resolvePassword({ inline: 'pässword' }, dir).equals(Buffer.from('pässword', 'utf8'))).toBe(true);
  });
});

describe('peer security for the speaker', () => {
  const peer = (extra: Partial<PeerConfigEntry>): PeerConfigEntry => ({ ...parseConfig('routerId: 1.1.1.1\npeers: [{peerIP: 10.0.0.1, asNumber: 1}]').peers[0]!, ...extra });

  it('resolves the key, keeps the hop count, and fingerprints without holding the key', () => {
    put('bgp', 'pw', 'abc');
    const s = peerSecurity(peer({ password: { secretName: 'bgp', secretKey: 'pw' }, ttlSecurity: 2 }), dir);
    expect(s.tcpMd5Key?.toString()).toBe('abc');
    expect(s.ttlSecurity).toBe(2);
    expect(s.error).toBeUndefined();
    expect(s.fingerprint).not.toContain('abc');
    // A rotated secret is a different fingerprint (a new session); the same one is not.
    expect(peerSecurity(peer({ password: { secretName: 'bgp', secretKey: 'pw' } }), dir).fingerprint).toBe(s.fingerprint);
    put('bgp', 'pw', 'abd');
    expect(peerSecurity(peer({ password: { secretName: 'bgp', secretKey: 'pw' } }), dir).fingerprint).not.toBe(s.fingerprint);
  });

  it('a missing secret is an error for that peer, not an exception', () => {
    const s = peerSecurity(peer({ password: { secretName: 'bgp', secretKey: 'gone' } }), dir);
    expect(s.tcpMd5Key).toBeUndefined();
    expect(s.error).toMatch(/^TCP-MD5 password unavailable: secret bgp\/gone: cannot read .*: no such file$/);
    expect(peerSecurity(peer({}), dir)).toEqual({ fingerprint: 'none' });
  });
});

describe('config file: password, ttlSecurity, secretsDir', () => {
  it('reads inline and secretKeyRef passwords and the hop count', () => {
    const cfg = parseConfig(
      [
        'routerId: 1.1.1.1',
        'secretsDir: /run/secrets/bgp',
        'peers:',
        '  - {peerIP: 10.0.0.1, asNumber: 1, password: "inline pw", ttlSecurity: 1}',
        '  - {peerIP: 10.0.0.2, asNumber: 1, password: {secretKeyRef: {name: bgp-passwords, key: tor-2}}}',
        '  - {peerIP: 10.0.0.3, asNumber: 1}',
      ].join('\n'),
    );
    expect(cfg.secretsDir).toBe('/run/secrets/bgp');
    expect(cfg.peers[0]).toMatchObject({ password: { inline: 'inline pw' }, ttlSecurity: 1 });
    expect(cfg.peers[1]!.password).toEqual({ secretName: 'bgp-passwords', secretKey: 'tor-2' });
    expect(cfg.peers[2]!.password).toBeUndefined();
    expect(cfg.peers[2]!.ttlSecurity).toBeUndefined();
    expect(parseConfig('routerId: 1.1.1.1').secretsDir).toBe(DEFAULT_SECRETS_DIR);
  });

  it('the annotated example documents them', () => {
    const text = readFileSync(join(__dirname, '../../../config/tartan-node.example.yaml'), 'utf8');
    for (const field of ['secretsDir', 'password', 'secretKeyRef', 'ttlSecurity']) expect(text).toContain(`${field}:`);
    // Uncommented, the documented forms load.
    const uncommented = text.replace(/^(\s*)# (password|ttlSecurity|  secretKeyRef)/gm, '$1$2').replace(/^\s*password: "inline secret".*$/m, '');
    const peer = parseConfig(uncommented).peers[0]!;
    expect(peer).toMatchObject({ password: { secretName: 'bgp-passwords', secretKey: 'tor-1' }, ttlSecurity: 1 });
  });

  it.each([
    ['password: ""', 'peers[0].password', 'must be 1..80 bytes'],
    [`password: "${'x'.repeat(81)}"`, 'peers[0].password', 'got 81'],
    ['password: {secretKeyRef: {name: bgp}}', 'peers[0].password.secretKeyRef.key', 'is required'],
    ['password: {secretKeyRef: {name: "../etc", key: k}}', 'peers[0].password.secretKeyRef.name', 'is not a secret name'],
    ['password: {secretkeyRef: {name: a, key: b}}', 'peers[0].password.secretkeyRef', 'unknown field (did you mean "secretKeyRef"?)'],
    ['ttlSecurity: 0', 'peers[0].ttlSecurity', 'out of range 1..255'],
    ['ttlSecurity: 256', 'peers[0].ttlSecurity', 'out of range 1..255'],
  ])('rejects %s at %s', (field, path, problem) => {
    let err: unknown;
    try {
      parseConfig(`routerId: 1.1.1.1\npeers:\n  - {peerIP: 10.0.0.1, asNumber: 1, ${field}}`);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).path).toBe(path);
    expect((err as ConfigError).message).toContain(problem);
  });
});

describe('session peer config', () => {
  const speaker = { localAs: 65001, routerId: '10.0.0.1' };

  it('carries the key and hop count as the connections\' security', () => {
    const r = resolvePeerConfig({ address: '10.0.0.2', peerAs: 65002, tcpMd5Key: Buffer.from('k'), ttlSecurity: 1 }, speaker);
    expect(r.security.tcpMd5Key?.toString()).toBe('k');
    expect(r.security.ttlSecurity).toBe(1);
    expect(resolvePeerConfig({ address: '10.0.0.2', peerAs: 65002 }, speaker).security).toEqual({});
  });

  it.each([
    [{ tcpMd5Key: Buffer.alloc(0) }, 'tcpMd5Key'],
    [{ tcpMd5Key: Buffer.alloc(81) }, 'tcpMd5Key'],
    [{ ttlSecurity: 0 }, 'ttlSecurity'],
    [{ ttlSecurity: 256 }, 'ttlSecurity'],
  ])('rejects %p', (extra, field) => {
    expect(codeOf(() => resolvePeerConfig({ address: '10.0.0.2', peerAs: 65002, ...extra }, speaker))).toBe(PEER_CONFIG_INVALID);
    expect(() => resolvePeerConfig({ address: '10.0.0.2', peerAs: 65002, ...extra }, speaker)).toThrow(field);
  });
});
