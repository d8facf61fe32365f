import { borrowedRows, findIp, renderBorrowed, renderIpamCheck, renderIpamShow, renderIpInfo } from '../../../src/cli/ipam';
import type { AllocationBlock, IpamShow } from '../../../src/ipam';

function block(cidr: string, affinity: string | null, allocs: Array<[number, number]>, attributes: AllocationBlock['attributes']): AllocationBlock {
  const allocations: Array<number | null> = new Array(64).fill(null);
  for (const [o, a] of allocs) allocations[o] = a;
  return { cidr, affinity, strictAffinity: false, allocations, unallocated: [], attributes, deleted: false, sequenceNumber: 0, sequenceNumberForAllocation: {} };
}

const b1 = block('10.65.0.0/26', 'host:node-1', [[0, 0], [1, 1]], [
  { handle_id: 'h-a', secondary: { node: 'node-1', namespace: 'default', pod: 'web' } },
  { handle_id: 'h-b', secondary: { node: 'node-2', namespace: 'prod', pod: 'db', type: 'workload' } },
]);

describe('tartanctl ipam rendering', () => {
  it('prints the calicoctl ipam show table with right-aligned numbers', () => {
    const show: IpamShow = {
      pools: [{ name: 'p', cidr: '10.65.0.0/16', disabled: false, total: 65536, inUse: 2, free: 65534, blocks: [{ cidr: '10.65.0.0/26', node: 'node-1', total: 64, inUse: 2, free: 62 }] }],
      orphanBlocks: [],
    };
    expect(renderIpamShow(show)).toBe(
      [
        '+----------+--------------+-----------+------------+--------------+',
        '| GROUPING |     CIDR     | IPS TOTAL | IPS IN USE |   IPS FREE   |',
        '+----------+--------------+-----------+------------+--------------+',
        '| IP Pool  | 10.65.0.0/16 |     65536 |     2 (0%) | 65534 (100%) |',
        '+----------+--------------+-----------+------------+--------------+',
      ].join('\n'),
    );
    expect(renderIpamShow(show, { showBlocks: true })).toContain('| Block    | 10.65.0.0/26 |        64 |     2 (3%) |     62 (97%) |');
    expect(renderIpamShow({ pools: [], orphanBlocks: [] })).toBe('No IP pools found.');
  });

  it('describes one address', () => {
    expect(renderIpInfo('10.65.0.1', findIp([b1], '10.65.0.1'))).toBe(['IP 10.65.0.1 is in use', 'Handle ID: h-b', 'Attributes:', '  namespace: prod', '  node: node-2', '  pod: db', '  type: workload'].join('\n'));
    expect(renderIpInfo('10.65.0.9', findIp([b1], '10.65.0.9'))).toBe('10.65.0.9 is not assigned');
    expect(findIp([b1], '192.0.2.1')).toBeUndefined();
  });

  it('lists borrowed addresses', () => {
    const rows = borrowedRows([b1]);
    expect(rows).toEqual([['10.65.0.1', 'node-2', '10.65.0.0/26', 'node-1', 'workload', 'prod/db']]);
    expect(renderBorrowed(rows).split('\n')[1]).toBe('|    IP     | BORROWING-NODE |    BLOCK     | BLOCK OWNER |   TYPE   | ALLOCATED-TO |');
    expect(renderBorrowed([])).toBe('No borrowed IPs found.');
  });

  it('narrates ipam check', () => {
    const text = renderIpamCheck({
      blocks: 2,
      handles: 1,
      allocations: 3,
      problems: [
        { type: 'allocation-without-handle', ip: '10.65.0.3', block: '10.65.0.0/26', handleId: 'gone' },
        { type: 'affinity-without-block', block: '10.65.1.0/26', node: 'node-9' },
      ],
    });
    expect(text).toContain('Found 2 IPAM blocks.\nIPAM blocks record 3 allocations.');
    expect(text).toContain('Found 1 IPs whose handle does not exist.\n  10.65.0.3 in block 10.65.0.0/26 is allocated to handle gone, which does not exist');
    expect(text).toContain('  node-9 has an affinity for block 10.65.1.0/26, which does not exist');
    expect(text.endsWith('Check complete; found 2 problems.')).toBe(true);
  });
});
