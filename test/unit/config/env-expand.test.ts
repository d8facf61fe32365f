import { expandEnv } from '../../../src/config/env-expand';
import { parseConfig } from '../../../src/config/load';

describe('expandEnv', () => {
  it('replaces ${NAME} and ${NAME:-default}, keeps $$ as $ and a bare $ as is', () => {
    const env = { NODENAME: 'node-7', EMPTY: '' };
    expect(expandEnv('nodeName: ${NODENAME}\nx: ${MISSING:-fallback}\ny: ${EMPTY:-d}\nz: a$$b $c', env)).toBe('nodeName: node-7\nx: fallback\ny: d\nz: a$b $c');
  });

  it('leaves comment lines alone, so they may show the syntax', () => {
    expect(expandEnv('# set ${NODENAME}\na: 1', {})).toBe('# set ${NODENAME}\na: 1');
  });

  it('names the line of an unset variable without a default, and of a malformed reference', () => {
    expect(() => expandEnv('a: 1\nnodeName: ${NODENAME}', {}, '/etc/tartan/n.yaml')).toThrow(
      '/etc/tartan/n.yaml: line 2: environment variable NODENAME is not set (write ${NODENAME:-default} for a default)',
    );
    expect(() => expandEnv('a: ${1BAD}', {})).toThrow('line 1: "${1BAD}" is not a variable reference');
  });

  it('feeds the node config parser: one file, several nodes', () => {
    const text = 'nodeName: ${NODENAME}\nasNumber: 64512\nrouterId: ${IP}\nipv4Address: ${IP}\n';
    expect(parseConfig(text, 'n.yaml', { NODENAME: 'a', IP: '192.0.2.1' })).toMatchObject({ nodeName: 'a', ipv4Address: '192.0.2.1' });
    expect(parseConfig(text, 'n.yaml', { NODENAME: 'b', IP: '192.0.2.2' })).toMatchObject({ nodeName: 'b', ipv4Address: '192.0.2.2' });
  });
});
