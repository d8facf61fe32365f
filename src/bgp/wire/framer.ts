/**
 * Incremental BGP message framer: push TCP chunks, get complete messages.
 *
 * It validates the header (marker, length) as soon as those bytes are in,
 * before buffering the body, so a desynchronised or hostile peer cannot make
 * it buffer 64 KiB of garbage. The message type is left to decodeMessage.
 * After an error the framer is poisoned: the stream has lost sync and any
 * later byte is meaningless, so every further push throws the same error.
 *
 * Returned messages are views into the pushed chunks where a message lies
 * within one chunk (no copy); callers must not modify chunks after pushing.
 */
import { checkHeader, HEADER_LENGTH, markerPrefixOk, MARKER_LENGTH, notSynchronized } from './header';
import { TartanError } from '../../errors';
import type { BgpWireError } from './errors';
import { MAX_EXTENDED_MESSAGE_LENGTH, MAX_MESSAGE_LENGTH } from './types';

export class MessageFramer {
  /** Chunks not yet returned, oldest first. The first may be partly consumed (see `head`). */
  private chunks: Buffer[] = [];
  /** Bytes already consumed from chunks[0]. */
  private head = 0;
  /** Bytes buffered and not yet returned. */
  private buffered = 0;
  /** Length of the message whose header has been validated, or 0 while waiting for a header. */
  private expected = 0;
  /** The error that poisoned the framer. */
  private failure: BgpWireError | undefined;
  private max: number;

  constructor(maxMessageLength: number = MAX_MESSAGE_LENGTH) {
    this.max = MessageFramer.checkMax(maxMessageLength);
  }

  /** 4096 by default; the session raises it to 65535 once Extended Message is negotiated (RFC 8654). */
  get maxMessageLength(): number {
    return this.max;
  }

  set maxMessageLength(value: number) {
    this.max = MessageFramer.checkMax(value);
  }

  /** Bytes held waiting for the rest of a message. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Feeds a chunk; returns every message it completes (header included), in order. */
  push(chunk: Buffer): Buffer[] {
    if (this.failure !== undefined) throw this.failure;
    try {
      return this.consume(chunk);
    } catch (err) {
      this.failure = err as BgpWireError;
      this.chunks = [];
      this.buffered = 0;
      throw err;
    }
  }

  private consume(chunk: Buffer): Buffer[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const out: Buffer[] = [];
    for (;;) {
      if (this.expected === 0) {
        if (this.buffered < HEADER_LENGTH - 1) {
          // RFC 4271 §6.1: reject a bad marker as soon as its bytes arrive.
          if (!markerPrefixOk(this.peek(Math.min(this.buffered, MARKER_LENGTH)))) throw notSynchronized();
          break;
        }
        this.expected = checkHeader(this.peek(HEADER_LENGTH - 1), this.max);
      }
      if (this.buffered < this.expected) break;
      out.push(this.take(this.expected));
      this.expected = 0;
    }
    return out;
  }

  /** The next n buffered bytes, without consuming them. */
  private peek(n: number): Buffer {
    const first = this.chunks[0];
    if (first === undefined) return Buffer.alloc(0);
    if (first.length - this.head >= n) return first.subarray(this.head, this.head + n);
    const parts: Buffer[] = [];
    let need = n;
    let skip = this.head;
    for (const c of this.chunks) {
      const part = c.subarray(skip, skip + need);
      parts.push(part);
      need -= part.length;
      skip = 0;
      if (need === 0) break;
    }
    return Buffer.concat(parts);
  }

  /** Consumes and returns the next n buffered bytes (n <= buffered). */
  private take(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length - this.head >= n) {
      const msg = first.subarray(this.head, this.head + n);
      this.advance(n);
      return msg;
    }
    const msg = this.peek(n); // spans chunks: peek already copied it into fresh memory
    this.advance(n);
    return msg;
  }

  private advance(n: number): void {
    this.buffered -= n;
    let left = n;
    while (left > 0) {
      const first = this.chunks[0] as Buffer;
      const avail = first.length - this.head;
      if (avail > left) {
        this.head += left;
        return;
      }
      left -= avail;
      this.chunks.shift();
      this.head = 0;
    }
  }

  private static checkMax(value: number): number {
    if (!Number.isInteger(value) || value < HEADER_LENGTH || value > MAX_EXTENDED_MESSAGE_LENGTH) {
      throw new TartanError('INVALID_ARGUMENT', `maxMessageLength must be an integer in ${HEADER_LENGTH}..${MAX_EXTENDED_MESSAGE_LENGTH}, got ${value}`);
    }
    return value;
  }
}
