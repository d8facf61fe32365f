/**
 * TCP-MD5 (RFC 2385) and GTSM (RFC 5082) on real sockets over loopback, in
 * this process: the socket-option layer (src/netsock) and the session
 * layer's listener and connector using it. Interop with BIRD is in
 * tcp-md5.test.ts and ttl-security.test.ts.
 *
 * What the kernel drops is read from its counters (TcpExt TCPMD5Failure,
 * TCPMD5NotFound), not inferred from a timeout. Addresses 127.0.0.2x keep
 * clear of the other loopback tests.
 */
import { connect, createServer, Socket, type Server } from 'node:net';
import { Listener, type ListenerEvent, Peer, type PeerConfig } from '../../../src/bgp/session';
import { decodeMessage, DEFAULT_CODEC_OPTIONS, MessageFramer, MessageType } from '../../../src/bgp/wire';
import { AF_INET, fdOf, openSecuredSocket, raiseListenerTtl, setMd5Key, setTtlSecurity, SockoptError, SOCKOPT_FAILED, ttlOf } from '../../../src/netsock';
import { tcpExt, waitFor } from '../harness';

const KEY = Buffer.from('loopback-md5-key');
const cleanup: (() => unknown)[] = [];

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** A plain node:net server; with `gtsm`, it answers with TTL 255 as the BGP listener does for TTL-security peers. */
async function server(host: string, gtsm = false): Promise<{ server: Server; port: number; accepted: Socket[] }> {
  const accepted: Socket[] = [];
  const s = createServer((sock) => {
    accepted.push(sock);
    if (gtsm) setTtlSecurity(fdOf(sock), sock.remoteAddress ?? '', 1);
    sock.write('hello');
  });
  await new Promise<void>((resolve) => s.listen({ host, port: 0 }, resolve));
  if (gtsm) raiseListenerTtl(fdOf(s), AF_INET);
  cleanup.push(() => new Promise<void>((r) => { for (const a of accepted) a.destroy(); s.close(() => r()); }));
  return { server: s, port: (s.address() as { port: number }).port, accepted };
}

/** A connection from `from` made by src/netsock with these protections. */
function securedClient(to: string, port: number, from: string, security: { tcpMd5Key?: Buffer; ttlSecurity?: number }): { socket: Socket; fd: number } {
  const fd = openSecuredSocket(to, security);
  const socket = new Socket({ fd });
  socket.on('error', () => undefined);
  socket.connect({ host: to, port, localAddress: from });
  cleanup.push(() => socket.destroy());
  return { socket, fd };
}

describe('socket options (src/netsock) on loopback', () => {
  it('a socket with the key and GTSM connects to a listener holding the key; its options read back', async () => {
    const { server: srv, port, accepted } = await server('127.0.0.21', true);
    setMd5Key(fdOf(srv), AF_INET, '127.0.0.22', KEY);
    const { socket, fd } = securedClient('127.0.0.21', port, '127.0.0.22', { tcpMd5Key: KEY, ttlSecurity: 1 });
    const got: Buffer[] = [];
    socket.on('data', (c: Buffer) => got.push(c));
    await waitFor(() => Buffer.concat(got).toString() === 'hello', { what: 'bytes over the signed connection' });
    expect(accepted).toHaveLength(1);
    expect(ttlOf(fd, '127.0.0.21')).toEqual({ ttl: 255, minTtl: 255 });
    expect(ttlOf(fdOf(accepted[0]!), '127.0.0.22')).toEqual({ ttl: 255, minTtl: 255 });
    // Back to the defaults: no minimum, the system TTL (64 unless tuned).
    setTtlSecurity(fdOf(accepted[0]!), '127.0.0.22', undefined);
    expect(ttlOf(fdOf(accepted[0]!), '127.0.0.22').minTtl).toBe(0);
    expect(ttlOf(fdOf(accepted[0]!), '127.0.0.22').ttl).not.toBe(255);
    // GTSM with 3 hops: accept TTL 253 and more (RFC 5082 §3, BIRD multihop 3).
    const far = securedClient('127.0.0.21', port, '127.0.0.24', { ttlSecurity: 3 });
    expect(ttlOf(far.fd, '127.0.0.21')).toEqual({ ttl: 255, minTtl: 253 });
  });

  it('a wrong key never completes the handshake: the listener\'s kernel counts TCPMD5Failure', async () => {
    const { server: srv, port, accepted } = await server('127.0.0.21');
    setMd5Key(fdOf(srv), AF_INET, '127.0.0.22', KEY);
    const before = await tcpExt(undefined, 'TCPMD5Failure');
    const { socket } = securedClient('127.0.0.21', port, '127.0.0.22', { tcpMd5Key: Buffer.from('not-the-key') });
    await waitFor(async () => (await tcpExt(undefined, 'TCPMD5Failure')) > before, { what: 'the kernel to drop a wrongly signed SYN' });
    expect(socket.connecting).toBe(true);
    expect(accepted).toHaveLength(0);
  });

  it('errno becomes a TartanError with the errno name', () => {
    let err: unknown;
    try {
      setMd5Key(1_000_000, AF_INET, '127.0.0.22', KEY);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SockoptError);
    expect(err).toMatchObject({ code: SOCKOPT_FAILED, errno: 'EBADF' });
    expect((err as Error).message).toMatch(/^TCP_MD5SIG set for 127\.0\.0\.22: EBADF/);
  });
});

function bgpPeer(local: { as: number; routerId: string; address: string }, remote: { as: number; address: string; port: number }, extra: Partial<PeerConfig>): Peer {
  const peer = new Peer(
    { address: remote.address, port: remote.port, peerAs: remote.as, sourceAddress: local.address, holdTime: 3, connectDelayTime: 0, connectRetryTime: 1, ...extra },
    { speaker: { localAs: local.as, routerId: local.routerId } },
  );
  cleanup.push(() => peer.stop());
  return peer;
}

async function bgpListener(host: string): Promise<{ listener: Listener; port: number; events: ListenerEvent[] }> {
  const listener = new Listener({ host, port: 0 });
  const events: ListenerEvent[] = [];
  listener.on('event', (e) => events.push(e));
  const { port } = await listener.listen();
  cleanup.push(() => listener.close());
  return { listener, port, events };
}

describe('session layer with TCP-MD5 and TTL security on loopback', () => {
  it('two speakers with the same key and GTSM reach Established, over an outgoing and an accepted connection', async () => {
    const la = await bgpListener('127.0.0.25');
    const lb = await bgpListener('127.0.0.26');
    const security = { tcpMd5Key: KEY, ttlSecurity: 1 };
    const a = bgpPeer({ as: 65001, routerId: '10.0.0.1', address: '127.0.0.25' }, { as: 65002, address: '127.0.0.26', port: lb.port }, security);
    const b = bgpPeer({ as: 65002, routerId: '10.0.0.2', address: '127.0.0.26' }, { as: 65001, address: '127.0.0.25', port: la.port }, { ...security, passive: true });
    la.listener.addPeer(a);
    lb.listener.addPeer(b);
    b.start();
    a.start();
    await waitFor(() => a.state === 'Established' && b.state === 'Established', { what: 'both sides Established' });
    expect(b.status().connection?.direction).toBe('incoming');
    expect(lb.events.filter((e) => e.type === 'error')).toEqual([]);
  });

  it('keys follow addPeer/removePeer at run time: unsigned connections are dropped while a keyed peer is configured', async () => {
    const { listener, port } = await bgpListener('127.0.0.25');
    // Added after listen(): the key goes onto the live listening socket.
    const keyed = bgpPeer({ as: 65001, routerId: '10.0.0.1', address: '127.0.0.25' }, { as: 65002, address: '127.0.0.27', port: 1 }, { tcpMd5Key: KEY, passive: true });
    listener.addPeer(keyed);
    keyed.start();

    const before = await tcpExt(undefined, 'TCPMD5NotFound');
    const unsigned = connect({ host: '127.0.0.25', port, localAddress: '127.0.0.27' });
    unsigned.on('error', () => undefined);
    cleanup.push(() => unsigned.destroy());
    await waitFor(async () => (await tcpExt(undefined, 'TCPMD5NotFound')) > before, { what: 'the kernel to drop an unsigned SYN from a keyed address' });
    expect(unsigned.connecting).toBe(true);
    unsigned.destroy();

    // Peer gone, key gone: the same unsigned connection now reaches BGP and is refused with Cease/5.
    listener.removePeer(keyed);
    const received = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const s = connect({ host: '127.0.0.25', port, localAddress: '127.0.0.27' });
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('error', reject);
      s.on('close', () => resolve(Buffer.concat(chunks)));
    });
    const messages = new MessageFramer().push(received).map((raw) => decodeMessage(raw, DEFAULT_CODEC_OPTIONS));
    expect(messages).toEqual([{ type: MessageType.NOTIFICATION, code: 6, subcode: 5, data: Buffer.alloc(0) }]);
  });
});
