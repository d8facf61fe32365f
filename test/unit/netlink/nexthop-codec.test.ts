import { type NexthopObject, decodeNexthop, decodeRouteGetReply, encodeDelNexthop, encodeNewNexthop, encodeNexthopDumpRequest, encodeRouteGet } from '../../../src/netlink/nexthop-codec';
import { decodeRoute, encodeRouteRequest, routeMessageSize } from '../../../src/netlink/codec';
import type { KernelRoute } from '../../../src/netlink/types';

/** The attributes of the message in `buf` as [type, payload hex] pairs (after a header of `head` bytes). */
function attrs(buf: Buffer, head: number): [number, string][] {
  const out: [number, string][] = [];
  for (let a = 16 + head; a + 4 <= buf.length; ) {
    const len = buf.readUInt16LE(a);
    out.push([buf.readUInt16LE(a + 2), buf.subarray(a + 4, a + len).toString('hex')]);
    a += (len + 3) & ~3;
  }
  return out;
}

describe('netlink/nexthop-codec', () => {
  test('a gateway object: RTM_NEWNEXTHOP, CREATE|EXCL|ACK, nhmsg with family and protocol, NHA_ID, NHA_OIF, NHA_GATEWAY', () => {
    const buf = encodeNewNexthop({ id: 0x54000001, protocol: 201, kind: 'gateway', family: 4, gateway: '198.18.0.2', ifindex: 7 }, 9);
    expect(buf.readUInt32LE(0)).toBe(buf.length);
    expect(buf.readUInt16LE(4)).toBe(104);
    expect(buf.readUInt16LE(6)).toBe(0x1 | 0x4 | 0x400 | 0x200); // REQUEST|ACK|CREATE|EXCL
    expect(buf.readUInt32LE(8)).toBe(9);
    expect([buf[16], buf[18]]).toEqual([2, 201]);
    expect(attrs(buf, 8)).toEqual([
      [1, '01000054'],
      [5, '07000000'],
      [6, 'c6120002'],
    ]);
  });

  test('what is encoded decodes back, IPv4, IPv6 and groups', () => {
    const objects: NexthopObject[] = [
      { id: 11, protocol: 201, kind: 'gateway', family: 4, gateway: '198.18.0.2', ifindex: 3 },
      { id: 12, protocol: 201, kind: 'gateway', family: 6, gateway: 'fd00::2', ifindex: 3 },
      { id: 13, protocol: 201, kind: 'group', members: [11, 14] },
    ];
    for (const nh of objects) {
      const buf = encodeNewNexthop(nh, 1);
      expect(decodeNexthop(buf, 0, buf.length)).toEqual(nh);
    }
  });

  test('a group needs two members; a bad gateway is a TartanError', () => {
    expect(() => encodeNewNexthop({ id: 1, protocol: 201, kind: 'group', members: [2] }, 1)).toThrow(expect.objectContaining({ code: 'NETLINK_BAD_NEXTHOP' }));
    expect(() => encodeNewNexthop({ id: 1, protocol: 201, kind: 'gateway', family: 4, gateway: 'fd00::1', ifindex: 1 }, 1)).toThrow(expect.objectContaining({ code: 'NETLINK_BAD_NEXTHOP' }));
  });

  test('delete and dump requests', () => {
    const del = encodeDelNexthop(77, 5);
    expect([del.readUInt16LE(4), del.readUInt16LE(6)]).toEqual([105, 0x1 | 0x4]);
    expect(attrs(del, 8)).toEqual([[1, '4d000000']]);
    const dump = encodeNexthopDumpRequest(6);
    expect([dump.readUInt16LE(4), dump.readUInt16LE(6), dump.length]).toEqual([106, 0x1 | 0x300, 24]);
  });

  test('route get asks for one address and reads the output interface and whether a gateway is in the way', () => {
    const req = encodeRouteGet(4, '198.18.0.9', 3);
    expect([req.readUInt16LE(4), req[16], req[17]]).toEqual([26, 2, 32]);
    expect(attrs(req, 12)).toEqual([[1, 'c6120009']]);
    // A reply: rtmsg, RTA_DST, RTA_OIF 4 (and RTA_GATEWAY when the address is behind a router).
    const onLink: KernelRoute = { family: 4, dst: '198.18.0.9/32', table: 254, protocol: 2, type: 'unicast', scope: 'link', metric: 0, nextHops: [{ ifindex: 4 }] };
    const reply = Buffer.alloc(routeMessageSize('replace', onLink));
    encodeRouteRequest(reply, 0, 'replace', 1, false, onLink);
    expect(decodeRouteGetReply(reply, 0, reply.length)).toEqual({ ifindex: 4, viaGateway: false });
    const behind: KernelRoute = { ...onLink, nextHops: [{ gateway: '198.18.0.1', ifindex: 4 }] };
    const reply2 = Buffer.alloc(routeMessageSize('replace', behind));
    encodeRouteRequest(reply2, 0, 'replace', 1, false, behind);
    expect(decodeRouteGetReply(reply2, 0, reply2.length)).toEqual({ ifindex: 4, viaGateway: true });
  });

  test('a route naming a nexthop object carries RTA_NH_ID instead of its gateways', () => {
    const r: KernelRoute = { family: 4, dst: '10.0.0.0/24', table: 254, protocol: 201, type: 'unicast', scope: 'universe', metric: 32, nextHops: [{ gateway: '198.18.0.2' }], nexthopId: 0x54000003 };
    const buf = Buffer.alloc(routeMessageSize('replace', r));
    expect(encodeRouteRequest(buf, 0, 'replace', 1, false, r)).toBe(buf.length);
    const types = attrs(buf, 12).map(([t]) => t);
    expect(types).toEqual([1, 15, 6, 30]); // DST, TABLE, PRIORITY, NH_ID: no RTA_GATEWAY
    expect(attrs(buf, 12)[3]![1]).toBe('03000054');
    expect(decodeRoute(buf, 0, buf.length)?.nextHops).toEqual([]);
  });
});
