/**
 * Message header errors, RFC 4271 §6.1, in OpenSent (the first bytes on a new
 * connection) and in Established (after a correct OPEN/KEEPALIVE exchange and
 * Tartan's routes and End-of-RIB). The test writes the broken header by hand
 * and decodes the NOTIFICATION Tartan puts on the wire. BIRD stays up throughout.
 */
import { CapabilityCode, ErrorCode, HeaderSubcode, MessageType } from '../../../src/bgp/wire';
import { header, keepalive, MARKER, openMessage } from './bgp-bytes';
import { establish, MSG_TIMEOUT, RawLab } from './raw-lab';
import { RawPeer } from './raw-peer';

let rl: RawLab;

const SCENARIOS = ['marker', 'short', 'long', 'type9', 'keepalive20'] as const;
type Scenario = (typeof SCENARIOS)[number];
const asnOf = (s: Scenario): number => 4200000200 + SCENARIOS.indexOf(s);
const addr = (s: Scenario): string => rl.addrs[SCENARIOS.indexOf(s)] as string;

beforeAll(async () => {
  rl = await RawLab.create('raw-header', SCENARIOS.length);
  await rl.startDaemons(SCENARIOS.map((s) => ({ address: addr(s), asn: asnOf(s), passive: true, families: ['ipv4-unicast' as const] })));
});

afterAll(async () => {
  await rl?.destroy();
});

/** A connection in OpenSent on Tartan's side: Tartan's OPEN read, ours not sent. */
async function inOpenSent(s: Scenario): Promise<RawPeer> {
  const p = await RawPeer.connect(rl.r, { to: rl.tartanAddr, localAddress: addr(s) });
  await p.expectMessage(MessageType.OPEN, MSG_TIMEOUT);
  return p;
}

/** A connection Established on both sides, Tartan's initial routes and End-of-RIB consumed. */
async function inEstablished(s: Scenario): Promise<RawPeer> {
  const p = await RawPeer.connect(rl.r, { to: rl.tartanAddr, localAddress: addr(s) });
  // Our OPEN does not offer RFC 8654 Extended Message, so 4096 stays the maximum on this session.
  const open = openMessage({ asn: asnOf(s), bgpId: addr(s) });
  expect(open.capabilities.some((c) => c.code === CapabilityCode.EXTENDED_MESSAGE)).toBe(false);
  await establish(p, open);
  await rl.tartan.waitEstablished(addr(s));
  return p;
}

/** Send `bytes`, expect exactly one NOTIFICATION (KEEPALIVEs may precede it), then the close. */
async function expectNotification(p: RawPeer, bytes: Buffer): Promise<{ code: number; subcode: number; data: string }> {
  p.send(bytes);
  const { notification, skipped } = await p.nextNotification(MSG_TIMEOUT);
  expect(skipped.filter((t) => t !== MessageType.KEEPALIVE)).toEqual([]);
  await p.waitClosed(MSG_TIMEOUT);
  expect(p.drain()).toEqual([]);
  return { code: notification.code, subcode: notification.subcode, data: notification.data.toString('hex') };
}

it('OpenSent: a marker that is not all ones is 1/1 Connection Not Synchronized', async () => {
  const p = await inOpenSent('marker');
  const marker = Buffer.from(MARKER);
  marker[5] = 0x00;
  // Otherwise a perfectly good KEEPALIVE.
  const n = await expectNotification(p, header(19, MessageType.KEEPALIVE, Buffer.alloc(0), marker));
  expect([n.code, n.subcode]).toEqual([ErrorCode.MESSAGE_HEADER, HeaderSubcode.CONNECTION_NOT_SYNCHRONIZED]);
});

it('OpenSent: Length 18 (< 19) is 1/2 Bad Message Length, data = the Length field', async () => {
  const p = await inOpenSent('short');
  const n = await expectNotification(p, header(18, MessageType.KEEPALIVE));
  expect(n).toEqual({ code: ErrorCode.MESSAGE_HEADER, subcode: HeaderSubcode.BAD_MESSAGE_LENGTH, data: '0012' });
});

it('Established: Length 4097 (> 4096, no Extended Message) is 1/2 Bad Message Length, data = the Length field', async () => {
  const p = await inEstablished('long');
  // Only the header: Tartan must judge the length before waiting for 4078 more bytes.
  const n = await expectNotification(p, header(4097, MessageType.UPDATE));
  expect(n).toEqual({ code: ErrorCode.MESSAGE_HEADER, subcode: HeaderSubcode.BAD_MESSAGE_LENGTH, data: '1001' });
});

it('Established: message type 9 is 1/3 Bad Message Type, data = the Type field', async () => {
  const p = await inEstablished('type9');
  const n = await expectNotification(p, header(19, 9));
  expect(n).toEqual({ code: ErrorCode.MESSAGE_HEADER, subcode: HeaderSubcode.BAD_MESSAGE_TYPE, data: '09' });
});

it('Established: a KEEPALIVE of Length 20 is 1/2 Bad Message Length, data = the Length field', async () => {
  const p = await inEstablished('keepalive20');
  // A good KEEPALIVE first, so the session is provably healthy right before.
  p.send(keepalive());
  const n = await expectNotification(p, header(20, MessageType.KEEPALIVE, Buffer.from([0])));
  expect(n).toEqual({ code: ErrorCode.MESSAGE_HEADER, subcode: HeaderSubcode.BAD_MESSAGE_LENGTH, data: '0014' });
});

it('every scenario cost Tartan exactly that session, and the BIRD session never noticed', async () => {
  for (const s of SCENARIOS) {
    const p = await rl.peer(addr(s));
    expect({ s, state: p.state, sent: p.messages.notificationsSent }).toEqual({ s, state: expect.not.stringMatching(/Established/), sent: 1 });
  }
  await rl.watch.assertUndisturbed(rl.bird, rl.tartanAddr);
});
