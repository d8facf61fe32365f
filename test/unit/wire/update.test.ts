import {
  decodeMessage,
  encodeEndOfRib,
  endOfRibFamily,
  MessageType,
  Origin,
  type UpdateMessage,
} from '../../../src/bgp/wire';
import { AS2, AS4, decodeThrows, frameByteByByte, hex, message, opts, testDecodeOnly, testMessage, fuzzGoldenFixtures } from './helpers';

const UPDATE = MessageType.UPDATE;
const MARKER_HEX = 'ffffffffffffffffffffffffffffffff';

function update(u: Partial<UpdateMessage>): UpdateMessage {
  return { type: UPDATE, withdrawn: [], attributes: {}, nlri: [], ...u };
}

describe('UPDATE, IPv4 unicast', () => {
  testMessage(
    'every modelled attribute, an unknown transitive one, three prefixes',
    update({
      attributes: {
        origin: Origin.IGP,
        asPath: [{ type: 'sequence', asns: [65001, 65002, 4200000001] }],
        nextHop: '192.0.2.1',
        med: 100,
        localPref: 200,
        atomicAggregate: true,
        aggregator: { asn: 65001, address: '10.0.0.1' },
        communities: [0xfde90064, 0xffffff01],
        originatorId: '10.0.0.2',
        clusterList: ['10.0.0.3', '10.0.0.4'],
        extendedCommunities: [hex('0002fde900000064')],
        largeCommunities: [[4200000001, 1, 2]],
        unknown: [{ flags: 0xe0, typeCode: 99, value: hex('010203') }],
      },
      nlri: [{ prefix: '10.0.0.0/24' }, { prefix: '192.0.2.5/32' }, { prefix: '0.0.0.0/0' }],
    }),
    message(150, UPDATE,
      '0000',                                        // withdrawn routes length 0
      '0075',                                        // total path attribute length 117
      '40 01 01 00',                                 // ORIGIN IGP
      '40 02 0e 02 03 0000fde9 0000fdea fa56ea01',   // AS_PATH sequence 65001 65002 4200000001 (4-octet)
      '40 03 04 c0000201',                           // NEXT_HOP 192.0.2.1
      '80 04 04 00000064',                           // MULTI_EXIT_DISC 100
      '40 05 04 000000c8',                           // LOCAL_PREF 200
      '40 06 00',                                    // ATOMIC_AGGREGATE
      'c0 07 08 0000fde9 0a000001',                  // AGGREGATOR 65001 10.0.0.1
      'c0 08 08 fde90064 ffffff01',                  // COMMUNITIES 65001:100 NO_EXPORT
      '80 09 04 0a000002',                           // ORIGINATOR_ID 10.0.0.2
      '80 0a 08 0a000003 0a000004',                  // CLUSTER_LIST 10.0.0.3 10.0.0.4
      'c0 10 08 0002fde900000064',                   // EXTENDED_COMMUNITIES route target 65001:100
      'c0 20 0c fa56ea01 00000001 00000002',         // LARGE_COMMUNITY 4200000001:1:2
      'e0 63 03 010203',                             // unknown optional transitive 99, Partial set
      '18 0a0000',                                   // NLRI 10.0.0.0/24
      '20 c0000205',                                 // NLRI 192.0.2.5/32
      '00',                                          // NLRI 0.0.0.0/0
    ),
  );

  testMessage(
    'withdrawals only',
    update({ withdrawn: [{ prefix: '10.0.1.0/24' }, { prefix: '172.16.0.0/16' }, { prefix: '11.0.0.0/8' }] }),
    message(32, UPDATE,
      '0009',                     // withdrawn routes length 9
      '18 0a0001', '10 ac10', '08 0b', // 10.0.1.0/24, 172.16.0.0/16, 11.0.0.0/8
      '0000',                     // no attributes
    ),
  );

  testMessage(
    'an empty AS_PATH (iBGP origination)',
    update({ attributes: { origin: Origin.INCOMPLETE, asPath: [], nextHop: '10.1.1.1', localPref: 100 }, nlri: [{ prefix: '10.9.0.0/16' }] }),
    message(47, UPDATE,
      '0000', '0015',             // no withdrawals, 21 bytes of attributes
      '40 01 01 02',              // ORIGIN INCOMPLETE
      '40 02 00',                 // AS_PATH, empty
      '40 03 04 0a010101',        // NEXT_HOP 10.1.1.1
      '40 05 04 00000064',        // LOCAL_PREF 100
      '10 0a09',                  // 10.9.0.0/16
    ),
  );

  testMessage(
    'Extended Length used for an attribute over 255 bytes',
    update({
      attributes: {
        origin: Origin.IGP,
        asPath: [{ type: 'sequence', asns: [65001] }],
        nextHop: '192.0.2.1',
        communities: Array.from({ length: 70 }, (_, i) => (0xfde90000 + i) >>> 0),
      },
      nlri: [{ prefix: '10.0.0.0/8' }],
    }),
    Buffer.concat([
      hex(MARKER_HEX, '0149', '02'), // length 329, UPDATE
      hex('0000', '0130'),        // no withdrawals, 304 bytes of attributes
      hex('40 01 01 00', '40 02 06 02 01 0000fde9', '40 03 04 c0000201'),
      hex('d0 08 0118'),          // COMMUNITIES, flags O+T+Extended Length, 2-byte length 280
      Buffer.concat(Array.from({ length: 70 }, (_, i) => hex('fde9', i.toString(16).padStart(4, '0')))),
      hex('08 0a'),               // 10.0.0.0/8
    ]),
  );

  testDecodeOnly(
    'Extended Length on a short value is accepted (RFC 4271 §4.3 allows it)',
    update({ attributes: { origin: Origin.EGP, asPath: [], nextHop: '192.0.2.1' }, nlri: [{ prefix: '10.0.0.0/8' }] }),
    message(40, UPDATE,
      '0000', '000f',
      '50 01 0001 01',            // ORIGIN with Extended Length, length 1: EGP
      '40 02 00',
      '40 03 04 c0000201',
      '08 0a',
    ),
  );

  testDecodeOnly(
    'host bits in prefixes are cleared (canonical prefixes)',
    update({
      withdrawn: [{ prefix: '10.0.0.0/23' }],
      attributes: { origin: Origin.IGP, asPath: [], nextHop: '192.0.2.1' },
      nlri: [{ prefix: '192.168.0.0/16' }, { prefix: '10.0.0.0/7' }],
    }),
    message(46, UPDATE,
      '0004', '17 0a0001',        // 10.0.1.0/23 -> 10.0.0.0/23
      '000e', '40 01 01 00', '40 02 00', '40 03 04 c0000201',
      '10 c0a8',                  // 192.168.0.0/16 (already canonical)
      '07 0b',                    // 11.0.0.0/7 -> 10.0.0.0/7
    ),
  );

  testDecodeOnly(
    'unknown optional non-transitive attributes are dropped; transitive ones kept with their flags',
    update({
      attributes: { origin: Origin.IGP, asPath: [], nextHop: '192.0.2.1', unknown: [{ flags: 0xc0, typeCode: 200, value: hex('ff') }] },
      nlri: [{ prefix: '10.0.0.0/8' }],
    }),
    message(48, UPDATE,
      '0000', '0017',
      '40 01 01 00', '40 02 00', '40 03 04 c0000201',
      '80 63 02 abcd',            // optional non-transitive 99: dropped
      'c0 c8 01 ff',              // optional transitive 200, Partial clear: kept (sent on with Partial)
      '08 0a',
    ),
    AS4,
    // Passed on, it carries Partial (RFC 4271 §5).
    update({
      attributes: { origin: Origin.IGP, asPath: [], nextHop: '192.0.2.1', unknown: [{ flags: 0xe0, typeCode: 200, value: hex('ff') }] },
      nlri: [{ prefix: '10.0.0.0/8' }],
    }),
  );
});

describe('UPDATE, MP-BGP', () => {
  testMessage(
    'IPv6 MP_REACH_NLRI with global and link-local next hops',
    update({
      attributes: {
        mpReach: {
          afi: 2,
          safi: 1,
          nextHops: ['2001:db8::1', 'fe80::1'],
          nlri: [{ prefix: '2001:db8::/32' }, { prefix: '2001:db8:1::/64' }],
        },
        origin: Origin.INCOMPLETE,
        asPath: [
          { type: 'sequence', asns: [65000] },
          { type: 'set', asns: [65001, 65002] },
        ],
      },
    }),
    message(100, UPDATE,
      '0000', '004d',                                // no withdrawals, 77 bytes of attributes
      '80 0e 33',                                    // MP_REACH_NLRI, optional, length 51
      '0002 01',                                     //   AFI 2, SAFI 1
      '20 20010db8000000000000000000000001',         //   next hop length 32: 2001:db8::1
      '   fe800000000000000000000000000001',         //   and fe80::1
      '00',                                          //   reserved
      '20 20010db8',                                 //   2001:db8::/32
      '40 20010db800010000',                         //   2001:db8:1::/64
      '40 01 01 02',                                 // ORIGIN INCOMPLETE
      '40 02 10 02 01 0000fde8 01 02 0000fde9 0000fdea', // AS_PATH 65000 {65001 65002}
    ),
  );

  testMessage(
    'IPv6 MP_UNREACH_NLRI',
    update({ attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [{ prefix: '2001:db8:1::/48' }, { prefix: '::/0' }] } } }),
    message(37, UPDATE,
      '0000', '000e',
      '80 0f 0b', '0002 01',      // MP_UNREACH_NLRI, length 11, AFI 2 SAFI 1
      '30 20010db80001',          // 2001:db8:1::/48
      '00',                       // ::/0
    ),
  );

  testMessage(
    'IPv4 NLRI with an IPv6 next hop (RFC 8950)',
    update({
      attributes: {
        mpReach: { afi: 1, safi: 1, nextHops: ['2001:db8::1'], nlri: [{ prefix: '10.0.0.0/24' }] },
        origin: Origin.IGP,
        asPath: [],
      },
    }),
    message(58, UPDATE,
      '0000', '0023',
      '80 0e 19 0001 01',                            // MP_REACH_NLRI length 25, AFI 1 SAFI 1
      '10 20010db8000000000000000000000001 00',      // 16-byte next hop 2001:db8::1, reserved
      '18 0a0000',                                   // 10.0.0.0/24
      '40 01 01 00', '40 02 00',
    ),
  );

  testMessage(
    'IPv4 MP_REACH_NLRI with an IPv4 next hop',
    update({
      attributes: { mpReach: { afi: 1, safi: 1, nextHops: ['192.0.2.1'], nlri: [{ prefix: '10.0.0.0/8' }] }, origin: Origin.IGP, asPath: [] },
    }),
    message(44, UPDATE, '0000', '0015', '80 0e 0b 0001 01 04 c0000201 00 08 0a', '40 01 01 00', '40 02 00'),
  );

  testDecodeOnly(
    'NEXT_HOP beside MP_REACH_NLRI only is kept but not required (RFC 4760 §3)',
    update({
      attributes: {
        origin: Origin.IGP,
        asPath: [],
        nextHop: '192.0.2.1',
        mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1'], nlri: [{ prefix: '2001:db8::/32' }] },
      },
    }),
    message(66, UPDATE,
      '0000', '002b',
      '40 01 01 00', '40 02 00', '40 03 04 c0000201',          // attributes before MP_REACH (allowed on receipt, RFC 7606 §5.1)
      '80 0e 1a 0002 01 10 20010db8000000000000000000000001 00 20 20010db8',
    ),
  );
});

describe('UPDATE, 4-octet AS on a 2-octet session (RFC 6793)', () => {
  testMessage(
    'AS_TRANS with AS4_PATH and AS4_AGGREGATOR, written only because they are needed',
    update({
      attributes: {
        origin: Origin.IGP,
        asPath: [{ type: 'sequence', asns: [65001, 4200000001, 4200000002] }],
        nextHop: '192.0.2.1',
        aggregator: { asn: 4200000003, address: '10.0.0.1' },
      },
      nlri: [{ prefix: '10.0.0.0/24' }],
    }),
    message(86, UPDATE,
      '0000', '003b',
      '40 01 01 00',
      '40 02 08 02 03 fde9 5ba0 5ba0',               // AS_PATH 65001 AS_TRANS AS_TRANS (2-octet)
      '40 03 04 c0000201',
      'c0 07 06 5ba0 0a000001',                      // AGGREGATOR AS_TRANS 10.0.0.1
      'c0 11 0e 02 03 0000fde9 fa56ea01 fa56ea02',   // AS4_PATH 65001 4200000001 4200000002
      'c0 12 08 fa56ea03 0a000001',                  // AS4_AGGREGATOR 4200000003 10.0.0.1
      '18 0a0000',
    ),
    AS2,
  );

  testMessage(
    'small AS numbers need no AS4 attributes',
    update({
      attributes: { origin: Origin.IGP, asPath: [{ type: 'sequence', asns: [65001, 65002] }], nextHop: '192.0.2.1', aggregator: { asn: 65001, address: '10.0.0.1' } },
      nlri: [{ prefix: '10.0.0.0/24' }],
    }),
    message(56, UPDATE, '0000', '001d', '40 01 01 00', '40 02 06 02 02 fde9 fdea', '40 03 04 c0000201', 'c0 07 06 fde9 0a000001', '18 0a0000'),
    AS2,
  );

  testMessage(
    'leading confederation segments survive (AS4_PATH cannot carry them)',
    update({
      attributes: {
        origin: Origin.IGP,
        asPath: [
          { type: 'confed-sequence', asns: [65010] },
          { type: 'sequence', asns: [4200000001] },
        ],
        nextHop: '192.0.2.1',
      },
      nlri: [{ prefix: '10.0.0.0/24' }],
    }),
    message(58, UPDATE,
      '0000', '001f',
      '40 01 01 00',
      '40 02 08 03 01 fdf2 02 01 5ba0',              // AS_PATH (65010) AS_TRANS
      '40 03 04 c0000201',
      'c0 11 06 02 01 fa56ea01',                     // AS4_PATH 4200000001 (no confederation segment)
      '18 0a0000',
    ),
    AS2,
  );

  testDecodeOnly(
    '§4.2.3: an OLD speaker prepended after the AS4_PATH was written',
    update({
      attributes: { origin: Origin.IGP, asPath: [{ type: 'sequence', asns: [65002, 65001, 4200000001] }], nextHop: '192.0.2.1' },
      nlri: [{ prefix: '10.0.0.0/24' }],
    }),
    message(62, UPDATE,
      '0000', '0023',
      '40 01 01 00',
      '40 02 08 02 03 fdea fde9 5ba0',               // AS_PATH 65002 65001 AS_TRANS (3 ASes)
      '40 03 04 c0000201',
      'c0 11 0a 02 02 0000fde9 fa56ea01',            // AS4_PATH 65001 4200000001 (2 ASes)
      '18 0a0000',
    ),
    AS2,
  );

  testDecodeOnly(
    '§4.2.3: AS4_PATH longer than AS_PATH is ignored',
    update({
      attributes: { origin: Origin.IGP, asPath: [{ type: 'sequence', asns: [23456] }], nextHop: '192.0.2.1' },
      nlri: [{ prefix: '10.0.0.0/24' }],
    }),
    message(58, UPDATE,
      '0000', '001f',
      '40 01 01 00',
      '40 02 04 02 01 5ba0',                         // AS_PATH AS_TRANS (1 AS)
      '40 03 04 c0000201',
      'c0 11 0a 02 02 0000fde9 fa56ea01',            // AS4_PATH 65001 4200000001 (2 ASes)
      '18 0a0000',
    ),
    AS2,
  );

  testDecodeOnly(
    '§4.2.3: an AGGREGATOR that is not AS_TRANS makes AS4_AGGREGATOR and AS4_PATH stale',
    update({
      attributes: {
        origin: Origin.IGP,
        asPath: [{ type: 'sequence', asns: [65001, 23456] }],
        nextHop: '192.0.2.1',
        aggregator: { asn: 65005, address: '10.0.0.5' },
      },
      nlri: [{ prefix: '10.0.0.0/24' }],
    }),
    message(80, UPDATE,
      '0000', '0035',
      '40 01 01 00',
      '40 02 06 02 02 fde9 5ba0',
      '40 03 04 c0000201',
      'c0 07 06 fded 0a000005',                      // AGGREGATOR 65005 (not AS_TRANS)
      'c0 11 0a 02 02 0000fde9 fa56ea01',            // AS4_PATH: ignored
      'c0 12 08 fa56ea03 0a000001',                  // AS4_AGGREGATOR: ignored
      '18 0a0000',
    ),
    AS2,
  );

  testDecodeOnly(
    '§4.2.3: an AS_SET counts as one AS',
    update({
      attributes: {
        origin: Origin.IGP,
        asPath: [
          { type: 'sequence', asns: [65003] },
          { type: 'set', asns: [65001, 4200000001] },
        ],
        nextHop: '192.0.2.1',
      },
      nlri: [{ prefix: '10.0.0.0/24' }],
    }),
    message(64, UPDATE,
      '0000', '0025',
      '40 01 01 00',
      '40 02 0a 02 01 fdeb 01 02 fde9 5ba0',         // AS_PATH 65003 {65001 AS_TRANS}: 2 ASes
      '40 03 04 c0000201',
      'c0 11 0a 01 02 0000fde9 fa56ea01',            // AS4_PATH {65001 4200000001}: 1 AS
      '18 0a0000',
    ),
    AS2,
  );

  testDecodeOnly(
    'between NEW speakers AS4_PATH is discarded unread (RFC 6793 §4.1)',
    update({
      attributes: { origin: Origin.IGP, asPath: [{ type: 'sequence', asns: [23456] }], nextHop: '192.0.2.1' },
      nlri: [{ prefix: '10.0.0.0/24' }],
    }),
    message(60, UPDATE,
      '0000', '0021',
      '40 01 01 00',
      '40 02 06 02 01 00005ba0',
      '40 03 04 c0000201',
      'c0 11 0a 02 02 0000fde9 fa56ea01',
      '18 0a0000',
    ),
    AS4,
  );
});

describe('UPDATE, ADD-PATH (RFC 7911)', () => {
  const ADD_PATH = opts(true, ['ipv4-unicast', 'ipv6-unicast']);
  testMessage(
    'IPv4: path identifiers before withdrawn and announced prefixes',
    update({
      withdrawn: [{ prefix: '10.0.1.0/24', pathId: 7 }],
      attributes: { origin: Origin.IGP, asPath: [], nextHop: '192.0.2.1' },
      nlri: [
        { prefix: '10.0.0.0/24', pathId: 1 },
        { prefix: '10.0.0.0/24', pathId: 2 },
      ],
    }),
    message(61, UPDATE,
      '0008', '00000007 18 0a0001',  // withdrawn: path 7 10.0.1.0/24
      '000e', '40 01 01 00', '40 02 00', '40 03 04 c0000201',
      '00000001 18 0a0000',          // path 1 10.0.0.0/24
      '00000002 18 0a0000',          // path 2 10.0.0.0/24
    ),
    ADD_PATH,
  );

  testMessage(
    'IPv6: path identifiers inside MP_REACH_NLRI',
    update({
      attributes: {
        mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1'], nlri: [{ prefix: '2001:db8::/32', pathId: 4294967295 }] },
        origin: Origin.IGP,
        asPath: [],
      },
    }),
    message(63, UPDATE, '0000', '0028', '80 0e 1e 0002 01 10 20010db8000000000000000000000001 00', 'ffffffff 20 20010db8', '40 01 01 00', '40 02 00'),
    ADD_PATH,
  );

  test('the same bytes misparse without ADD-PATH, and are caught as an invalid prefix', () => {
    // With ADD-PATH: path 1, 10.0.0.1/32. Without: /0 /0 /0, /1 (0x20), /10 (00 00), then /1 with no byte left.
    const bytes = message(32, UPDATE, '0009', '00000001 20 0a000001', '0000');
    expect(decodeMessage(bytes, ADD_PATH)).toBeDefined();
    expect(decodeThrows(bytes, AS4).notification.subcode).toBe(10);
  });
});

describe('End-of-RIB (RFC 4724 §2)', () => {
  testMessage('IPv4 unicast: an empty UPDATE', update({}), message(23, UPDATE, '0000', '0000'));
  testMessage(
    'IPv6 unicast: only an empty MP_UNREACH_NLRI',
    update({ attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [] } } }),
    message(29, UPDATE, '0000', '0006', '80 0f 03 0002 01'),
  );

  test('encodeEndOfRib and endOfRibFamily agree', () => {
    for (const family of ['ipv4-unicast', 'ipv6-unicast'] as const) {
      const decoded = decodeMessage(encodeEndOfRib(family, AS4), AS4) as UpdateMessage;
      expect(endOfRibFamily(decoded)).toBe(family);
    }
    expect(encodeEndOfRib('ipv4-unicast', AS4).toString('hex')).toBe(message(23, UPDATE, '0000', '0000').toString('hex'));
    expect(encodeEndOfRib('ipv6-unicast', AS4).toString('hex')).toBe(message(29, UPDATE, '0000', '0006', '800f03000201').toString('hex'));
  });

  test.each<[string, UpdateMessage]>([
    ['withdrawals', update({ withdrawn: [{ prefix: '10.0.0.0/8' }] })],
    ['announcements', update({ attributes: { origin: 0, asPath: [], nextHop: '1.1.1.1' }, nlri: [{ prefix: '10.0.0.0/8' }] })],
    ['a non-empty MP_UNREACH', update({ attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [{ prefix: '::/0' }] } } })],
    ['MP_UNREACH plus another attribute', update({ attributes: { origin: 0, mpUnreach: { afi: 2, safi: 1, withdrawn: [] } } })],
    ['an MP_UNREACH for a family we do not route', update({ attributes: { mpUnreach: { afi: 25, safi: 65, withdrawn: [] } } })],
  ])('is not %s', (_name, u) => {
    expect(endOfRibFamily(u)).toBeNull();
  });
});

describe('Extended Message (RFC 8654)', () => {
  // 1100 /24s: 4400 bytes of NLRI, a 4437-byte UPDATE.
  const nlri = Array.from({ length: 1100 }, (_, i) => ({ prefix: `10.${i >> 8}.${i & 0xff}.0/24` }));
  const body = Buffer.concat(nlri.map((_, i) => Buffer.from([24, 10, i >> 8, i & 0xff])));
  const attrs = hex('40 01 01 00', '40 02 00', '40 03 04 c0000201');
  const bytes = Buffer.concat([hex(MARKER_HEX, '1155', '02', '0000', '000e'), attrs, body]);
  const expected = update({ attributes: { origin: Origin.IGP, asPath: [], nextHop: '192.0.2.1' }, nlri });

  test('fixture is 4437 bytes', () => {
    expect(bytes.length).toBe(0x1155);
  });

  testMessage('a 4437-byte UPDATE when negotiated', expected, bytes, opts(true, [], true));

  test('the same UPDATE is a Bad Message Length when not negotiated', () => {
    const err = decodeThrows(bytes, AS4);
    expect([err.notification.code, err.notification.subcode, err.notification.data.toString('hex')]).toEqual([1, 2, '1155']);
    expect(() => frameByteByByte(bytes)).toThrow(/bad message length 4437/);
  });
});


fuzzGoldenFixtures();
