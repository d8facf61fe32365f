/**
 * Fakes for session tests: a clock driven by hand, a transport that records
 * what the session wrote, and a connector whose attempts the test settles.
 */

import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../../../src/bgp/session/clock';
import type { SessionConfig } from '../../../src/bgp/session/config';
import type { ConnectOptions, Connector, Transport, TransportEvents } from '../../../src/bgp/session/transport';
import {
  type BgpMessage,
  type Capability,
  CapabilityCode,
  type CodecOptions,
  decodeMessage,
  DEFAULT_CODEC_OPTIONS,
  encodeMessage,
  MessageFramer,
  MessageType,
  type OpenMessage,
} from '../../../src/bgp/wire';

interface FakeTimer {
  id: number;
  at: number;
  fn: () => void;
}

/** A clock that moves only when told to. Starts at a fixed wall time. */
export class FakeClock implements Clock {
  private t = 1_700_000_000_000;
  private seq = 0;
  private timers: FakeTimer[] = [];

  now(): number {
    return this.t;
  }

  monotonic(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { id: ++this.seq, at: this.t + Math.max(0, ms), fn };
    this.timers.push(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t !== handle);
  }

  /** Move time forward, firing due timers in order (including ones they schedule). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = end;
  }

  /** Milliseconds until the next timer fires, or undefined when none is pending. */
  nextIn(): number | undefined {
    if (this.timers.length === 0) return undefined;
    return Math.min(...this.timers.map((t) => t.at)) - this.t;
  }

  get pending(): number {
    return this.timers.length;
  }
}

/** A transport the test plays the peer on. */
export class FakeTransport extends EventEmitter<TransportEvents> implements Transport {
  readonly written: Buffer[] = [];
  /** What write() returns; set false to simulate a full socket buffer. */
  accepting = true;
  closeCalls = 0;
  destroyCalls = 0;
  private isClosed = false;

  constructor(
    readonly remoteAddress = '192.0.2.2',
    readonly remotePort = 179,
    readonly localAddress = '192.0.2.1',
    readonly localPort = 40000,
  ) {
    super();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  write(chunk: Buffer): boolean {
    if (this.isClosed) return false;
    this.written.push(Buffer.from(chunk));
    return this.accepting;
  }

  close(): void {
    this.closeCalls++;
    this.finish(undefined);
  }

  destroy(): void {
    this.destroyCalls++;
    this.finish(undefined);
  }

  /** The peer sends a message. */
  receive(msg: BgpMessage, opts: CodecOptions = DEFAULT_CODEC_OPTIONS): void {
    this.emit('data', encodeMessage(msg, opts));
  }

  receiveRaw(bytes: Buffer): void {
    this.emit('data', bytes);
  }

  /** The peer (or the network) closes the connection. */
  remoteClose(error?: Error): void {
    this.finish(error);
  }

  /** The socket buffer emptied. */
  drain(): void {
    this.accepting = true;
    this.emit('drain');
  }

  /** Everything the session wrote, decoded (the peer's view of the wire). */
  sent(opts: CodecOptions = DEFAULT_CODEC_OPTIONS): BgpMessage[] {
    const framer = new MessageFramer(65535);
    return framer.push(Buffer.concat(this.written)).map((raw) => decodeMessage(raw, opts));
  }

  /** Types of the messages written, e.g. [OPEN, KEEPALIVE]. */
  sentTypes(): MessageType[] {
    return this.sent().map((m) => m.type);
  }

  /** The last message written. */
  last(): BgpMessage | undefined {
    return this.sent().at(-1);
  }

  private finish(error: Error | undefined): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.emit('close', error);
  }
}

interface Attempt {
  opts: ConnectOptions;
  resolve(t: Transport): void;
  reject(err: Error): void;
}

/** A connector whose attempts stay pending until the test settles them. */
export class FakeConnector {
  readonly attempts: Attempt[] = [];

  readonly connector: Connector = (opts) =>
    new Promise<Transport>((resolve, reject) => {
      this.attempts.push({ opts, resolve, reject });
    });

  get last(): Attempt {
    const a = this.attempts.at(-1);
    if (a === undefined) throw new Error('no connection attempt was made');
    return a;
  }
}

/** Let promise callbacks (connector settlement) run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** A SessionConfig for AS 65001 / 10.0.0.1 peering with AS 65002. */
export function sessionConfig(overrides: Partial<SessionConfig> = {}): SessionConfig {
  return {
    localAs: 65001,
    routerId: '10.0.0.1',
    peerAs: 65002,
    holdTime: 90,
    keepaliveTime: undefined,
    connectRetryTime: 3,
    families: ['ipv4-unicast'],
    addPath: {},
    gracefulRestart: undefined,
    extendedMessage: true,
    enhancedRouteRefresh: true,
    extendedNextHop: false,
    requireCapabilities: [],
    ...overrides,
  };
}

/** The OPEN a typical modern peer (AS 65002, 10.0.0.2) sends. */
export function peerOpen(overrides: Partial<OpenMessage> = {}, extraCaps: Capability[] = []): OpenMessage {
  return {
    type: MessageType.OPEN,
    version: 4,
    myAs: 65002,
    holdTime: 90,
    bgpId: '10.0.0.2',
    capabilities: [
      { code: CapabilityCode.MULTIPROTOCOL, afi: 1, safi: 1 },
      { code: CapabilityCode.ROUTE_REFRESH },
      { code: CapabilityCode.FOUR_OCTET_AS, asn: 65002 },
      ...extraCaps,
    ],
    ...overrides,
  };
}

export const KEEPALIVE: BgpMessage = { type: MessageType.KEEPALIVE };
