import {
  AddPathMode,
  CapabilityCode,
  decodeMessage,
  describeCapability,
  encodeMessage,
  MessageType,
  type Capability,
  type OpenMessage,
} from '../../../src/bgp/wire';
import { AS4, hex, message, testDecodeOnly, testMessage, fuzzGoldenFixtures } from './helpers';

const OPEN = MessageType.OPEN;

describe('OPEN', () => {
  testMessage(
    'without optional parameters',
    { type: OPEN, version: 4, myAs: 65001, holdTime: 180, bgpId: '192.0.2.1', capabilities: [] },
    message(29, OPEN,
      '04',       // version 4
      'fde9',     // my AS 65001
      '00b4',     // hold time 180
      'c0000201', // BGP identifier 192.0.2.1
      '00',       // optional parameters length 0
    ),
  );

  const everyCapability: Capability[] = [
    { code: CapabilityCode.MULTIPROTOCOL, afi: 1, safi: 1 },
    { code: CapabilityCode.MULTIPROTOCOL, afi: 2, safi: 1 },
    { code: CapabilityCode.ROUTE_REFRESH },
    { code: CapabilityCode.ENHANCED_ROUTE_REFRESH },
    { code: CapabilityCode.EXTENDED_MESSAGE },
    { code: CapabilityCode.FOUR_OCTET_AS, asn: 4200000001 },
    {
      code: CapabilityCode.GRACEFUL_RESTART,
      restarting: true,
      notification: false,
      restartTime: 120,
      families: [{ afi: 1, safi: 1, forwarding: true }],
    },
    {
      code: CapabilityCode.ADD_PATH,
      families: [
        { afi: 1, safi: 1, mode: AddPathMode.BOTH },
        { afi: 2, safi: 1, mode: AddPathMode.RECEIVE },
      ],
    },
    { code: CapabilityCode.EXTENDED_NEXT_HOP, entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] },
    { code: 'unknown', typeCode: 73, value: hex('0102030405') },
  ];

  testMessage(
    'with every capability in one parameter (BIRD layout), AS_TRANS as my AS',
    { type: OPEN, version: 4, myAs: 23456, holdTime: 90, bgpId: '10.0.0.1', capabilities: everyCapability },
    message(88, OPEN,
      '04', '5ba0', '005a', '0a000001', // version 4, my AS 23456 (AS_TRANS), hold 90, id 10.0.0.1
      '3b',                             // optional parameters length 59
      '02 39',                          // parameter 2 (capabilities), length 57
      '01 04 0001 00 01',               // multiprotocol: AFI 1, reserved, SAFI 1
      '01 04 0002 00 01',               // multiprotocol: AFI 2, reserved, SAFI 1
      '02 00',                          // route refresh
      '46 00',                          // enhanced route refresh
      '06 00',                          // extended message
      '41 04 fa56ea01',                 // 4-octet AS 4200000001
      '40 06 8078 0001 01 80',          // graceful restart: R, time 120; IPv4 unicast with F
      '45 08 0001 01 03 0002 01 01',    // ADD-PATH: IPv4 unicast send/receive, IPv6 unicast receive
      '05 06 0001 0001 0002',           // extended next hop: IPv4 unicast NLRI over IPv6 next hop
      '49 05 0102030405',               // unknown capability 73, 5 bytes
    ),
  );

  testMessage(
    'graceful restart with N bit, two families, helper only',
    {
      type: OPEN,
      version: 4,
      myAs: 65002,
      holdTime: 3,
      bgpId: '10.0.0.2',
      capabilities: [
        {
          code: CapabilityCode.GRACEFUL_RESTART,
          restarting: false,
          notification: true,
          restartTime: 4095,
          families: [
            { afi: 1, safi: 1, forwarding: false },
            { afi: 2, safi: 1, forwarding: true },
          ],
        },
        { code: CapabilityCode.GRACEFUL_RESTART, restarting: false, notification: false, restartTime: 0, families: [] },
      ],
    },
    message(47, OPEN,
      '04', 'fdea', '0003', '0a000002',
      '12', '02 10',                         // 18 bytes of parameters; one capabilities parameter of 16
      '40 0a 4fff 0001 01 00 0002 01 80',    // GR: N, time 4095; IPv4 (no F), IPv6 (F)
      '40 02 0000',                          // GR: no flags, time 0, no families
    ),
  );

  testDecodeOnly(
    'one capability per parameter (FRR / GoBGP layout)',
    {
      type: OPEN,
      version: 4,
      myAs: 65001,
      holdTime: 90,
      bgpId: '192.0.2.1',
      capabilities: [
        { code: CapabilityCode.MULTIPROTOCOL, afi: 1, safi: 1 },
        { code: CapabilityCode.ROUTE_REFRESH },
        { code: CapabilityCode.FOUR_OCTET_AS, asn: 65001 },
      ],
    },
    message(51, OPEN,
      '04', 'fde9', '005a', 'c0000201',
      '16',                    // 22 bytes of parameters
      '02 06 01 04 0001 0001', // parameter: multiprotocol IPv4 unicast
      '02 02 02 00',           // parameter: route refresh
      '02 06 41 04 0000fde9',  // parameter: 4-octet AS 65001
      '02 00',                 // an empty capabilities parameter
    ),
  );

  testDecodeOnly(
    'RFC 9072 extended optional parameters length',
    {
      type: OPEN,
      version: 4,
      myAs: 65001,
      holdTime: 90,
      bgpId: '192.0.2.1',
      capabilities: [{ code: CapabilityCode.ROUTE_REFRESH }, { code: CapabilityCode.FOUR_OCTET_AS, asn: 65001 }],
    },
    message(43, OPEN,
      '04', 'fde9', '005a', 'c0000201',
      'ff ff 000b',            // Non-Ext OP Len 255, Non-Ext OP Type 255, extended length 11
      '02 0008',               // parameter 2 with a 2-byte length: 8
      '02 00', '41 04 0000fde9', // route refresh, 4-octet AS 65001
    ),
  );

  test('more than 255 bytes of capabilities use RFC 9072 on encode', () => {
    const capabilities: Capability[] = [];
    for (let i = 0; i < 30; i++) capabilities.push({ code: 'unknown', typeCode: 200 + (i % 50), value: Buffer.alloc(8, i) });
    const open: OpenMessage = { type: OPEN, version: 4, myAs: 65001, holdTime: 90, bgpId: '192.0.2.1', capabilities };
    const bytes = encodeMessage(open, AS4);
    // 30 capabilities of 10 bytes: one parameter of 300 bytes, extended length 303.
    expect(bytes.subarray(28, 35).toString('hex')).toBe('ffff012f02012c');
    expect(bytes.length).toBe(29 + 3 + 3 + 300);
    expect(decodeMessage(bytes, AS4)).toStrictEqual(open);
  });

  test('capabilities between 255 and 9072 territory split into classic parameters when the total fits', () => {
    // 24 capabilities of 10 bytes = 240 bytes: one parameter (242 bytes), classic encoding.
    const capabilities: Capability[] = [];
    for (let i = 0; i < 24; i++) capabilities.push({ code: 'unknown', typeCode: 100 + i, value: Buffer.alloc(8, i) });
    const open: OpenMessage = { type: OPEN, version: 4, myAs: 1, holdTime: 0, bgpId: '0.0.0.0', capabilities };
    const bytes = encodeMessage(open, AS4);
    expect(bytes[28]).toBe(242);
    expect(bytes[29]).toBe(2);
    expect(bytes[30]).toBe(240);
    expect(decodeMessage(bytes, AS4)).toStrictEqual(open);
  });
});

describe('describeCapability', () => {
  test.each<[Capability, string]>([
    [{ code: CapabilityCode.MULTIPROTOCOL, afi: 2, safi: 1 }, 'multiprotocol ipv6-unicast'],
    [{ code: CapabilityCode.MULTIPROTOCOL, afi: 25, safi: 70 }, 'multiprotocol afi 25 safi 70'],
    [{ code: CapabilityCode.FOUR_OCTET_AS, asn: 4200000001 }, '4-octet AS 4200000001'],
    [
      { code: CapabilityCode.GRACEFUL_RESTART, restarting: false, notification: false, restartTime: 120, families: [{ afi: 1, safi: 1, forwarding: true }] },
      'graceful-restart time 120 ipv4-unicast(F)',
    ],
    [
      { code: CapabilityCode.GRACEFUL_RESTART, restarting: true, notification: true, restartTime: 90, families: [{ afi: 2, safi: 1, forwarding: false }] },
      'graceful-restart R N time 90 ipv6-unicast',
    ],
    [{ code: 'unknown', typeCode: 73, value: Buffer.alloc(5) }, 'unknown capability 73 (len 5)'],
    [{ code: CapabilityCode.ROUTE_REFRESH }, 'route-refresh'],
    [{ code: CapabilityCode.ENHANCED_ROUTE_REFRESH }, 'enhanced-route-refresh'],
    [{ code: CapabilityCode.EXTENDED_MESSAGE }, 'extended-message'],
    [{ code: CapabilityCode.ADD_PATH, families: [{ afi: 1, safi: 1, mode: AddPathMode.SEND }] }, 'add-path ipv4-unicast(send)'],
    [{ code: CapabilityCode.EXTENDED_NEXT_HOP, entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] }, 'extended-next-hop ipv4-unicast via ipv6'],
  ])('%j', (cap, text) => {
    expect(describeCapability(cap)).toBe(text);
  });
});

fuzzGoldenFixtures();
