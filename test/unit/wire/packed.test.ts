/**
 * The bulk path: packed-NLRI decoding must accept and reject exactly what the
 * object decoding does, and packed encoding must produce UPDATEs that decode
 * to the same routes as encodeAnnouncements/encodeWithdrawals.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeMessage,
  encodeAnnouncements,
  encodeWithdrawals,
  encodePackedAnnouncements,
  encodePackedWithdrawals,
  MessageType,
  type CodecOptions,
  type Family,
  type Nlri,
  type UpdateMessage,
} from '../../../src/bgp/wire';
import { keyFromCidr, cidrFromKey, readNlri, nlriSize } from '../../../src/bgp/rib/prefix-key';
import { NlriWriter } from '../../../src/bgp/rib/nlri-writer';

interface Capture {
  daemon: string;
  description: string;
  fourOctetAs: boolean;
  addPath: string[];
  hex: string;
}
const captures = JSON.parse(readFileSync(join(__dirname, '../../fixtures/wire/captures.json'), 'utf8')) as Capture[];

function expand(buf: Buffer | undefined, family: Family, addPath: boolean): Nlri[] {
  if (!buf) return [];
  const words = family === 'ipv4-unicast' ? 1 : 4;
  const key = new Uint32Array(words + 1);
  const out: Nlri[] = [];
  let off = 0;
  while (off < buf.length) {
    const len = readNlri(buf, off, words, addPath, key);
    off += nlriSize(len, addPath);
    out.push(addPath ? { prefix: cidrFromKey(key, len, words), pathId: key[words]! } : { prefix: cidrFromKey(key, len, words) });
  }
  return out;
}

function opts(c: Capture, packed: boolean): CodecOptions {
  return { fourOctetAs: c.fourOctetAs, extendedMessage: false, addPath: new Set(c.addPath as Family[]), packedNlri: packed };
}

describe('packed NLRI', () => {
  const updates = captures.filter((c) => Buffer.from(c.hex, 'hex')[18] === MessageType.UPDATE);

  it.each(updates.map((c, i) => [`${i} ${c.daemon} ${c.description}`, c] as const))('decodes %s to the same routes both ways', (_n, c) => {
    const raw = Buffer.from(c.hex, 'hex');
    const full = decodeMessage(raw, opts(c, false)) as UpdateMessage;
    const packed = decodeMessage(raw, opts(c, true)) as UpdateMessage;
    expect(packed.nlri).toEqual([]);
    expect(packed.withdrawn).toEqual([]);
    const v4ap = c.addPath.includes('ipv4-unicast');
    expect(expand(packed.packed?.nlri, 'ipv4-unicast', v4ap)).toEqual(full.nlri);
    expect(expand(packed.packed?.withdrawn, 'ipv4-unicast', v4ap)).toEqual(full.withdrawn);
    const mpFam = (afi: number): Family => (afi === 1 ? 'ipv4-unicast' : 'ipv6-unicast');
    if (full.attributes.mpReach) {
      const f = mpFam(full.attributes.mpReach.afi);
      expect(expand(packed.attributes.mpReach!.packed, f, c.addPath.includes(f))).toEqual(full.attributes.mpReach.nlri);
      expect(packed.attributes.mpReach!.nextHops).toEqual(full.attributes.mpReach.nextHops);
    }
    if (full.attributes.mpUnreach) {
      const f = mpFam(full.attributes.mpUnreach.afi);
      expect(expand(packed.attributes.mpUnreach!.packed, f, c.addPath.includes(f))).toEqual(full.attributes.mpUnreach.withdrawn);
    }
    expect(packed.errors).toEqual(full.errors);
  });

  it('rejects a bad prefix length with the same NOTIFICATION as the object path', () => {
    // UPDATE: no withdrawn, 0 attrs... with NLRI /33.
    const body = Buffer.from([0, 0, 0, 0, 33, 10, 0, 0, 0, 1]);
    const head = Buffer.alloc(19, 0xff);
    head.writeUInt16BE(19 + body.length, 16);
    head[18] = 2;
    const raw = Buffer.concat([head, body]);
    const base = { fourOctetAs: true, extendedMessage: false, addPath: new Set<Family>() };
    const err = (o: CodecOptions): unknown => {
      try {
        decodeMessage(raw, o);
      } catch (e) {
        return e;
      }
      return undefined;
    };
    const a = err(base) as { notification: unknown };
    const b = err({ ...base, packedNlri: true }) as { notification: unknown };
    expect(a.notification).toEqual({ code: 3, subcode: 10, data: Buffer.alloc(0) });
    expect(b.notification).toEqual(a.notification);
  });

  it.each<[Family, boolean]>([
    ['ipv4-unicast', false],
    ['ipv4-unicast', true],
    ['ipv6-unicast', false],
    ['ipv6-unicast', true],
  ])('encodes %s (add-path %s) like the object encoder', (family, addPath) => {
    const o: CodecOptions = { fourOctetAs: true, extendedMessage: false, addPath: new Set(addPath ? [family] : []) };
    const nlri: Nlri[] = [];
    for (let i = 0; i < 3000; i++) {
      const prefix = family === 'ipv4-unicast' ? `10.${(i >> 8) & 255}.${i & 255}.0/${20 + (i % 13)}` : `2001:db8:${i.toString(16)}::/${40 + (i % 25)}`;
      nlri.push(addPath ? { prefix: prefix.replace(/\/\d+$/, (m) => m), pathId: i } : { prefix });
    }
    // Canonicalise (host bits) through the object decoder's view.
    const writer = new NlriWriter();
    const words = family === 'ipv4-unicast' ? 1 : 4;
    const key = new Uint32Array(words + 1);
    for (const n of nlri) {
      const len = keyFromCidr(n.prefix, key);
      writer.append(key, len, n.pathId);
    }
    const attrs = { origin: 0, asPath: [{ type: 'sequence' as const, asns: [65001] }] };
    const hop = family === 'ipv4-unicast' ? '192.0.2.1' : '2001:db8::1';
    const packedMsgs = encodePackedAnnouncements(family, attrs, hop, writer.bytes(), o);
    const objectMsgs = encodeAnnouncements(family, attrs, nlri, o, hop);
    expect(Buffer.concat(packedMsgs).length).toBeGreaterThan(0);
    const routes = (msgs: Buffer[]): Nlri[] => msgs.flatMap((m) => {
      const u = decodeMessage(m, o) as UpdateMessage;
      return [...u.nlri, ...(u.attributes.mpReach?.nlri ?? [])];
    });
    expect(routes(packedMsgs)).toEqual(routes(objectMsgs));
    expect(packedMsgs.every((m) => m.length <= 4096)).toBe(true);
    const wd = (msgs: Buffer[]): Nlri[] => msgs.flatMap((m) => {
      const u = decodeMessage(m, o) as UpdateMessage;
      return [...u.withdrawn, ...(u.attributes.mpUnreach?.withdrawn ?? [])];
    });
    expect(wd(encodePackedWithdrawals(family, writer.bytes(), o))).toEqual(wd(encodeWithdrawals(family, nlri, o)));
  });
});
