import { encodeRouteRequest } from '../../../src/netlink/codec';
import type { KernelRoute } from '../../../src/netlink/types';
import { fibOp, newDumpedRoute, readOwnRoute, OP_ADD, OP_DELETE, OP_NONE, OP_REPLACE } from '../../../src/bgp/fib/fib-diff';
import { NO_ROUTE, OTHER_ROUTE } from '../../../src/bgp/fib/nexthop-sets';

function message(r: Partial<KernelRoute> & { dst: string }, patch?: (buf: Buffer) => void): Buffer {
  const route: KernelRoute = { family: r.dst.includes(':') ? 6 : 4, table: 254, protocol: 201, type: 'unicast', scope: 'universe', metric: 32, nextHops: [], ...r };
  const buf = Buffer.alloc(2048);
  const end = encodeRouteRequest(buf, 0, 'replace', 1, false, route);
  const m = Buffer.from(buf.subarray(0, end));
  patch?.(m);
  return m;
}

function read(m: Buffer, protocol = 201, table = 254): ReturnType<typeof newDumpedRoute> | undefined {
  const d = newDumpedRoute();
  return readOwnRoute(m, 0, m.length, protocol, table, d) ? d : undefined;
}

describe('fib-diff: fibOp', () => {
  test('equal sets need nothing; correct routes are never touched', () => {
    expect(fibOp(NO_ROUTE, NO_ROUTE)).toBe(OP_NONE);
    expect(fibOp(7, 7)).toBe(OP_NONE);
  });

  test('wanted and absent: add (EXCL); wanted and different: replace in place', () => {
    expect(fibOp(7, NO_ROUTE)).toBe(OP_ADD);
    expect(fibOp(7, 8)).toBe(OP_REPLACE);
    // A route of ours we could not have written (blackhole, device route...): replaced too.
    expect(fibOp(7, OTHER_ROUTE)).toBe(OP_REPLACE);
  });

  test('not wanted and present: delete', () => {
    expect(fibOp(NO_ROUTE, 7)).toBe(OP_DELETE);
    expect(fibOp(NO_ROUTE, OTHER_ROUTE)).toBe(OP_DELETE);
  });
});

describe('fib-diff: readOwnRoute', () => {
  test('an IPv4 gateway route of ours: key words as the RIB has them, metric, plain', () => {
    const d = read(message({ dst: '10.1.2.0/24', nextHops: [{ gateway: '198.18.0.2', ifindex: 3 }] }));
    expect(d).toBeDefined();
    expect(d!.family).toBe(4);
    expect(d!.key[0]).toBe(0x0a010200);
    expect(d!.len).toBe(24);
    expect(d!.metric).toBe(32);
    expect(d!.plain).toBe(true);
    expect(d!.gateways).toEqual(['198.18.0.2']);
  });

  test('ECMP: all gateways, sorted; weights other than 1 or onlink hops are not ours', () => {
    const d = read(message({ dst: '10.1.0.0/16', nextHops: [{ gateway: '198.18.0.9' }, { gateway: '198.18.0.2' }] }));
    expect(d!.gateways).toEqual(['198.18.0.2', '198.18.0.9']);
    expect(d!.plain).toBe(true);
    expect(read(message({ dst: '10.1.0.0/16', nextHops: [{ gateway: '198.18.0.9', weight: 3 }, { gateway: '198.18.0.2' }] }))!.plain).toBe(false);
    expect(read(message({ dst: '10.1.0.0/16', nextHops: [{ gateway: '198.18.0.9', onlink: true }, { gateway: '198.18.0.2' }] }))!.plain).toBe(false);
  });

  test('IPv6: four key words, RFC 5952 gateway text', () => {
    const d = read(message({ dst: '2001:db8:130::/48', nextHops: [{ gateway: '2001:DB8::0:2' }] }));
    expect(d!.family).toBe(6);
    expect([...d!.key]).toEqual([0x20010db8, 0x01300000, 0, 0]);
    expect(d!.len).toBe(48);
    expect(d!.gateways).toEqual(['2001:db8::2']);
    expect(d!.plain).toBe(true);
  });

  test('routes of ours we never write are read, but not plain (so they get replaced)', () => {
    expect(read(message({ dst: '10.1.0.0/16', type: 'blackhole' }))!.plain).toBe(false);
    expect(read(message({ dst: '10.1.0.0/16', scope: 'link', nextHops: [{ ifindex: 4 }] }))!.plain).toBe(false);
    expect(read(message({ dst: '10.1.0.0/16', nextHops: [{ gateway: '198.18.0.2', onlink: true }] }))!.plain).toBe(false);
    expect(read(message({ dst: '10.1.0.0/16', scope: 'link', nextHops: [{ gateway: '198.18.0.2' }] }))!.plain).toBe(false);
  });

  test('other protocols, other tables (also above 255), cloned entries and local routes are not ours', () => {
    expect(read(message({ dst: '10.1.0.0/16', protocol: 4, nextHops: [{ gateway: '198.18.0.2' }] }))).toBeUndefined();
    expect(read(message({ dst: '10.1.0.0/16', table: 100, nextHops: [{ gateway: '198.18.0.2' }] }))).toBeUndefined();
    expect(read(message({ dst: '10.1.0.0/16', table: 1000, nextHops: [{ gateway: '198.18.0.2' }] }), 201, 1000)).toBeDefined();
    expect(read(message({ dst: '10.1.0.0/16', table: 1000, nextHops: [{ gateway: '198.18.0.2' }] }), 201, 1001)).toBeUndefined();
    expect(read(message({ dst: '10.1.0.0/16', nextHops: [{ gateway: '198.18.0.2' }] }, (m) => m.writeUInt32LE(0x200, 24)))).toBeUndefined();
    expect(read(message({ dst: '10.1.0.0/16', nextHops: [{ gateway: '198.18.0.2' }] }, (m) => (m[23] = 2 /* RTN_LOCAL */)))).toBeUndefined();
  });

  test('the scratch record is reset between messages', () => {
    const d = newDumpedRoute();
    const a = message({ dst: '2001:db8::/32', nextHops: [{ gateway: '2001:db8::1' }, { gateway: '2001:db8::2' }] });
    const b = message({ dst: '10.0.0.0/8', nextHops: [{ gateway: '198.18.0.2' }] });
    expect(readOwnRoute(a, 0, a.length, 201, 254, d)).toBe(true);
    expect(readOwnRoute(b, 0, b.length, 201, 254, d)).toBe(true);
    expect(d.family).toBe(4);
    expect([...d.key]).toEqual([0x0a000000, 0, 0, 0]);
    expect(d.gateways).toEqual(['198.18.0.2']);
  });
});
