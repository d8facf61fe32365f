import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram } from '../../../src/cli/main';
import { bashCompletion } from '../../../src/cli/completion';

const script = bashCompletion(buildProgram({ out: () => undefined, err: () => undefined }));

/** Run the completion function for a command line (the last word is being completed). */
function complete(...words: string[]): string[] {
  const line = ['tartanctl', ...words];
  const prog = `${script}
COMP_WORDS=(${line.map((w) => `'${w}'`).join(' ')})
COMP_CWORD=${line.length - 1}
_tartanctl
printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync('bash', ['-c', prog], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.length > 0)
    .sort();
}

describe('bash completion', () => {
  it('is valid bash and matches the shipped config/completion/tartanctl.bash', () => {
    execFileSync('bash', ['-n', '-c', script]);
    expect(readFileSync(join(__dirname, '../../../config/completion/tartanctl.bash'), 'utf8')).toBe(`${script.trimEnd()}\n`);
  });

  it('completes commands, subcommands, options, choices and kinds', () => {
    expect(complete('')).toEqual(expect.arrayContaining(['apply', 'bgp', 'completion', 'create', 'delete', 'get', 'ipam', 'label', 'node', 'patch', 'replace', 'validate']));
    expect(complete('ipam', '')).toEqual(['check', 'help', 'release', 'show']);
    expect(complete('node', 'status', '-o', '')).toEqual(['json', 'table', 'wide']);
    expect(complete('get', '-o', 'y')).toEqual(['yaml']);
    expect(complete('get', 'bgpp')).toEqual(['bgpp', 'bgppeer']);
    expect(complete('get', 'glob')).toEqual(['globalnetworkpolicy']);
    expect(complete('get', 'ippool', '--')).toEqual(expect.arrayContaining(['--output', '--namespace', '--all-namespaces', '--config', '--etcd-endpoints', '--help']));
    expect(complete('patch', 'node', 'n1', '--type', '')).toEqual(['json', 'merge']);
    // After KIND comes a name: nothing to offer.
    expect(complete('get', 'node', '')).toEqual([]);
  });
});
