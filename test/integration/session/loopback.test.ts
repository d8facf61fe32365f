/**
 * Two Tartan speakers in one process over real TCP on loopback: session
 * establishment, KEEPALIVE exchange, shutdown communication, collision
 * resolution and refusal of unconfigured sources.
 *
 * 127.0.0.0/8 is all loopback on Linux, so each speaker gets its own address
 * (127.0.0.1 and 127.0.0.3) and the listener can tell them apart; listeners
 * bind ephemeral ports. Hold time 3 s keeps each test to a few seconds.
 */

import { connect } from 'node:net';
import { Listener, type ListenerEvent, Peer, type PeerConfig, type PeerEvent } from '../../../src/bgp/session';
import { decodeMessage, DEFAULT_CODEC_OPTIONS, MessageFramer, MessageType, type BgpMessage } from '../../../src/bgp/wire';
import { waitFor as harnessWaitFor } from '../harness';

interface Speaker {
  peer: Peer;
  listener: Listener;
  events: PeerEvent[];
}

const started: Speaker[] = [];

afterEach(async () => {
  for (const s of started.splice(0)) {
    s.peer.stop();
    await s.listener.close();
  }
});

/** Poll until `cond` holds (the harness's waitFor; a deadline, not an assertion on speed). */
async function waitFor(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  await harnessWaitFor(cond, { what, timeoutMs, intervalMs: 20 });
}

async function listen(host: string): Promise<{ listener: Listener; port: number }> {
  const listener = new Listener({ host, port: 0 });
  const { port } = await listener.listen();
  return { listener, port };
}

function speaker(
  listener: Listener,
  local: { as: number; routerId: string; address: string },
  remote: { as: number; address: string; port: number },
  extra: Partial<PeerConfig> = {},
): Speaker {
  const peer = new Peer(
    {
      address: remote.address,
      port: remote.port,
      peerAs: remote.as,
      sourceAddress: local.address,
      holdTime: 3,
      connectDelayTime: 0,
      connectRetryTime: 1,
      ...extra,
    },
    { speaker: { localAs: local.as, routerId: local.routerId } },
  );
  listener.addPeer(peer);
  const events: PeerEvent[] = [];
  peer.on('event', (e) => events.push(e));
  const s = { peer, listener, events };
  started.push(s);
  return s;
}

/** Two speakers, A (AS 65001, 10.0.0.1) and B (AS 65002, 10.0.0.2), on the given addresses. */
async function pair(
  addrA: string,
  addrB: string,
  extraA: Partial<PeerConfig> = {},
  extraB: Partial<PeerConfig> = {},
): Promise<{ a: Speaker; b: Speaker }> {
  const la = await listen(addrA);
  const lb = await listen(addrB);
  const a = speaker(la.listener, { as: 65001, routerId: '10.0.0.1', address: addrA }, { as: 65002, address: addrB, port: lb.port }, extraA);
  const b = speaker(lb.listener, { as: 65002, routerId: '10.0.0.2', address: addrB }, { as: 65001, address: addrA, port: la.port }, extraB);
  return { a, b };
}

async function establishAndStop(addrA: string, addrB: string): Promise<void> {
  const { a, b } = await pair(addrA, addrB, {}, { passive: true });
  b.peer.start();
  a.peer.start();
  await waitFor(() => a.peer.state === 'Established' && b.peer.state === 'Established', 'both sides Established');

  const na = a.peer.negotiated;
  expect(na).toMatchObject({ peerAs: 65002, peerBgpId: '10.0.0.2', holdTime: 3, keepaliveTime: 1, fourOctetAs: true });
  expect(b.peer.negotiated).toMatchObject({ peerAs: 65001, peerBgpId: '10.0.0.1' });
  const ca = a.peer.status().connection;
  const cb = b.peer.status().connection;
  expect(ca).toMatchObject({ localAddress: addrA, remoteAddress: addrB });
  expect(ca?.direction).toBe('outgoing');
  expect(cb).toEqual({ direction: 'incoming', localAddress: addrB, localPort: ca?.remotePort, remoteAddress: addrA, remotePort: ca?.localPort });

  // KEEPALIVEs every second keep both hold timers (3 s) fed.
  const kaA = a.peer.status().counters.keepalivesIn;
  const kaB = b.peer.status().counters.keepalivesIn;
  await waitFor(
    () => a.peer.status().counters.keepalivesIn >= kaA + 3 && b.peer.status().counters.keepalivesIn >= kaB + 3,
    'three more KEEPALIVEs each way',
  );
  expect([a.peer.state, b.peer.state]).toEqual(['Established', 'Established']);

  a.peer.stop({ text: 'maintenance window' });
  await waitFor(() => b.events.some((e) => e.type === 'notification-received'), 'B to receive the Cease');
  const got = b.events.find((e) => e.type === 'notification-received');
  expect(got).toMatchObject({ code: 6, subcode: 2 });
  expect(got?.type === 'notification-received' && got.text).toContain('maintenance window');
  await waitFor(() => b.peer.state !== 'Established', 'B to leave Established');
  expect(b.peer.status().lastError?.reason).toMatchObject({ kind: 'notification-received' });
  expect(a.peer.state).toBe('Idle');
}

describe('loopback sessions', () => {
  it('IPv4: establishes, exchanges KEEPALIVEs, and delivers the shutdown communication', async () => {
    await establishAndStop('127.0.0.1', '127.0.0.3');
  });

  it('IPv6 (::1): establishes, exchanges KEEPALIVEs, and delivers the shutdown communication', async () => {
    await establishAndStop('::1', '::1');
  });

  it('both sides active: the collision resolves to exactly one session', async () => {
    const { a, b } = await pair('127.0.0.1', '127.0.0.3');
    a.peer.start();
    b.peer.start();
    await waitFor(() => a.peer.state === 'Established' && b.peer.state === 'Established', 'both sides Established');
    // Both connected to each other: one connection must have been closed with Cease/7.
    const all = [...a.events, ...b.events];
    expect(all).toContainEqual(expect.objectContaining({ type: 'notification-sent', code: 6, subcode: 7 }));
    const ca = a.peer.status().connection;
    const cb = b.peer.status().connection;
    expect(ca).toBeDefined();
    // The one session is the same TCP connection seen from both ends.
    expect(cb).toMatchObject({ localAddress: '127.0.0.3', localPort: ca?.remotePort, remoteAddress: '127.0.0.1', remotePort: ca?.localPort });
    expect(cb?.direction).not.toBe(ca?.direction);
    const collisions = all.filter((e) => e.type === 'collision');
    expect(collisions.length).toBeGreaterThanOrEqual(1);
    if (collisions.every((c) => c.type === 'collision' && /identifier is higher/.test(c.reason))) {
      // RFC 4271 §6.8: B (10.0.0.2) has the higher identifier, so B's connection survives.
      expect([ca?.direction, cb?.direction]).toEqual(['incoming', 'outgoing']);
    }
    // It stays single: no error wait, same connection after more KEEPALIVEs.
    const ka = a.peer.status().counters.keepalivesIn;
    await waitFor(() => a.peer.status().counters.keepalivesIn >= ka + 2, 'two more KEEPALIVEs');
    expect(a.peer.status().connection).toEqual(ca);
    expect(b.peer.status().connection).toEqual(cb);
    expect(a.peer.status().errorWaitUntil).toBeUndefined();
    expect(b.peer.status().errorWaitUntil).toBeUndefined();
  });

  it('refuses a connection from an unconfigured source with Cease/5', async () => {
    const { listener, port } = await listen('127.0.0.1');
    const s = speaker(listener, { as: 65001, routerId: '10.0.0.1', address: '127.0.0.1' }, { as: 65002, address: '127.0.0.3', port: 1 }, { passive: true });
    s.peer.start();
    const seen: ListenerEvent[] = [];
    listener.on('event', (e) => seen.push(e));

    const received = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', reject);
      socket.on('close', () => resolve(Buffer.concat(chunks)));
    });
    const messages: BgpMessage[] = new MessageFramer().push(received).map((raw) => decodeMessage(raw, DEFAULT_CODEC_OPTIONS));
    expect(messages).toEqual([{ type: MessageType.NOTIFICATION, code: 6, subcode: 5, data: Buffer.alloc(0) }]);
    expect(seen).toContainEqual(expect.objectContaining({ type: 'rejected', remoteAddress: '127.0.0.2' }));
    expect(s.peer.state).toBe('Active');
  });
});
