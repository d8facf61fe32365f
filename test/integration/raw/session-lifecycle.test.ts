/**
 * Session lifecycle seen from a raw peer, on the wire:
 *  - Hold timer (RFC 4271 §6.5, §4.2 min() negotiation): a peer that goes
 *    silent gets 4/0 Hold Timer Expired and the connection is closed.
 *  - Connection collision (RFC 4271 §6.8, RFC 4486 Cease/7): the raw peer
 *    listens on 179 AND connects to Tartan; both sides send OPEN on both
 *    connections; the connection initiated by the higher BGP Identifier
 *    survives, the other gets Cease/7. Both orderings of the identifiers.
 *  - An unconfigured source address gets Cease/5 (RFC 4486 §4) and no OPEN.
 *  - SIGTERM: Cease/2 with an RFC 8203/9003 shutdown communication, exit 0.
 * A BIRD session on the same Tartan stays up until the shutdown.
 */
import {
  CeaseSubcode,
  ErrorCode,
  MessageType,
  endOfRibFamily,
  type NotificationMessage,
} from '../../../src/bgp/wire';
import { bgpIdToUint32 } from '../../../src/bgp/session/collision';
import { keepalive, openMessage } from './bgp-bytes';
import { establish, MSG_TIMEOUT, RawLab } from './raw-lab';
import { RawPeer } from './raw-peer';

let rl: RawLab;

const SCENARIOS = ['hold', 'collisionHigh', 'collisionLow', 'unconfigured', 'shutdown'] as const;
type Scenario = (typeof SCENARIOS)[number];
const asnOf = (s: Scenario): number => 4200000400 + SCENARIOS.indexOf(s);
const addr = (s: Scenario): string => rl.addrs[SCENARIOS.indexOf(s)] as string;

/** BGP Identifiers of the raw peer in the collision tests; Tartan's is its address 198.18.N.1. */
const HIGH_ID = '223.255.255.1';
const LOW_ID = '1.1.1.1';

/** Listeners on 179 for the collision scenarios, up before Tartan starts so its first connect reaches them. */
const listeners = new Map<Scenario, RawPeer>();

beforeAll(async () => {
  rl = await RawLab.create('raw-session', SCENARIOS.length);
  for (const s of ['collisionHigh', 'collisionLow'] as const) listeners.set(s, await RawPeer.listen(rl.r, { address: addr(s), port: 179 }));
  await rl.startDaemons([
    // Tartan offers 30 s; the raw peer offers 3 s: RFC 4271 §4.2 negotiates the smaller.
    { address: addr('hold'), asn: asnOf('hold'), passive: true, holdTime: 30, families: ['ipv4-unicast'] },
    // Active peers: Tartan connects to the raw peer's port 179 as well as accepting from it.
    { address: addr('collisionHigh'), asn: asnOf('collisionHigh'), families: ['ipv4-unicast'] },
    { address: addr('collisionLow'), asn: asnOf('collisionLow'), families: ['ipv4-unicast'] },
    // 'unconfigured' is deliberately absent.
    { address: addr('shutdown'), asn: asnOf('shutdown'), passive: true, families: ['ipv4-unicast'] },
  ]);
});

afterAll(async () => {
  await rl?.destroy();
});

it('hold timer: OPEN with hold time 3 against a configured 30 negotiates 3; silence then gets 4/0 and a close', async () => {
  const s = 'hold';
  const p = await RawPeer.connect(rl.r, { to: rl.tartanAddr, localAddress: addr(s) });
  const est = await establish(p, openMessage({ asn: asnOf(s), bgpId: addr(s), holdTime: 3 }));
  expect(est.tartanOpen.holdTime).toBe(30);
  p.send(keepalive());
  await rl.tartan.waitEstablished(addr(s));
  expect((await rl.peer(addr(s))).negotiated?.holdTime).toBe(3);
  // From here on the raw peer says nothing at all.
  const { notification, skipped } = await p.nextNotification(15_000);
  expect(skipped.filter((t) => t !== MessageType.KEEPALIVE)).toEqual([]);
  // Tartan kept sending KEEPALIVEs at a third of the hold time while waiting (RFC 4271 §4.4).
  expect(skipped.length).toBeGreaterThan(0);
  expect([notification.code, notification.subcode, notification.data.length]).toEqual([ErrorCode.HOLD_TIMER_EXPIRED, 0, 0]);
  await p.waitClosed(MSG_TIMEOUT);
  const st = await rl.peer(addr(s));
  expect(st.state).not.toBe('Established');
  expect(st.lastError).toMatch(/hold timer/i);
});

/**
 * RFC 4271 §6.8 with both connections in OpenConfirm: `listener` holds the
 * connection Tartan initiated, `dialer` the one the raw peer initiated.
 */
async function collide(s: 'collisionHigh' | 'collisionLow', rawId: string): Promise<{ winner: RawPeer; loser: RawPeer; cease: NotificationMessage }> {
  const listener = listeners.get(s) as RawPeer;
  const accepted = await listener.waitConnected(15_000);
  expect([accepted.remoteAddress, accepted.localPort]).toEqual([rl.tartanAddr, 179]);
  const openOut = await listener.expectMessage(MessageType.OPEN, MSG_TIMEOUT);
  const dialer = await RawPeer.connect(rl.r, { to: rl.tartanAddr, localAddress: addr(s) });
  const openIn = await dialer.expectMessage(MessageType.OPEN, MSG_TIMEOUT);
  expect([openOut.bgpId, openIn.bgpId]).toEqual([rl.tartanAddr, rl.tartanAddr]);

  // Both connections now wait for our OPEN on Tartan's side (OpenSent); answer both at once.
  const open = openMessage({ asn: asnOf(s), bgpId: rawId });
  listener.sendMessage(open);
  dialer.sendMessage(open);

  const rawHigher = bgpIdToUint32(rawId) > bgpIdToUint32(rl.tartanAddr);
  // The survivor is the connection initiated by the higher identifier.
  const winner = rawHigher ? dialer : listener;
  const loser = rawHigher ? listener : dialer;
  const { notification: cease, skipped } = await loser.nextNotification(MSG_TIMEOUT);
  expect(skipped.filter((t) => t !== MessageType.KEEPALIVE)).toEqual([]);
  await loser.waitClosed(MSG_TIMEOUT);

  // The winner: Tartan's KEEPALIVE (it accepted our OPEN), then ours, then routes and End-of-RIB.
  await winner.expectMessage(MessageType.KEEPALIVE, MSG_TIMEOUT);
  winner.send(keepalive());
  winner.decodeOptions = { fourOctetAs: true, extendedMessage: false, addPath: new Set() };
  for (;;) {
    const m = await winner.nextMessage(MSG_TIMEOUT);
    if (m.type === MessageType.KEEPALIVE) continue;
    expect(m.type).toBe(MessageType.UPDATE);
    if (m.type === MessageType.UPDATE && endOfRibFamily(m) === 'ipv4-unicast') break;
  }
  await rl.tartan.waitEstablished(addr(s));
  expect(winner.closed).toBe(false);
  return { winner, loser, cease };
}

it('collision, raw peer ID higher than Tartan\'s: the raw peer\'s connection survives, Tartan\'s own gets Cease/7', async () => {
  const { winner, cease } = await collide('collisionHigh', HIGH_ID);
  expect([cease.code, cease.subcode]).toEqual([ErrorCode.CEASE, CeaseSubcode.CONNECTION_COLLISION_RESOLUTION]);
  // Tartan's established connection is the one it accepted: local port 179, remote port the raw peer's ephemeral one.
  const n = (await rl.peer(addr('collisionHigh'))).negotiated;
  expect([n?.localPort, n?.remotePort, n?.peerRouterId]).toEqual([179, winner.connection?.localPort, HIGH_ID]);
});

it('collision, raw peer ID lower than Tartan\'s: Tartan\'s connection survives, the raw peer\'s gets Cease/7', async () => {
  const { winner, cease } = await collide('collisionLow', LOW_ID);
  expect([cease.code, cease.subcode]).toEqual([ErrorCode.CEASE, CeaseSubcode.CONNECTION_COLLISION_RESOLUTION]);
  // Tartan's established connection is the one it initiated: remote port 179.
  const n = (await rl.peer(addr('collisionLow'))).negotiated;
  expect([n?.remotePort, n?.localPort, n?.peerRouterId]).toEqual([179, winner.connection?.remotePort, LOW_ID]);
});

it('a connection from an address that is no configured peer gets Cease/5 and is closed, without an OPEN', async () => {
  const p = await RawPeer.connect(rl.r, { to: rl.tartanAddr, localAddress: addr('unconfigured') });
  const { notification, skipped } = await p.nextNotification(MSG_TIMEOUT);
  expect(skipped).toEqual([]);
  expect([notification.code, notification.subcode]).toEqual([ErrorCode.CEASE, CeaseSubcode.CONNECTION_REJECTED]);
  await p.waitClosed(MSG_TIMEOUT);
  expect(p.drain()).toEqual([]);
  expect((await rl.tartan.status()).peers.some((x) => x.address === addr('unconfigured'))).toBe(false);
});

it('the BIRD session never noticed any of the above', async () => {
  await rl.watch.assertUndisturbed(rl.bird, rl.tartanAddr);
});

it('SIGTERM: an established peer gets Cease/2 with an RFC 8203/9003 shutdown communication, and tartan-node exits 0', async () => {
  const s = 'shutdown';
  const p = await RawPeer.connect(rl.r, { to: rl.tartanAddr, localAddress: addr(s) });
  await establish(p, openMessage({ asn: asnOf(s), bgpId: addr(s) }));
  await rl.tartan.waitEstablished(addr(s));
  const exited = rl.tartan.stop();
  const { notification, skipped } = await p.nextNotification(10_000);
  expect(skipped.filter((t) => t !== MessageType.KEEPALIVE)).toEqual([]);
  expect([notification.code, notification.subcode]).toEqual([ErrorCode.CEASE, CeaseSubcode.ADMINISTRATIVE_SHUTDOWN]);
  // RFC 9003 §2: one length octet, then that many octets of UTF-8, nothing else required.
  const data = notification.data;
  expect(data.length).toBeGreaterThan(1);
  const len = data[0] as number;
  expect(data.length).toBe(1 + len);
  const text = data.subarray(1).toString('utf8');
  expect(Buffer.from(text, 'utf8').equals(data.subarray(1))).toBe(true);
  expect(text).toMatch(/shutting down/);
  await p.waitClosed(MSG_TIMEOUT);
  expect(await exited).toBe(0);
});
