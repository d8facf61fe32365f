import { writeNlri, nlriSize } from './prefix-key';

/**
 * A growable buffer of wire-format NLRI entries (RFC 4271 §4.3): the RIB
 * appends prefixes straight from its table keys, and the codec cuts the
 * bytes into UPDATEs, so no prefix is ever turned into a string or object on
 * the way out.
 */
export class NlriWriter {
  private buf: Buffer;
  private used = 0;
  count = 0;

  constructor(initial = 4096) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  append(key: Uint32Array, len: number, pathId?: number): void {
    const need = nlriSize(len, pathId !== undefined);
    if (this.used + need > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.used + need));
      this.buf.copy(grown, 0, 0, this.used);
      this.buf = grown;
    }
    this.used = writeNlri(this.buf, this.used, key, len, pathId);
    this.count++;
  }

  get byteLength(): number {
    return this.used;
  }

  /** The bytes written so far (a view; copy to keep beyond the next append). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.used);
  }
}
