/**
 * The error table: every malformed input the codec recognises, with the
 * NOTIFICATION (code, subcode, data) and RFC 7606 action it must produce.
 */
import { decodeMessage, MessageType, type UpdateMessage } from '../../../src/bgp/wire';
import { AS2, AS4, expectDecodeError, hex, MARKER, message, opts } from './helpers';

const UPDATE = MessageType.UPDATE;
const OPEN = MessageType.OPEN;

/** An UPDATE with the given attribute and NLRI bytes; lengths are computed (they are not under test here). */
function upd(attrs: string, nlri = '18 0a0000', withdrawn = ''): Buffer {
  const a = hex(attrs);
  const n = hex(nlri);
  const w = hex(withdrawn);
  const lengths = Buffer.alloc(2);
  const len = Buffer.alloc(2);
  lengths.writeUInt16BE(w.length);
  len.writeUInt16BE(a.length);
  const body = Buffer.concat([lengths, w, len, a, n]);
  const head = Buffer.alloc(19, 0xff);
  head.writeUInt16BE(19 + body.length, 16);
  head[18] = UPDATE;
  return Buffer.concat([head, body]);
}

const ORIGIN = '40 01 01 00';
const AS_PATH = '40 02 06 02 01 0000fde9';
const NEXT_HOP = '40 03 04 c0000201';
const BASE = ORIGIN + AS_PATH + NEXT_HOP;

describe('message header (RFC 4271 §6.1)', () => {
  test('bad marker: 1/1, no data', () => {
    expectDecodeError(1, 1, 'session-reset', hex('fe', MARKER.slice(2), '0013 04'));
    expectDecodeError(1, 1, 'session-reset', hex(MARKER.slice(0, 30), '7f', '0013 04'));
  });
  test('length below 19: 1/2 with the length', () => {
    expectDecodeError(1, 2, 'session-reset', hex(MARKER, '0012 04'), { data: '0012' });
  });
  test('length above 4096: 1/2 with the length', () => {
    const b = Buffer.concat([hex(MARKER, '1001 02'), Buffer.alloc(4097 - 19)]);
    expectDecodeError(1, 2, 'session-reset', b, { data: '1001' });
  });
  test('a length field that disagrees with the buffer: 1/2', () => {
    expectDecodeError(1, 2, 'session-reset', hex(MARKER, '0014 04'), { data: '0014' });
  });
  test('fewer than 19 bytes at all: 1/2', () => {
    expectDecodeError(1, 2, 'session-reset', hex(MARKER, '00'), { data: '0011' });
    expectDecodeError(1, 1, 'session-reset', hex('00'));
  });
  test.each([0, 6, 255])('unknown type %i: 1/3 with the type', (type) => {
    expectDecodeError(1, 3, 'session-reset', hex(MARKER, '0013', type.toString(16).padStart(2, '0')), { data: type.toString(16).padStart(2, '0') });
  });
});

describe('per-type lengths', () => {
  test('OPEN shorter than 29: 1/2', () => {
    expectDecodeError(1, 2, 'session-reset', message(28, OPEN, '04 fde9 005a c0000201'), { data: '001c' });
  });
  test('OPEN over 4096 even with Extended Message (RFC 8654 §4): 1/2', () => {
    // 35 bytes of header, fixed fields and RFC 9072 parameter header, then 4062 bytes of (code 0, length 0) capabilities.
    const b = Buffer.concat([hex(MARKER, '1001 01 04 fde9 005a c0000201 ff ff 0fe1 02 0fde'), Buffer.alloc(4062)]);
    expect(b.length).toBe(4097);
    expectDecodeError(1, 2, 'session-reset', b, { data: '1001', o: opts(true, [], true) });
  });
  test('UPDATE shorter than 23: 1/2', () => {
    expectDecodeError(1, 2, 'session-reset', message(22, UPDATE, '0000 00'), { data: '0016' });
  });
  test('NOTIFICATION shorter than 21: 1/2', () => {
    expectDecodeError(1, 2, 'session-reset', message(20, MessageType.NOTIFICATION, '06'), { data: '0014' });
  });
  test('KEEPALIVE longer than 19: 1/2', () => {
    expectDecodeError(1, 2, 'session-reset', message(20, MessageType.KEEPALIVE, '00'), { data: '0014' });
  });
  test('ROUTE-REFRESH of the wrong length: 1/2 for a plain request', () => {
    expectDecodeError(1, 2, 'session-reset', message(24, MessageType.ROUTE_REFRESH, '0001 00 01 00'), { data: '0018' });
  });
  test('BoRR/EoRR of the wrong length: 7/1 with the whole message (RFC 7313 §5)', () => {
    const long = message(24, MessageType.ROUTE_REFRESH, '0001 01 01 00');
    expectDecodeError(7, 1, 'session-reset', long, { data: long.toString('hex') });
    const short = message(22, MessageType.ROUTE_REFRESH, '0002 02');
    expectDecodeError(7, 1, 'session-reset', short, { data: short.toString('hex') });
  });
});

describe('OPEN optional parameters and capabilities', () => {
  const fixed = '04 fde9 005a c0000201';
  test('parameters length disagrees with the message: 2/0', () => {
    expectDecodeError(2, 0, 'session-reset', message(32, OPEN, fixed, '05', '02 01 02'));
    expectDecodeError(2, 0, 'session-reset', message(32, OPEN, fixed, '02', '02 01 02'));
  });
  test('a parameter overruns the parameters: 2/0', () => {
    expectDecodeError(2, 0, 'session-reset', message(33, OPEN, fixed, '04', '02 05 02 00'));
  });
  test('an unknown optional parameter type (1, deprecated authentication): 2/4', () => {
    expectDecodeError(2, 4, 'session-reset', message(33, OPEN, fixed, '04', '01 02 0000'));
  });
  test('RFC 9072 extended parameters with a truncated parameter header: 2/0', () => {
    expectDecodeError(2, 0, 'session-reset', message(34, OPEN, fixed, 'ff ff 0002', '02 00'));
  });
  test.each([
    ['capability overruns its parameter', '02 04 41 04 0000'],
    ['capability header cut short', '02 01 41'],
    ['multiprotocol of length 3', '02 05 01 03 000100'],
    ['4-octet AS of length 2', '02 04 41 02 fde9'],
    ['route refresh with a value', '02 03 02 01 00'],
    ['extended message with a value', '02 03 06 01 00'],
    ['enhanced route refresh with a value', '02 03 46 01 00'],
    ['graceful restart of length 3', '02 05 40 03 007800'],
    ['graceful restart with a partial family', '02 07 40 05 0078 000101'],
    ['ADD-PATH with mode 0', '02 06 45 04 0001 01 00'],
    ['ADD-PATH with mode 4', '02 06 45 04 0001 01 04'],
    ['ADD-PATH of length 3', '02 05 45 03 000101'],
    ['extended next hop of length 4', '02 06 05 04 00010001'],
  ])('%s: 2/0', (_name, param) => {
    const p = hex(param);
    const len = 29 + p.length;
    expectDecodeError(2, 0, 'session-reset', message(len, OPEN, fixed, p.length.toString(16).padStart(2, '0'), param));
  });
});

describe('UPDATE structure (RFC 4271 §6.3, RFC 7606 §3-§4)', () => {
  test('Withdrawn Routes Length overruns the message: 3/1', () => {
    expectDecodeError(3, 1, 'session-reset', message(25, UPDATE, '0004', '08 0a', '0000'));
  });
  test('Total Path Attribute Length overruns the message: 3/1', () => {
    expectDecodeError(3, 1, 'session-reset', message(27, UPDATE, '0000', '0005', '40 01 01 00'));
  });
  test('withdrawn prefix length 33: 3/10 (RFC 7606 §5.3)', () => {
    expectDecodeError(3, 10, 'session-reset', upd('', '', '21 0a000000 00'));
  });
  test('withdrawn prefix truncated: 3/10', () => {
    expectDecodeError(3, 10, 'session-reset', upd('', '', '18 0a00'));
  });
  test('NLRI prefix length 40: 3/10', () => {
    expectDecodeError(3, 10, 'session-reset', upd(BASE, '28 0a00000000'));
  });
  test('NLRI truncated: 3/10', () => {
    expectDecodeError(3, 10, 'session-reset', upd(BASE, '18 0a0000 20 0a'));
  });
  test('NLRI path identifier truncated under ADD-PATH: 3/10', () => {
    expectDecodeError(3, 10, 'session-reset', upd(BASE, '000001'), { o: opts(true, ['ipv4-unicast']) });
  });
  test('too few bytes left for an attribute header: 3/1 treat-as-withdraw (§4)', () => {
    expectDecodeError(3, 1, 'treat-as-withdraw', upd(BASE + '40 05'), { nlri: ['10.0.0.0/24'] });
    expectDecodeError(3, 1, 'treat-as-withdraw', upd(BASE + '50 05 00'), { nlri: ['10.0.0.0/24'] });
  });
  test('an attribute overruns the attribute list: 3/5 treat-as-withdraw, NLRI still found (§4)', () => {
    expectDecodeError(3, 5, 'treat-as-withdraw', upd(BASE + '80 04 08 00000001'), { data: '80 04 08 00000001', nlri: ['10.0.0.0/24'] });
  });
  test('MP_REACH_NLRI overruns the attribute list: session reset (§3 (j))', () => {
    expectDecodeError(3, 5, 'session-reset', upd(BASE + '80 0e 20 0002 01 10'), { data: '80 0e 20 0002 01 10' });
  });
});

describe('attribute flags (RFC 7606 §3 (c))', () => {
  test.each([
    ['ORIGIN marked optional', '80 01 01 00', AS_PATH + NEXT_HOP],
    ['AS_PATH marked non-transitive', '00 02 00', ORIGIN + NEXT_HOP],
    ['NEXT_HOP marked optional transitive', 'c0 03 04 c0000201', ORIGIN + AS_PATH],
    ['MED marked transitive', 'c0 04 04 00000001', BASE],
    ['LOCAL_PREF marked optional', '80 05 04 00000064', BASE],
    ['ATOMIC_AGGREGATE marked optional', 'c0 06 00', BASE],
    ['AGGREGATOR marked well-known', '40 07 08 0000fde9 0a000001', BASE],
    ['COMMUNITIES marked non-transitive', '80 08 04 fde90064', BASE],
    ['ORIGINATOR_ID marked transitive', 'c0 09 04 0a000001', BASE],
    ['CLUSTER_LIST marked well-known', '40 0a 04 0a000001', BASE],
    ['EXTENDED_COMMUNITIES marked non-transitive', '80 10 08 0002fde900000064', BASE],
    ['LARGE_COMMUNITY marked well-known', '40 20 0c 000000010000000200000003', BASE],
  ])('%s: 3/4 treat-as-withdraw with the attribute', (_name, attr, rest) => {
    expectDecodeError(3, 4, 'treat-as-withdraw', upd(attr + rest), { data: attr, nlri: ['10.0.0.0/24'] });
  });
  test('MP_REACH_NLRI marked transitive: 3/4 session reset', () => {
    const mp = 'c0 0e 1a 0002 01 10 20010db8000000000000000000000001 00 20 20010db8';
    expectDecodeError(3, 4, 'session-reset', upd(ORIGIN + AS_PATH + mp, ''), { data: mp });
  });
  test('AS4_PATH marked non-transitive on a 2-octet session: attribute-discard', () => {
    expectDecodeError(3, 4, 'attribute-discard', upd('40 01 01 00 40 02 04 02 01 fde9' + NEXT_HOP + '80 11 06 02 01 fa56ea01'), {
      data: '80 11 06 02 01 fa56ea01',
      o: AS2,
      nlri: ['10.0.0.0/24'],
    });
  });
  test('the Partial and Extended Length bits are not checked', () => {
    const msg = decodeMessage(upd('60 01 01 00' + AS_PATH + '50 03 0004 c0000201'), AS4) as UpdateMessage;
    expect(msg.errors).toBeUndefined();
    expect(msg.attributes.nextHop).toBe('192.0.2.1');
  });
});

describe('attribute values (RFC 7606 §7)', () => {
  const twa = 'treat-as-withdraw';
  test.each<[string, number, string, string, 'treat-as-withdraw' | 'attribute-discard']>([
    // §7.1 ORIGIN
    ['ORIGIN value 3', 6, '40 01 01 03', AS_PATH + NEXT_HOP, twa],
    ['ORIGIN length 2', 5, '40 01 02 0000', AS_PATH + NEXT_HOP, twa],
    // §7.2 AS_PATH
    ['AS_PATH segment overruns the attribute', 11, '40 02 06 02 02 0000fde9', ORIGIN + NEXT_HOP, twa],
    ['AS_PATH zero-length segment', 11, '40 02 02 02 00', ORIGIN + NEXT_HOP, twa],
    ['AS_PATH segment type 5', 11, '40 02 06 05 01 0000fde9', ORIGIN + NEXT_HOP, twa],
    ['AS_PATH segment type 0', 11, '40 02 06 00 01 0000fde9', ORIGIN + NEXT_HOP, twa],
    ['AS_PATH lone octet after the last segment', 11, '40 02 07 02 01 0000fde9 02', ORIGIN + NEXT_HOP, twa],
    // §7.3-§7.5
    ['NEXT_HOP length 5', 5, '40 03 05 c000020100', ORIGIN + AS_PATH, twa],
    ['NEXT_HOP length 16', 5, '40 03 10 20010db8000000000000000000000001', ORIGIN + AS_PATH, twa],
    ['MULTI_EXIT_DISC length 3', 5, '80 04 03 000001', BASE, twa],
    ['LOCAL_PREF length 2', 5, '40 05 02 0064', BASE, twa],
    // §7.6, §7.7: discard
    ['ATOMIC_AGGREGATE length 1', 5, '40 06 01 00', BASE, 'attribute-discard'],
    ['AGGREGATOR length 6 on a 4-octet session', 5, 'c0 07 06 fde9 0a000001', BASE, 'attribute-discard'],
    // §7.8 COMMUNITIES
    ['COMMUNITIES length 5', 5, 'c0 08 05 fde9006401', BASE, twa],
    ['COMMUNITIES length 0', 5, 'c0 08 00', BASE, twa],
    // §7.9, §7.10
    ['ORIGINATOR_ID length 5', 5, '80 09 05 0a00000100', BASE, twa],
    ['CLUSTER_LIST length 6', 5, '80 0a 06 0a0000010a00', BASE, twa],
    ['CLUSTER_LIST length 0', 5, '80 0a 00', BASE, twa],
    // §7.14, RFC 8092 §6
    ['EXTENDED_COMMUNITIES length 7', 5, 'c0 10 07 0002fde9000000', BASE, twa],
    ['LARGE_COMMUNITY length 13', 5, 'c0 20 0d 00000001000000020000000300', BASE, twa],
    ['LARGE_COMMUNITY length 0', 5, 'c0 20 00', BASE, twa],
  ])('%s: 3/%i', (_name, subcode, attr, rest, action) => {
    expectDecodeError(3, subcode, action, upd(rest + attr), { data: attr, nlri: ['10.0.0.0/24'] });
  });

  test('the malformed attribute is left out, the others decoded', () => {
    const msg = decodeMessage(upd(BASE + '40 05 02 0064' + 'c0 08 04 fde90064'), AS4) as UpdateMessage;
    expect(msg.attributes).toStrictEqual({
      origin: 0,
      asPath: [{ type: 'sequence', asns: [65001] }],
      nextHop: '192.0.2.1',
      communities: [0xfde90064],
    });
    expect(msg.errors?.[0]?.attributeType).toBe(5);
  });

  test('AGGREGATOR length 8 on a 2-octet session: attribute-discard', () => {
    expectDecodeError(3, 5, 'attribute-discard', upd('40 01 01 00 40 02 04 02 01 fde9' + NEXT_HOP + 'c0 07 08 0000fde9 0a000001'), {
      data: 'c0 07 08 0000fde9 0a000001',
      o: AS2,
      nlri: ['10.0.0.0/24'],
    });
  });
  test('AS_PATH with 4-octet numbers on a 2-octet session is malformed', () => {
    // 02 01 0000fde9 reads as a 1-AS segment (0000) followed by a segment of type 0xfd: malformed.
    expectDecodeError(3, 11, 'treat-as-withdraw', upd(BASE), { data: AS_PATH, o: AS2, nlri: ['10.0.0.0/24'] });
  });
  test('AS4_PATH with a confederation segment: attribute-discard (RFC 6793 §6)', () => {
    const as4 = 'c0 11 06 03 01 fa56ea01';
    const err = expectDecodeError(3, 11, 'attribute-discard', upd('40 01 01 00 40 02 04 02 01 5ba0' + NEXT_HOP + as4), {
      data: as4,
      o: AS2,
      nlri: ['10.0.0.0/24'],
    });
    expect(err.attributeType).toBe(17);
  });
  test('AS4_PATH malformed: attribute-discard, AS_PATH used as is', () => {
    const as4 = 'c0 11 06 02 02 fa56ea01';
    expectDecodeError(3, 11, 'attribute-discard', upd('40 01 01 00 40 02 04 02 01 5ba0' + NEXT_HOP + as4), { data: as4, o: AS2 });
    const msg = decodeMessage(upd('40 01 01 00 40 02 04 02 01 5ba0' + NEXT_HOP + as4), AS2) as UpdateMessage;
    expect(msg.attributes.asPath).toStrictEqual([{ type: 'sequence', asns: [23456] }]);
  });
  test('AS4_AGGREGATOR length 6: attribute-discard, AGGREGATOR kept', () => {
    const as4 = 'c0 12 06 fa56 0a000001';
    const bytes = upd('40 01 01 00 40 02 04 02 01 fde9' + NEXT_HOP + 'c0 07 06 5ba0 0a000001' + as4);
    expectDecodeError(3, 5, 'attribute-discard', bytes, { data: as4, o: AS2 });
    expect((decodeMessage(bytes, AS2) as UpdateMessage).attributes.aggregator).toStrictEqual({ asn: 23456, address: '10.0.0.1' });
  });
  test('a bad NEXT_HOP without classic NLRI is only discarded (RFC 4760 §3)', () => {
    const nh = '40 03 05 c000020100';
    const mp = '80 0e 1a 0002 01 10 20010db8000000000000000000000001 00 20 20010db8';
    expectDecodeError(3, 5, 'attribute-discard', upd(ORIGIN + AS_PATH + nh + mp, ''), { data: nh, nlri: ['2001:db8::/32'] });
  });
});

describe('MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 7606 §7.11-§7.12: session reset)', () => {
  test.each([
    ['IPv6 next hop of length 5', '800e0f 0002 01 05 20010db800 00 20 20010db8'],
    ['IPv4 next hop of length 8', '800e11 0001 01 08 0a000001 0a000002 00 18 0a0000'],
    ['IPv6 next hop of length 4', '800e0e 0002 01 04 c0000201 00 20 20010db8'],
    ['next hop longer than the attribute', '800e0600020120 2001'],
    ['no reserved octet', '800e1400020110 20010db8000000000000000000000001'],
    ['value shorter than AFI + SAFI', '800e02 0002'],
    ['truncated NLRI', '800e1a00020110 20010db8000000000000000000000001 00 40 20010db8'],
    ['prefix length 129', '800e1600020110 20010db8000000000000000000000001 00 81'],
  ])('MP_REACH_NLRI %s: 3/9', (_name, mp) => {
    const m = mp.replace(/ /g, '');
    expectDecodeError(3, 9, 'session-reset', upd(ORIGIN + AS_PATH + m, ''), { data: m });
  });
  test.each([
    ['truncated withdrawn prefix', '800f06 000201 30 2001'],
    ['prefix length 200', '800f04 000201 c8'],
    ['value shorter than AFI + SAFI', '800f01 00'],
    ['truncated path identifier under ADD-PATH', '800f05 000201 0000'],
  ])('MP_UNREACH_NLRI %s: 3/9', (_name, mp) => {
    const m = mp.replace(/ /g, '');
    expectDecodeError(3, 9, 'session-reset', upd(m, ''), { data: m, o: opts(true, ['ipv6-unicast']) });
  });
  test('a family Tartan does not route is discarded, not reset', () => {
    const vpn = '800e1e 0001 80 0c 0000000000000000c0000201 00 70 000001 0000fde900000001 0a';
    expectDecodeError(3, 9, 'attribute-discard', upd(ORIGIN + AS_PATH + vpn.replace(/ /g, ''), ''), { data: vpn });
    expectDecodeError(3, 9, 'attribute-discard', upd('800f03 0019 46', ''), { data: '800f03001946' });
  });
  test('MP_REACH_NLRI twice: 3/1 session reset (§3 (g))', () => {
    const mp = '800e1a 0002 01 10 20010db8000000000000000000000001 00 20 20010db8';
    expectDecodeError(3, 1, 'session-reset', upd(ORIGIN + AS_PATH + mp + mp, ''));
  });
  test('MP_UNREACH_NLRI twice: 3/1 session reset', () => {
    expectDecodeError(3, 1, 'session-reset', upd('800f03000201 800f03000201', ''));
  });
});

describe('attribute list rules', () => {
  test('a repeated attribute: the first kept, the rest discarded (§3 (g))', () => {
    const dup = '40 01 01 02';
    const bytes = upd(BASE + dup);
    expectDecodeError(3, 1, 'attribute-discard', bytes, { data: dup, nlri: ['10.0.0.0/24'] });
    expect((decodeMessage(bytes, AS4) as UpdateMessage).attributes.origin).toBe(0);
  });
  test('an unrecognised well-known attribute: 3/2 session reset with the attribute (RFC 4271 §6.3)', () => {
    expectDecodeError(3, 2, 'session-reset', upd(BASE + '40 63 02 abcd'), { data: '40 63 02 abcd' });
  });
  test.each([
    ['ORIGIN', AS_PATH + NEXT_HOP, '01'],
    ['AS_PATH', ORIGIN + NEXT_HOP, '02'],
    ['NEXT_HOP', ORIGIN + AS_PATH, '03'],
  ])('missing %s: 3/3 treat-as-withdraw with the type code (§3 (d))', (_name, attrs, type) => {
    expectDecodeError(3, 3, 'treat-as-withdraw', upd(attrs), { data: type, nlri: ['10.0.0.0/24'] });
  });
  test('missing ORIGIN with MP_REACH_NLRI; NEXT_HOP is not required there', () => {
    const mp = '800e1a 0002 01 10 20010db8000000000000000000000001 00 20 20010db8'.replace(/ /g, '');
    expectDecodeError(3, 3, 'treat-as-withdraw', upd(AS_PATH + mp, ''), { data: '01', nlri: ['2001:db8::/32'] });
  });
  test('no attributes are required to withdraw', () => {
    const msg = decodeMessage(upd('', '', '08 0a'), AS4) as UpdateMessage;
    expect(msg.errors).toBeUndefined();
    expect(msg.withdrawn).toStrictEqual([{ prefix: '10.0.0.0/8' }]);
  });
  test('several errors are all reported, strongest action last to decide (§3 (h))', () => {
    const msg = decodeMessage(upd(AS_PATH + NEXT_HOP + '40 06 01 00' + '80 04 03 000001'), AS4) as UpdateMessage;
    expect(msg.errors?.map((e) => [e.notification.subcode, e.action])).toStrictEqual([
      [5, 'attribute-discard'],
      [5, 'treat-as-withdraw'],
      [3, 'treat-as-withdraw'],
    ]);
  });
  test('attribute errors carry the attribute type code', () => {
    const msg = decodeMessage(upd(ORIGIN + NEXT_HOP + '40 02 02 02 00'), AS4) as UpdateMessage;
    expect(msg.errors?.map((e) => e.attributeType)).toStrictEqual([2]);
    expect(msg.errors?.[0]?.code).toBe('BGP_UPDATE_MESSAGE_ERROR');
  });
});
