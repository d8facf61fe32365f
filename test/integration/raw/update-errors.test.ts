/**
 * UPDATE message errors in Established, RFC 4271 §6.3 as revised by RFC 7606:
 *
 *  - errors that make the rest of the message unparseable, or that RFC 7606
 *    leaves at "session reset", must produce a NOTIFICATION (code, subcode and
 *    the data RFC 4271 §6.3 defines) and remove the peer's routes;
 *  - "treat-as-withdraw" errors must produce NO NOTIFICATION: the session stays
 *    up, the prefixes of the broken UPDATE are withdrawn (also if previously
 *    announced), every other prefix stays;
 *  - "attribute discard" errors keep the route, without the broken attribute.
 *
 * Route state is read through Tartan's control API (Adj-RIB-In). A BIRD
 * session on the same Tartan stays up throughout.
 */
import {
  decodeMessage,
  ErrorCode,
  MessageType,
  UpdateSubcode,
  type CodecOptions,
  type Family,
} from '../../../src/bgp/wire';
import { waitFor } from '../harness';
import {
  asPath,
  attr,
  ipv6,
  med,
  message,
  mpReachIpv6,
  nextHop,
  openMessage,
  OPTIONAL,
  ORIGIN_IGP,
  TRANSITIVE,
  u32,
  update,
  WELL_KNOWN,
} from './bgp-bytes';
import { establish, MSG_TIMEOUT, RawLab } from './raw-lab';
import { RawPeer } from './raw-peer';

let rl: RawLab;

const SCENARIOS = ['attrListLength', 'unknownWellKnown', 'mpReach', 'treatAsWithdraw', 'withdrawnLength'] as const;
type Scenario = (typeof SCENARIOS)[number];
const asnOf = (s: Scenario): number => 4200000300 + SCENARIOS.indexOf(s);
const addr = (s: Scenario): string => rl.addrs[SCENARIOS.indexOf(s)] as string;
const v6addr = (s: Scenario): string => `fd00:7a7a:${rl.lab.subnetIndex.toString(16)}::${(0x101 + SCENARIOS.indexOf(s)).toString(16)}`;
const FOUR_OCTET: CodecOptions = { fourOctetAs: true, extendedMessage: false, addPath: new Set() };

beforeAll(async () => {
  rl = await RawLab.create('raw-update', SCENARIOS.length);
  await rl.startDaemons(
    SCENARIOS.map((s) => ({
      address: addr(s),
      asn: asnOf(s),
      passive: true,
      families: s === 'mpReach' ? (['ipv4-unicast', 'ipv6-unicast'] as Family[]) : (['ipv4-unicast'] as Family[]),
    })),
  );
});

afterAll(async () => {
  await rl?.destroy();
});

/** The attributes every announcement from scenario `s` carries, each built by hand. */
function baseAttrs(s: Scenario): Buffer[] {
  return [ORIGIN_IGP, asPath([asnOf(s)]), nextHop(addr(s))];
}

async function connectEstablished(s: Scenario, families: Family[] = ['ipv4-unicast']): Promise<RawPeer> {
  const p = await RawPeer.connect(rl.r, { to: rl.tartanAddr, localAddress: addr(s) });
  await establish(p, openMessage({ asn: asnOf(s), bgpId: addr(s), families }));
  await rl.tartan.waitEstablished(addr(s));
  return p;
}

async function waitPrefixes(s: Scenario, want: string[], family: Family = 'ipv4-unicast'): Promise<void> {
  const sorted = [...want].sort();
  await waitFor(async () => JSON.stringify(await rl.prefixesFrom(addr(s), family)) === JSON.stringify(sorted), {
    what: `Tartan to hold exactly ${sorted.join(', ') || 'nothing'} (${family}) from ${addr(s)}`,
    timeoutMs: 10_000,
    intervalMs: 50,
  }).catch(async (e: Error) => {
    throw new Error(`${e.message}; now: ${(await rl.prefixesFrom(addr(s), family)).join(', ')}`);
  });
}

/** Send a malformed UPDATE, expect one NOTIFICATION (after KEEPALIVEs, if any) and the close. */
async function expectReset(p: RawPeer, bytes: Buffer): Promise<{ code: number; subcode: number; data: string }> {
  p.send(bytes);
  const { notification, skipped } = await p.nextNotification(MSG_TIMEOUT).catch(async (e: Error) => {
    // Say what Tartan did instead: its view of the session and what it logged about this peer's UPDATEs.
    const address = p.connection?.localAddress ?? '?';
    const st = await rl.peer(address).catch(() => undefined);
    const log = rl.tartan
      .logTail(400)
      .split('\n')
      .filter((l) => l.includes(address) && /RFC 7606|NOTIFICATION/.test(l));
    throw new Error(`${e.message}\nTartan peer state: ${st?.state} since ${st?.since}\nTartan log:\n${log.join('\n')}`);
  });
  expect(skipped.filter((t) => t !== MessageType.KEEPALIVE)).toEqual([]);
  await p.waitClosed(MSG_TIMEOUT);
  return { code: notification.code, subcode: notification.subcode, data: notification.data.toString('hex') };
}

it('the hand-built baseline UPDATE is well-formed (so each test breaks exactly one thing)', () => {
  // Self-check of bgp-bytes.ts with the codec; the tests below then decide with Tartan itself.
  const m = decodeMessage(update({ attrs: baseAttrs('treatAsWithdraw'), nlri: ['10.201.1.0/24'] }), FOUR_OCTET);
  expect(m).toMatchObject({
    type: MessageType.UPDATE,
    nlri: [{ prefix: '10.201.1.0/24' }],
    attributes: { origin: 0, asPath: [{ type: 'sequence', asns: [asnOf('treatAsWithdraw')] }], nextHop: addr('treatAsWithdraw') },
  });
  expect((m as { errors?: unknown[] }).errors).toBeUndefined();
});

describe('session reset', () => {
  it('Total Path Attribute Length overrunning the message: 3/1 Malformed Attribute List, routes of the peer removed', async () => {
    const s = 'attrListLength';
    const p = await connectEstablished(s);
    p.send(update({ attrs: baseAttrs(s), nlri: ['10.210.0.0/24'] }));
    await waitPrefixes(s, ['10.210.0.0/24']);
    const attrs = baseAttrs(s);
    const length = Buffer.concat(attrs).length;
    // RFC 4271 §6.3 / RFC 7606 §4: the field claims 200 bytes more than the message holds, so the NLRI cannot be located.
    const n = await expectReset(p, update({ attrs, nlri: ['10.210.1.0/24'], totalPathAttributeLength: length + 200 }));
    expect([n.code, n.subcode]).toEqual([ErrorCode.UPDATE_MESSAGE, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST]);
    await waitPrefixes(s, []);
  });

  it('Withdrawn Routes Length overrunning the message: 3/1 Malformed Attribute List', async () => {
    const s = 'withdrawnLength';
    const p = await connectEstablished(s);
    p.send(update({ attrs: baseAttrs(s), nlri: ['10.213.0.0/24'] }));
    await waitPrefixes(s, ['10.213.0.0/24']);
    // Withdrawn Routes Length 0x0100 with 4 bytes of UPDATE body after it (RFC 4271 §6.3, RFC 7606 §4).
    const n = await expectReset(p, message(MessageType.UPDATE, Buffer.from([0x01, 0x00, 0x18, 0x0a, 0xd5, 0x00])));
    expect([n.code, n.subcode]).toEqual([ErrorCode.UPDATE_MESSAGE, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST]);
    await waitPrefixes(s, []);
  });

  it('unrecognized well-known attribute: 3/2 Unrecognized Well-known Attribute, data = the attribute (RFC 4271 §6.3)', async () => {
    const s = 'unknownWellKnown';
    const p = await connectEstablished(s);
    p.send(update({ attrs: baseAttrs(s), nlri: ['10.211.0.0/24'] }));
    await waitPrefixes(s, ['10.211.0.0/24']);
    // Type 99 is unassigned; Optional bit clear = well-known by definition (RFC 4271 §4.3, §5).
    const unknown = attr(WELL_KNOWN, 99, [0xaa, 0xbb]);
    // RFC 4271 §6.3: "If any of the well-known mandatory attributes are not recognized, then the Error
    // Subcode MUST be set to Unrecognized Well-known Attribute. The Data field MUST contain the unrecognized
    // attribute (type, length, and value)." RFC 7606 does not revise this case (its §3 and §7 cover known
    // attributes only), so it stays a session reset.
    const n = await expectReset(p, update({ attrs: [...baseAttrs(s), unknown], nlri: ['10.211.1.0/24'] }));
    expect(n).toEqual({ code: ErrorCode.UPDATE_MESSAGE, subcode: UpdateSubcode.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE, data: unknown.toString('hex') });
    await waitPrefixes(s, []);
  });

  it('MP_REACH_NLRI with a 5-byte IPv6 next hop: session reset with 3/9 Optional Attribute Error, data = the attribute', async () => {
    const s = 'mpReach';
    const p = await connectEstablished(s, ['ipv4-unicast', 'ipv6-unicast']);
    const nh = ipv6(v6addr(s));
    p.send(update({ attrs: [mpReachIpv6(nh, ['2001:db8:a0::/48']), ORIGIN_IGP, asPath([asnOf(s)])] }));
    p.send(update({ attrs: baseAttrs(s), nlri: ['10.212.0.0/24'] }));
    await waitPrefixes(s, ['2001:db8:a0::/48'], 'ipv6-unicast');
    await waitPrefixes(s, ['10.212.0.0/24']);
    // RFC 7606 §7.11: a next-hop length inconsistent with the AFI hides the NLRI, so "session reset" (or
    // AFI/SAFI disable, which Tartan does not implement) MUST be used; RFC 4760 §7 names the subcode
    // (Optional Attribute Error) and RFC 4271 §6.3 the data (the attribute).
    const bad = mpReachIpv6(nh.subarray(0, 5), ['2001:db8:a1::/48']);
    const n = await expectReset(p, update({ attrs: [bad, ORIGIN_IGP, asPath([asnOf(s)])] }));
    expect(n).toEqual({ code: ErrorCode.UPDATE_MESSAGE, subcode: UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, data: bad.toString('hex') });
    await waitPrefixes(s, [], 'ipv6-unicast');
    await waitPrefixes(s, []);
  });
});

describe('RFC 7606 treat-as-withdraw and attribute discard: one session that stays up', () => {
  const s = 'treatAsWithdraw';
  let p: RawPeer;
  let since: string;
  /** What Tartan should hold from this peer after each step. */
  const held = new Set(['10.201.1.0/24', '10.201.2.0/24', '10.201.3.0/24', '10.201.4.0/24', '10.201.5.0/24', '10.201.100.0/24']);
  let syncs = 0;

  beforeAll(async () => {
    p = await connectEstablished(s);
    p.send(update({ attrs: baseAttrs(s), nlri: [...held] }));
    await waitPrefixes(s, [...held]);
    since = (await rl.peer(addr(s))).since;
  });

  /**
   * Send a malformed UPDATE, then a good one announcing a fresh "sync" prefix.
   * Tartan handles a connection's messages in order, so once the sync prefix is
   * in, the malformed one has been dealt with: the check needs no sleep.
   */
  async function sendThenSync(bytes: Buffer): Promise<void> {
    p.send(bytes);
    const sync = `10.202.${++syncs}.0/24`;
    p.send(update({ attrs: baseAttrs(s), nlri: [sync] }));
    held.add(sync);
    await waitPrefixes(s, [...held]);
    // No NOTIFICATION, no close: only KEEPALIVEs may have come from Tartan.
    const got = p.drain().map((f) => (f.message ? MessageType[f.message.type] : `undecodable ${f.raw.toString('hex')}`));
    expect(got.filter((t) => t !== 'KEEPALIVE')).toEqual([]);
    expect(p.closed).toBe(false);
    const st = await rl.peer(addr(s));
    expect([st.state, st.since, st.messages.notificationsSent]).toEqual(['Established', since, 0]);
  }

  it('ORIGIN value 3 (undefined): treat-as-withdraw (RFC 7606 §7.1)', async () => {
    held.delete('10.201.1.0/24');
    // 10.203.1.0/24 is new: it must not be installed either.
    await sendThenSync(update({ attrs: [attr(WELL_KNOWN, 1, [3]), asPath([asnOf(s)]), nextHop(addr(s))], nlri: ['10.201.1.0/24', '10.203.1.0/24'] }));
  });

  it('AS_PATH segment overrunning the attribute: treat-as-withdraw (RFC 7606 §7.2)', async () => {
    held.delete('10.201.2.0/24');
    // AS_SEQUENCE claiming 3 four-octet ASNs with only one present.
    const badPath = attr(WELL_KNOWN, 2, Buffer.concat([Buffer.from([2, 3]), u32(asnOf(s))]));
    await sendThenSync(update({ attrs: [ORIGIN_IGP, badPath, nextHop(addr(s))], nlri: ['10.201.2.0/24', '10.203.2.0/24'] }));
  });

  it('missing NEXT_HOP with IPv4 NLRI: treat-as-withdraw (RFC 7606 §3 (d))', async () => {
    held.delete('10.201.3.0/24');
    await sendThenSync(update({ attrs: [ORIGIN_IGP, asPath([asnOf(s)])], nlri: ['10.201.3.0/24', '10.203.3.0/24'] }));
  });

  it('ORIGIN (well-known mandatory) with the Optional bit set: attribute flags error, treat-as-withdraw (RFC 7606 §3 (c))', async () => {
    held.delete('10.201.4.0/24');
    await sendThenSync(
      update({ attrs: [attr(OPTIONAL | TRANSITIVE, 1, [0]), asPath([asnOf(s)]), nextHop(addr(s))], nlri: ['10.201.4.0/24', '10.203.4.0/24'] }),
    );
  });

  it('ATOMIC_AGGREGATE of length 1: attribute discard, the routes are kept with their other attributes (RFC 7606 §7.6)', async () => {
    // 10.201.5.0/24 is re-announced with MED 55 (so the update visibly took effect), 10.203.5.0/24 is new.
    held.add('10.203.5.0/24');
    await sendThenSync(
      update({ attrs: [...baseAttrs(s), med(55), attr(WELL_KNOWN, 6, [0])], nlri: ['10.201.5.0/24', '10.203.5.0/24'] }),
    );
    const views = (await rl.tartan.routes({ table: 'in', peer: addr(s) })).filter((v) => v.prefix === '10.201.5.0/24' || v.prefix === '10.203.5.0/24');
    expect(views).toHaveLength(2);
    for (const v of views) {
      expect(v.attributes.med).toBe(55);
      expect(v.attributes.atomicAggregate).toBeUndefined();
      expect(v.rejected).toBeUndefined();
    }
  });

  it('the session is still up after all of it and still takes withdrawals', async () => {
    p.send(update({ withdrawn: ['10.201.100.0/24'] }));
    held.delete('10.201.100.0/24');
    await waitPrefixes(s, [...held]);
    const st = await rl.peer(addr(s));
    expect([st.state, st.since]).toEqual(['Established', since]);
    expect(p.drain().every((f) => f.message?.type === MessageType.KEEPALIVE)).toBe(true);
  });
});

it('the BIRD session never noticed any of it', async () => {
  await rl.watch.assertUndisturbed(rl.bird, rl.tartanAddr);
});
