/**
 * The prefixes of one UPDATE, decoded once into flat typed arrays (keys in
 * PrefixTable layout, lengths) so the import can work on them in passes:
 * hash every key, touch every home slot, then do the per-prefix work.
 *
 * Why passes: at a million routes the RIB tables are far bigger than the
 * CPU caches and every prefix lands on a random line of each. A loop that
 * decodes, hashes and looks up one prefix at a time has only two or three
 * of those misses in flight (the out-of-order window fills with the rest of
 * the work); a loop that does nothing but load the home slots of a whole
 * UPDATE keeps the CPU's line-fill buffers busy, and the per-prefix pass
 * then finds its lines in cache.
 */
import type { NlriInput } from './engine';
import { keyFromCidr, nlriSize, readNlri } from './prefix-key';

export class NlriBatch {
  /** Words per key: address words, plus the path id when the table has one. */
  stride = 1;
  count = 0;
  /** Room for the widest key (IPv6 + path id) per entry. */
  keys = new Uint32Array(1024 * 5);
  lens = new Uint8Array(1024);
  /** Per prefix, for the caller to fill: a table's hash of the key. */
  hashes = new Uint32Array(1024);
  /** A second hash per prefix (another table's, when its key differs). */
  hashes2 = new Uint32Array(1024);
  private readonly scratch = new Uint32Array(5);

  /** Decode `nlri` (unparsable text prefixes are skipped). */
  load(nlri: NlriInput, addressWords: 1 | 4, stride: number): void {
    this.stride = stride;
    this.count = 0;
    const key = this.scratch;
    if ('list' in nlri) {
      this.room(nlri.list.length);
      for (const n of nlri.list) {
        // A path id goes into the key only where the table keys on one.
        const len = keyFromCidr(n.prefix, key, stride > addressWords ? n.pathId ?? 0 : undefined);
        if (len >= 0) this.push(key, len);
      }
      return;
    }
    const buf = nlri.packed;
    // Every entry takes at least one octet (five with ADD-PATH): an upper bound on the count.
    this.room(nlri.addPath ? Math.ceil(buf.length / 5) : buf.length);
    if (addressWords === 1 && stride === 1 && !nlri.addPath) {
      this.loadIpv4(buf);
      return;
    }
    for (let off = 0; off < buf.length; ) {
      const len = readNlri(buf, off, addressWords, nlri.addPath, key);
      off += nlriSize(len, nlri.addPath);
      this.push(key, len);
    }
  }

  /** IPv4 without path ids, the bulk of a table load: readNlri() unrolled for one word. */
  private loadIpv4(buf: Buffer): void {
    const keys = this.keys;
    const lens = this.lens;
    let n = 0;
    for (let off = 0; off < buf.length; ) {
      const len = buf[off]!;
      const nbytes = (len + 7) >>> 3;
      let v = 0;
      if (nbytes === 4) v = buf.readUInt32BE(off + 1);
      else for (let b = 0; b < 4; b++) v = (v << 8) | (b < nbytes ? buf[off + 1 + b]! : 0);
      // RFC 4271 §4.3 allows trailing bits set past the length; clear them so equal prefixes get equal keys.
      keys[n] = len === 0 ? 0 : (v & (0xffffffff << (32 - len))) >>> 0;
      lens[n++] = len;
      off += 1 + nbytes;
    }
    this.count = n;
  }

  /** Copy entry `i`'s key into `out` (stride words). */
  keyAt(i: number, out: Uint32Array): void {
    const base = i * this.stride;
    for (let w = 0; w < this.stride; w++) out[w] = this.keys[base + w]!;
  }

  private push(key: Uint32Array, len: number): void {
    const base = this.count * this.stride;
    for (let w = 0; w < this.stride; w++) this.keys[base + w] = key[w]!;
    this.lens[this.count++] = len;
  }

  private room(n: number): void {
    if (n <= this.lens.length) return;
    let cap = this.lens.length;
    while (cap < n) cap *= 2;
    this.keys = new Uint32Array(cap * 5);
    this.lens = new Uint8Array(cap);
    this.hashes = new Uint32Array(cap);
    this.hashes2 = new Uint32Array(cap);
  }
}
