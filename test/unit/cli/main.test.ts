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
