import type { PeerConfig } from '../../../src/bgp/session/config';
import type { PeerEvent } from '../../../src/bgp/session/events';
import { Peer } from '../../../src/bgp/session/peer';
import { SESSION_NOT_ESTABLISHED } from '../../../src/bgp/session/session';
import { type Capability, CapabilityCode, MessageType, type NotificationMessage, type OpenMessage } from '../../../src/bgp/wire';
import { FakeClock, FakeConnector, FakeTransport, flush, KEEPALIVE, peerOpen } from './helpers';

interface Rig {
  peer: Peer;
  clock: FakeClock;
  connector: FakeConnector;
  events: PeerEvent[];
}

function rig(config: Partial<PeerConfig> = {}, random: () => number = () => 0): Rig {
  const clock = new FakeClock();
  const connector = new FakeConnector();
  const peer = new Peer(
    { address: '192.0.2.2', peerAs: 65002, gracefulRestart: false, ...config },
    { speaker: { localAs: 65001, routerId: '10.0.0.1' }, clock, connector: connector.connector, random },
  );
  const events: PeerEvent[] = [];
  peer.on('event', (e) => events.push(e));
  return { peer, clock, connector, events };
}

const GR: Capability = {
  code: CapabilityCode.GRACEFUL_RESTART,
  restarting: false,
  notification: false,
  restartTime: 120,
  families: [{ afi: 1, safi: 1, forwarding: true }],
};

/** Let the connect delay pass and complete the outgoing TCP connection. */
async function connectOut(r: Rig): Promise<FakeTransport> {
  r.clock.advance(1000);
  const t = new FakeTransport('192.0.2.2', 179, '192.0.2.1', 40000 + r.connector.attempts.length);
  r.connector.last.resolve(t);
  await flush();
  return t;
}

function accept(r: Rig, port = 50000): FakeTransport {
  const t = new FakeTransport('192.0.2.2', port, '192.0.2.1', 179);
  r.peer.acceptConnection(t);
  return t;
}

function establish(t: FakeTransport, open: OpenMessage = peerOpen()): void {
  t.receive(open);
  t.receive(KEEPALIVE);
}

function lastNotification(t: FakeTransport): NotificationMessage | undefined {
  const m = t.last();
  return m?.type === MessageType.NOTIFICATION ? m : undefined;
}

/** Let time pass on an established session while the peer keeps sending KEEPALIVEs. */
function advanceAlive(r: Rig, t: FakeTransport, ms: number): void {
  for (let left = ms; left > 0; left -= 10_000) {
    r.clock.advance(Math.min(10_000, left));
    t.receive(KEEPALIVE);
  }
}

const CEASE_ADMIN: NotificationMessage = { type: MessageType.NOTIFICATION, code: 6, subcode: 2, data: Buffer.alloc(0) };

describe('Peer: starting', () => {
  it('connects after the connect delay (Calico: 1 s) from the source address', async () => {
    const r = rig({ sourceAddress: '192.0.2.1' });
    r.peer.start();
    expect(r.peer.state).toBe('Active');
    r.clock.advance(999);
    expect(r.connector.attempts).toHaveLength(0);
    r.clock.advance(1);
    expect(r.connector.attempts).toHaveLength(1);
    expect(r.connector.last.opts).toMatchObject({ host: '192.0.2.2', port: 179, localAddress: '192.0.2.1' });
    expect(r.peer.state).toBe('Connect');
  });

  it('a passive peer never connects, and establishes when the peer connects', () => {
    const r = rig({ passive: true });
    r.peer.start();
    r.clock.advance(3_600_000);
    expect(r.connector.attempts).toHaveLength(0);
    expect(r.peer.state).toBe('Active');
    const t = accept(r);
    expect(t.sentTypes()).toEqual([MessageType.OPEN]);
    establish(t);
    expect(r.peer.state).toBe('Established');
    expect(r.peer.status().connection).toEqual({
      direction: 'incoming',
      localAddress: '192.0.2.1',
      localPort: 179,
      remoteAddress: '192.0.2.2',
      remotePort: 50000,
    });
  });

  it('reports the peer state as it climbs, with since = when it entered it', async () => {
    const r = rig();
    r.peer.start();
    const t = await connectOut(r);
    establish(t);
    const changes = r.events.flatMap((e) => (e.type === 'peer-state-change' ? [`${e.from}->${e.to}`] : []));
    expect(changes).toEqual(['Idle->Active', 'Active->Connect', 'Connect->OpenSent', 'OpenSent->OpenConfirm', 'OpenConfirm->Established']);
    expect(r.peer.since).toBe(r.clock.now());
    expect(r.peer.negotiated?.peerBgpId).toBe('10.0.0.2');
  });

  it('does nothing when disabled, and refuses the peer with Cease/5', () => {
    const r = rig({ enabled: false });
    r.peer.start();
    r.clock.advance(60_000);
    expect(r.connector.attempts).toHaveLength(0);
    expect(r.peer.state).toBe('Idle');
    const t = accept(r);
    expect(lastNotification(t)).toMatchObject({ code: 6, subcode: 5 });
    expect(t.closeCalls).toBe(1);
    expect(r.events.at(-1)).toMatchObject({ type: 'connection-refused', reason: 'peer is disabled' });
  });

  it('retries refused connections on the connect retry time without an error wait', async () => {
    const r = rig({ connectRetryTime: 3 });
    r.peer.start();
    r.clock.advance(1000);
    r.connector.last.reject(new Error('ECONNREFUSED'));
    await flush();
    expect(r.peer.state).toBe('Active');
    r.clock.advance(2250); // 0.75 x 3 s with random() = 0
    expect(r.connector.attempts).toHaveLength(2);
    expect(r.peer.status().lastError).toBeUndefined();
  });

  it('counts messages over the life of the peer', async () => {
    const r = rig();
    r.peer.start();
    const t = await connectOut(r);
    establish(t);
    expect(r.peer.status().counters).toMatchObject({ messagesIn: 2, messagesOut: 2, keepalivesIn: 1, keepalivesOut: 1 });
    t.receive(CEASE_ADMIN);
    expect(r.peer.status().counters).toMatchObject({ messagesIn: 3, notificationsIn: 1 });
  });
});

describe('Peer: connection collisions (RFC 4271 §6.8)', () => {
  it('keeps the outgoing connection when our BGP identifier is higher; the incoming one gets Cease/7', async () => {
    const r = rig();
    r.peer.start();
    const out = await connectOut(r);
    const inc = accept(r);
    const open = peerOpen({ bgpId: '9.9.9.9' });
    inc.receive(open);
    expect(lastNotification(inc)).toMatchObject({ code: 6, subcode: 7 });
    expect(inc.closeCalls).toBe(1);
    expect(lastNotification(out)).toBeUndefined();
    expect(r.events.find((e) => e.type === 'collision')).toMatchObject({ kept: 'outgoing' });
    establish(out, open);
    expect(r.peer.state).toBe('Established');
    expect(r.peer.status().connection).toMatchObject({ direction: 'outgoing', localPort: out.localPort });
  });

  it('keeps the incoming connection when the peer identifier is higher (compared unsigned); the outgoing one gets Cease/7', async () => {
    const r = rig();
    r.peer.start();
    const out = await connectOut(r);
    const inc = accept(r);
    const open = peerOpen({ bgpId: '200.0.0.1' });
    out.receive(open);
    expect(lastNotification(out)).toMatchObject({ code: 6, subcode: 7 });
    expect(out.closeCalls).toBe(1);
    expect(r.events.find((e) => e.type === 'collision')).toMatchObject({ kept: 'incoming' });
    establish(inc, open);
    expect(r.peer.state).toBe('Established');
    expect(r.peer.status().connection).toMatchObject({ direction: 'incoming', remotePort: inc.remotePort });
    // The loser's end is reported as the end of a connection that never was the session.
    expect(r.events.filter((e) => e.type === 'down').map((e) => 'direction' in e && [e.direction, e.established])).toEqual([['outgoing', false]]);
    // The collision was no error: no error wait, no new outgoing attempt.
    advanceAlive(r, inc, 600_000);
    expect(r.peer.state).toBe('Established');
    expect(r.connector.attempts).toHaveLength(1);
    expect(r.peer.status().lastError).toBeUndefined();
  });

  it('an established session wins over a new incoming connection', async () => {
    const r = rig();
    r.peer.start();
    const out = await connectOut(r);
    establish(out);
    const inc = accept(r);
    inc.receive(peerOpen());
    expect(lastNotification(inc)).toMatchObject({ code: 6, subcode: 7 });
    expect(r.peer.state).toBe('Established');
    expect(out.closeCalls).toBe(0);
  });

  it('lets a restarted graceful-restart peer replace its established session (RFC 4724 §4.2)', async () => {
    const r = rig({ gracefulRestart: { restartTime: 120 } });
    r.peer.start();
    const out = await connectOut(r);
    establish(out, peerOpen({}, [GR]));
    const inc = accept(r);
    inc.receive(peerOpen({}, [GR]));
    expect(out.closeCalls).toBe(1);
    expect(lastNotification(out)).toBeUndefined();
    inc.receive(KEEPALIVE);
    expect(r.peer.state).toBe('Established');
    expect(r.peer.status().connection?.remotePort).toBe(inc.remotePort);
    expect(r.peer.status().errorWaitUntil).toBeUndefined();
  });

  it('of two incoming connections keeps the newer one (the peer abandoned the first)', () => {
    const r = rig({ passive: true });
    r.peer.start();
    const first = accept(r, 50001);
    const second = accept(r, 50002);
    second.receive(peerOpen());
    expect(lastNotification(first)).toMatchObject({ code: 6, subcode: 7 });
    second.receive(KEEPALIVE);
    expect(r.peer.status().connection).toMatchObject({ remotePort: 50002 });
  });

  it('takes a Cease/7 from the peer as its collision resolution, not as an error', async () => {
    const r = rig();
    r.peer.start();
    const out = await connectOut(r);
    const inc = accept(r);
    out.receive({ type: MessageType.NOTIFICATION, code: 6, subcode: 7, data: Buffer.alloc(0) });
    expect(r.peer.status().errorWaitUntil).toBeUndefined();
    expect(r.peer.status().lastError).toBeUndefined();
    establish(inc);
    expect(r.peer.state).toBe('Established');
  });

  it('reconnects on the connect retry time after a Cease/7 that left no connection', async () => {
    const r = rig({ connectRetryTime: 3 });
    r.peer.start();
    const out = await connectOut(r);
    out.receive({ type: MessageType.NOTIFICATION, code: 6, subcode: 7, data: Buffer.alloc(0) });
    expect(r.peer.status().errorWaitUntil).toBeUndefined();
    r.clock.advance(2999);
    expect(r.connector.attempts).toHaveLength(1);
    r.clock.advance(1);
    expect(r.connector.attempts).toHaveLength(2);
  });

  it('stops the outgoing attempt once the incoming connection is established', async () => {
    const r = rig();
    r.peer.start();
    r.clock.advance(1000);
    const attempt = r.connector.last;
    const inc = accept(r);
    establish(inc);
    expect(attempt.opts.signal.aborted).toBe(true);
    expect(r.peer.state).toBe('Established');
  });
});

describe('Peer: error wait', () => {
  it('after a Cease, waits 5 s doubling to 60 s before reconnecting, and refuses the peer meanwhile', async () => {
    const r = rig();
    r.peer.start();
    let t = await connectOut(r);
    const waits: number[] = [];
    for (const expected of [5, 10, 20, 40, 60, 60]) {
      establish(t);
      t.receive(CEASE_ADMIN);
      expect(r.peer.state).toBe('Idle');
      const attempts = r.connector.attempts.length;
      r.clock.advance(expected * 1000 - 1);
      expect(r.connector.attempts).toHaveLength(attempts);
      if (expected === 5) {
        const knock = accept(r, 50123);
        expect(lastNotification(knock)).toMatchObject({ code: 6, subcode: 5 });
        expect(r.events.at(-1)).toMatchObject({ type: 'connection-refused', remotePort: 50123 });
      }
      r.clock.advance(1);
      expect(r.connector.attempts).toHaveLength(attempts + 1);
      t = new FakeTransport();
      r.connector.last.resolve(t);
      await flush();
      waits.push(...r.events.flatMap((e) => (e.type === 'error-wait' ? [e.seconds] : [])).slice(waits.length));
    }
    expect(waits).toEqual([5, 10, 20, 40, 60, 60]);
    expect(r.peer.status().lastError?.reason).toMatchObject({ kind: 'notification-received', notification: { code: 6, subcode: 2 } });
  });

  it('a passive peer waits too, then accepts again without ever connecting', () => {
    const r = rig({ passive: true });
    r.peer.start();
    const t = accept(r);
    establish(t);
    t.receive(CEASE_ADMIN);
    expect(lastNotification(accept(r, 50001))).toMatchObject({ code: 6, subcode: 5 });
    r.clock.advance(5000);
    expect(r.peer.state).toBe('Active');
    const again = accept(r, 50002);
    establish(again);
    expect(r.peer.state).toBe('Established');
    expect(r.connector.attempts).toHaveLength(0);
  });

  it('takes Cease/5 (Connection Rejected) as "try later": retries on the connect-retry time, with no error wait', async () => {
    const r = rig();
    r.peer.start();
    const t = await connectOut(r);
    t.receive({ type: MessageType.NOTIFICATION, code: 6, subcode: 5, data: Buffer.alloc(0) });
    expect(r.events.some((e) => e.type === 'error-wait')).toBe(false);
    // Connect retry (3 s default), not the 5 s error wait: two peers refusing each other in turn still meet.
    r.clock.advance(2999);
    expect(r.connector.attempts).toHaveLength(1);
    r.clock.advance(1);
    expect(r.connector.attempts).toHaveLength(2);
    expect(r.peer.status().lastError?.text).toContain('Connection Rejected');
  });

  it('adds up to 20% jitter to the wait, never less than the minimum', async () => {
    const r = rig({}, () => 0.999);
    r.peer.start();
    const t = await connectOut(r);
    establish(t);
    t.receive(CEASE_ADMIN);
    // 5 s x (1 + 0.2 x 0.999) = 5.999 s
    r.clock.advance(5998);
    expect(r.connector.attempts).toHaveLength(1);
    r.clock.advance(1);
    expect(r.connector.attempts).toHaveLength(2);
  });

  it('forgets past errors after the error forget time (BIRD: 300 s)', async () => {
    const r = rig();
    r.peer.start();
    let t = await connectOut(r);
    establish(t);
    t.receive(CEASE_ADMIN);
    r.clock.advance(5000);
    t = new FakeTransport();
    r.connector.last.resolve(t);
    await flush();
    establish(t);
    advanceAlive(r, t, 400_000);
    t.receive(CEASE_ADMIN);
    expect(r.events.filter((e) => e.type === 'error-wait').map((e) => e.type === 'error-wait' && e.seconds)).toEqual([5, 5]);
  });

  it('also waits after an OPEN we refused (bad peer AS)', async () => {
    const r = rig();
    r.peer.start();
    const t = await connectOut(r);
    t.receive(peerOpen({ myAs: 64999, capabilities: [] }));
    expect(lastNotification(t)).toMatchObject({ code: 2, subcode: 2 });
    expect(r.peer.status().errorWaitUntil).toBe(r.clock.now() + 5000);
    r.clock.advance(4999);
    expect(r.connector.attempts).toHaveLength(1);
  });

  it('after hold timer expiry sends 4/0 and waits', async () => {
    const r = rig();
    r.peer.start();
    const t = await connectOut(r);
    establish(t);
    r.clock.advance(90_000);
    expect(lastNotification(t)).toMatchObject({ code: 4, subcode: 0 });
    expect(r.peer.status().lastError?.text).toBe('hold timer expired');
    expect(r.peer.status().errorWaitUntil).toBeDefined();
  });
});

describe('Peer: stop()', () => {
  it('sends Cease/2 with the shutdown communication and does not come back', async () => {
    const r = rig();
    r.peer.start();
    const t = await connectOut(r);
    establish(t);
    r.peer.stop({ text: 'rolling upgrade' });
    const n = lastNotification(t);
    expect(n).toMatchObject({ code: 6, subcode: 2 });
    expect(n?.data.subarray(1).toString()).toBe('rolling upgrade');
    expect(r.peer.state).toBe('Idle');
    r.clock.advance(3_600_000);
    expect(r.connector.attempts).toHaveLength(1);
    expect(lastNotification(accept(r))).toMatchObject({ code: 6, subcode: 5 });
    expect(r.peer.status().lastError).toBeUndefined();
  });

  it('sends Cease/3 when the peer was deconfigured', async () => {
    const r = rig();
    r.peer.start();
    const t = await connectOut(r);
    establish(t);
    r.peer.stop({ deconfigured: true });
    expect(lastNotification(t)).toMatchObject({ code: 6, subcode: 3 });
  });

  it('can start again after a stop', async () => {
    const r = rig();
    r.peer.start();
    const t = await connectOut(r);
    establish(t);
    r.peer.stop();
    r.peer.start();
    const t2 = await connectOut(r);
    establish(t2);
    expect(r.peer.state).toBe('Established');
  });

  it('refuses to send UPDATEs when not established', async () => {
    const r = rig();
    await expect(r.peer.sendUpdates([Buffer.alloc(19)])).rejects.toMatchObject({ code: SESSION_NOT_ESTABLISHED });
  });
});

describe('Peer: configuration', () => {
  it.each([
    [{ address: 'not-an-ip' }, /address/],
    [{ holdTime: 2 }, /holdTime/],
    [{ peerAs: 0 }, /peerAs/],
    [{ sourceAddress: '2001:db8::1' }, /sourceAddress/],
    [{ errorWaitTime: [60, 5] as [number, number] }, /errorWaitTime/],
    [{ addPath: { 'ipv6-unicast': 'both' as const } }, /addPath/],
    [{ gracefulRestart: false as const, requireCapabilities: ['graceful-restart' as const] }, /requireCapabilities/],
  ])('rejects %o', (bad, field) => {
    expect(() => rig(bad)).toThrow(field);
    try {
      rig(bad);
    } catch (err) {
      expect(err).toMatchObject({ code: 'BGP_PEER_CONFIG_INVALID' });
    }
  });

  it('defaults: port 179, hold 90, connect retry 3, error wait 5..60, family of the address', () => {
    const { peer } = rig({ gracefulRestart: undefined });
    expect(peer.config).toMatchObject({
      port: 179,
      passive: false,
      connectDelayTime: 1,
      errorWaitMin: 5,
      errorWaitMax: 60,
      errorForgetTime: 300,
      session: {
        holdTime: 90,
        connectRetryTime: 3,
        families: ['ipv4-unicast'],
        gracefulRestart: { restartTime: 120, forwarding: false, restarting: false },
        extendedMessage: true,
      },
    });
    const v6 = new Peer({ address: '2001:db8::2', peerAs: 65002 }, { speaker: { localAs: 65001, routerId: '10.0.0.1' } });
    expect(v6.config.session.families).toEqual(['ipv6-unicast']);
  });

  it('a per-peer local AS overrides the speaker AS', async () => {
    const r = rig({ localAs: 4200000001 });
    r.peer.start();
    const t = await connectOut(r);
    expect(t.sent()[0]).toMatchObject({ myAs: 23456 });
  });
});
