import { NextHopTable } from '../../../src/bgp/nexthop/table';

describe('NextHopTable', () => {
  it('resolves a next hop through any covering route, IPv4 and IPv6', () => {
    const t = new NextHopTable();
    expect(t.reachable('192.0.2.7')).toBe(false);
    t.add({ family: 4, dst: '192.0.2.0/24' });
    t.add({ family: 6, dst: '2001:db8:1::/64' });
    expect(t.reachable('192.0.2.7')).toBe(true);
    expect(t.reachable('192.0.3.7')).toBe(false);
    expect(t.reachable('2001:db8:1::9')).toBe(true);
    expect(t.reachable('2001:db8:2::9')).toBe(false);
    t.add({ family: 4, dst: '203.0.113.9/32' });
    expect(t.reachable('203.0.113.9')).toBe(true);
    expect(t.reachable('203.0.113.10')).toBe(false);
  });

  it('never counts a default route, and always counts IPv6 link-local', () => {
    const t = new NextHopTable();
    t.add({ family: 4, dst: '0.0.0.0/0' });
    t.add({ family: 6, dst: '::/0' });
    expect(t.reachable('198.51.100.1')).toBe(false);
    expect(t.reachable('2001:db8::1')).toBe(false);
    expect(t.reachable('fe80::1')).toBe(true);
  });

  it('keeps a network while any of its routes remain (two metrics), and bumps the version on real changes only', () => {
    const t = new NextHopTable();
    t.add({ family: 4, dst: '192.0.2.0/24' });
    t.add({ family: 4, dst: '192.0.2.0/24' });
    const v = t.version;
    t.remove({ family: 4, dst: '192.0.2.0/24' });
    expect(t.reachable('192.0.2.1')).toBe(true);
    t.remove({ family: 4, dst: '192.0.2.0/24' });
    expect(t.reachable('192.0.2.1')).toBe(false);
    expect(t.version).toBe(v + 2);
    t.remove({ family: 4, dst: '192.0.2.0/24' });
    expect(t.version).toBe(v + 2);
    expect(t.size).toBe(0);
  });
});

describe('NextHopTable.replaceWith', () => {
  it('takes a fresh scan and says whether anything came or went', () => {
    const t = new NextHopTable();
    t.add({ family: 4, dst: '192.0.2.0/24' });
    const same = new NextHopTable();
    same.add({ family: 4, dst: '192.0.2.0/24' });
    expect(t.replaceWith(same)).toBe(false);
    const other = new NextHopTable();
    other.add({ family: 6, dst: '2001:db8::/64' });
    expect(t.replaceWith(other)).toBe(true);
    expect(t.reachable('192.0.2.1')).toBe(false);
    expect(t.reachable('2001:db8::1')).toBe(true);
  });
});
