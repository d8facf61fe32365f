/**
 * fast-check arbitraries for valid messages, shared by the property tests and
 * the fuzz harness. "Valid" means: what the encoder accepts and the decoder
 * returns unchanged, so encode -> decode is the identity on them.
 */
import fc from 'fast-check';
import { formatIpv6, formatPrefix, maskHostBits } from '../../../src/bgp/wire/address';
import {
  AddPathMode,
  AttributeType,
  CapabilityCode,
  MessageType,
  type AsPathSegment,
  type BgpMessage,
  type Capability,
  type CodecOptions,
  type Family,
  type Nlri,
  type OpenMessage,
  type PathAttributes,
  type RawAttribute,
  type UpdateMessage,
} from '../../../src/bgp/wire';

/** fc.record builds null-prototype objects; the decoder builds plain ones. Rebuild as plain for toStrictEqual. */
function plain<T>(value: T): T {
  if (Buffer.isBuffer(value) || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(plain) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = plain(v);
  return out as T;
}

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const bytes = (min: number, max: number): fc.Arbitrary<Buffer> => fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a));

export const ipv4 = fc.tuple(u8, u8, u8, u8).map((t) => t.join('.'));
export const ipv6 = bytes(16, 16).map((b) => formatIpv6(b));
export const linkLocal = bytes(16, 16).map((b) => {
  b[0] = 0xfe;
  b[1] = 0x80 | ((b[1] as number) & 0x3f);
  return formatIpv6(b);
});

export function prefix(family: Family): fc.Arbitrary<string> {
  const width = family === 'ipv4-unicast' ? 4 : 16;
  return fc.tuple(bytes(width, width), fc.integer({ min: 0, max: width * 8 })).map(([b, len]) => {
    maskHostBits(b, len);
    return formatPrefix(b, len);
  });
}

export function nlriList(family: Family, addPath: boolean, max = 6): fc.Arbitrary<Nlri[]> {
  const entry = addPath
    ? fc.record({ prefix: prefix(family), pathId: u32 })
    : prefix(family).map((p) => ({ prefix: p }));
  return fc.array(entry, { maxLength: max });
}

export const codecOptions: fc.Arbitrary<CodecOptions> = fc
  .record({
    fourOctetAs: fc.boolean(),
    v4: fc.boolean(),
    v6: fc.boolean(),
  })
  .map(({ fourOctetAs, v4, v6 }) => ({
    fourOctetAs,
    extendedMessage: false,
    addPath: new Set<Family>([...(v4 ? ['ipv4-unicast' as const] : []), ...(v6 ? ['ipv6-unicast' as const] : [])]),
  }));

/** AS_PATH: optional leading confederation segments (2-octet ASNs, which survive a 2-octet session), then sets and sequences. */
const asPath: fc.Arbitrary<AsPathSegment[]> = fc
  .tuple(
    fc.array(
      fc.record({ type: fc.constantFrom('confed-sequence' as const, 'confed-set' as const), asns: fc.array(u16, { minLength: 1, maxLength: 4 }) }),
      { maxLength: 2 },
    ),
    fc.array(
      fc.record({
        type: fc.constantFrom('sequence' as const, 'set' as const),
        asns: fc.array(fc.oneof(u16, u32, fc.constant(23456)), { minLength: 1, maxLength: 8 }),
      }),
      { maxLength: 4 },
    ),
  )
  .map(([confed, plain]) => [...confed, ...plain]);

const MODELLED = new Set<number>(Object.values(AttributeType).filter((v): v is number => typeof v === 'number'));

const unknownAttributes: fc.Arbitrary<RawAttribute[]> = fc
  .uniqueArray(
    u8.filter((t) => !MODELLED.has(t)),
    { maxLength: 3 },
  )
  .chain((types) =>
    fc.tuple(...types.sort((a, b) => a - b).map((typeCode) => bytes(0, 20).map((value) => ({ flags: 0xe0, typeCode, value })))),
  );

function mpNextHops(family: Family): fc.Arbitrary<string[]> {
  const v6 = fc.oneof(ipv6.map((g) => [g]), fc.tuple(ipv6, linkLocal).map(([g, l]) => [g, l]));
  return family === 'ipv4-unicast' ? fc.oneof(ipv4.map((a) => [a]), v6) : v6;
}

function pathAttributes(o: CodecOptions): fc.Arbitrary<PathAttributes> {
  const family = fc.constantFrom<Family>('ipv4-unicast', 'ipv6-unicast');
  return fc.record(
    {
      origin: fc.constantFrom(0, 1, 2),
      asPath,
      nextHop: ipv4,
      med: u32,
      localPref: u32,
      atomicAggregate: fc.constant(true),
      aggregator: fc.record({ asn: fc.oneof(u16, u32), address: ipv4 }),
      communities: fc.array(u32, { minLength: 1, maxLength: 5 }),
      originatorId: ipv4,
      clusterList: fc.array(ipv4, { minLength: 1, maxLength: 4 }),
      extendedCommunities: fc.array(bytes(8, 8), { minLength: 1, maxLength: 3 }),
      largeCommunities: fc.array(fc.tuple(u32, u32, u32), { minLength: 1, maxLength: 3 }),
      mpReach: family.chain((f) =>
        fc.record({
          afi: fc.constant(f === 'ipv4-unicast' ? 1 : 2),
          safi: fc.constant(1),
          nextHops: mpNextHops(f),
          nlri: nlriList(f, o.addPath.has(f)),
        }),
      ),
      mpUnreach: family.chain((f) =>
        fc.record({ afi: fc.constant(f === 'ipv4-unicast' ? 1 : 2), safi: fc.constant(1), withdrawn: nlriList(f, o.addPath.has(f)) }),
      ),
      unknown: unknownAttributes.filter((u) => u.length > 0),
    },
    // ORIGIN, AS_PATH and NEXT_HOP always: without them an UPDATE with NLRI decodes with RFC 7606 errors.
    { requiredKeys: ['origin', 'asPath', 'nextHop'] },
  );
}

export function updateMessage(o: CodecOptions): fc.Arbitrary<UpdateMessage> {
  const v4 = o.addPath.has('ipv4-unicast');
  return fc.record({
    type: fc.constant(MessageType.UPDATE as const),
    withdrawn: nlriList('ipv4-unicast', v4),
    attributes: pathAttributes(o),
    nlri: nlriList('ipv4-unicast', v4),
  }).map(plain);
}

const CAPABILITY_CODES = new Set<number>(Object.values(CapabilityCode).filter((v): v is number => typeof v === 'number'));
const afiSafi = { afi: u16, safi: u8 };

export const capability: fc.Arbitrary<Capability> = fc.oneof(
  fc.record({ code: fc.constant(CapabilityCode.MULTIPROTOCOL as const), ...afiSafi }),
  fc.constant({ code: CapabilityCode.ROUTE_REFRESH as const }),
  fc.constant({ code: CapabilityCode.ENHANCED_ROUTE_REFRESH as const }),
  fc.constant({ code: CapabilityCode.EXTENDED_MESSAGE as const }),
  fc.record({ code: fc.constant(CapabilityCode.FOUR_OCTET_AS as const), asn: u32 }),
  fc.record({
    code: fc.constant(CapabilityCode.EXTENDED_NEXT_HOP as const),
    entries: fc.array(fc.record({ afi: u16, safi: u16, nextHopAfi: u16 }), { maxLength: 4 }),
  }),
  fc.record({
    code: fc.constant(CapabilityCode.GRACEFUL_RESTART as const),
    restarting: fc.boolean(),
    notification: fc.boolean(),
    restartTime: fc.integer({ min: 0, max: 4095 }),
    families: fc.array(fc.record({ ...afiSafi, forwarding: fc.boolean() }), { maxLength: 4 }),
  }),
  fc.record({
    code: fc.constant(CapabilityCode.ADD_PATH as const),
    families: fc.array(fc.record({ ...afiSafi, mode: fc.constantFrom(AddPathMode.RECEIVE, AddPathMode.SEND, AddPathMode.BOTH) }), { maxLength: 4 }),
  }),
  fc.record({ code: fc.constant('unknown' as const), typeCode: u8.filter((c) => !CAPABILITY_CODES.has(c)), value: bytes(0, 30) }),
);

export const openMessage: fc.Arbitrary<OpenMessage> = fc.record({
  type: fc.constant(MessageType.OPEN as const),
  version: u8,
  myAs: u16,
  holdTime: u16,
  bgpId: ipv4,
  capabilities: fc.array(capability, { maxLength: 40 }),
}).map(plain);

export function anyMessage(o: CodecOptions): fc.Arbitrary<BgpMessage> {
  return fc.oneof(
    openMessage,
    updateMessage(o),
    fc.record({ type: fc.constant(MessageType.NOTIFICATION as const), code: u8, subcode: u8, data: bytes(0, 60) }),
    fc.constant({ type: MessageType.KEEPALIVE as const }),
    fc.record({ type: fc.constant(MessageType.ROUTE_REFRESH as const), afi: u16, safi: u8, subtype: u8 }),
  ).map(plain);
}
