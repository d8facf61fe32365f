import { AttrStream, formatMessage, rt } from 'netlink';
import { decodeRoute, encodeRouteRequest, forEachMessage, readAckErrno, routeMessageSize } from '../../../src/netlink/codec';
import type { KernelRoute, RouteOpKind } from '../../../src/netlink/types';

const base: KernelRoute = {
  family: 4,
  dst: '198.19.1.2/32',
  table: 254,
  protocol: 201,
  type: 'unicast',
  scope: 'universe',
  metric: 1024,
  nextHops: [{ gateway: '198.18.0.2' }],
};

function encode(kind: RouteOpKind, r: KernelRoute, seq = 7, ack = false): Buffer {
  const buf = Buffer.alloc(routeMessageSize(kind, r));
  const end = encodeRouteRequest(buf, 0, kind, seq, ack, r);
  expect(end).toBe(buf.length);
  return buf;
}

/** The same request built with the `netlink` package's object formatter (the reference). */
function libraryEncode(flags: number, seq: number, data: object, attrs: object): Buffer {
  const out = new AttrStream();
  rt.formatRouteMessage({ kind: 'route', data, attrs } as rt.RouteMessage, out);
  return Buffer.concat(formatMessage({ type: rt.MessageType.NEWROUTE, flags, seq, port: 0, data: out.bufs }));
}

describe('netlink/codec', () => {
  test('replace request is byte-identical to the netlink package encoding', () => {
    const ours = encode('replace', base, 7);
    const ref = libraryEncode(0x1 | 0x100 | 0x400, 7, { family: 2, dstLen: 32, table: 254, protocol: 201, scope: 0, type: 1 }, {
      dst: Buffer.from([198, 19, 1, 2]),
      table: 254,
      priority: 1024,
      gateway: Buffer.from([198, 18, 0, 2]),
    });
    expect(ours.toString('hex')).toBe(ref.toString('hex'));
  });

  test('golden bytes of an add with NLM_F_ACK', () => {
    const hex = encode('add', base, 1, true).toString('hex');
    expect(hex).toBe(
      [
        '3c000000', // nlmsg_len 60
        '1800', // RTM_NEWROUTE
        '0506', // NLM_F_REQUEST|NLM_F_ACK|NLM_F_EXCL|NLM_F_CREATE
        '01000000', // seq
        '00000000', // pid
        '02200000', // AF_INET, dst_len 32, src_len 0, tos 0
        'fec90001', // table 254, proto 201, scope universe, RTN_UNICAST
        '00000000', // rtm_flags
        '08000100c6130102', // RTA_DST 198.19.1.2
        '08000f00fe000000', // RTA_TABLE 254
        '0800060000040000', // RTA_PRIORITY 1024
        '08000500c6120002', // RTA_GATEWAY 198.18.0.2
      ].join(''),
    );
  });

  test('delete matches any scope and carries no next hop', () => {
    const buf = encode('delete', base);
    expect(buf.readUInt16LE(4)).toBe(25); // RTM_DELROUTE
    expect(buf.readUInt16LE(6)).toBe(1); // NLM_F_REQUEST only
    expect(buf[16 + 6]).toBe(255); // RT_SCOPE_NOWHERE
    expect(buf[16 + 5]).toBe(201); // protocol must match for the kernel to delete
    expect(buf.length).toBe(16 + 12 + 8 + 8 + 8);
  });

  const roundTrips: Array<[string, KernelRoute]> = [
    ['gateway', base],
    ['device route', { ...base, scope: 'link', nextHops: [{ ifindex: 3 }] }],
    ['ECMP with weights', { ...base, nextHops: [{ gateway: '198.18.0.2', ifindex: 3 }, { gateway: '198.18.0.3', ifindex: 4, weight: 5 }] }],
    ['blackhole', { ...base, type: 'blackhole', nextHops: [] }],
    ['table > 255', { ...base, table: 1000 }],
    ['onlink', { ...base, nextHops: [{ gateway: '198.18.9.9', ifindex: 2, onlink: true }] }],
    ['IPv6 ECMP', { ...base, family: 6, dst: 'fd00:7a7a:1::/64', nextHops: [{ gateway: 'fd00:7a7a::2' }, { gateway: 'fd00:7a7a::3' }] }],
    ['IPv6 unreachable', { ...base, family: 6, dst: 'fd00:7a7a:2::1/128', type: 'unreachable', nextHops: [] }],
  ];
  test.each(roundTrips)('decode(encode(x)) = x: %s', (_name, r) => {
    const buf = encode('replace', r);
    expect(decodeRoute(buf, 0, buf.length)).toEqual(r);
  });

  test('decode filters on family, protocol and table', () => {
    const buf = encode('replace', base);
    expect(decodeRoute(buf, 0, buf.length, { protocol: 12 })).toBeNull();
    expect(decodeRoute(buf, 0, buf.length, { family: 6 })).toBeNull();
    expect(decodeRoute(buf, 0, buf.length, { table: 100 })).toBeNull();
    expect(decodeRoute(buf, 0, buf.length, { family: 4, table: 254, protocol: 201 })).not.toBeNull();
  });

  test('a bad address is a NETLINK_BAD_ROUTE error', () => {
    const r = { ...base, nextHops: [{ gateway: 'fd00::1' }] };
    expect(() => encode('add', r)).toThrow(expect.objectContaining({ code: 'NETLINK_BAD_ROUTE' }));
  });

  test('forEachMessage walks a datagram and reads nlmsgerr errno', () => {
    const err = Buffer.alloc(36);
    err.writeUInt32LE(36, 0);
    err.writeUInt16LE(2, 4); // NLMSG_ERROR
    err.writeUInt32LE(9, 8);
    err.writeInt32LE(-17, 16); // -EEXIST
    const d = Buffer.concat([encode('add', base, 8), err]);
    const seen: Array<[number, number]> = [];
    forEachMessage(d, (off, h) => seen.push([h.type, h.seq]));
    expect(seen).toEqual([
      [24, 8],
      [2, 9],
    ]);
    expect(readAckErrno(d, 60)).toBe(17);
  });
});
