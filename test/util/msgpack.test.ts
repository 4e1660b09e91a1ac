import { describe, expect, it } from 'vitest';
import { arrayHeader, packSequence, packValue, unpackValue } from '../../src/util/msgpack.js';
import { concatBytes } from '../../src/util/bytes.js';
import { prependChunk, releasingChunks } from '../../src/util/chunks.js';

describe('msgpack', () => {
  it('encodes plain MessagePack: undefined as nil, binary as Uint8Array, no extensions', () => {
    const value = [1, -3, 2 ** 40, 1.5, 'é'.repeat(40), null, undefined, true, new Uint8Array([1, 2]), { a: [1] }];
    const bytes = packValue(value);
    expect(bytes.constructor).toBe(Uint8Array);
    expect(unpackValue(bytes)).toEqual([1, -3, 2 ** 40, 1.5, 'é'.repeat(40), null, null, true, new Uint8Array([1, 2]), { a: [1] }]);
  });

  it('returns encodings of their own, not views of a shared buffer', () => {
    const a = packValue('a');
    const b = packValue('b');
    expect(a.byteOffset).toBe(0);
    expect(a.buffer.byteLength).toBe(a.byteLength);
    expect(unpackValue(a)).toBe('a');
    expect(unpackValue(b)).toBe('b');
  });

  it('builds one array from a header and sequences encoded in slices, for every header size', () => {
    for (const n of [3, 20, 70_000]) {
      const items = Array.from({ length: n }, (_, i) => [i, `k${i}`]);
      const half = n >> 1;
      const bytes = concatBytes([arrayHeader(n), packSequence(items.slice(0, half)), packSequence(items.slice(half))]);
      expect(unpackValue(bytes)).toEqual(items);
    }
  });

  it('refuses trailing bytes and garbage when decoding', () => {
    expect(() => unpackValue(concatBytes([packValue(1), packValue(2)]))).toThrow();
    expect(() => unpackValue(Uint8Array.of(0xc1))).toThrow();
  });
});

describe('chunk iterators', () => {
  it('release once, whether run out, closed early or closed before the first chunk', () => {
    let released = 0;
    const make = () => releasingChunks([Uint8Array.of(1), Uint8Array.of(2)][Symbol.iterator](), () => released++);
    expect([...make()]).toHaveLength(2);
    expect(released).toBe(1);
    const early = make();
    early.next();
    early.return?.();
    early.return?.();
    expect(released).toBe(2);
    make().return?.();
    expect(released).toBe(3);
  });

  it('prepend a chunk, and close the rest with it', () => {
    let closed = 0;
    const rest = releasingChunks([Uint8Array.of(2)][Symbol.iterator](), () => closed++);
    expect([...prependChunk(Uint8Array.of(1), rest)].map((c) => c[0])).toEqual([1, 2]);
    expect(closed).toBe(1);
    const rest2 = releasingChunks([Uint8Array.of(2)][Symbol.iterator](), () => closed++);
    prependChunk(Uint8Array.of(1), rest2).return?.();
    expect(closed).toBe(2);
  });
});
