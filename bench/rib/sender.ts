/**
 * The benchmark's route SENDER: one eBGP speaker that runs in its own lab
 * namespace (`ip netns exec NS node -r bench/rib/ts-hook.js bench/rib/sender.ts '<json>'`,
 * started by main.ts through Host.spawn, so Lab teardown kills it by PID).
 *
 * Order of work, so that only the daemon is timed:
 *   1. PRE-ENCODE every UPDATE (N /32s, ORIGIN IGP, AS_PATH [local AS],
 *      NEXT_HOP = our address, packed as many per 4096-byte UPDATE as fit)
 *      with Tartan's codec, and concatenate them into large write chunks.
 *   2. Connect, send OPEN (MP ipv4-unicast, route refresh, 4-octet AS),
 *      KEEPALIVE on the peer's OPEN; Established = first KEEPALIVE received
 *      after both OPENs. The wall-clock ms of that moment is reported.
 *   3. Write all UPDATEs as fast as the socket accepts them (write()
 *      backpressure honoured: wait for 'drain'), then End-of-RIB.
 *   4. Stay up (KEEPALIVE every hold/3) until SIGTERM / SIGINT, then send a
 *      Cease NOTIFICATION and exit.
 *
 * Reports to the parent as JSON lines on stdout (the parent reads them from
 * the log file Host.spawn writes):
 *   {ev:"encoded", updates, bytes, prefixes, ms}
 *   {ev:"connected", t} {ev:"open", t, peerAs, holdTime, caps}
 *   {ev:"established", t}
 *   {ev:"write-done", t, bytes}   (last UPDATE + EoR handed to the kernel)
 *   {ev:"notification", t, code, subcode} {ev:"closed", t} {ev:"error", t, message}
 * Times are Date.now() (wall clock, same clock as the parent).
 */
import { connect, createServer, type Socket } from 'node:net';
import {
  CapabilityCode,
  decodeMessage,
  DEFAULT_CODEC_OPTIONS,
  encodeAnnouncements,
  encodeEndOfRib,
  encodeMessage,
  MessageFramer,
  MessageType,
  Origin,
  type CodecOptions,
  type Nlri,
} from '../../src/bgp/wire';

export interface SenderArgs {
  /** Daemon address and port to connect to. */
  peer: string;
  port: number;
  /** Our address (bound as the TCP source; also the NEXT_HOP). */
  local: string;
  asn: number;
  routerId: string;
  /** Number of /32 routes, consecutive from `first`. */
  n: number;
  /** First prefix as dotted quad, e.g. "10.0.0.0". */
  first: string;
  /** Hold time we propose. */
  holdTime: number;
}

/** Write chunk size: whole UPDATEs concatenated up to about this many bytes. */
const CHUNK_BYTES = 256 * 1024;

function emit(obj: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function ipv4ToInt(a: string): number {
  return a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

function intToIpv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** The N prefixes the benchmark uses (main.ts uses the same function for ip -batch). */
export function benchPrefixes(first: string, n: number): string[] {
  const base = ipv4ToInt(first);
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = `${intToIpv4(base + i)}/32`;
  return out;
}

/** 4-octet AS is assumed when pre-encoding; the OPEN exchange verifies the peer agrees. */
const CODEC: CodecOptions = { fourOctetAs: true, extendedMessage: false, addPath: new Set() };

function preEncode(a: SenderArgs): { chunks: Buffer[]; updates: number; bytes: number } {
  const nlri: Nlri[] = benchPrefixes(a.first, a.n).map((prefix) => ({ prefix }));
  const updates = encodeAnnouncements(
    'ipv4-unicast',
    { origin: Origin.IGP, asPath: [{ type: 'sequence', asns: [a.asn] }], nextHop: a.local },
    nlri,
    CODEC,
  );
  updates.push(encodeEndOfRib('ipv4-unicast', CODEC));
  const chunks: Buffer[] = [];
  let cur: Buffer[] = [];
  let size = 0;
  let bytes = 0;
  for (const u of updates) {
    cur.push(u);
    size += u.length;
    bytes += u.length;
    if (size >= CHUNK_BYTES) {
      chunks.push(Buffer.concat(cur));
      cur = [];
      size = 0;
    }
  }
  if (cur.length) chunks.push(Buffer.concat(cur));
  return { chunks, updates: updates.length - 1, bytes };
}

function main(): void {
  const raw = process.argv[2];
  if (raw === undefined) {
    process.stderr.write("usage: sender.ts '<json SenderArgs>'\n");
    process.exit(2);
  }
  const a = JSON.parse(raw) as SenderArgs;
  const t0 = Date.now();
  const { chunks, updates, bytes } = preEncode(a);
  emit({ ev: 'encoded', updates, bytes, prefixes: a.n, chunks: chunks.length, ms: Date.now() - t0 });

  const keepalive = encodeMessage({ type: MessageType.KEEPALIVE }, DEFAULT_CODEC_OPTIONS);
  const open = encodeMessage(
    {
      type: MessageType.OPEN,
      version: 4,
      myAs: a.asn <= 0xffff ? a.asn : 23456,
      holdTime: a.holdTime,
      bgpId: a.routerId,
      capabilities: [
        { code: CapabilityCode.MULTIPROTOCOL, afi: 1, safi: 1 },
        { code: CapabilityCode.ROUTE_REFRESH },
        { code: CapabilityCode.FOUR_OCTET_AS, asn: a.asn },
      ],
    },
    DEFAULT_CODEC_OPTIONS,
  );

  let state: 'opensent' | 'openconfirm' | 'established' | 'closed' = 'opensent';
  let kaTimer: NodeJS.Timeout | undefined;
  const framer = new MessageFramer();
  const sock: Socket = connect({ host: a.peer, port: a.port, localAddress: a.local });
  sock.setNoDelay(true);

  const stop = (why: string): void => {
    if (state === 'closed') return;
    const wasUp = state === 'established';
    state = 'closed';
    if (kaTimer) clearInterval(kaTimer);
    emit({ ev: 'stopping', t: Date.now(), why });
    if (wasUp && !sock.destroyed) {
      // Cease / Administrative Shutdown (RFC 4486).
      sock.write(encodeMessage({ type: MessageType.NOTIFICATION, code: 6, subcode: 2, data: Buffer.alloc(0) }, DEFAULT_CODEC_OPTIONS));
    }
    sock.end(() => process.exit(0));
    // If the daemon does not read (busy), 'finish' may never come: exit anyway.
    setTimeout(() => process.exit(0), 500);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  async function blast(): Promise<void> {
    let written = 0;
    for (const c of chunks) {
      if (state !== 'established') return;
      written += c.length;
      if (!sock.write(c)) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            sock.off('drain', done);
            sock.off('close', done);
            resolve();
          };
          sock.on('drain', done);
          sock.on('close', done);
        });
      }
    }
    // The last write's callback fires when its bytes are handed to the kernel.
    sock.write(Buffer.alloc(0), () => emit({ ev: 'write-done', t: Date.now(), bytes: written }));
  }

  sock.on('connect', () => {
    emit({ ev: 'connected', t: Date.now(), local: sock.localAddress, localPort: sock.localPort });
    sock.write(open);
  });
  sock.on('data', (chunk: Buffer) => {
    let msgs: Buffer[];
    try {
      msgs = framer.push(chunk);
    } catch (e) {
      emit({ ev: 'error', t: Date.now(), message: `framing: ${(e as Error).message}` });
      sock.destroy();
      return;
    }
    for (const m of msgs) {
      const type = m[18];
      if (type === MessageType.UPDATE) continue; // not decoded: the sender does not care what the daemon advertises
      const msg = decodeMessage(m, DEFAULT_CODEC_OPTIONS);
      if (msg.type === MessageType.OPEN) {
        const caps = msg.capabilities.map((c) => String(c.code));
        const four = msg.capabilities.some((c) => c.code === CapabilityCode.FOUR_OCTET_AS);
        const hold = Math.min(a.holdTime, msg.holdTime);
        emit({ ev: 'open', t: Date.now(), myAs: msg.myAs, holdTime: msg.holdTime, negotiatedHold: hold, caps, fourOctetAs: four });
        if (!four) {
          emit({ ev: 'error', t: Date.now(), message: 'peer did not advertise 4-octet AS; UPDATEs were pre-encoded for it' });
          sock.destroy();
          return;
        }
        sock.write(keepalive);
        state = 'openconfirm';
        if (hold > 0) kaTimer = setInterval(() => sock.write(keepalive), Math.max(1000, (hold * 1000) / 3));
      } else if (msg.type === MessageType.KEEPALIVE) {
        if (state === 'openconfirm') {
          state = 'established';
          emit({ ev: 'established', t: Date.now() });
          void blast();
        }
      } else if (msg.type === MessageType.NOTIFICATION) {
        emit({ ev: 'notification', t: Date.now(), code: msg.code, subcode: msg.subcode, data: msg.data.toString('hex') });
      }
    }
  });
  sock.on('error', (e) => emit({ ev: 'error', t: Date.now(), message: e.message }));
  sock.on('close', () => {
    emit({ ev: 'closed', t: Date.now() });
    if (kaTimer) clearInterval(kaTimer);
    process.exit(state === 'closed' ? 0 : 1);
  });
}

/**
 * SINK mode (`{"sink": true, ...}`): the calibration "daemon". Listens on
 * `local`:`port`, answers OPEN/KEEPALIVE like a passive speaker, and only
 * frames what arrives (no decoding of UPDATEs); reports `{ev:"eor", t,
 * updates, bytes}` when End-of-RIB arrives. Established → EoR at the sink is
 * the floor the sender, node and TCP put under every daemon's time.
 */
export interface SinkArgs {
  sink: true;
  local: string;
  port: number;
  asn: number;
  routerId: string;
}

function sink(a: SinkArgs): void {
  const keepalive = encodeMessage({ type: MessageType.KEEPALIVE }, DEFAULT_CODEC_OPTIONS);
  const open = encodeMessage(
    {
      type: MessageType.OPEN,
      version: 4,
      myAs: a.asn <= 0xffff ? a.asn : 23456,
      holdTime: 240,
      bgpId: a.routerId,
      capabilities: [
        { code: CapabilityCode.MULTIPROTOCOL, afi: 1, safi: 1 },
        { code: CapabilityCode.ROUTE_REFRESH },
        { code: CapabilityCode.FOUR_OCTET_AS, asn: a.asn },
      ],
    },
    DEFAULT_CODEC_OPTIONS,
  );
  const srv = createServer((sock) => {
    srv.close();
    const framer = new MessageFramer();
    let updates = 0;
    let bytes = 0;
    let kaTimer: NodeJS.Timeout | undefined;
    sock.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      for (const m of framer.push(chunk)) {
        const type = m[18];
        if (type === MessageType.UPDATE) {
          updates++;
          // End-of-RIB for IPv4 unicast: an UPDATE with nothing in it (RFC 4724 §2).
          if (m.length === 23) emit({ ev: 'eor', t: Date.now(), updates: updates - 1, bytes });
        } else if (type === MessageType.OPEN) {
          sock.write(open);
          sock.write(keepalive);
          kaTimer = setInterval(() => sock.write(keepalive), 60_000);
        } else if (type === MessageType.KEEPALIVE) {
          // nothing: the sender times Established on its side
        }
      }
    });
    sock.on('error', (e) => emit({ ev: 'error', t: Date.now(), message: e.message }));
    sock.on('close', () => {
      if (kaTimer) clearInterval(kaTimer);
      emit({ ev: 'closed', t: Date.now() });
      process.exit(0);
    });
  });
  srv.listen(a.port, a.local, () => emit({ ev: 'listening', t: Date.now() }));
  process.on('SIGTERM', () => process.exit(0));
}

if (require.main === module) {
  const arg = process.argv[2];
  if (arg !== undefined && (JSON.parse(arg) as { sink?: boolean }).sink) sink(JSON.parse(arg) as SinkArgs);
  else main();
}
