/** Pure apply logic: iptables-save parsing, restore batches, ipset plans, error translation. */
import { isTartanError } from '../../../src/errors';
import { renderDataplane, tableText } from '../../../src/dataplane/policy';
import { planTable, programmedAfter } from '../../../src/dataplane/policy/apply/plan';
import { parseSave } from '../../../src/dataplane/policy/apply/saved';
import { parseIpsetSave, planIpsets } from '../../../src/dataplane/policy/apply/ipsets';
import { restoreError } from '../../../src/dataplane/policy/apply/iptables';
import { ChainNames } from '../../../src/dataplane/policy/render/names';
import { baseInput, CFG } from './helpers';

const own = { owns: (c: string) => new ChainNames(CFG).owns(c), commentPrefix: 'ttn:' };
const desired = renderDataplane(baseInput(), { config: CFG }).v4.tables.filter;
/** What iptables-save prints after our batch, plus foreign rules around it. */
const savedText = (): string =>
  tableText(desired, CFG).replace('COMMIT', '-A FORWARD -s 198.18.98.0/24 -j FOREIGN\n:FOREIGN - [0:0]\n-A FOREIGN -j ACCEPT\nCOMMIT');

describe('parseSave', () => {
  test('reads only our chains and our hooks', () => {
    const p = parseSave(savedText(), own);
    expect([...p.chains.keys()].sort()).toEqual(desired.chains.map((c) => c.name).sort());
    expect(p.hooks.map((h) => h.kernelChain)).toEqual(['INPUT', 'FORWARD', 'OUTPUT']);
    expect(p.chains.has('FOREIGN')).toBe(false);
  });

  test('unquoted comments and rules without hash', () => {
    const p = parseSave('*filter\n:ttn-x - [0:0]\n-A ttn-x -m comment --comment ttn:abcdefghijklmnop -j ACCEPT\n-A ttn-x -j DROP\n-A INPUT -j ttn-x\nCOMMIT\n', own);
    expect(p.chains.get('ttn-x')).toEqual(['abcdefghijklmnop', '']);
    expect(p.hooks).toEqual([{ kernelChain: 'INPUT', hash: null, spec: '-j ttn-x' }]);
  });

  test('a description after the hash in the same comment, and the older separate-comment form', () => {
    const p = parseSave(
      '*filter\n:ttn-x - [0:0]\n-A ttn-x -m comment --comment "ttn:abcdefghijklmnop Return if policy accepted" -j RETURN\n' +
        '-A ttn-x -m comment --comment "ttn:bcdefghijklmnopq" -m comment --comment "Clear marks" -j DROP\nCOMMIT\n',
      own,
    );
    expect(p.chains.get('ttn-x')).toEqual(['abcdefghijklmnop', 'bcdefghijklmnopq']);
  });
});

describe('planTable', () => {
  test('in sync: nothing to write', () => {
    expect(planTable(desired, parseSave(savedText(), own), 'ttn:').text).toBeNull();
    expect(planTable(desired, programmedAfter(desired, 'ttn:'), 'ttn:').text).toBeNull();
  });

  test('from scratch: declares every chain, adds rules, inserts hooks at the top', () => {
    const p = planTable(desired, { chains: new Map(), hooks: [] }, 'ttn:');
    expect(p.created).toHaveLength(desired.chains.length);
    expect(p.text?.split('\n')[0]).toBe('*filter');
    expect(p.text).toContain('-I FORWARD 1 -m comment --comment "ttn:');
    expect(p.text?.trim().endsWith('COMMIT')).toBe(true);
  });

  test('flushed chain is rewritten whole; hooks and other chains untouched', () => {
    const tampered = savedText()
      .split('\n')
      .filter((l) => !l.startsWith('-A ttn-tw-ttfe '))
      .join('\n');
    const p = planTable(desired, parseSave(tampered, own), 'ttn:');
    expect(p.rewritten).toEqual(['ttn-tw-ttfe']);
    const lines = (p.text ?? '').split('\n');
    expect(lines.filter((l) => l.startsWith(':'))).toEqual(['ttn-tw-ttfe'].map((n) => `:${n} - -`));
    expect(lines.filter((l) => l.startsWith('-A')).every((l) => l.startsWith('-A ttn-tw-ttfe '))).toBe(true);
    expect(p.text).not.toMatch(/FOREIGN/);
  });

  test('deleted hook re-inserted; stale, duplicate and hashless hooks deleted by spec; unwanted chains deleted last', () => {
    const text = savedText()
      .replace(/-A INPUT -m comment[^\n]*\n/, '')
      .replace('COMMIT', [
        '-A OUTPUT -m comment --comment "ttn:uoYwcvIliCmx2PVL" -j tartan-OUTPUT',
        '-A OUTPUT -j tartan-OUTPUT',
        ':ttn-old - [0:0]',
        '-A ttn-old -m comment --comment "ttn:zzzzzzzzzzzzzzzz" -j ACCEPT',
        'COMMIT',
      ].join('\n'));
    const p = planTable(desired, parseSave(text, own), 'ttn:');
    expect(p.hooksInserted).toBe(1);
    expect(p.deleted).toEqual(['ttn-old']);
    const lines = (p.text ?? '').split('\n');
    expect(lines).toContain('-D OUTPUT -j tartan-OUTPUT');
    expect(lines.indexOf('-X ttn-old')).toBe(lines.length - 3);
    expect(lines).toContain(':ttn-old - -');
  });
});

describe('ipsets', () => {
  const save = [
    'create ttn4-s:aaa hash:net family inet hashsize 1024 maxelem 1048576 bucketsize 12 initval 0x1',
    'add ttn4-s:aaa 198.18.0.1',
    'add ttn4-s:aaa 198.18.0.9',
    'create ttn4-s:old hash:net family inet hashsize 1024 maxelem 1048576',
    'create ttn4-n:typ hash:net family inet hashsize 1024 maxelem 1048576',
    'create other hash:net family inet hashsize 1024 maxelem 65536',
    'add other 198.18.5.5',
  ].join('\n');

  test('parse keeps only our sets', () => {
    const p = parseIpsetSave(save, ['ttn4-']);
    expect([...p.keys()]).toEqual(['ttn4-s:aaa', 'ttn4-s:old', 'ttn4-n:typ']);
    expect([...(p.get('ttn4-s:aaa')?.members ?? [])]).toEqual(['198.18.0.1', '198.18.0.9']);
  });

  test('plan: member delta, swap on type change, create new, destroy stale after iptables', () => {
    const p = planIpsets(
      [
        { name: 'ttn4-s:aaa', type: 'hash:net', members: ['198.18.0.1', '198.18.0.2'], id: 'x' },
        { name: 'ttn4-n:typ', type: 'hash:ip,port', members: ['198.18.0.1,tcp:80'], id: 'y' },
        { name: 'ttn4-s:new', type: 'hash:net', members: ['198.18.0.3'], id: 'z' },
      ],
      parseIpsetSave(save, ['ttn4-']),
      4,
      'ttn4',
    );
    const up = (p.update ?? '').split('\n');
    expect(up).toEqual(expect.arrayContaining(['del ttn4-s:aaa 198.18.0.9', 'add ttn4-s:aaa 198.18.0.2', 'create ttn4-s:new hash:net family inet maxelem 1048576']));
    expect(up.some((l) => /^swap ttn4t-\S+ ttn4-n:typ$/.test(l))).toBe(true);
    expect(p.destroy).toBe('destroy ttn4-s:old\n');
    expect(p.created).toEqual(['ttn4-s:new']);
    expect(p.updated.sort()).toEqual(['ttn4-n:typ', 'ttn4-s:aaa']);
  });
});

test('restore errors name the failing line of the batch', () => {
  const input = '*filter\n:ttn-x - -\n-A ttn-x -j BOGUS\nCOMMIT\n';
  const e = restoreError('iptables-nft-restore', 2, "iptables-nft-restore v1.8.9 (nf_tables): Chain 'BOGUS' does not exist\nError occurred at line: 3\n", input);
  expect(isTartanError(e, 'IPTABLES_RESTORE_FAILED')).toBe(true);
  expect(e.message).toContain('at line 3: -A ttn-x -j BOGUS');
});
