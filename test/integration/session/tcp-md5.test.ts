/**
 * TCP-MD5 (RFC 2385) between tartan-node and BIRD's `password`, as Calico
 * renders BGPPeer password.secretKeyRef, with the password read from the
 * secrets directory (or given inline).
 *
 *   t  tartan-node AS 65100 ── b1 BIRD AS 65101  same password (a secret file), IPv4 and IPv6
 *                           ── b2 BIRD AS 65102  BIRD's password differs from Tartan's (inline)
 *                           ── b3 BIRD AS 65103  no password
 *                           ── b4 BIRD AS 65104  password; Tartan's secret file appears later
 *
 * What the kernels drop is read from their counters (TcpExt TCPMD5Failure:
 * a segment signed with another key; TCPMD5Unexpected: signed where no key
 * is set), so "never Established" is shown over several connection
 * attempts by both sides, not by waiting out a timer.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, startBird, tcpExt, waitFor, type BirdDaemon, type Host } from '../harness';
import { startTartan, type TartanNode, type TartanOptions } from '../tartan/tartan-node';

const AS_T = 65100;

describe('TCP-MD5 with BIRD', () => {
  let lab: Lab;
  let t: Host, b1: Host, b2: Host, b3: Host, b4: Host;
  let bird1: BirdDaemon, bird2: BirdDaemon, bird3: BirdDaemon, bird4: BirdDaemon;
  let tartan: TartanNode;
  let opts: TartanOptions;
  let secrets: string;

  beforeAll(async () => {
    lab = await Lab.create('tcp-md5');
    [t, b1, b2, b3, b4] = [await lab.addHost('t'), await lab.addHost('b1'), await lab.addHost('b2'), await lab.addHost('b3'), await lab.addHost('b4')];
    secrets = join(t.dir, 'secrets');
    mkdirSync(join(secrets, 'bgp'), { recursive: true });
    // As `echo b1-secret > file` leaves it: the trailing newline is not part of the password.
    writeFileSync(join(secrets, 'bgp', 'b1'), 'b1-secret\n', { mode: 0o600 });

    const bird = (h: Host, asn: number, password: string | undefined, originate: string, v6 = false): Promise<BirdDaemon> =>
      startBird(h, {
        asn,
        routerId: h.addr('ipv4'),
        peers: [
          { address: t.addr('ipv4'), asn: AS_T, holdTime: 9, ...(password !== undefined ? { password } : {}) },
          ...(v6 ? [{ address: t.addr('ipv6'), asn: AS_T, holdTime: 9, ...(password !== undefined ? { password } : {}) }] : []),
        ],
        originate: [{ prefix: originate }],
      });
    [bird1, bird2, bird3, bird4] = await Promise.all([
      bird(b1, 65101, 'b1-secret', '10.101.0.0/24', true),
      bird(b2, 65102, 'right-password', '10.102.0.0/24'),
      bird(b3, 65103, undefined, '10.103.0.0/24'),
      bird(b4, 65104, 'b4-secret', '10.104.0.0/24'),
    ]);
    const b1Secret = { secretName: 'bgp', secretKey: 'b1' };
    opts = {
      asn: AS_T,
      peers: [
        { address: b1.addr('ipv4'), asn: 65101, holdTime: 9, families: ['ipv4-unicast'], password: b1Secret },
        { address: b1.addr('ipv6'), asn: 65101, holdTime: 9, families: ['ipv6-unicast'], password: b1Secret },
        { address: b2.addr('ipv4'), asn: 65102, holdTime: 9, families: ['ipv4-unicast'], password: 'wrong-password' },
        { address: b3.addr('ipv4'), asn: 65103, holdTime: 9, families: ['ipv4-unicast'] },
        { address: b4.addr('ipv4'), asn: 65104, holdTime: 9, families: ['ipv4-unicast'], password: { secretName: 'bgp', secretKey: 'b4' } },
      ],
      originate: [{ prefix: '10.100.0.0/24' }],
      extra: { secretsDir: secrets },
    };
    tartan = await startTartan(t, opts);
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('matching passwords: Established on both sides, over IPv4 and IPv6, and routes flow both ways', async () => {
    await tartan.waitEstablished(b1.addr('ipv4'));
    await tartan.waitEstablished(b1.addr('ipv6'));
    await bird1.waitEstablished(t.addr('ipv4'));
    await bird1.waitEstablished(t.addr('ipv6'));
    await waitFor(async () => (await tartan.receivedRoutes('ipv4-unicast')).some((r) => r.prefix === '10.101.0.0/24' && r.fromPeer === b1.addr('ipv4')), {
      what: 'Tartan to learn 10.101.0.0/24 from b1',
    });
    await waitFor(async () => (await bird1.receivedRoutes('ipv4-unicast')).some((r) => r.prefix === '10.100.0.0/24'), { what: 'b1 to learn 10.100.0.0/24 from Tartan' });
    await tartan.waitEstablished(b3.addr('ipv4'));
  });

  it('a wrong password: both kernels drop every attempt, neither side gets past Active, other peers stay up', async () => {
    const states = new Set<string>();
    const failures = async (): Promise<[number, number]> => [await tcpExt(t, 'TCPMD5Failure'), await tcpExt(b2, 'TCPMD5Failure')];
    const [t0, b0] = await failures();
    await waitFor(
      async () => {
        states.add(`tartan:${await tartan.peerState(b2.addr('ipv4'))}`);
        states.add(`bird:${await bird2.peerState(t.addr('ipv4'))}`);
        const [tn, bn] = await failures();
        // Several rejected SYNs in each direction (Tartan's at b2's kernel, b2's at Tartan's),
        // over more than one of Tartan's connection attempts.
        const attempts = tartan.logTail(100_000).split(`connecting to ${b2.addr('ipv4')} port`).length - 1;
        return tn >= t0 + 3 && bn >= b0 + 3 && attempts >= 3;
      },
      { what: 'three TCP-MD5 failures counted by each kernel over three of Tartan\'s connection attempts', timeoutMs: 90_000, intervalMs: 250 },
    );
    states.add(`tartan:${await tartan.peerState(b2.addr('ipv4'))}`);
    states.add(`bird:${await bird2.peerState(t.addr('ipv4'))}`);
    for (const s of states) expect(s).toMatch(/:(Idle|Connect|Active)$/);
    expect(await tartan.peerState(b3.addr('ipv4'))).toBe('Established');
    expect(await tartan.peerState(b1.addr('ipv4'))).toBe('Established');
    expect(tartan.logTail(2000)).not.toMatch(new RegExp(`refused BGP connection from ${b2.addr('ipv4').replace(/\./g, '\\.')}`));
  });

  it('a missing secret: that peer is not started and says why; the daemon and other peers carry on; the secret and a SIGHUP start it', async () => {
    const peer = (await tartan.status()).peers.find((p) => p.address === b4.addr('ipv4'));
    expect(peer).toMatchObject({ state: 'Idle', enabled: true });
    expect(peer?.lastError).toContain(`TCP-MD5 password unavailable: secret bgp/b4: cannot read ${join(secrets, 'bgp', 'b4')}: no such file`);
    const status = await tartan.ctl('node', 'status');
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('TCP-MD5 password unavailable');
    expect(tartan.proc.running).toBe(true);
    expect(tartan.logTail(2000)).toMatch(/TCP-MD5 password unavailable: secret bgp\/b4.*this peer is not started/);
    expect(await bird4.peerState(t.addr('ipv4'))).not.toBe('Established');

    const established = async (): Promise<string[][]> =>
      (await tartan.status()).peers.filter((p) => p.state === 'Established' && p.address !== b4.addr('ipv4')).map((p) => [p.address, p.since]);
    const before = await established();
    expect(before).toHaveLength(3);
    writeFileSync(join(secrets, 'bgp', 'b4'), 'b4-secret', { mode: 0o600 });
    tartan.reload(opts);
    await tartan.waitEstablished(b4.addr('ipv4'));
    await bird4.waitEstablished(t.addr('ipv4'));
    // Only b4 was (re)started.
    expect(await established()).toEqual(before);
  });

  it("a removed peer's key leaves the listening socket: its signed connections are dropped as unexpected", async () => {
    const u0 = await tcpExt(t, 'TCPMD5Unexpected');
    opts = { ...opts, peers: opts.peers.filter((p) => p.address !== b1.addr('ipv4')) };
    tartan.reload(opts);
    await waitFor(async () => !(await tartan.status()).peers.some((p) => p.address === b1.addr('ipv4')), { what: 'b1 (IPv4) gone from Tartan' });
    // b1 keeps connecting with its password; no key for it is left at Tartan.
    await waitFor(async () => (await tcpExt(t, 'TCPMD5Unexpected')) >= u0 + 3, { what: "Tartan's kernel to drop b1's signed SYNs", timeoutMs: 60_000 });
    expect(await bird1.peerState(t.addr('ipv4'))).not.toBe('Established');
    expect(tartan.logTail(2000)).not.toMatch(new RegExp(`refused BGP connection from ${b1.addr('ipv4').replace(/\./g, '\\.')} `));
    for (const h of [b3, b4]) expect(await tartan.peerState(h.addr('ipv4'))).toBe('Established');
    expect(await tartan.peerState(b1.addr('ipv6'))).toBe('Established');
  });
});
