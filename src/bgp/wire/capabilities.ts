/**
 * Capabilities Optional Parameter contents, RFC 5492 §4: a table with one row
 * per capability code (decode, encode, describe), like the attribute table.
 *
 * A capability whose value does not have its code's format (wrong length,
 * bad ADD-PATH mode) makes the OPEN malformed: RFC 4271 §6.2 says a
 * recognised but malformed optional parameter gets subcode 0 (Unspecific),
 * which is also what BIRD sends. Semantic checks (is the family one we
 * route, do the ASNs agree) are the session's. Unknown codes are kept raw.
 */
import { encodeError, BgpWireError, ErrorCode } from './errors';
import { familyName } from './family';
import { WireReader } from './reader';
import { AddPathMode, CapabilityCode, type Capability } from './types';

type CapabilityOf<K extends CapabilityCode> = Extract<Capability, { code: K }>;

interface CapabilityCodec<C extends Capability> {
  name: string;
  /** Reads the whole value through `r`, which throws the malformed-capability error on overrun. */
  decode(r: WireReader): C;
  encode(cap: C): Buffer;
  describe(cap: C): string;
}

/** 2/0: a recognised capability whose value does not match its format. */
export function malformedCapability(code: number, reason: string): BgpWireError {
  return new BgpWireError(`malformed capability ${code}: ${reason}`, { code: ErrorCode.OPEN_MESSAGE, subcode: 0 });
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function checkRange(value: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) throw encodeError(`${what} out of range: ${value}`);
  return value;
}

function fixedEmpty<K extends CapabilityCode>(code: K, name: string): CapabilityCodec<CapabilityOf<K>> {
  return {
    name,
    decode: (r) => {
      if (r.remaining !== 0) throw malformedCapability(code, `${name} takes no value, got ${r.remaining} bytes`);
      return { code } as CapabilityOf<K>;
    },
    encode: () => Buffer.alloc(0),
    describe: () => name,
  };
}

/** Reads fixed-size entries, rejecting a length that is not a multiple of their size. */
function entries<T>(r: WireReader, code: number, size: number, read: () => T): T[] {
  if (r.remaining % size !== 0) throw malformedCapability(code, `length ${r.remaining} is not a multiple of ${size}`);
  const out: T[] = [];
  while (r.remaining > 0) out.push(read());
  return out;
}

const multiprotocol: CapabilityCodec<CapabilityOf<CapabilityCode.MULTIPROTOCOL>> = {
  name: 'multiprotocol',
  // RFC 4760 §8: AFI (2), Reserved (1), SAFI (1).
  decode: (r) => {
    if (r.remaining !== 4) throw malformedCapability(CapabilityCode.MULTIPROTOCOL, `length ${r.remaining}, expected 4`);
    const afi = r.u16('AFI');
    r.u8('reserved');
    return { code: CapabilityCode.MULTIPROTOCOL, afi, safi: r.u8('SAFI') };
  },
  encode: (c) => Buffer.concat([u16(checkRange(c.afi, 0xffff, 'AFI')), Buffer.from([0, checkRange(c.safi, 0xff, 'SAFI')])]),
  describe: (c) => `multiprotocol ${familyName(c.afi, c.safi)}`,
};

const extendedNextHop: CapabilityCodec<CapabilityOf<CapabilityCode.EXTENDED_NEXT_HOP>> = {
  name: 'extended-next-hop',
  // RFC 8950 §3: (NLRI AFI (2), NLRI SAFI (2), Nexthop AFI (2)) repeated.
  decode: (r) => ({
    code: CapabilityCode.EXTENDED_NEXT_HOP,
    entries: entries(r, CapabilityCode.EXTENDED_NEXT_HOP, 6, () => ({
      afi: r.u16('AFI'),
      safi: r.u16('SAFI'),
      nextHopAfi: r.u16('next hop AFI'),
    })),
  }),
  encode: (c) =>
    Buffer.concat(
      c.entries.flatMap((e) => [
        u16(checkRange(e.afi, 0xffff, 'AFI')),
        u16(checkRange(e.safi, 0xffff, 'SAFI')),
        u16(checkRange(e.nextHopAfi, 0xffff, 'next hop AFI')),
      ]),
    ),
  describe: (c) =>
    `extended-next-hop ${c.entries.map((e) => `${familyName(e.afi, e.safi)} via ${e.nextHopAfi === 2 ? 'ipv6' : `afi ${e.nextHopAfi}`}`).join(', ')}`,
};

/** RFC 4724 §3: Restart Flags are the top 4 bits of the first 16; R is the highest, RFC 8538 §2 N the next. */
const GR_RESTARTING = 0x8000;
const GR_NOTIFICATION = 0x4000;
const GR_TIME_MASK = 0x0fff;
/** RFC 4724 §3: Forwarding State bit of the per-family flags. */
const GR_FORWARDING = 0x80;

const gracefulRestart: CapabilityCodec<CapabilityOf<CapabilityCode.GRACEFUL_RESTART>> = {
  name: 'graceful-restart',
  decode: (r) => {
    if (r.remaining < 2 || (r.remaining - 2) % 4 !== 0) {
      throw malformedCapability(CapabilityCode.GRACEFUL_RESTART, `length ${r.remaining} is not 2 + 4n`);
    }
    const word = r.u16('restart flags and time');
    const families = entries(r, CapabilityCode.GRACEFUL_RESTART, 4, () => {
      const afi = r.u16('AFI');
      const safi = r.u8('SAFI');
      return { afi, safi, forwarding: (r.u8('flags') & GR_FORWARDING) !== 0 };
    });
    return {
      code: CapabilityCode.GRACEFUL_RESTART,
      restarting: (word & GR_RESTARTING) !== 0,
      notification: (word & GR_NOTIFICATION) !== 0,
      restartTime: word & GR_TIME_MASK,
      families,
    };
  },
  encode: (c) => {
    const word =
      (c.restarting ? GR_RESTARTING : 0) | (c.notification ? GR_NOTIFICATION : 0) | checkRange(c.restartTime, GR_TIME_MASK, 'restart time');
    return Buffer.concat([
      u16(word),
      ...c.families.flatMap((f) => [
        u16(checkRange(f.afi, 0xffff, 'AFI')),
        Buffer.from([checkRange(f.safi, 0xff, 'SAFI'), f.forwarding ? GR_FORWARDING : 0]),
      ]),
    ]);
  },
  describe: (c) =>
    [
      'graceful-restart',
      ...(c.restarting ? ['R'] : []),
      ...(c.notification ? ['N'] : []),
      `time ${c.restartTime}`,
      ...c.families.map((f) => `${familyName(f.afi, f.safi)}${f.forwarding ? '(F)' : ''}`),
    ].join(' '),
};

const fourOctetAs: CapabilityCodec<CapabilityOf<CapabilityCode.FOUR_OCTET_AS>> = {
  name: '4-octet AS',
  // RFC 6793 §3: the value is the speaker's 4-octet AS number.
  decode: (r) => {
    if (r.remaining !== 4) throw malformedCapability(CapabilityCode.FOUR_OCTET_AS, `length ${r.remaining}, expected 4`);
    return { code: CapabilityCode.FOUR_OCTET_AS, asn: r.u32('AS number') };
  },
  encode: (c) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(checkRange(c.asn, 0xffffffff, 'AS number'));
    return b;
  },
  describe: (c) => `4-octet AS ${c.asn}`,
};

const ADD_PATH_MODE_NAMES: Record<number, string> = {
  [AddPathMode.RECEIVE]: 'receive',
  [AddPathMode.SEND]: 'send',
  [AddPathMode.BOTH]: 'send/receive',
};

const addPath: CapabilityCodec<CapabilityOf<CapabilityCode.ADD_PATH>> = {
  name: 'add-path',
  // RFC 7911 §4: (AFI (2), SAFI (1), Send/Receive (1)) repeated; Send/Receive is 1, 2 or 3.
  decode: (r) => ({
    code: CapabilityCode.ADD_PATH,
    families: entries(r, CapabilityCode.ADD_PATH, 4, () => {
      const afi = r.u16('AFI');
      const safi = r.u8('SAFI');
      const mode = r.u8('send/receive');
      if (ADD_PATH_MODE_NAMES[mode] === undefined) {
        throw malformedCapability(CapabilityCode.ADD_PATH, `send/receive value ${mode} for ${familyName(afi, safi)}`);
      }
      return { afi, safi, mode: mode as AddPathMode };
    }),
  }),
  encode: (c) =>
    Buffer.concat(
      c.families.flatMap((f) => {
        if (ADD_PATH_MODE_NAMES[f.mode] === undefined) throw encodeError(`bad ADD-PATH send/receive value ${f.mode}`);
        return [u16(checkRange(f.afi, 0xffff, 'AFI')), Buffer.from([checkRange(f.safi, 0xff, 'SAFI'), f.mode])];
      }),
    ),
  describe: (c) => `add-path ${c.families.map((f) => `${familyName(f.afi, f.safi)}(${ADD_PATH_MODE_NAMES[f.mode]})`).join(' ')}`,
};

/** The table. Adding a capability = adding a row. */
const CAPABILITY_TABLE = new Map<number, CapabilityCodec<Capability>>([
  [CapabilityCode.MULTIPROTOCOL, multiprotocol as CapabilityCodec<Capability>],
  [CapabilityCode.ROUTE_REFRESH, fixedEmpty(CapabilityCode.ROUTE_REFRESH, 'route-refresh') as CapabilityCodec<Capability>],
  [CapabilityCode.EXTENDED_NEXT_HOP, extendedNextHop as CapabilityCodec<Capability>],
  [CapabilityCode.EXTENDED_MESSAGE, fixedEmpty(CapabilityCode.EXTENDED_MESSAGE, 'extended-message') as CapabilityCodec<Capability>],
  [CapabilityCode.GRACEFUL_RESTART, gracefulRestart as CapabilityCodec<Capability>],
  [CapabilityCode.FOUR_OCTET_AS, fourOctetAs as CapabilityCodec<Capability>],
  [CapabilityCode.ADD_PATH, addPath as CapabilityCodec<Capability>],
  [
    CapabilityCode.ENHANCED_ROUTE_REFRESH,
    fixedEmpty(CapabilityCode.ENHANCED_ROUTE_REFRESH, 'enhanced-route-refresh') as CapabilityCodec<Capability>,
  ],
]);

/**
 * Decodes the value of a Capabilities optional parameter: a list of
 * (code (1), length (1), value) triples, RFC 5492 §4.
 */
export function decodeCapabilities(param: Buffer): Capability[] {
  const r = new WireReader(
    param,
    (what) => new BgpWireError(`malformed capabilities: truncated ${what}`, { code: ErrorCode.OPEN_MESSAGE, subcode: 0 }),
  );
  const out: Capability[] = [];
  while (r.remaining > 0) {
    const code = r.u8('capability code');
    const length = r.u8('capability length');
    if (r.remaining < length) throw malformedCapability(code, `length ${length} overruns the parameter (${r.remaining} left)`);
    const value = r.bytes(length, 'capability value');
    const codec = CAPABILITY_TABLE.get(code);
    if (codec === undefined) {
      out.push({ code: 'unknown', typeCode: code, value: Buffer.from(value) });
      continue;
    }
    out.push(codec.decode(new WireReader(value, (what) => malformedCapability(code, `truncated ${what}`))));
  }
  return out;
}

/** One capability as its (code, length, value) triple. */
export function encodeCapability(cap: Capability): Buffer {
  let code: number;
  let value: Buffer;
  if (cap.code === 'unknown') {
    code = checkRange(cap.typeCode, 0xff, 'capability code');
    value = cap.value;
  } else {
    const codec = CAPABILITY_TABLE.get(cap.code);
    if (codec === undefined) throw encodeError(`unknown capability code ${String(cap.code)}`);
    code = cap.code;
    value = codec.encode(cap);
  }
  if (value.length > 255) throw encodeError(`capability ${code} value is ${value.length} bytes, more than 255`);
  return Buffer.concat([Buffer.from([code, value.length]), value]);
}

/** One line for logs: "multiprotocol ipv6-unicast", "4-octet AS 4200000001", "unknown capability 73 (len 5)". */
export function describeCapability(cap: Capability): string {
  if (cap.code === 'unknown') return `unknown capability ${cap.typeCode} (len ${cap.value.length})`;
  const codec = CAPABILITY_TABLE.get(cap.code);
  return codec === undefined ? `capability ${String(cap.code)}` : codec.describe(cap);
}

