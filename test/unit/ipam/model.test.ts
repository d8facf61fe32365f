import fc from 'fast-check';
import {
  adjustHandle, assignOrdinals, blockProblem, freeCount, handleCounts, newBlock, ordinalsOfHandle, releaseOrdinals, usedCount,
} from '../../../src/ipam/model';
import { checkIpamState } from '../../../src/ipam/check';
import { showIpamState } from '../../../src/ipam/show';
import type { IPPool } from '../../../src/datastore';

describe('allocation block (Calico JSON model)', () => {
  it('a new block has every ordinal unallocated, in order', () => {
    const b = newBlock('10.0.0.0/30', 4, 'host:n1');
    expect(b).toEqual({
      cidr: '10.0.0.0/30', affinity: 'host:n1', strictAffinity: false, allocations: [null, null, null, null], unallocated: [0, 1, 2, 3],
      attributes: [], deleted: false, sequenceNumber: 0, sequenceNumberForAllocation: {},
    });
  });

  it('assign takes from the front and shares identical attributes', () => {
    const b0 = newBlock('10.0.0.0/29', 8, 'host:n1');
    const a = assignOrdinals(b0, 2, 'h1', { pod: 'p1' });
    expect(a.ordinals).toEqual([0, 1]);
    const b = assignOrdinals(a.block, 1, 'h2', null);
    const c = assignOrdinals(b.block, 1, 'h1', { pod: 'p1' });
    expect(c.block.allocations.slice(0, 4)).toEqual([0, 0, 1, 0]);
    expect(c.block.attributes).toEqual([{ handle_id: 'h1', secondary: { pod: 'p1' } }, { handle_id: 'h2', secondary: null }]);
    expect(c.block.unallocated).toEqual([4, 5, 6, 7]);
    expect(c.block.sequenceNumber).toBe(3);
    expect(c.block.sequenceNumberForAllocation).toEqual({ '0': 1, '1': 1, '2': 2, '3': 3 });
    expect(b0.unallocated).toHaveLength(8); // inputs untouched
  });

  it('assign stops when the block is full', () => {
    const r = assignOrdinals(newBlock('10.0.0.0/31', 2, null), 5, 'h', null);
    expect(r.ordinals).toEqual([0, 1]);
    expect(assignOrdinals(r.block, 1, 'h', null).ordinals).toEqual([]);
  });

  it('release frees, appends to unallocated, drops unused attributes and renumbers', () => {
    let b = newBlock('10.0.0.0/29', 8, null);
    b = assignOrdinals(b, 2, 'h1', null).block;
    b = assignOrdinals(b, 2, 'h2', null).block;
    const r = releaseOrdinals(b, [0, 1, 1, 7]);
    expect(r.released).toEqual([0, 1]);
    expect(r.byHandle).toEqual(new Map([['h1', 2]]));
    expect(r.block.attributes).toEqual([{ handle_id: 'h2', secondary: null }]);
    expect(r.block.allocations.slice(0, 4)).toEqual([null, null, 0, 0]);
    expect(r.block.unallocated).toEqual([4, 5, 6, 7, 0, 1]);
    expect(ordinalsOfHandle(r.block, 'h2')).toEqual([2, 3]);
  });

  it('property: random assign/release keeps allocations, unallocated and attributes consistent', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('assign' as const), n: fc.integer({ min: 1, max: 5 }), h: fc.constantFrom('a', 'b', 'c') }),
      fc.record({ kind: fc.constant('release' as const), ords: fc.array(fc.integer({ min: 0, max: 15 }), { maxLength: 4 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        let b = newBlock('10.0.0.0/28', 16, null);
        const owner = new Map<number, string>();
        for (const o of ops) {
          if (o.kind === 'assign') {
            const r = assignOrdinals(b, o.n, o.h, null);
            r.ordinals.forEach((x) => {
              expect(owner.has(x)).toBe(false); // never hand out a taken address
              owner.set(x, o.h);
            });
            b = r.block;
          } else {
            const r = releaseOrdinals(b, o.ords);
            r.released.forEach((x) => owner.delete(x));
            b = r.block;
          }
          expect(blockProblem(b, '10.0.0.0/28', 16)).toBeUndefined();
          expect(usedCount(b) + freeCount(b)).toBe(16);
          expect(new Set(b.unallocated).size).toBe(b.unallocated.length);
          b.allocations.forEach((a, i) => expect(a === null ? undefined : b.attributes[a]?.handle_id).toBe(owner.get(i)));
          expect(b.attributes.every((_, i) => b.allocations.includes(i))).toBe(true);
        }
      }),
    );
  });

  it('handle counts', () => {
    expect(adjustHandle(undefined, '10.0.0.0/26', 2)).toEqual({ block: { '10.0.0.0/26': 2 }, deleted: false });
    expect(adjustHandle({ block: { '10.0.0.0/26': 2 }, deleted: false }, '10.0.0.0/26', -2)).toBeUndefined();
    const b = assignOrdinals(assignOrdinals(newBlock('10.0.0.0/29', 8, null), 3, 'x', null).block, 1, 'y', null).block;
    expect(handleCounts(b)).toEqual(new Map([['x', 3], ['y', 1]]));
  });

  it('structural problems are named', () => {
    expect(blockProblem('x', '10.0.0.0/30', 4)).toBe('not a JSON object');
    expect(blockProblem({ ...newBlock('10.0.0.0/30', 4, null), cidr: '10.0.0.4/30' }, '10.0.0.0/30', 4)).toMatch(/does not match the key/);
    expect(blockProblem({ ...newBlock('10.0.0.0/30', 4, null), unallocated: [0] }, '10.0.0.0/30', 4)).toMatch(/unallocated lists 1/);
  });
});

const pool = (name: string, cidr: string): IPPool => ({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { cidr, blockSize: 30 } });

describe('ipam check and show (pure)', () => {
  const good = assignOrdinals(newBlock('10.0.0.0/30', 4, 'host:n1'), 2, 'h1', null).block;

  it('a consistent state has no problems', () => {
    const r = checkIpamState({
      pools: [pool('p', '10.0.0.0/24')], nodes: ['n1'], blocks: [good],
      handles: new Map([['h1', { block: { '10.0.0.0/30': 2 }, deleted: false }]]),
      affinities: [{ node: 'n1', cidr: '10.0.0.0/30', state: 'confirmed', modRevision: 1 }], corrupt: [],
    });
    expect(r).toEqual({ blocks: 1, handles: 1, allocations: 2, problems: [] });
  });

  it('finds every kind of inconsistency', () => {
    const orphan = assignOrdinals(newBlock('10.9.0.0/30', 4, 'host:ghost'), 1, 'nohandle', null).block;
    const r = checkIpamState({
      pools: [pool('p', '10.0.0.0/24')], nodes: ['n1'], blocks: [good, orphan],
      handles: new Map([
        ['h1', { block: { '10.0.0.0/30': 3 }, deleted: false }],
        ['leaked', { block: { '10.0.0.0/30': 1 }, deleted: false }],
      ]),
      affinities: [
        { node: 'n1', cidr: '10.0.0.0/30', state: 'confirmed', modRevision: 1 },
        { node: 'n1', cidr: '10.0.0.4/30', state: 'confirmed', modRevision: 1 },
        { node: 'n1', cidr: '10.0.0.8/30', state: 'pending', modRevision: 1 },
      ],
      corrupt: [{ key: '/calico/ipam/v2/handle/bad', reason: 'value is not JSON', modRevision: 3 }],
    });
    expect(r.problems.map((p) => p.type).sort()).toEqual([
      'affinity-without-block', 'allocation-without-handle', 'block-of-unknown-node', 'block-outside-pools', 'block-without-affinity',
      'corrupt-value', 'handle-count-mismatch', 'handle-without-allocations',
    ]);
    expect(r.problems).toContainEqual({ type: 'allocation-without-handle', ip: '10.9.0.0', block: '10.9.0.0/30', handleId: 'nohandle' });
  });

  it('show counts per pool and block', () => {
    const s = showIpamState([pool('p', '10.0.0.0/28')], [good, newBlock('10.9.0.0/30', 4, null)]);
    expect(s.pools).toEqual([
      { name: 'p', cidr: '10.0.0.0/28', disabled: false, total: 16, inUse: 2, free: 14, blocks: [{ cidr: '10.0.0.0/30', node: 'n1', total: 4, inUse: 2, free: 2 }] },
    ]);
    expect(s.orphanBlocks).toEqual([{ cidr: '10.9.0.0/30', node: undefined, total: 4, inUse: 0, free: 4 }]);
  });
});
