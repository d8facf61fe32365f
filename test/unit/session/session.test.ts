import type { SessionConfig } from '../../../src/bgp/session/config';
import type { SessionEvent } from '../../../src/bgp/session/events';
import {
  MESSAGE_TOO_LONG,
  Session,
  SESSION_CLOSED,
  SESSION_NOT_ESTABLISHED,
} from '../../../src/bgp/session/session';
import {
  CapabilityCode,
  CeaseSubcode,
  type CodecOptions,
  DEFAULT_CODEC_OPTIONS,
  encodeMessage,
  type Family,
  MessageType,
  type NotificationMessage,
  type OpenMessage,
  type UpdateMessage,
} from '../../../src/bgp/wire';
import { FakeClock, FakeConnector, FakeTransport, flush, KEEPALIVE, peerOpen, sessionConfig } from './helpers';

interface Rig {
  session: Session;
  clock: FakeClock;
  connector: FakeConnector;
  events: SessionEvent[];
}

function rig(config: Partial<SessionConfig> = {}, opts: { passive?: boolean; random?: () => number } = {}): Rig {
  const clock = new FakeClock();
  const connector = new FakeConnector();
  const passive = opts.passive ?? false;
  const session = new Session({
    config: sessionConfig(config),
    direction: passive ? 'incoming' : 'outgoing',
    passive,
    remote: { address: '192.0.2.2', port: 179 },
    ...(passive ? {} : { connect: { connector: connector.connector, localAddress: '192.0.2.1', timeoutMs: 5000 } }),
    clock,
    random: opts.random ?? (() => 1),
  });
  const events: SessionEvent[] = [];
  session.on('event', (e) => events.push(e));
  return { session, clock, connector, events };
}

/** Drive an outgoing session to OpenSent over a fresh fake transport. */
async function toOpenSent(r: Rig): Promise<FakeTransport> {
  const t = new FakeTransport();
  r.session.start();
  r.connector.last.resolve(t);
  await flush();
  return t;
}

async function toEstablished(r: Rig, open: OpenMessage = peerOpen()): Promise<FakeTransport> {
  const t = await toOpenSent(r);
  t.receive(open);
  t.receive(KEEPALIVE);
  expect(r.session.state).toBe('Established');
  return t;
}

function notificationOf(t: FakeTransport): NotificationMessage {
  const m = t.last();
  if (m?.type !== MessageType.NOTIFICATION) throw new Error(`last message is ${m === undefined ? 'none' : MessageType[m.type]}`);
  return m;
}

function keepalivesSent(t: FakeTransport): number {
  return t.sentTypes().filter((x) => x === MessageType.KEEPALIVE).length;
}

/** An UPDATE announcing `count` distinct /32s: 5 bytes of NLRI each. */
function bigUpdate(count: number): UpdateMessage {
  const nlri = Array.from({ length: count }, (_, i) => ({ prefix: `10.${(i >> 8) & 255}.${i & 255}.1/32` }));
  return {
    type: MessageType.UPDATE,
    withdrawn: [],
    attributes: { origin: 0, asPath: [{ type: 'sequence', asns: [65002] }], nextHop: '192.0.2.2' },
    nlri,
  };
}

describe('Session: opening', () => {
  it('connects with the configured source address and sends our OPEN', async () => {
    const r = rig();
    r.session.start();
    expect(r.session.state).toBe('Connect');
    expect(r.connector.last.opts).toMatchObject({ host: '192.0.2.2', port: 179, localAddress: '192.0.2.1', timeoutMs: 5000 });
    const t = new FakeTransport();
    r.connector.last.resolve(t);
    await flush();
    expect(r.session.state).toBe('OpenSent');
    const open = t.sent()[0];
    expect(open).toMatchObject({ type: MessageType.OPEN, version: 4, myAs: 65001, holdTime: 90, bgpId: '10.0.0.1' });
  });

  it('goes OpenSent -> OpenConfirm -> Established and reports what was negotiated', async () => {
    const r = rig();
    const t = await toOpenSent(r);
    t.receive(peerOpen({ holdTime: 30 }));
    expect(r.session.state).toBe('OpenConfirm');
    expect(t.sentTypes()).toEqual([MessageType.OPEN, MessageType.KEEPALIVE]);
    t.receive(KEEPALIVE);
    expect(r.session.state).toBe('Established');
    expect(r.events.filter((e) => e.type === 'state-change').map((e) => e.type === 'state-change' && `${e.from}->${e.to}`)).toEqual([
      'Idle->Connect',
      'Connect->OpenSent',
      'OpenSent->OpenConfirm',
      'OpenConfirm->Established',
    ]);
    const est = r.events.find((e) => e.type === 'established');
    expect(est).toMatchObject({ negotiated: { holdTime: 30, keepaliveTime: 10, peerAs: 65002 } });
    expect(r.session.negotiated?.peerBgpId).toBe('10.0.0.2');
  });

  it('an incoming session sends OPEN at once', () => {
    const r = rig({}, { passive: true });
    const t = new FakeTransport();
    r.session.start(t);
    expect(r.session.state).toBe('OpenSent');
    expect(t.sentTypes()).toEqual([MessageType.OPEN]);
    expect(r.connector.attempts).toHaveLength(0);
  });

  it('retries the connection on the ConnectRetryTimer after a failure (Connect -> Active -> Connect)', async () => {
    const r = rig({ connectRetryTime: 3 });
    r.session.start();
    r.connector.last.reject(new Error('ECONNREFUSED'));
    await flush();
    expect(r.session.state).toBe('Active');
    r.clock.advance(2999);
    expect(r.connector.attempts).toHaveLength(1);
    r.clock.advance(1);
    expect(r.connector.attempts).toHaveLength(2);
    expect(r.session.state).toBe('Connect');
  });

  it('abandons a connection attempt that outlives the ConnectRetryTimer and starts another', () => {
    const r = rig({ connectRetryTime: 3 });
    r.session.start();
    const first = r.connector.last;
    r.clock.advance(3000);
    expect(first.opts.signal.aborted).toBe(true);
    expect(r.connector.attempts).toHaveLength(2);
    expect(r.session.state).toBe('Connect');
  });

  it('jitters the ConnectRetryTimer to between 0.75 and 1 of its value', async () => {
    const r = rig({ connectRetryTime: 4 }, { random: () => 0 });
    r.session.start();
    r.clock.advance(2999);
    expect(r.connector.attempts).toHaveLength(1);
    r.clock.advance(1);
    expect(r.connector.attempts).toHaveLength(2);
  });

  it('falls back to Active and retries when the TCP connection drops in OpenSent', async () => {
    const r = rig();
    const t = await toOpenSent(r);
    t.remoteClose();
    expect(r.session.state).toBe('Active');
    r.clock.advance(3000);
    expect(r.connector.attempts).toHaveLength(2);
  });
});

describe('Session: OPEN errors and unexpected messages', () => {
  it('answers a bad peer AS with NOTIFICATION 2/2 and closes', async () => {
    const r = rig();
    const t = await toOpenSent(r);
    t.receive(peerOpen({ myAs: 64999, capabilities: [] }));
    expect(notificationOf(t)).toMatchObject({ code: 2, subcode: 2 });
    expect(t.closeCalls).toBe(1);
    expect(r.session.state).toBe('Idle');
    expect(r.events.find((e) => e.type === 'down')).toMatchObject({ reason: { kind: 'notification-sent' } });
    expect(r.events.find((e) => e.type === 'notification-sent')).toMatchObject({ code: 2, subcode: 2 });
  });

  it('answers hold time 1 with 2/6', async () => {
    const r = rig();
    const t = await toOpenSent(r);
    t.receive(peerOpen({ holdTime: 1 }));
    expect(notificationOf(t)).toMatchObject({ code: 2, subcode: 6 });
  });

  it('answers a KEEPALIVE in OpenSent with NOTIFICATION 5/1 (RFC 6608)', async () => {
    const r = rig();
    const t = await toOpenSent(r);
    t.receive(KEEPALIVE);
    expect(notificationOf(t)).toMatchObject({ code: 5, subcode: 1 });
    expect(r.session.state).toBe('Idle');
  });

  it('answers an UPDATE in OpenConfirm with 5/2', async () => {
    const r = rig();
    const t = await toOpenSent(r);
    t.receive(peerOpen());
    t.receive(bigUpdate(1));
    expect(notificationOf(t)).toMatchObject({ code: 5, subcode: 2 });
  });

  it('answers a second OPEN in Established with 5/3', async () => {
    const r = rig();
    const t = await toEstablished(r);
    t.receive(peerOpen());
    expect(notificationOf(t)).toMatchObject({ code: 5, subcode: 3 });
  });

  it('answers a broken marker with 1/1 (Connection Not Synchronized)', async () => {
    const r = rig();
    const t = await toEstablished(r);
    const bad = encodeMessage(KEEPALIVE, DEFAULT_CODEC_OPTIONS);
    bad[3] = 0;
    t.receiveRaw(bad);
    expect(notificationOf(t)).toMatchObject({ code: 1, subcode: 1 });
    expect(r.session.state).toBe('Idle');
  });

  it('reports a received NOTIFICATION with its text and goes down', async () => {
    const r = rig();
    const t = await toEstablished(r);
    const data = Buffer.concat([Buffer.from([11]), Buffer.from('maintenance')]);
    t.receive({ type: MessageType.NOTIFICATION, code: 6, subcode: 2, data });
    const got = r.events.find((e) => e.type === 'notification-received');
    expect(got).toMatchObject({ code: 6, subcode: 2 });
    expect(got?.type === 'notification-received' && got.text).toContain('maintenance');
    expect(r.events.at(-1)).toMatchObject({ type: 'down', reason: { kind: 'notification-received' } });
    expect(t.closeCalls).toBe(1);
    // We do not answer a NOTIFICATION with one.
    expect(t.sentTypes()).not.toContain(MessageType.NOTIFICATION);
  });
});

describe('Session: timers', () => {
  it('sends KEEPALIVEs every third of the hold time', async () => {
    const r = rig();
    const t = await toEstablished(r);
    const before = keepalivesSent(t);
    r.clock.advance(29_999);
    expect(keepalivesSent(t)).toBe(before);
    t.receive(KEEPALIVE); // keep our hold timer happy
    r.clock.advance(1);
    expect(keepalivesSent(t)).toBe(before + 1);
    r.clock.advance(30_000);
    expect(keepalivesSent(t)).toBe(before + 2);
  });

  it('jitters keepalives down to three quarters of the interval', async () => {
    const r = rig({}, { random: () => 0 });
    const t = await toEstablished(r);
    const before = keepalivesSent(t);
    r.clock.advance(22_499);
    expect(keepalivesSent(t)).toBe(before);
    r.clock.advance(1);
    expect(keepalivesSent(t)).toBe(before + 1);
  });

  it('sends NOTIFICATION 4/0 and closes when the hold timer expires', async () => {
    const r = rig();
    const t = await toEstablished(r);
    r.clock.advance(89_999);
    expect(r.session.state).toBe('Established');
    r.clock.advance(1);
    const n = notificationOf(t);
    expect([n.code, n.subcode, n.data.length]).toEqual([4, 0, 0]);
    expect(t.closeCalls).toBe(1);
    expect(r.session.state).toBe('Idle');
    expect(r.events.at(-1)).toMatchObject({ type: 'down', reason: { kind: 'hold-timer-expired' } });
  });

  it('restarts the hold timer on every message received in Established', async () => {
    const r = rig();
    const t = await toEstablished(r);
    r.clock.advance(80_000);
    t.receive(KEEPALIVE);
    r.clock.advance(80_000);
    t.receive(bigUpdate(1));
    r.clock.advance(80_000);
    expect(r.session.state).toBe('Established');
    r.clock.advance(10_000);
    expect(r.session.state).toBe('Idle');
  });

  it('waits 240 s for the OPEN in OpenSent (RFC 4271 §8.2.2 large hold value)', async () => {
    const r = rig();
    const t = await toOpenSent(r);
    r.clock.advance(239_999);
    expect(r.session.state).toBe('OpenSent');
    r.clock.advance(1);
    expect(notificationOf(t)).toMatchObject({ code: 4, subcode: 0 });
  });

  it('sends no KEEPALIVE and keeps no hold timer when hold time 0 is negotiated', async () => {
    const r = rig();
    const t = await toEstablished(r, peerOpen({ holdTime: 0 }));
    const before = t.written.length;
    r.clock.advance(3_600_000);
    expect(t.written.length).toBe(before);
    expect(r.session.state).toBe('Established');
    expect(r.session.timerRunning('hold')).toBe(false);
  });

  it('uses hold 3 / keepalive 1 when the peer offers 3', async () => {
    const r = rig();
    const t = await toEstablished(r, peerOpen({ holdTime: 3 }));
    const before = keepalivesSent(t);
    r.clock.advance(1000);
    expect(keepalivesSent(t)).toBe(before + 1);
    r.clock.advance(2000);
    expect(r.session.state).toBe('Idle');
    expect(notificationOf(t)).toMatchObject({ code: 4, subcode: 0 });
  });
});

describe('Session: stop()', () => {
  it('sends Cease/2 with the RFC 8203 shutdown communication, then closes', async () => {
    const r = rig();
    const t = await toEstablished(r);
    r.session.stop({ text: 'planned maintenance' });
    const n = notificationOf(t);
    expect([n.code, n.subcode]).toEqual([6, CeaseSubcode.ADMINISTRATIVE_SHUTDOWN]);
    expect(n.data[0]).toBe('planned maintenance'.length);
    expect(n.data.subarray(1).toString('utf8')).toBe('planned maintenance');
    expect(t.closeCalls).toBe(1);
    expect(r.events.at(-1)).toMatchObject({ type: 'down', reason: { kind: 'stopped', notification: { code: 6, subcode: 2 } } });
  });

  it('sends Cease/3 without data when the peer was deconfigured', async () => {
    const r = rig();
    const t = await toEstablished(r);
    r.session.stop({ subcode: CeaseSubcode.PEER_DECONFIGURED, text: 'ignored for subcode 3' });
    const n = notificationOf(t);
    expect([n.code, n.subcode, n.data.length]).toEqual([6, 3, 0]);
  });

  it('cancels a pending connection attempt without sending anything', () => {
    const r = rig();
    r.session.start();
    r.session.stop();
    expect(r.connector.last.opts.signal.aborted).toBe(true);
    expect(r.session.state).toBe('Idle');
    expect(r.clock.pending).toBe(0);
  });

  it('can be called from an event listener', async () => {
    const r = rig();
    r.session.on('event', (e) => {
      if (e.type === 'established') r.session.stop({ text: 'bye' });
    });
    const t = await toOpenSent(r);
    t.receive(peerOpen());
    t.receive(KEEPALIVE);
    // The stop ran after the transition that triggered it had completed.
    expect(r.events.map((e) => e.type).slice(-4)).toEqual(['established', 'state-change', 'notification-sent', 'down']);
    expect(r.session.state).toBe('Idle');
    expect(notificationOf(t)).toMatchObject({ code: 6, subcode: 2 });
  });
});

describe('Session: UPDATEs', () => {
  it('emits decoded UPDATEs in Established', async () => {
    const r = rig();
    const t = await toEstablished(r);
    t.receive(bigUpdate(2));
    const u = r.events.find((e) => e.type === 'update');
    expect(u?.type === 'update' && u.message.nlri.map((n) => n.prefix)).toEqual(['10.0.0.1/32', '10.0.1.1/32']);
    expect(r.session.counters.updatesIn).toBe(1);
  });

  it('accepts messages above 4096 bytes only once Extended Message is negotiated (RFC 8654)', async () => {
    const ext = { code: CapabilityCode.EXTENDED_MESSAGE } as const;
    const opts: CodecOptions = { ...DEFAULT_CODEC_OPTIONS, fourOctetAs: true, extendedMessage: true };
    const big = encodeMessage(bigUpdate(1000), opts);
    expect(big.length).toBeGreaterThan(4096);

    const withExt = rig();
    const t1 = await toEstablished(withExt, peerOpen({}, [ext]));
    t1.receiveRaw(big);
    expect(withExt.session.state).toBe('Established');
    expect(withExt.events.filter((e) => e.type === 'update')).toHaveLength(1);

    const without = rig();
    const t2 = await toEstablished(without);
    t2.receiveRaw(big);
    expect(notificationOf(t2)).toMatchObject({ code: 1, subcode: 2 });
  });

  it('rejects sendUpdates before Established', async () => {
    const r = rig();
    await toOpenSent(r);
    await expect(r.session.sendUpdates([Buffer.alloc(19)])).rejects.toMatchObject({ code: SESSION_NOT_ESTABLISHED });
  });

  it('rejects an UPDATE larger than the negotiated maximum', async () => {
    const r = rig();
    await toEstablished(r);
    await expect(r.session.sendUpdates([Buffer.alloc(4097)])).rejects.toMatchObject({ code: MESSAGE_TOO_LONG });
  });

  it('honours write() === false: queues, lets KEEPALIVEs jump ahead, resumes on drain', async () => {
    const r = rig();
    const t = await toEstablished(r);
    const opts: CodecOptions = { ...DEFAULT_CODEC_OPTIONS, fourOctetAs: true };
    const u = [1, 2, 3].map((n) => encodeMessage(bigUpdate(n), opts));
    const start = t.written.length;
    t.accepting = false;
    let done = false;
    const p = r.session.sendUpdates(u).then(() => {
      done = true;
    });
    // The first write was taken (and reported the buffer full); the rest wait.
    expect(t.written.length).toBe(start + 1);
    t.receive(KEEPALIVE);
    r.clock.advance(30_000);
    const types = t.sent().slice(-2).map((m) => m.type);
    expect(types).toEqual([MessageType.UPDATE, MessageType.KEEPALIVE]);
    await flush();
    expect(done).toBe(false);
    t.drain();
    await p;
    expect(done).toBe(true);
    const sent = t.sent(opts).filter((m): m is UpdateMessage => m.type === MessageType.UPDATE);
    expect(sent.map((m) => m.nlri.length)).toEqual([1, 2, 3]);
    expect(r.session.counters.updatesOut).toBe(3);
  });

  it('resolves only when the transport has room again', async () => {
    const r = rig();
    const t = await toEstablished(r);
    t.accepting = false;
    let done = false;
    const p = r.session.sendUpdates([encodeMessage(bigUpdate(1), { ...DEFAULT_CODEC_OPTIONS, fourOctetAs: true })]).then(() => {
      done = true;
    });
    await flush();
    expect(done).toBe(false);
    t.drain();
    await p;
    expect(done).toBe(true);
  });

  it('rejects queued UPDATEs when the session goes down', async () => {
    const r = rig();
    const t = await toEstablished(r);
    t.accepting = false;
    const p = r.session.sendUpdates([Buffer.alloc(19), Buffer.alloc(19)]);
    t.remoteClose(new Error('ECONNRESET'));
    await expect(p).rejects.toMatchObject({ code: SESSION_CLOSED });
    expect(r.events.at(-1)).toMatchObject({ type: 'down', reason: { kind: 'connection-lost', detail: 'ECONNRESET' } });
  });
});

describe('Session: route refresh', () => {
  it('delivers ROUTE-REFRESH for a negotiated family and can request one', async () => {
    const r = rig();
    const t = await toEstablished(r);
    t.receive({ type: MessageType.ROUTE_REFRESH, afi: 1, safi: 1, subtype: 0 });
    expect(r.events.filter((e) => e.type === 'route-refresh')).toHaveLength(1);
    expect(r.session.requestRouteRefresh('ipv4-unicast')).toBe(true);
    expect(t.last()).toEqual({ type: MessageType.ROUTE_REFRESH, afi: 1, safi: 1, subtype: 0 });
    expect(r.session.requestRouteRefresh('ipv6-unicast' as Family)).toBe(false);
  });
});
