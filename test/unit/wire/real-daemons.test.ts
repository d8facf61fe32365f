/**
 * Messages captured from real BIRD 2.0.12, GoBGP 3.10.0 and FRR 8.4 sessions
 * (test/fixtures/wire/README.md tells how). Every one must decode without
 * error and re-encode either to the identical bytes or, where the daemon's
 * encoding is valid but not the one we write, to the same content.
 *
 * Our encoding is canonical: attributes with MP_REACH/MP_UNREACH first
 * (RFC 7606 §5.1) then ascending type code (RFC 4271 §5), Extended Length only
 * above 255 bytes, all capabilities in one optional parameter. The daemons
 * differ in four known, valid ways, and nothing else is tolerated:
 *  - BIRD always sets Extended Length on MP_REACH_NLRI / MP_UNREACH_NLRI;
 *  - FRR always sets Extended Length on AS_PATH, and sends LARGE_COMMUNITY
 *    (32) before EXTENDED_COMMUNITIES (16);
 *  - GoBGP puts MP_REACH_NLRI in type-code order rather than first, and
 *    LARGE_COMMUNITY (32) before AS4_PATH (17);
 *  - FRR sends one capability per optional parameter.
 * For those, the test compares the attributes (flags without Extended Length,
 * type, value bytes) as a set, or the capability TLVs in order.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CapabilityCode,
  decodeMessage,
  describeNotification,
  encodeMessage,
  endOfRibFamily,
  MessageType,
  type BgpMessage,
  type CodecOptions,
  type Family,
  type OpenMessage,
  type UpdateMessage,
} from '../../../src/bgp/wire';

interface Capture {
  daemon: 'bird' | 'gobgp' | 'frr';
  direction: string;
  scenario?: string;
  description: string;
  fourOctetAs: boolean;
  addPath: Family[];
  hex: string;
}

const CAPTURES: Capture[] = JSON.parse(readFileSync(join(__dirname, '../../fixtures/wire/captures.json'), 'utf8')) as Capture[];

function optionsOf(c: Capture): CodecOptions {
  return { fourOctetAs: c.fourOctetAs, extendedMessage: false, addPath: new Set(c.addPath) };
}

function decode(c: Capture): BgpMessage {
  return decodeMessage(Buffer.from(c.hex, 'hex'), optionsOf(c));
}

/** Path attributes of a raw UPDATE as "flags(type)=value" strings, Extended Length and order ignored. Independent of the codec. */
function attributeSet(raw: Buffer): string[] {
  const wl = raw.readUInt16BE(19);
  const start = 23 + wl;
  const end = start + raw.readUInt16BE(21 + wl);
  const out: string[] = [];
  for (let p = start; p < end; ) {
    const flags = raw[p] as number;
    const ext = (flags & 0x10) !== 0;
    const len = ext ? raw.readUInt16BE(p + 2) : (raw[p + 2] as number);
    const v = p + (ext ? 4 : 3);
    out.push(`${(flags & 0xe0).toString(16)}(${raw[p + 1]})=${raw.subarray(v, v + len).toString('hex')}`);
    p = v + len;
  }
  return out.sort();
}

/** The capability TLVs of a raw OPEN, in order, whatever the parameter layout. Independent of the codec. */
function capabilityTlvs(raw: Buffer): string[] {
  const out: string[] = [];
  const end = 29 + (raw[28] as number);
  for (let p = 29; p < end; ) {
    const len = raw[p + 1] as number;
    for (let q = p + 2; q < p + 2 + len; ) {
      const clen = raw[q + 1] as number;
      out.push(raw.subarray(q, q + 2 + clen).toString('hex'));
      q += 2 + clen;
    }
    p += 2 + len;
  }
  return out;
}

function byDescription(daemon: Capture['daemon'], re: RegExp, fourOctetAs = true): Capture[] {
  const found = CAPTURES.filter((c) => c.daemon === daemon && re.test(c.description) && c.fourOctetAs === fourOctetAs);
  expect(found.length).toBeGreaterThan(0);
  return found;
}

describe('real daemon captures', () => {
  test('cover all three daemons and every message type', () => {
    expect(new Set(CAPTURES.map((c) => c.daemon))).toStrictEqual(new Set(['bird', 'gobgp', 'frr']));
    expect(new Set(CAPTURES.map((c) => decode(c).type))).toStrictEqual(new Set([1, 2, 3, 4, 5]));
  });

  describe.each(CAPTURES.map((c, i) => [`#${i} ${c.daemon} ${c.direction}: ${c.description}`, c] as const))('%s', (_name, c) => {
    const raw = Buffer.from(c.hex, 'hex');

    test('decodes without error, and frames as one message', () => {
      const msg = decode(c);
      if (msg.type === MessageType.UPDATE) expect(msg.errors).toBeUndefined();
    });

    test('re-encodes identically, or to the same content where the daemon is not canonical', () => {
      const o = optionsOf(c);
      const msg = decode(c);
      const again = encodeMessage(msg, o);
      expect(decodeMessage(again, o)).toStrictEqual(msg);
      if (again.equals(raw)) return;
      if (msg.type === MessageType.UPDATE) {
        expect(attributeSet(again)).toStrictEqual(attributeSet(raw));
        // withdrawn routes and NLRI fields are byte-identical
        const tail = (b: Buffer): string => b.subarray(23 + b.readUInt16BE(19) + b.readUInt16BE(21 + b.readUInt16BE(19))).toString('hex');
        expect(tail(again)).toBe(tail(raw));
      } else {
        expect(msg.type).toBe(MessageType.OPEN);
        expect(c.daemon).toBe('frr');
        expect(capabilityTlvs(again)).toStrictEqual(capabilityTlvs(raw));
      }
    });
  });

  test('what is byte-identical: every KEEPALIVE, NOTIFICATION, ROUTE-REFRESH, BIRD and GoBGP OPEN, and BIRD IPv4 UPDATE', () => {
    let checked = 0;
    for (const c of CAPTURES) {
      const msg = decode(c);
      const identical = encodeMessage(msg, optionsOf(c)).equals(Buffer.from(c.hex, 'hex'));
      const mustBe =
        msg.type === MessageType.KEEPALIVE ||
        msg.type === MessageType.NOTIFICATION ||
        msg.type === MessageType.ROUTE_REFRESH ||
        (msg.type === MessageType.OPEN && c.daemon !== 'frr') ||
        (msg.type === MessageType.UPDATE && c.daemon === 'bird' && msg.attributes.mpReach === undefined && msg.attributes.mpUnreach === undefined);
      if (mustBe) {
        expect([c.description, identical]).toStrictEqual([c.description, true]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(40);
  });

  test("BIRD's OPEN: AS_TRANS, 4-octet AS, route refresh, enhanced route refresh, graceful restart", () => {
    for (const c of byDescription('bird', /^OPEN/)) {
      const open = decode(c) as OpenMessage;
      const codes = open.capabilities.map((cap) => cap.code);
      expect(open.myAs).toBe(23456);
      expect(open.holdTime).toBe(30);
      expect(codes).toEqual(expect.arrayContaining([CapabilityCode.FOUR_OCTET_AS, CapabilityCode.ROUTE_REFRESH, CapabilityCode.ENHANCED_ROUTE_REFRESH]));
      expect(open.capabilities).toContainEqual({ code: CapabilityCode.FOUR_OCTET_AS, asn: 4200000001 });
      expect(open.capabilities).toContainEqual(
        expect.objectContaining({ code: CapabilityCode.GRACEFUL_RESTART, restartTime: 120, restarting: false }),
      );
    }
  });

  test("BIRD's OPEN with `enable as4 off`: no 4-octet AS capability, the real AS in My AS", () => {
    const [c] = byDescription('bird', /^OPEN without 4-octet AS/, false);
    const open = decode(c as Capture) as OpenMessage;
    expect(open.myAs).toBe(65010);
    expect(open.capabilities.some((cap) => cap.code === CapabilityCode.FOUR_OCTET_AS)).toBe(false);
  });

  test("FRR's OPEN: ADD-PATH, extended message, GR with R and N, and its unknown capabilities kept raw", () => {
    const open = decode(byDescription('frr', /^OPEN with ADD-PATH/)[0] as Capture) as OpenMessage;
    expect(open.capabilities).toContainEqual(expect.objectContaining({ code: CapabilityCode.GRACEFUL_RESTART, restarting: true, notification: true, restartTime: 120 }));
    expect(open.capabilities).toContainEqual({ code: CapabilityCode.EXTENDED_MESSAGE });
    expect(open.capabilities.filter((cap) => cap.code === 'unknown').map((cap) => cap.code === 'unknown' && cap.typeCode)).toStrictEqual([128, 73, 71]);
    const fqdn = open.capabilities.find((cap) => cap.code === 'unknown' && cap.typeCode === 73);
    expect(fqdn?.code === 'unknown' && fqdn.value.subarray(1, 13).toString()).toMatch(/^tt198-18-\d-\d$/);
  });

  test('FRR with dont-capability-negotiate: an OPEN without optional parameters', () => {
    const open = decode(byDescription('frr', /without optional parameters/, false)[0] as Capture) as OpenMessage;
    expect(open).toStrictEqual({ type: MessageType.OPEN, version: 4, myAs: 65020, holdTime: 30, bgpId: '198.18.5.1', capabilities: [] });
  });

  test('AS4_PATH from BIRD and GoBGP on a 2-octet session is merged back into the real path (RFC 6793 §4.2.3)', () => {
    for (const daemon of ['bird', 'gobgp'] as const) {
      const [c] = byDescription(daemon, /AS4_PATH/, false);
      const u = decode(c as Capture) as UpdateMessage;
      const asns = (u.attributes.asPath ?? []).flatMap((s) => s.asns);
      expect(asns.some((a) => a > 65535)).toBe(true);
      expect(asns).not.toContain(23456);
    }
  });

  test('shutdown communications of all three daemons read as text', () => {
    for (const daemon of ['bird', 'gobgp', 'frr'] as const) {
      const n = decode(byDescription(daemon, /^NOTIFICATION/)[0] as Capture);
      if (n.type !== MessageType.NOTIFICATION) throw new Error('not a NOTIFICATION');
      expect(describeNotification(n.code, n.subcode, n.data)).toBe(`Cease / Administrative Shutdown: "tartan capture ${daemon} shutdown"`);
    }
  });

  test("FRR's enhanced route refresh: BoRR then EoRR", () => {
    expect(decode(byDescription('frr', /BoRR/)[0] as Capture)).toMatchObject({ type: MessageType.ROUTE_REFRESH, subtype: 1 });
    expect(decode(byDescription('frr', /EoRR/)[0] as Capture)).toMatchObject({ type: MessageType.ROUTE_REFRESH, subtype: 2 });
  });

  test("BIRD's End-of-RIB for both families", () => {
    const families = byDescription('bird', /End-of-RIB/).map((c) => endOfRibFamily(decode(c) as UpdateMessage));
    expect(new Set(families)).toStrictEqual(new Set(['ipv4-unicast', 'ipv6-unicast']));
  });

  test('IPv6 next hops: BIRD and FRR send global + link-local, GoBGP global only', () => {
    for (const [daemon, count] of [['bird', 2], ['frr', 2], ['gobgp', 1]] as const) {
      for (const c of byDescription(daemon, /^UPDATE announce ipv6-unicast/)) {
        const hops = (decode(c) as UpdateMessage).attributes.mpReach?.nextHops ?? [];
        expect(hops).toHaveLength(count);
        if (count === 2) expect(hops[1]).toMatch(/^fe80:/);
      }
    }
  });

  test('ADD-PATH captures carry path identifiers on every prefix', () => {
    const withAddPath = CAPTURES.filter((c) => c.addPath.length > 0 && /^UPDATE (announce|withdraw)/.test(c.description));
    expect(withAddPath.length).toBeGreaterThan(5);
    for (const c of withAddPath) {
      const u = decode(c) as UpdateMessage;
      const all = [...u.withdrawn, ...u.nlri, ...(u.attributes.mpReach?.nlri ?? []), ...(u.attributes.mpUnreach?.withdrawn ?? [])];
      expect(all.length).toBeGreaterThan(0);
      for (const n of all) expect(typeof n.pathId).toBe('number');
    }
  });

  test('the attributes we decode are the ones the independent peek decoder listed', () => {
    const NAMES: Record<string, string> = {
      ORIGIN: 'origin', AS_PATH: 'asPath', NEXT_HOP: 'nextHop', MED: 'med', LOCAL_PREF: 'localPref', COMMUNITIES: 'communities',
      EXTENDED_COMMUNITIES: 'extendedCommunities', LARGE_COMMUNITY: 'largeCommunities', AGGREGATOR: 'aggregator',
    };
    for (const c of CAPTURES.filter((x) => /^UPDATE announce .*\[/.test(x.description))) {
      const listed = (/\[(.*)\]/.exec(c.description)?.[1] ?? '').split(' ').filter((n) => n !== 'AS4_PATH' && n !== 'AS4_AGGREGATOR');
      const keys = Object.keys((decode(c) as UpdateMessage).attributes).filter((k) => k !== 'mpReach' && k !== 'mpUnreach');
      expect(keys.sort()).toStrictEqual(listed.map((n) => NAMES[n] ?? n).sort());
    }
  });
});
