/**
 * The lab every raw-peer test file uses:
 *
 *   t  tartan-node  AS 4200000001, router ID = t's IPv4 (198.18.N.1)
 *   b  BIRD         AS 4200000002, eBGP to t, originates 10.92.0.0/24 and 10.92.1.0/24
 *   r  raw peers    one extra IPv4 address per scenario (198.18.N.101, .102, ...)
 *
 * Each scenario talks from its own address because Tartan refuses a peer's
 * connections during the error wait (5 s, doubling) after a session error.
 * `BirdWatch` samples Tartan's view of the BIRD session all along, so a test
 * file can prove the abuse on the raw sessions never touched the real one.
 */
import { Lab, startBird, type Host, type BirdDaemon } from '../harness';
import { waitFor } from '../harness';
import { startTartan, type TartanNode, type TartanPeer } from '../tartan/tartan-node';
import type { PeerStatus } from '../../../src/control';
import {
  endOfRibFamily,
  type Family,
  CapabilityCode,
  MessageType,
  type OpenMessage,
  type UpdateMessage,
} from '../../../src/bgp/wire';
import { RawPeer } from './raw-peer';
import { keepalive } from './bgp-bytes';

export const AS_T = 4200000001;
export const AS_B = 4200000002;
export const BIRD_PREFIXES = ['10.92.0.0/24', '10.92.1.0/24'];
export const TARTAN_PREFIXES = { ipv4: '10.91.0.0/24', ipv6: '2001:db8:91::/48' };
/** Bounded waits for single messages; generous, they normally take milliseconds. */
export const MSG_TIMEOUT = 5_000;

export class RawLab {
  tartan!: TartanNode;
  bird!: BirdDaemon;
  watch!: BirdWatch;

  private constructor(
    readonly lab: Lab,
    readonly t: Host,
    readonly b: Host,
    readonly r: Host,
    /** Extra IPv4 addresses on r, one per scenario. */
    readonly addrs: string[],
  ) {}

  /** Lab, hosts and `extraAddresses` addresses on r; no daemons yet (see `startDaemons`). */
  static async create(label: string, extraAddresses: number): Promise<RawLab> {
    const lab = await Lab.create(label);
    try {
      const t = await lab.addHost('t');
      const b = await lab.addHost('b');
      const r = await lab.addHost('r');
      const addrs: string[] = [];
      for (let i = 0; i < extraAddresses; i++) {
        const a = `198.18.${lab.subnetIndex}.${101 + i}`;
        await r.exec(['ip', 'addr', 'add', `${a}/24`, 'dev', r.ifname]);
        addrs.push(a);
      }
      return new RawLab(lab, t, b, r, addrs);
    } catch (e) {
      await lab.destroy();
      throw e;
    }
  }

  get tartanAddr(): string {
    return this.t.addr('ipv4');
  }

  get birdAddr(): string {
    return this.b.addr('ipv4');
  }

  /**
   * Start BIRD and Tartan (Tartan peers: BIRD plus `rawPeers`), wait for the
   * BIRD session and its routes, and start watching it.
   */
  async startDaemons(rawPeers: TartanPeer[]): Promise<void> {
    this.bird = await startBird(this.b, {
      asn: AS_B,
      routerId: this.birdAddr,
      peers: [{ address: this.tartanAddr, asn: AS_T, holdTime: 9 }],
      originate: BIRD_PREFIXES.map((prefix) => ({ prefix })),
    });
    this.tartan = await startTartan(this.t, {
      asn: AS_T,
      peers: [{ address: this.birdAddr, asn: AS_B, holdTime: 9, families: ['ipv4-unicast'] }, ...rawPeers],
      originate: [{ prefix: TARTAN_PREFIXES.ipv4 }, { prefix: TARTAN_PREFIXES.ipv6 }],
    });
    await this.tartan.waitEstablished(this.birdAddr);
    await waitFor(
      async () => {
        const rs = await this.tartan.receivedRoutes('ipv4-unicast');
        return BIRD_PREFIXES.every((p) => rs.some((r) => r.prefix === p && r.fromPeer === this.birdAddr));
      },
      { what: `Tartan to learn ${BIRD_PREFIXES.join(', ')} from BIRD` },
    );
    this.watch = await BirdWatch.start(this.tartan, this.birdAddr);
  }

  async destroy(): Promise<void> {
    this.watch?.stop();
    await RawPeer.closeAll();
    await this.lab.destroy();
  }

  /** Tartan's status entry for a peer address. */
  async peer(address: string): Promise<PeerStatus> {
    const p = (await this.tartan.status()).peers.find((x) => x.address === address);
    if (p === undefined) throw new Error(`Tartan has no peer ${address}`);
    return p;
  }

  /** Prefixes Tartan holds from `address` (Adj-RIB-In), sorted. */
  async prefixesFrom(address: string, family: Family = 'ipv4-unicast'): Promise<string[]> {
    return (await this.tartan.receivedRoutes(family))
      .filter((r) => r.fromPeer === address)
      .map((r) => r.prefix)
      .sort();
  }
}

/**
 * Samples Tartan's status of the BIRD peer every 200 ms. `assertUndisturbed`
 * checks that every sample was Established with the `since` of the first one
 * (any state change, however brief, moves `since`), that no NOTIFICATION went
 * either way, and that BIRD's routes are still in Tartan.
 */
export class BirdWatch {
  readonly samples: { state: string; since: string }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  private constructor(
    private readonly tartan: TartanNode,
    private readonly address: string,
    readonly baseline: PeerStatus,
  ) {}

  static async start(tartan: TartanNode, address: string): Promise<BirdWatch> {
    const baseline = (await tartan.status()).peers.find((p) => p.address === address);
    if (baseline?.state !== 'Established') throw new Error(`BIRD peer ${address} is not Established: ${JSON.stringify(baseline)}`);
    const w = new BirdWatch(tartan, address, baseline);
    w.samples.push({ state: baseline.state, since: baseline.since });
    w.timer = setInterval(() => void w.sample(), 200);
    return w;
  }

  private async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const p = (await this.tartan.status()).peers.find((x) => x.address === this.address);
      this.samples.push({ state: p?.state ?? 'missing', since: p?.since ?? '' });
    } catch (e) {
      this.samples.push({ state: `status failed: ${e instanceof Error ? e.message : String(e)}`, since: '' });
    } finally {
      this.busy = false;
    }
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  async assertUndisturbed(bird: BirdDaemon, tartanAddr: string): Promise<void> {
    this.stop();
    while (this.busy) await new Promise((r) => setTimeout(r, 20));
    await this.sample();
    const bad = this.samples.filter((s) => s.state !== 'Established' || s.since !== this.baseline.since);
    expect({ samples: this.samples.length, disturbed: bad }).toEqual({ samples: this.samples.length, disturbed: [] });
    const now = (await this.tartan.status()).peers.find((p) => p.address === this.address);
    expect(now?.messages.notificationsReceived).toBe(this.baseline.messages.notificationsReceived);
    expect(now?.messages.notificationsSent).toBe(this.baseline.messages.notificationsSent);
    const rs = await this.tartan.receivedRoutes('ipv4-unicast');
    for (const p of BIRD_PREFIXES) expect(rs.some((r) => r.prefix === p && r.fromPeer === this.address)).toBe(true);
    expect(await bird.peerState(tartanAddr)).toBe('Established');
  }
}

/** What `establish` saw from Tartan. */
export interface Established {
  tartanOpen: OpenMessage;
  /** Route UPDATEs before the End-of-RIBs (EoRs excluded). */
  updates: UpdateMessage[];
  families: Family[];
}

function familiesOf(open: OpenMessage): Family[] {
  const out: Family[] = [];
  for (const c of open.capabilities) {
    if (c.code !== CapabilityCode.MULTIPROTOCOL || c.safi !== 1) continue;
    if (c.afi === 1) out.push('ipv4-unicast');
    if (c.afi === 2) out.push('ipv6-unicast');
  }
  return out;
}

/**
 * The correct opening on a fresh connection: our OPEN, Tartan's OPEN and
 * KEEPALIVE, our KEEPALIVE; then Tartan's routes up to its End-of-RIB for
 * every family both sides advertised (RFC 4724 §2). Sets the peer's codec
 * options to what was negotiated.
 */
export async function establish(peer: RawPeer, open: OpenMessage): Promise<Established> {
  peer.sendMessage(open);
  const tartanOpen = await peer.expectMessage(MessageType.OPEN, MSG_TIMEOUT);
  await peer.expectMessage(MessageType.KEEPALIVE, MSG_TIMEOUT);
  peer.send(keepalive());
  const four = open.capabilities.some((c) => c.code === CapabilityCode.FOUR_OCTET_AS) &&
    tartanOpen.capabilities.some((c) => c.code === CapabilityCode.FOUR_OCTET_AS);
  peer.decodeOptions = { fourOctetAs: four, extendedMessage: false, addPath: new Set() };
  peer.encodeOptions = peer.decodeOptions;
  const ours = familiesOf(open);
  const families = familiesOf(tartanOpen).filter((f) => ours.includes(f));
  const pending = new Set(families);
  const updates: UpdateMessage[] = [];
  while (pending.size > 0) {
    const m = await peer.nextMessage(MSG_TIMEOUT).catch((e: Error) => {
      throw new Error(`${e.message}\n(waiting for End-of-RIB of ${[...pending].join(', ')})`);
    });
    if (m.type === MessageType.KEEPALIVE) continue;
    if (m.type !== MessageType.UPDATE) throw new Error(`expected UPDATE or KEEPALIVE after Established, got ${MessageType[m.type]}: ${peer.describe()}`);
    const eor = endOfRibFamily(m);
    if (eor !== null) pending.delete(eor);
    else updates.push(m);
  }
  return { tartanOpen, updates, families };
}
