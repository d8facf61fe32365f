import { checkJsonPatch, jsonPatch, mergePatch, parsePointer } from '../../../src/cli/patch';
import { CliError } from '../../../src/cli/errors';

describe('patch bodies', () => {
  it('merges objects, deletes with null and replaces arrays (RFC 7386)', () => {
    const target = { spec: { asNumber: 1, peerIP: '10.0.0.1', filters: ['a', 'b'] }, metadata: { name: 'x' } };
    expect(mergePatch(target, { spec: { asNumber: 2, peerIP: null, filters: ['c'] } })).toEqual({ spec: { asNumber: 2, filters: ['c'] }, metadata: { name: 'x' } });
    expect(target.spec.asNumber).toBe(1);
    // RFC 7386 appendix A examples
    expect(mergePatch({ a: 'b' }, { a: 'c' })).toEqual({ a: 'c' });
    expect(mergePatch({ a: [{ b: 'c' }] }, { a: [1] })).toEqual({ a: [1] });
    expect(mergePatch({ e: null }, { a: 1 })).toEqual({ e: null, a: 1 });
    expect(mergePatch({ a: 'foo' }, 'bar')).toBe('bar');
  });

  it('applies RFC 6902 operations in order', () => {
    const doc = { spec: { list: [1, 2], a: { b: 'c' } } };
    const ops = checkJsonPatch([
      { op: 'add', path: '/spec/list/-', value: 3 },
      { op: 'add', path: '/spec/list/0', value: 0 },
      { op: 'replace', path: '/spec/a/b', value: 'd' },
      { op: 'copy', from: '/spec/a', path: '/spec/copied' },
      { op: 'move', from: '/spec/list', path: '/spec/moved' },
      { op: 'test', path: '/spec/moved/3', value: 3 },
      { op: 'remove', path: '/spec/a' },
      { op: 'add', path: '/spec/we~1ird~0key', value: true },
    ]);
    expect(jsonPatch(doc, ops)).toEqual({ spec: { moved: [0, 1, 2, 3], copied: { b: 'd' }, 'we/ird~key': true } });
    expect(doc.spec.list).toEqual([1, 2]);
  });

  it('fails the whole patch with the failing operation named', () => {
    expect(() => jsonPatch({ a: 1 }, checkJsonPatch([{ op: 'replace', path: '/b', value: 2 }]))).toThrow(new CliError('patch[0] (replace): path /b does not exist'));
    expect(() => jsonPatch({ a: 1 }, checkJsonPatch([{ op: 'test', path: '/a', value: 2 }]))).toThrow('patch[0] (test): test failed: /a is not 2');
    expect(() => jsonPatch({ a: [1] }, checkJsonPatch([{ op: 'remove', path: '/a/5' }]))).toThrow('index 5 is out of range');
    expect(() => checkJsonPatch({ op: 'add' })).toThrow('must be an array of operations');
    expect(() => checkJsonPatch([{ op: 'frob', path: '/a' }])).toThrow('patch[0].op: must be add, remove, replace, move, copy or test, got "frob"');
    expect(() => checkJsonPatch([{ op: 'add', path: '/a' }])).toThrow('patch[0].value: required for add');
    expect(() => parsePointer('a/b')).toThrow('must be empty or start with "/"');
  });
});
