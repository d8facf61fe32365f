/**
 * OPEN message errors, RFC 4271 §6.2 (and RFC 6793 §4.1 for the 4-octet AS
 * capability): a raw peer connects to a real tartan-node, sends one bad OPEN,
 * and the test decodes the NOTIFICATION Tartan puts on the wire, then sees
 * the connection closed. A BIRD session on the same Tartan stays up throughout.
 */
import { AS_TRANS, ErrorCode, MessageType, OpenSubcode, type OpenMessage } from '../../../src/bgp/wire';
import { openMessage } from './bgp-bytes';
import { AS_B, AS_T, BIRD_PREFIXES, establish, MSG_TIMEOUT, RawLab, TARTAN_PREFIXES } from './raw-lab';
import { RawPeer } from './raw-peer';

let rl: RawLab;

/** Per scenario: its source address on r and the AS Tartan is configured with for it. */
const SCENARIOS = {
  wrongAs: { index: 0, asn: 65010 },
  version: { index: 1, asn: 4200000101 },
  holdTime: { index: 2, asn: 4200000102 },
  zeroId: { index: 3, asn: 4200000103 },
  as4Trans: { index: 4, asn: 4200000104 },
  as4Disagrees: { index: 5, asn: 65015 },
  good: { index: 6, asn: 4200000106 },
} as const;

function addr(s: keyof typeof SCENARIOS): string {
  return rl.addrs[SCENARIOS[s].index] as string;
}

beforeAll(async () => {
  rl = await RawLab.create('raw-open', Object.keys(SCENARIOS).length);
  await rl.startDaemons(
    Object.values(SCENARIOS).map((s) => ({ address: rl.addrs[s.index] as string, asn: s.asn, passive: true, families: ['ipv4-unicast'] })),
  );
});

afterAll(async () => {
  await rl?.destroy();
});

/** Connect from the scenario's address, check Tartan's OPEN, send ours, return the NOTIFICATION and check the close. */
async function openAndExpectNotification(s: keyof typeof SCENARIOS, open: OpenMessage): Promise<{ code: number; subcode: number; data: Buffer }> {
  const p = await RawPeer.connect(rl.r, { to: rl.tartanAddr, localAddress: addr(s) });
  // Tartan speaks first on an accepted connection (RFC 4271 §8.2.2, Event 17 in Active): its OPEN.
  const theirs = await p.expectMessage(MessageType.OPEN, MSG_TIMEOUT);
  expect(theirs).toMatchObject({ version: 4, myAs: AS_TRANS, bgpId: rl.tartanAddr });
  p.sendMessage(open);
  const { notification, skipped } = await p.nextNotification(MSG_TIMEOUT);
  // Nothing but the NOTIFICATION may follow a refused OPEN (no KEEPALIVE: the OPEN was not accepted).
  expect(skipped).toEqual([]);
  await p.waitClosed(MSG_TIMEOUT);
  expect(p.drain()).toEqual([]);
  return { code: notification.code, subcode: notification.subcode, data: notification.data };
}

it('a correct OPEN from the same kind of peer is accepted (control for the refusals below)', async () => {
  const p = await RawPeer.connect(rl.r, { to: rl.tartanAddr, localAddress: addr('good') });
  const est = await establish(p, openMessage({ asn: SCENARIOS.good.asn, bgpId: addr('good') }));
  expect(est.families).toEqual(['ipv4-unicast']);
  // Tartan's own prefix, and BIRD's routes propagated with Tartan's AS prepended (RFC 4271 §5.1.2).
  const routes = new Map(est.updates.flatMap((u) => u.nlri.map((n) => [n.prefix, u.attributes.asPath] as const)));
  expect([...routes.keys()].sort()).toEqual([...BIRD_PREFIXES, TARTAN_PREFIXES.ipv4].sort());
  expect(routes.get(TARTAN_PREFIXES.ipv4)).toEqual([{ type: 'sequence', asns: [AS_T] }]);
  for (const p of BIRD_PREFIXES) expect(routes.get(p)).toEqual([{ type: 'sequence', asns: [AS_T, AS_B] }]);
  await rl.tartan.waitEstablished(addr('good'));
});

it('wrong peer AS: 2/2 Bad Peer AS', async () => {
  const n = await openAndExpectNotification('wrongAs', openMessage({ asn: 65011, bgpId: addr('wrongAs') }));
  expect([n.code, n.subcode]).toEqual([ErrorCode.OPEN_MESSAGE, OpenSubcode.BAD_PEER_AS]);
});

it('version 5: 2/1 Unsupported Version Number, data = 2-octet largest supported version (4)', async () => {
  const n = await openAndExpectNotification('version', openMessage({ asn: SCENARIOS.version.asn, bgpId: addr('version'), version: 5 }));
  expect([n.code, n.subcode]).toEqual([ErrorCode.OPEN_MESSAGE, OpenSubcode.UNSUPPORTED_VERSION]);
  // RFC 4271 §6.2: "a 2-octet unsigned integer, which indicates the largest, locally-supported version number less than the version the remote BGP peer bid".
  expect(n.data.toString('hex')).toBe('0004');
});

it('hold time 1: 2/6 Unacceptable Hold Time', async () => {
  const n = await openAndExpectNotification('holdTime', openMessage({ asn: SCENARIOS.holdTime.asn, bgpId: addr('holdTime'), holdTime: 1 }));
  expect([n.code, n.subcode]).toEqual([ErrorCode.OPEN_MESSAGE, OpenSubcode.UNACCEPTABLE_HOLD_TIME]);
});

it('BGP identifier 0.0.0.0: 2/3 Bad BGP Identifier', async () => {
  const n = await openAndExpectNotification('zeroId', openMessage({ asn: SCENARIOS.zeroId.asn, bgpId: '0.0.0.0' }));
  expect([n.code, n.subcode]).toEqual([ErrorCode.OPEN_MESSAGE, OpenSubcode.BAD_BGP_IDENTIFIER]);
});

it('4-octet AS capability names another AS than configured (My AS = AS_TRANS): 2/2 Bad Peer AS', async () => {
  const open = openMessage({ asn: SCENARIOS.as4Trans.asn, bgpId: addr('as4Trans'), capabilityAsn: 4200000199 });
  expect(open.myAs).toBe(AS_TRANS);
  const n = await openAndExpectNotification('as4Trans', open);
  expect([n.code, n.subcode]).toEqual([ErrorCode.OPEN_MESSAGE, OpenSubcode.BAD_PEER_AS]);
});

it('My AS matches the configuration but the 4-octet AS capability disagrees: 2/2 Bad Peer AS', async () => {
  // RFC 6793 §4.1: the capability carries the real AS; My AS must be it (or AS_TRANS).
  const n = await openAndExpectNotification(
    'as4Disagrees',
    openMessage({ asn: SCENARIOS.as4Disagrees.asn, bgpId: addr('as4Disagrees'), capabilityAsn: 65016 }),
  );
  expect([n.code, n.subcode]).toEqual([ErrorCode.OPEN_MESSAGE, OpenSubcode.BAD_PEER_AS]);
});

it('the refused peers are not Established, and the BIRD session never noticed any of it', async () => {
  for (const s of ['wrongAs', 'version', 'holdTime', 'zeroId', 'as4Trans', 'as4Disagrees'] as const) {
    const p = await rl.peer(addr(s));
    expect({ s, state: p.state, sent: p.messages.notificationsSent }).toEqual({ s, state: expect.not.stringMatching(/Established/), sent: 1 });
  }
  await rl.watch.assertUndisturbed(rl.bird, rl.tartanAddr);
});
