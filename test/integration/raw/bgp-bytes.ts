/**
 * Hand-made BGP bytes for the raw peer: every field spelled out, so a test
 * can build a valid message and then break exactly one thing in it.
 * Layouts: RFC 4271 §4.1 (header), §4.3 (UPDATE, path attributes), RFC 4760
 * §3 (MP_REACH_NLRI), RFC 6793 (4-octet AS_PATH on a session that negotiated it).
 */
import { AS_TRANS, CapabilityCode, MessageType, type Capability, type Family, type OpenMessage } from '../../../src/bgp/wire';
import { parseIpv4, parseIpv6 } from '../../../src/bgp/wire/address';

export const MARKER = Buffer.alloc(16, 0xff);

/** Attribute Flags, RFC 4271 §4.3. */
export const OPTIONAL = 0x80;
export const TRANSITIVE = 0x40;
export const WELL_KNOWN = TRANSITIVE;

/** A 19-byte header with any length/type, then `body` (the length field is NOT derived from the body). */
export function header(length: number, type: number, body: Buffer = Buffer.alloc(0), marker: Buffer = MARKER): Buffer {
  const h = Buffer.alloc(19);
  marker.copy(h, 0, 0, 16);
  h.writeUInt16BE(length, 16);
  h[18] = type;
  return Buffer.concat([h, body]);
}

/** A well-formed message: header with the right length, then body. */
export function message(type: MessageType, body: Buffer): Buffer {
  return header(19 + body.length, type, body);
}

export function keepalive(): Buffer {
  return message(MessageType.KEEPALIVE, Buffer.alloc(0));
}

export function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

export function ipv4(s: string): Buffer {
  const b = parseIpv4(s);
  if (b === undefined) throw new Error(`not IPv4: ${s}`);
  return b;
}

export function ipv6(s: string): Buffer {
  const b = parseIpv6(s);
  if (b === undefined) throw new Error(`not IPv6: ${s}`);
  return b;
}

/** An OPEN as the codec models it; 4-octet AS capability on by default (My AS = AS_TRANS above 65535). */
export function openMessage(o: {
  asn: number;
  bgpId: string;
  holdTime?: number;
  version?: number;
  families?: Family[];
  fourOctetAs?: boolean;
  /** Override the 4-octet AS capability's value (default: asn). */
  capabilityAsn?: number;
  /** Override My Autonomous System (default: asn, or AS_TRANS when it does not fit). */
  myAs?: number;
}): OpenMessage {
  const caps: Capability[] = (o.families ?? ['ipv4-unicast']).map((f) =>
    f === 'ipv4-unicast' ? { code: CapabilityCode.MULTIPROTOCOL, afi: 1, safi: 1 } : { code: CapabilityCode.MULTIPROTOCOL, afi: 2, safi: 1 },
  );
  caps.push({ code: CapabilityCode.ROUTE_REFRESH });
  if (o.fourOctetAs !== false) caps.push({ code: CapabilityCode.FOUR_OCTET_AS, asn: o.capabilityAsn ?? o.asn });
  return {
    type: MessageType.OPEN,
    version: o.version ?? 4,
    myAs: o.myAs ?? (o.asn > 0xffff ? AS_TRANS : o.asn),
    holdTime: o.holdTime ?? 90,
    bgpId: o.bgpId,
    capabilities: caps,
  };
}

/** One path attribute: flags, type code, 1-byte length (or 2 with Extended Length), value. */
export function attr(flags: number, type: number, value: Buffer | number[]): Buffer {
  const v = Buffer.isBuffer(value) ? value : Buffer.from(value);
  if (flags & 0x10) return Buffer.concat([Buffer.from([flags, type]), u16(v.length), v]);
  if (v.length > 255) throw new Error('attribute value too long without Extended Length');
  return Buffer.concat([Buffer.from([flags, type, v.length]), v]);
}

export const ORIGIN_IGP = attr(WELL_KNOWN, 1, [0]);

/** AS_PATH with one AS_SEQUENCE of 4-octet ASNs. */
export function asPath(asns: number[]): Buffer {
  return attr(WELL_KNOWN, 2, Buffer.concat([Buffer.from([2, asns.length]), ...asns.map(u32)]));
}

export function nextHop(addr: string): Buffer {
  return attr(WELL_KNOWN, 3, ipv4(addr));
}

export function med(n: number): Buffer {
  return attr(OPTIONAL, 4, u32(n));
}

/** NLRI encoding, RFC 4271 §4.3: length in bits, then the significant octets. */
export function prefixBytes(prefix: string): Buffer {
  const [addr, lenStr] = prefix.split('/') as [string, string];
  const len = Number(lenStr);
  const full = addr.includes(':') ? ipv6(addr) : ipv4(addr);
  return Buffer.concat([Buffer.from([len]), full.subarray(0, Math.ceil(len / 8))]);
}

export function nlri(prefixes: string[]): Buffer {
  return Buffer.concat(prefixes.map(prefixBytes));
}

/** An UPDATE from parts: Withdrawn Routes, the attributes as given, NLRI. Lengths are computed unless overridden. */
export function update(p: { withdrawn?: string[]; attrs?: Buffer[]; nlri?: string[]; totalPathAttributeLength?: number }): Buffer {
  const w = nlri(p.withdrawn ?? []);
  const a = Buffer.concat(p.attrs ?? []);
  const n = nlri(p.nlri ?? []);
  return message(MessageType.UPDATE, Buffer.concat([u16(w.length), w, u16(p.totalPathAttributeLength ?? a.length), a, n]));
}

/** MP_REACH_NLRI value for IPv6 unicast with an arbitrary next-hop field (RFC 4760 §3). */
export function mpReachIpv6(nextHopField: Buffer, prefixes: string[], nextHopLength = nextHopField.length): Buffer {
  return attr(OPTIONAL, 14, Buffer.concat([u16(2), Buffer.from([1, nextHopLength]), nextHopField, Buffer.from([0]), nlri(prefixes)]));
}
