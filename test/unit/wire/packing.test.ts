import {
  afiSafiOf,
  AttributeType,
  decodeMessage,
  encodeMessage,
  familyOf,
  encodeAnnouncements,
  encodeWithdrawals,
  Origin,
  type BgpMessage,
  type CodecOptions,
  type Family,
  type Nlri,
  type PathAttributes,
  type UpdateMessage,
} from '../../../src/bgp/wire';
import { AS4, frameByteByByte, hex, opts } from './helpers';
import { isTartanError as isTartanErrorBase } from '../../../src/errors';

const ATTRS: PathAttributes = {
  origin: Origin.IGP,
  asPath: [{ type: 'sequence', asns: [65001] }],
  communities: [0xfde90001],
};

function v4(n: number, len = 24): Nlri {
  return { prefix: `10.${(n >> 8) & 0xff}.${n & 0xff}.0/${len}` };
}
function v6(n: number): Nlri {
  return { prefix: `2001:db8:${(n + 1).toString(16)}::/48` };
}

function decodeAll(msgs: Buffer[], o: CodecOptions): UpdateMessage[] {
  return msgs.map((m) => {
    const d = decodeMessage(m, o) as UpdateMessage;
    expect(d.errors).toBeUndefined();
    return d;
  });
}

function expectEncodeError(fn: () => unknown, re: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(isTartanErrorBase(err, 'BGP_ENCODE_ERROR')).toBe(true);
    expect((err as Error).message).toMatch(re);
    return;
  }
  throw new Error('expected BGP_ENCODE_ERROR');
}

describe('encodeAnnouncements', () => {
  test('IPv4 with an IPv4 next hop: classic NLRI and NEXT_HOP, as many per message as fit', () => {
    const nlri = Array.from({ length: 3000 }, (_, i) => v4(i));
    const msgs = encodeAnnouncements('ipv4-unicast', ATTRS, nlri, AS4, '192.0.2.1');
    expect(msgs.length).toBe(3);
    for (const m of msgs) expect(m.length).toBeLessThanOrEqual(4096);
    // Attributes are 4 + 9 + 7 + 7 = 27 bytes; 4096 - 19 - 4 - 27 = 4046 bytes of 4-byte NLRI = 1011 per message.
    expect(msgs[0]?.length).toBe(19 + 4 + 27 + 1011 * 4);
    const decoded = decodeAll(msgs, AS4);
    expect(decoded.flatMap((d) => d.nlri)).toStrictEqual(nlri);
    for (const d of decoded) expect(d.attributes).toStrictEqual({ ...ATTRS, nextHop: '192.0.2.1' });
    // the attributes are byte-identical in every message
    const attrBytes = msgs.map((m) => m.subarray(23, 23 + m.readUInt16BE(21)).toString('hex'));
    expect(new Set(attrBytes).size).toBe(1);
  });

  test('next hop defaults to attributes.nextHop', () => {
    const [m] = encodeAnnouncements('ipv4-unicast', { ...ATTRS, nextHop: '10.1.1.1' }, [v4(1)], AS4);
    expect((decodeMessage(m as Buffer, AS4) as UpdateMessage).attributes.nextHop).toBe('10.1.1.1');
  });

  test('IPv6: MP_REACH_NLRI first, global + link-local next hop, no NEXT_HOP', () => {
    const nlri = Array.from({ length: 1000 }, (_, i) => v6(i));
    const msgs = encodeAnnouncements('ipv6-unicast', { ...ATTRS, nextHop: '192.0.2.1' }, nlri, AS4, ['2001:db8::1', 'fe80::1']);
    expect(msgs.length).toBeGreaterThan(1);
    for (const m of msgs) {
      expect(m.length).toBeLessThanOrEqual(4096);
      expect(m[23] & 0x10).toBe(0x10); // MP_REACH_NLRI with Extended Length...
      expect(m[24]).toBe(AttributeType.MP_REACH_NLRI); // ...is the first attribute
    }
    const decoded = decodeAll(msgs, AS4);
    expect(decoded.flatMap((d) => d.attributes.mpReach?.nlri ?? [])).toStrictEqual(nlri);
    for (const d of decoded) {
      expect(d.nlri).toStrictEqual([]);
      expect(d.attributes.nextHop).toBeUndefined();
      expect(d.attributes.mpReach?.nextHops).toStrictEqual(['2001:db8::1', 'fe80::1']);
      expect(d.attributes.communities).toStrictEqual(ATTRS.communities);
    }
    // Packed tight: adding one more 7-byte NLRI to the first message would pass 4096.
    expect((msgs[0] as Buffer).length + 7).toBeGreaterThan(4096);
  });

  test('IPv4 with an IPv6 next hop: MP_REACH_NLRI AFI 1 (RFC 8950)', () => {
    const [m] = encodeAnnouncements('ipv4-unicast', ATTRS, [v4(1)], AS4, '2001:db8::1');
    const d = decodeMessage(m as Buffer, AS4) as UpdateMessage;
    expect(d.nlri).toStrictEqual([]);
    expect(d.attributes.mpReach).toStrictEqual({ afi: 1, safi: 1, nextHops: ['2001:db8::1'], nlri: [v4(1)] });
  });

  test('Extended Message packs up to 65535 bytes', () => {
    const nlri = Array.from({ length: 20000 }, (_, i) => ({ prefix: `10.${i >> 8 & 0xff}.${i & 0xff}.${(i >> 16) * 4}/30` }));
    const o = opts(true, [], true);
    const msgs = encodeAnnouncements('ipv4-unicast', ATTRS, nlri, o, '192.0.2.1');
    expect(msgs.length).toBe(2);
    expect(msgs[0]?.length).toBeLessThanOrEqual(65535);
    expect(msgs[0]!.length).toBeGreaterThan(65535 - 5);
    expect(decodeAll(msgs, o).flatMap((d) => d.nlri)).toStrictEqual(nlri);
    for (const m of msgs) expect(frameByteByByte(m, 65535)).toHaveLength(1);
  });

  test('ADD-PATH path identifiers are written when negotiated, and 0 when missing', () => {
    const o = opts(true, ['ipv4-unicast']);
    const [m] = encodeAnnouncements('ipv4-unicast', ATTRS, [{ prefix: '10.0.0.0/8', pathId: 9 }, { prefix: '11.0.0.0/8' }], o, '192.0.2.1');
    expect((decodeMessage(m as Buffer, o) as UpdateMessage).nlri).toStrictEqual([
      { prefix: '10.0.0.0/8', pathId: 9 },
      { prefix: '11.0.0.0/8', pathId: 0 },
    ]);
    // and dropped when not negotiated
    const [plain] = encodeAnnouncements('ipv4-unicast', ATTRS, [{ prefix: '10.0.0.0/8', pathId: 9 }], AS4, '192.0.2.1');
    expect((decodeMessage(plain as Buffer, AS4) as UpdateMessage).nlri).toStrictEqual([{ prefix: '10.0.0.0/8' }]);
  });

  test('host bits are cleared on encode', () => {
    const [m] = encodeAnnouncements('ipv4-unicast', ATTRS, [{ prefix: '10.1.2.3/8' }], AS4, '192.0.2.1');
    expect((m as Buffer).subarray(-2).toString('hex')).toBe('080a');
  });

  test('nothing to announce is no message', () => {
    expect(encodeAnnouncements('ipv6-unicast', ATTRS, [], AS4, '2001:db8::1')).toStrictEqual([]);
  });

  test.each<[string, () => unknown, RegExp]>([
    ['mpReach in attributes', () => encodeAnnouncements('ipv6-unicast', { mpReach: { afi: 2, safi: 1, nextHops: [], nlri: [] } }, [v6(1)], AS4, '2001:db8::1'), /must not contain/],
    ['no next hop', () => encodeAnnouncements('ipv4-unicast', ATTRS, [v4(1)], AS4), /no next hop/],
    ['an IPv4 next hop for IPv6', () => encodeAnnouncements('ipv6-unicast', ATTRS, [v6(1)], AS4, '192.0.2.1'), /not a valid ipv6-unicast next hop/],
    ['a second next hop that is not link-local', () => encodeAnnouncements('ipv6-unicast', ATTRS, [v6(1)], AS4, ['2001:db8::1', '2001:db8::2']), /link-local/],
    ['a bad prefix', () => encodeAnnouncements('ipv4-unicast', ATTRS, [{ prefix: '10.0.0.0/33' }], AS4, '192.0.2.1'), /not an ipv4-unicast prefix/],
    ['an IPv6 prefix as IPv4', () => encodeAnnouncements('ipv4-unicast', ATTRS, [v6(1)], AS4, '192.0.2.1'), /not an ipv4-unicast prefix/],
    ['attributes too big for one NLRI', () => encodeAnnouncements('ipv4-unicast', { ...ATTRS, communities: new Array<number>(1100).fill(1) }, [v4(1)], AS4, '192.0.2.1'), /no room/],
  ])('refuses %s with BGP_ENCODE_ERROR', (_name, fn, re) => {
    expectEncodeError(fn, re);
  });
});

describe('encodeWithdrawals', () => {
  test.each<[Family, (n: number) => Nlri]>([
    ['ipv4-unicast', v4],
    ['ipv6-unicast', v6],
  ])('%s: packs, and decodes back', (family, make) => {
    const nlri = Array.from({ length: 2500 }, (_, i) => make(i));
    const msgs = encodeWithdrawals(family, nlri, AS4);
    expect(msgs.length).toBeGreaterThan(1);
    const decoded = decodeAll(msgs, AS4);
    const back = decoded.flatMap((d) => (family === 'ipv4-unicast' ? d.withdrawn : d.attributes.mpUnreach?.withdrawn ?? []));
    expect(back).toStrictEqual(nlri);
    for (const m of msgs) expect(m.length).toBeLessThanOrEqual(4096);
  });

  test('IPv6 withdrawals are MP_UNREACH_NLRI only', () => {
    const [m] = encodeWithdrawals('ipv6-unicast', [v6(1)], AS4);
    expect((m as Buffer).toString('hex')).toBe(hex('ffffffffffffffffffffffffffffffff 0024 02', '0000 000d', '800f0a 000201 30 20010db80002').toString('hex'));
  });

  test('nothing to withdraw is no message', () => {
    expect(encodeWithdrawals('ipv4-unicast', [], AS4)).toStrictEqual([]);
  });
});

describe('encodeMessage limits (RFC 4271 §4.1, RFC 8654 §4)', () => {
  const big: UpdateMessage = {
    type: 2,
    withdrawn: [],
    attributes: { origin: Origin.IGP, asPath: [], nextHop: '192.0.2.1' },
    nlri: Array.from({ length: 1100 }, (_, i) => v4(i)),
  };

  test('an UPDATE over 4096 bytes is refused without Extended Message, accepted with it', () => {
    expectEncodeError(() => encodeMessage(big, AS4), /exceeds the maximum of 4096/);
    expect(encodeMessage(big, opts(true, [], true)).length).toBe(19 + 4 + 14 + 4400);
  });

  test('an OPEN over 4096 bytes is refused even with Extended Message', () => {
    const capabilities = Array.from({ length: 20 }, (_, i) => ({ code: 'unknown' as const, typeCode: 100 + i, value: Buffer.alloc(250) }));
    const open = { type: 1 as const, version: 4, myAs: 65001, holdTime: 90, bgpId: '192.0.2.1', capabilities };
    expectEncodeError(() => encodeMessage(open, opts(true, [], true)), /exceeds the maximum of 4096/);
  });

  test.each<[string, BgpMessage]>([
    ['a MED over 32 bits', { ...big, nlri: [], attributes: { med: 2 ** 32 } }],
    ['a negative LOCAL_PREF', { ...big, nlri: [], attributes: { localPref: -1 } }],
    ['an ORIGIN of 3', { ...big, nlri: [], attributes: { origin: 3 as Origin } }],
    ['an IPv6 NEXT_HOP attribute', { ...big, nlri: [], attributes: { nextHop: '2001:db8::1' } }],
    ['an extended community of 7 bytes', { ...big, nlri: [], attributes: { extendedCommunities: [Buffer.alloc(7)] } }],
    ['an empty AS_PATH segment', { ...big, nlri: [], attributes: { asPath: [{ type: 'sequence', asns: [] }] } }],
    ['an AS_SET of 256 ASNs', { ...big, nlri: [], attributes: { asPath: [{ type: 'set', asns: new Array<number>(256).fill(1) }] } }],
    ['a modelled attribute passed as unknown', { ...big, nlri: [], attributes: { unknown: [{ flags: 0x40, typeCode: 1, value: Buffer.from([0]) }] } }],
    ['an unknown attribute twice', { ...big, nlri: [], attributes: { unknown: [{ flags: 0xc0, typeCode: 99, value: Buffer.alloc(0) }, { flags: 0xc0, typeCode: 99, value: Buffer.alloc(0) }] } }],
    ['MP_REACH_NLRI for a family we do not route', { ...big, nlri: [], attributes: { mpReach: { afi: 1, safi: 128, nextHops: ['192.0.2.1'], nlri: [] } } }],
    ['a BGP identifier that is not IPv4', { type: 1, version: 4, myAs: 1, holdTime: 90, bgpId: '::1', capabilities: [] }],
    ['a 4-octet My AS', { type: 1, version: 4, myAs: 70000, holdTime: 90, bgpId: '10.0.0.1', capabilities: [] }],
    ['a restart time of 4096', { type: 1, version: 4, myAs: 1, holdTime: 90, bgpId: '10.0.0.1', capabilities: [{ code: 64, restarting: false, notification: false, restartTime: 4096, families: [] }] }],
    ['a capability value over 255 bytes', { type: 1, version: 4, myAs: 1, holdTime: 90, bgpId: '10.0.0.1', capabilities: [{ code: 'unknown', typeCode: 99, value: Buffer.alloc(256) }] }],
    ['a NOTIFICATION code of 256', { type: 3, code: 256, subcode: 0, data: Buffer.alloc(0) }],
    ['a ROUTE-REFRESH AFI of 65536', { type: 5, afi: 65536, safi: 1, subtype: 0 }],
  ])('refuses %s with BGP_ENCODE_ERROR', (_name, msg) => {
    expectEncodeError(() => encodeMessage(msg, AS4), /./);
  });
});

describe('families', () => {
  test('familyOf and afiSafiOf are inverse on the routed families', () => {
    expect(familyOf(1, 1)).toBe('ipv4-unicast');
    expect(familyOf(2, 1)).toBe('ipv6-unicast');
    expect(familyOf(1, 2)).toBeUndefined();
    expect(familyOf(25, 70)).toBeUndefined();
    for (const f of ['ipv4-unicast', 'ipv6-unicast'] as const) {
      const { afi, safi } = afiSafiOf(f);
      expect(familyOf(afi, safi)).toBe(f);
    }
  });
});
