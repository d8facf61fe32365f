/**
 * The fuzz oracle and mutation engine, shared by fuzz.test.ts and the golden
 * test files (each mutates its own fixtures).
 *
 * The contract under test: decodeMessage and MessageFramer.push throw nothing
 * but BgpWireError (with a session-reset action and a real NOTIFICATION
 * code); errors returned on an UPDATE are BgpWireErrors that do not reset;
 * a decoded message re-encodes (or is refused with BGP_ENCODE_ERROR), and a
 * clean re-encoding decodes back to the same message.
 */
import {
  BgpWireError,
  decodeMessage,
  encodeMessage,
  MessageFramer,
  MessageType,
  type BgpMessage,
  type CodecOptions,
} from '../../../src/bgp/wire';
import { isTartanError } from '../../../src/errors';
import { isDeepStrictEqual } from 'node:util';

/** mulberry32: a tiny seeded PRNG, so every fuzz run is reproducible from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function int(r: () => number, n: number): number {
  return Math.floor(r() * n);
}

function fixLength(b: Buffer): Buffer {
  if (b.length >= 18) b.writeUInt16BE(Math.min(b.length, 0xffff), 16);
  return b;
}

/** One random mutation of a message: bit flips, byte pokes, small length-field tweaks, truncation, insertion, deletion. */
export function mutate(r: () => number, input: Buffer): Buffer {
  const b = Buffer.from(input);
  // Mostly past the header: that is where the parsers are.
  const pos = (): number => (b.length > 19 && r() < 0.9 ? 19 + int(r, b.length - 19) : int(r, Math.max(1, b.length)));
  switch (int(r, 7)) {
    case 0: {
      for (let i = 0, n = 1 + int(r, 3); i < n && b.length > 0; i++) {
        const p = pos();
        b[p] = (b[p] as number) ^ (1 << int(r, 8));
      }
      return b;
    }
    case 1: {
      if (b.length > 0) b[pos()] = [0x00, 0xff, 0x80, 0x7f, int(r, 256)][int(r, 5)] as number;
      return b;
    }
    case 2: {
      // nudge a byte that may be a length field by a small amount
      if (b.length > 0) {
        const p = pos();
        b[p] = ((b[p] as number) + [1, -1, 2, -2, 4, -4, 16][int(r, 7)]! + 256) & 0xff;
      }
      return b;
    }
    case 3:
      return fixLength(b.subarray(0, int(r, b.length + 1)));
    case 4: {
      const p = pos();
      const extra = Buffer.from(Array.from({ length: 1 + int(r, 8) }, () => int(r, 256)));
      return fixLength(Buffer.concat([b.subarray(0, p), extra, b.subarray(p)]));
    }
    case 5: {
      const p = pos();
      return fixLength(Buffer.concat([b.subarray(0, p), b.subarray(p + 1 + int(r, 6))]));
    }
    default: {
      // truncate without fixing the header: exercises the length cross-checks
      return b.subarray(0, int(r, b.length + 1));
    }
  }
}

/**
 * Equivalence after a re-encode: unknown optional transitive attributes gain
 * Partial when passed on, and are re-sent in type-code order (RFC 4271 §5)
 * while decoded in wire order.
 */
function normalise(msg: BgpMessage): BgpMessage {
  if (msg.type !== MessageType.UPDATE || msg.attributes.unknown === undefined) return msg;
  return {
    ...msg,
    attributes: {
      ...msg.attributes,
      unknown: msg.attributes.unknown
        .map((u) => ({ ...u, flags: (u.flags & 0xc0) === 0xc0 ? u.flags | 0x20 : u.flags }))
        .sort((a, b) => a.typeCode - b.typeCode),
    },
  };
}

export interface OracleStats {
  decoded: number;
  rejected: number;
}

/** Checks the contract on one input; throws an Error describing any violation. */
export function checkDecode(bytes: Buffer, o: CodecOptions, stats?: OracleStats): void {
  let msg: BgpMessage;
  try {
    msg = decodeMessage(bytes, o);
  } catch (err) {
    if (!(err instanceof BgpWireError)) throw violation('decodeMessage threw a non-BgpWireError', bytes, err);
    if (err.action !== 'session-reset') throw violation(`thrown error has action ${err.action}`, bytes, err);
    if (err.notification.code < 1 || err.notification.code > 7) throw violation('NOTIFICATION code out of range', bytes, err);
    if (stats) stats.rejected++;
    return;
  }
  if (stats) stats.decoded++;
  if (msg.type === MessageType.UPDATE && msg.errors !== undefined) {
    for (const e of msg.errors) {
      if (!(e instanceof BgpWireError)) throw violation('UPDATE.errors holds a non-BgpWireError', bytes, e);
      if (e.action === 'session-reset') throw violation('a session-reset error was returned, not thrown', bytes, e);
    }
  }
  let again: Buffer;
  try {
    again = encodeMessage(msg, o);
  } catch (err) {
    if (isTartanError(err, 'BGP_ENCODE_ERROR')) return; // e.g. a second next hop that is not link-local: decoded, never sent
    throw violation('encodeMessage of a decoded message threw a foreign error', bytes, err);
  }
  if (msg.type === MessageType.UPDATE && msg.errors !== undefined) {
    // What we send after dropping bad attributes must still decode.
    try {
      decodeMessage(again, o);
    } catch (err) {
      throw violation('re-encoding of an UPDATE with errors does not decode', bytes, err);
    }
    return;
  }
  let back: BgpMessage;
  try {
    back = decodeMessage(again, o);
  } catch (err) {
    throw violation('a re-encoded message does not decode', bytes, err);
  }
  if (!isDeepStrictEqual(normalise(back), normalise(msg))) {
    throw violation(`re-encoding changed the message: ${JSON.stringify(msg)} -> ${JSON.stringify(back)}`, bytes, undefined);
  }
}

/** Feeds a stream in random chunks; the framer may only throw BgpWireError, and stays poisoned after. */
export function checkFramer(stream: Buffer, r: () => number, max = 4096): Buffer[] {
  const f = new MessageFramer(max);
  const out: Buffer[] = [];
  let failed: BgpWireError | undefined;
  for (let i = 0; i < stream.length; ) {
    const n = 1 + int(r, 64);
    try {
      out.push(...f.push(stream.subarray(i, i + n)));
    } catch (err) {
      if (!(err instanceof BgpWireError)) throw violation('MessageFramer threw a non-BgpWireError', stream, err);
      failed = err;
      break;
    }
    i += n;
  }
  if (failed !== undefined) {
    try {
      f.push(Buffer.alloc(1));
    } catch (err) {
      if (err !== failed) throw violation('a poisoned framer threw a different error', stream, err);
      return out;
    }
    throw violation('a failed framer accepted more input', stream, undefined);
  }
  return out;
}

function violation(what: string, bytes: Buffer, cause: unknown): Error {
  const detail = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  return new Error(`${what}\n  input: ${bytes.toString('hex')}\n  cause: ${detail}`);
}
