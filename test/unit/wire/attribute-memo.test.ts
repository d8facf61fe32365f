import fc from 'fast-check';
import { decodeMessage, encodeMessage, MessageFramer, MessageType, Origin, type AttributeMemo, type CodecOptions, type UpdateMessage } from '../../../src/bgp/wire';
import { AttrStore } from '../../../src/bgp/rib/attr-store';
import { codecOptions, updateMessage } from './arbitraries';
import { AS4 } from './helpers';

function updateBytes(nextHop: string, prefixes: string[], attrs: Partial<UpdateMessage['attributes']> = {}): Buffer {
  const msg: UpdateMessage = {
    type: MessageType.UPDATE,
    withdrawn: [],
    attributes: { origin: Origin.IGP, asPath: [{ type: 'sequence', asns: [65100] }], nextHop, ...attrs },
    nlri: prefixes.map((prefix) => ({ prefix })),
  };
  return encodeMessage(msg, AS4);
}

describe('CodecOptions.attributeMemo', () => {
  it('hands back the same attributes object while the attribute bytes repeat, equal to a fresh decode', () => {
    const memo: AttributeMemo = {};
    const opts: CodecOptions = { ...AS4, packedNlri: true, attributeMemo: memo };
    const a = decodeMessage(updateBytes('192.0.2.1', ['10.0.0.0/24']), opts) as UpdateMessage;
    const b = decodeMessage(updateBytes('192.0.2.1', ['10.0.1.0/24', '10.0.2.0/24']), opts) as UpdateMessage;
    const c = decodeMessage(updateBytes('192.0.2.2', ['10.0.3.0/24']), opts) as UpdateMessage;
    expect(b.attributes).toBe(a.attributes);
    expect(c.attributes).not.toBe(a.attributes);
    const fresh = decodeMessage(updateBytes('192.0.2.1', ['10.0.1.0/24']), AS4) as UpdateMessage;
    expect(b.attributes).toEqual(fresh.attributes);
    expect(b.packed?.nlri).toEqual(Buffer.from([24, 10, 0, 1, 24, 10, 0, 2]));
  });

  it('keeps no attributes that came with an RFC 7606 error, so each such UPDATE reports its error', () => {
    const memo: AttributeMemo = {};
    const opts: CodecOptions = { ...AS4, attributeMemo: memo };
    // An UPDATE announcing a prefix without ORIGIN: treat-as-withdraw (RFC 7606 §3 (d)), every time.
    const noOrigin = encodeMessage({ type: MessageType.UPDATE, withdrawn: [], attributes: { asPath: [], nextHop: '192.0.2.1' }, nlri: [{ prefix: '10.0.0.0/8' }] }, AS4);
    for (let i = 0; i < 2; i++) {
      const u = decodeMessage(noOrigin, opts) as UpdateMessage;
      expect(u.errors?.map((e) => e.action)).toEqual(['treat-as-withdraw']);
    }
    // A bad ORIGIN value: the attribute list itself has the error, and is not kept.
    const fresh: AttributeMemo = {};
    const freshOpts: CodecOptions = { ...AS4, attributeMemo: fresh };
    const badOrigin = Buffer.from(updateBytes('192.0.2.1', ['10.0.0.0/8']));
    const originValueAt = badOrigin.indexOf(Buffer.from([0x40, 0x01, 0x01, 0x00])) + 3;
    badOrigin[originValueAt] = 7;
    for (let i = 0; i < 2; i++) expect((decodeMessage(badOrigin, freshOpts) as UpdateMessage).errors?.length).toBe(1);
    expect(fresh.bytes).toBeUndefined();
  });
});

describe('CodecOptions.attributeMemo, any UPDATEs', () => {
  it('decodes a stream (framed in random chunks) as a decode without the memo does, attribute sets repeating or not', () => {
    fc.assert(
      fc.property(
        codecOptions.chain((o) =>
          fc.tuple(
            fc.constant(o),
            fc.array(updateMessage(o), { minLength: 1, maxLength: 4 }),
            // Which message's attributes each UPDATE of the stream carries (with its own NLRI).
            fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 12 }),
            fc.integer({ min: 1, max: 64 }),
          ),
        ),
        ([o, msgs, picks, chunk]) => {
          const stream = picks.map(([a, n]) => ({ ...msgs[n % msgs.length]!, attributes: msgs[a % msgs.length]!.attributes }));
          const wire = Buffer.concat(stream.map((m) => encodeMessage(m, o)));
          const framer = new MessageFramer();
          const raws: Buffer[] = [];
          for (let i = 0; i < wire.length; i += chunk) raws.push(...framer.push(wire.subarray(i, i + chunk)));
          for (const packedNlri of [false, true]) {
            const memo: AttributeMemo = {};
            const withMemo = raws.map((raw) => decodeMessage(raw, { ...o, packedNlri, attributeMemo: memo }));
            const without = raws.map((raw) => decodeMessage(raw, { ...o, packedNlri }));
            expect(withMemo).toStrictEqual(without);
          }
        },
      ),
      { numRuns: 250 },
    );
  });
});

describe('AttrStore.intern by object', () => {
  it('finds the set of the object it was last given without its key, and not once that set is gone', () => {
    const store = new AttrStore();
    const attrs = { origin: Origin.IGP, asPath: [], nextHops: ['192.0.2.1'] };
    const id = store.intern(attrs);
    expect(store.intern(attrs, 2)).toBe(id);
    store.release(id, 3);
    expect(store.size).toBe(0);
    // The id is reused by another set; the old object is interned anew (with its own content).
    const other = store.intern({ origin: Origin.EGP, asPath: [], nextHops: ['192.0.2.9'] });
    expect(other).toBe(id);
    const again = store.intern(attrs);
    expect(again).not.toBe(other);
    expect(store.get(again).nextHops).toEqual(['192.0.2.1']);
    expect(store.get(other).nextHops).toEqual(['192.0.2.9']);
  });
});
