/**
 * A bounds-checked cursor over a Buffer.
 *
 * Every read first checks that the bytes are there, and if not throws the
 * error the caller supplied (a BgpWireError with the NOTIFICATION that fits
 * the field being parsed). This is what keeps RangeError from Buffer reads
 * out of the decoder: no decoder calls buf.readUIntXX on an unchecked offset.
 */
export class WireReader {
  private offset = 0;

  /**
   * @param buf the bytes to read
   * @param short builds the error thrown when a read would pass the end
   */
  constructor(
    private readonly buf: Buffer,
    private readonly short: (what: string) => Error,
  ) {}

  get position(): number {
    return this.offset;
  }

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  /** Throws unless `n` more bytes are available. */
  need(n: number, what: string): void {
    if (this.remaining < n) throw this.short(what);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.offset++] as number;
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  /** A view of the next `n` bytes (no copy). */
  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  /** A view of everything not yet read. */
  rest(): Buffer {
    const v = this.buf.subarray(this.offset);
    this.offset = this.buf.length;
    return v;
  }
}
