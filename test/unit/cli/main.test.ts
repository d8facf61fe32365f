import { run } from '../../../src/cli/main';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('tartanctl command line', () => {
  it('prints help for the program and each command', async () => {
    const top = await cli('--help');
    expect(top.code).toBe(0);
    expect(top.out).toContain('Usage: tartanctl');
    expect(top.out).toMatch(/node\s+node-level commands/);
    const sub = await cli('bgp', 'routes', '--help');
    expect(sub.code).toBe(0);
    expect(sub.out).toContain('--table <table>');
  });

  it('rejects an unknown flag with exit code 2 and names it', async () => {
    const r = await cli('node', 'status', '--frobnicate');
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown option '--frobnicate'");
  });

  it('rejects a bad output format with exit code 2', async () => {
    const r = await cli('node', 'status', '-o', 'xml');
    expect(r.code).toBe(2);
    expect(r.err).toContain("argument 'xml' is invalid");
  });

  it('says the daemon is not running when the socket is absent, exit 1', async () => {
    const r = await cli('--socket', '/nonexistent/tartan.sock', 'node', 'status');
    expect(r.code).toBe(1);
    expect(r.err).toBe('Error: Tartan process is not running (no daemon at /nonexistent/tartan.sock)');
  });
});

describe('tartanctl --help on every command', () => {
  const commands = [
    ['node', 'status'], ['bgp', 'routes'], ['create'], ['apply'], ['replace'], ['delete'], ['get'], ['patch'], ['label'], ['validate'],
    ['ipam', 'show'], ['ipam', 'check'], ['ipam', 'release'], ['completion'],
  ];
  it.each(commands)('%s %s --help', async (...cmd: string[]) => {
    const r = await cli(...cmd.filter((c) => c !== undefined), '--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`Usage: tartanctl ${cmd.filter((c) => c !== undefined).join(' ')}`);
    // Global datastore options are listed everywhere.
    expect(r.out).toContain('--etcd-endpoints <urls>');
  });

  it('names the kinds and their short names in get --help', async () => {
    const r = await cli('get', '--help');
    expect(r.out).toContain('bgppeer (bgpp, bp)');
    expect(r.out).toContain('ippool (ipp, pool)');
  });

  it('rejects an unknown kind as a usage error (exit 2) before touching the datastore', async () => {
    const r = await cli('--etcd-endpoints', 'http://127.0.0.1:1', 'get', 'frobs');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^Error: resource type 'frobs' is not supported \(known: node, bgppeer, /);
  });

  it('rejects a bad label argument and a bad -o as usage errors', async () => {
    expect((await cli('--etcd-endpoints', 'http://127.0.0.1:1', 'label', 'node', 'n1', 'novalue')).code).toBe(2);
    expect((await cli('--etcd-endpoints', 'http://127.0.0.1:1', 'get', 'node', '-o', 'xml')).err).toBe('Error: unknown output format "xml" (use ps, wide, yaml, json or custom-columns=A,B)');
  });
});

describe('tartanctl import boundary', () => {
  it('imports only the control API, datastore, IPAM and selector libraries (plus shared errors/version)', () => {
    const { readdirSync, readFileSync } = require('node:fs') as typeof import('node:fs');
    const { join } = require('node:path') as typeof import('node:path');
    const dir = join(__dirname, '../../../src/cli');
    const allowed = new Set(['control', 'datastore', 'ipam', 'selector', 'errors', 'version']);
    const bad: string[] = [];
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/from '\.\.\/([^/']+)/g)) {
        if (!allowed.has(m[1]!)) bad.push(`${f}: ../${m[1]}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
