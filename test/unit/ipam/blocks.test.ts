import fc from 'fast-check';
import { blockCidrFor, blocksOfPool, freeBlocks, ipToOrdinal, ordinalToIp, blockKey, affinityKey, handleKey } from '../../../src/ipam';
import { cidrFromKeySegment, parseAffinityKey } from '../../../src/ipam/keys';

describe('block math', () => {
  it('ordinal ↔ IP', () => {
    expect(ordinalToIp('10.0.0.64/26', 0)).toBe('10.0.0.64');
    expect(ordinalToIp('10.0.0.64/26', 63)).toBe('10.0.0.127');
    expect(() => ordinalToIp('10.0.0.64/26', 64)).toThrow(RangeError);
    expect(ipToOrdinal('10.0.0.64/26', '10.0.0.100')).toBe(36);
    expect(ipToOrdinal('10.0.0.64/26', '10.0.0.128')).toBeUndefined();
    expect(ordinalToIp('fd00:1::/122', 63)).toBe('fd00:1::3f');
    expect(ipToOrdinal('fd00:1::/122', 'fd00:1:0::3f')).toBe(63);
  });

  it('block for an IP', () => {
    expect(blockCidrFor('192.168.3.77', 26)).toBe('192.168.3.64/26');
    expect(blockCidrFor('192.168.3.77', 32)).toBe('192.168.3.77/32');
    expect(blockCidrFor('fd00::1:2', 122)).toBe('fd00::1:0/122');
    expect(blockCidrFor('nope', 26)).toBeUndefined();
  });

  it('blocks and free blocks of a pool', () => {
    expect([...blocksOfPool('10.1.0.0/24', 26)]).toEqual(['10.1.0.0/26', '10.1.0.64/26', '10.1.0.128/26', '10.1.0.192/26']);
    expect(freeBlocks('10.1.0.0/24', 26, new Set(['10.1.0.64/26']))).toEqual(['10.1.0.0/26', '10.1.0.128/26', '10.1.0.192/26']);
    expect(freeBlocks('fd00::/120', 122, new Set(), 2)).toEqual(['fd00::/122', 'fd00::40/122']);
  });

  it('property: every IP of a block maps to its ordinal and back, and lies in blockCidrFor', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 20, max: 32 }), (n, size) => {
        const ip = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
        const block = blockCidrFor(ip, size) as string;
        const o = ipToOrdinal(block, ip) as number;
        expect(o).toBeGreaterThanOrEqual(0);
        expect(o).toBeLessThan(2 ** (32 - size));
        expect(ordinalToIp(block, o)).toBe(ip);
      }),
    );
  });
});

describe('IPAM keys (Calico layout)', () => {
  it('formats keys', () => {
    expect(blockKey('10.0.0.0/26')).toBe('/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26');
    expect(blockKey('fd00::/122')).toBe('/calico/ipam/v2/assignment/ipv6/block/fd00::-122');
    expect(affinityKey('node-1', '10.0.0.64/26')).toBe('/calico/ipam/v2/host/node-1/ipv4/block/10.0.0.64-26');
    expect(handleKey('k8s-pod-network.abc')).toBe('/calico/ipam/v2/handle/k8s-pod-network.abc');
  });
  it('parses them back', () => {
    expect(cidrFromKeySegment('fd00::-122')).toBe('fd00::/122');
    expect(parseAffinityKey('/calico/ipam/v2/host/node-1/ipv4/block/10.0.0.64-26')).toEqual({ node: 'node-1', cidr: '10.0.0.64/26' });
    expect(parseAffinityKey('/calico/ipam/v2/host/node-1')).toBeUndefined();
  });
});

describe('affinity sync source', () => {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { affinitySource, decodeAffinity } = require('../../../src/ipam') as typeof import('../../../src/ipam');
  const key = '/calico/ipam/v2/host/n1/ipv4/block/10.0.0.64-26';
  it('decodes Calico affinity values (empty means confirmed)', () => {
    expect(affinitySource('n1').prefix).toBe('/calico/ipam/v2/host/n1/ipv4/block/');
    expect(decodeAffinity({ key, value: '' })).toEqual({ ok: true, value: { node: 'n1', cidr: '10.0.0.64/26', state: 'confirmed' } });
    expect(decodeAffinity({ key, value: '{"state":"pending","deleted":false}' })).toEqual({ ok: true, value: { node: 'n1', cidr: '10.0.0.64/26', state: 'pending' } });
    expect(decodeAffinity({ key, value: '{x' })).toMatchObject({ ok: false });
    expect(decodeAffinity({ key, value: '{"state":"odd"}' })).toEqual({ ok: false, reason: 'unknown state "odd"' });
  });
});
