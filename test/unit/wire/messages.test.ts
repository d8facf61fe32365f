import {
  decodeMessage,
  describeAttributes,
  describeNotification,
  encodeMessage,
  encodeShutdownCommunication,
  MessageType,
} from '../../../src/bgp/wire';
import { AS4, hex, message, testMessage, fuzzGoldenFixtures } from './helpers';

describe('KEEPALIVE', () => {
  testMessage('is the header alone', { type: MessageType.KEEPALIVE }, message(19, MessageType.KEEPALIVE));
});

describe('NOTIFICATION', () => {
  testMessage(
    'Hold Timer Expired',
    { type: MessageType.NOTIFICATION, code: 4, subcode: 0, data: Buffer.alloc(0) },
    message(21, MessageType.NOTIFICATION, '04', '00'), // code 4, subcode 0, no data
  );
  testMessage(
    'Cease / Administrative Shutdown with a shutdown communication',
    { type: MessageType.NOTIFICATION, code: 6, subcode: 2, data: Buffer.from('\x0bmaintenance', 'latin1') },
    message(33, MessageType.NOTIFICATION,
      '06', '02',                   // Cease, Administrative Shutdown
      '0b', '6d61696e74656e616e6365', // RFC 9003: length 11, "maintenance"
    ),
  );
  testMessage(
    'Message Header Error / Bad Message Length with the length as data',
    { type: MessageType.NOTIFICATION, code: 1, subcode: 2, data: hex('1001') },
    message(23, MessageType.NOTIFICATION, '01', '02', '1001'),
  );
});

describe('ROUTE-REFRESH', () => {
  testMessage(
    'normal request, IPv4 unicast',
    { type: MessageType.ROUTE_REFRESH, afi: 1, safi: 1, subtype: 0 },
    message(23, MessageType.ROUTE_REFRESH, '0001', '00', '01'), // AFI 1, subtype 0, SAFI 1
  );
  testMessage(
    'BoRR, IPv6 unicast (RFC 7313)',
    { type: MessageType.ROUTE_REFRESH, afi: 2, safi: 1, subtype: 1 },
    message(23, MessageType.ROUTE_REFRESH, '0002', '01', '01'),
  );
  testMessage(
    'EoRR, IPv4 unicast (RFC 7313)',
    { type: MessageType.ROUTE_REFRESH, afi: 1, safi: 1, subtype: 2 },
    message(23, MessageType.ROUTE_REFRESH, '0001', '02', '01'),
  );
  test('an unknown subtype decodes as-is for the session to ignore (RFC 7313 §5)', () => {
    expect(decodeMessage(message(23, MessageType.ROUTE_REFRESH, '0001', '07', '01'), AS4)).toStrictEqual({
      type: MessageType.ROUTE_REFRESH,
      afi: 1,
      safi: 1,
      subtype: 7,
    });
  });
});

describe('shutdown communication', () => {
  test('encodes length + UTF-8', () => {
    expect(encodeShutdownCommunication('maintenance').toString('hex')).toBe('0b6d61696e74656e616e6365');
    expect(encodeShutdownCommunication('').toString('hex')).toBe('00');
  });

  test('cuts at 255 bytes on a UTF-8 character boundary', () => {
    // 'é' is 2 bytes: 127 of them are 254 bytes, the 128th would end at byte 256.
    const text = 'é'.repeat(200);
    const data = encodeShutdownCommunication(text);
    expect(data[0]).toBe(254);
    expect(data.length).toBe(255);
    expect(data.subarray(1).toString('utf8')).toBe('é'.repeat(127));
    // 4-byte characters: 63 fit in 252 bytes.
    const emoji = encodeShutdownCommunication('🛠'.repeat(100));
    expect(emoji[0]).toBe(252);
    expect(emoji.subarray(1).toString('utf8')).toBe('🛠'.repeat(63));
    // ASCII: exactly 255.
    expect(encodeShutdownCommunication('x'.repeat(300))[0]).toBe(255);
  });
});

describe('describeNotification', () => {
  test.each<[number, number, string, string]>([
    [6, 2, '0b6d61696e74656e616e6365', 'Cease / Administrative Shutdown: "maintenance"'],
    [6, 4, '00', 'Cease / Administrative Reset: ""'],
    [4, 0, '', 'Hold Timer Expired'],
    [3, 11, '', 'UPDATE Message Error / Malformed AS_PATH'],
    [3, 3, '01', 'UPDATE Message Error / Missing Well-known Attribute: ORIGIN'],
    [1, 2, '1001', 'Message Header Error / Bad Message Length: length 4097'],
    [1, 3, '09', 'Message Header Error / Bad Message Type: type 9'],
    [2, 7, '4100', 'OPEN Message Error / Unsupported Capability [data 41 00]'],
    [6, 0, '', 'Cease'],
    [6, 10, '', 'Cease / BFD Down'],
    [6, 42, '', 'Cease / subcode 42'],
    [99, 1, '', 'error code 99 / subcode 1'],
    [7, 1, '', 'ROUTE-REFRESH Message Error / Invalid Message Length'],
    // RFC 9003 §2: a bad length or invalid UTF-8 is shown as data, not trusted as text.
    [6, 2, '05616263', 'Cease / Administrative Shutdown [data 05 61 62 63]'],
    [6, 2, '02c328', 'Cease / Administrative Shutdown [data 02 c3 28]'],
  ])('%i/%i %s', (code, subcode, data, text) => {
    expect(describeNotification(code, subcode, hex(data))).toBe(text);
  });

  test('long data is cut in the text', () => {
    expect(describeNotification(3, 9, Buffer.alloc(40, 0xab))).toMatch(/\[data (ab ){31}ab … \(40 bytes\)\]$/);
  });

  test('round trips a shutdown communication through a NOTIFICATION', () => {
    const data = encodeShutdownCommunication('rebooting for kernel 6.8 — back in 5 min');
    const raw = encodeMessage({ type: MessageType.NOTIFICATION, code: 6, subcode: 2, data }, AS4);
    const decoded = decodeMessage(raw, AS4);
    if (decoded.type !== MessageType.NOTIFICATION) throw new Error('not a NOTIFICATION');
    expect(describeNotification(decoded.code, decoded.subcode, decoded.data)).toBe(
      'Cease / Administrative Shutdown: "rebooting for kernel 6.8 — back in 5 min"',
    );
  });
});

fuzzGoldenFixtures();

describe('describeAttributes', () => {
  test('one clause per attribute, in wire order', () => {
    expect(
      describeAttributes({
        origin: 0,
        asPath: [
          { type: 'confed-sequence', asns: [65010] },
          { type: 'sequence', asns: [65001, 4200000001] },
          { type: 'set', asns: [1, 2] },
        ],
        nextHop: '192.0.2.1',
        med: 5,
        localPref: 100,
        atomicAggregate: true,
        aggregator: { asn: 65001, address: '10.0.0.1' },
        communities: [0xfde90064],
        originatorId: '10.0.0.2',
        clusterList: ['10.0.0.3'],
        extendedCommunities: [hex('0002fde900000064')],
        largeCommunities: [[4200000001, 1, 2]],
        mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1', 'fe80::1'], nlri: [{ prefix: '2001:db8::/32' }] },
        unknown: [{ flags: 0xe0, typeCode: 99, value: hex('0102') }],
      }),
    ).toBe(
      'mp-reach ipv6-unicast next-hop 2001:db8::1,fe80::1 nlri 1, origin igp, as-path (65010) 65001 4200000001 {1 2}, ' +
        'next-hop 192.0.2.1, med 5, local-pref 100, atomic-aggregate, aggregator 65001 10.0.0.1, communities 65001:100, ' +
        'originator-id 10.0.0.2, cluster-list 10.0.0.3, ext-communities 0002fde900000064, large-communities (4200000001:1:2), ' +
        'attribute 99 (flags 0xe0, len 2)',
    );
    expect(describeAttributes({})).toBe('');
    expect(describeAttributes({ asPath: [] })).toBe('as-path');
  });
});
