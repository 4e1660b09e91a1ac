import { Decoder } from '@msgpack/msgpack';
import { Packr, Unpackr } from 'msgpackr';

/**
 * The one MessagePack codec of the project (peer frames, KV commands, snapshots). Every
 * encoding stands alone (no shared record tables, so bytes never depend on history), maps
 * decode as plain objects, binary decodes as Uint8Array, and decoding throws on garbage and
 * on trailing bytes.
 *
 * Encoding is msgpackr's, with its extensions off (no records, `undefined` as nil), so the
 * bytes are plain MessagePack: it is about four times faster than @msgpack/msgpack's encoder
 * on a KV command and twice as fast on a snapshot, both on the write path. Decoding stays with
 * @msgpack/msgpack, whose decoder refuses what is not plain MessagePack (msgpackr hands back
 * a placeholder for the reserved byte 0xc1, and its own extensions).
 *
 * One decoder serves every call: the library's `decode` function builds a new codec per call,
 * which showed up as allocation and GC on every write. It is reentrant (a nested call gets a
 * clone).
 */
const packr = new Packr({ useRecords: false, encodeUndefinedAsNil: true, mapsAsObjects: true, variableMapSize: true });
const decoder = new Decoder();
const looseUnpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

/** Encodes one value. The result is a copy of its own, never a view of the encoder's shared buffer. */
export function packValue(value: unknown): Uint8Array {
  // msgpackr returns a view into a buffer it keeps filling: a small value kept for long (a
  // command in the log) would pin the whole buffer, which a snapshot may have grown to megabytes.
  return new Uint8Array(packr.pack(value));
}

/**
 * The encodings of `values` one after the other, without an array header: the body of a
 * MessagePack array whose header the caller wrote, so a long array can be encoded in slices.
 */
export function packSequence(values: readonly unknown[]): Uint8Array {
  const whole = packr.pack(values);
  const first = whole[0] ?? 0;
  // msgpackr writes the shortest header: fixarray (1 byte), array16 (3) or array32 (5).
  const headerBytes = first >= 0x90 && first <= 0x9f ? 1 : first === 0xdc ? 3 : 5;
  return new Uint8Array(whole.subarray(headerBytes));
}

/** The header of a MessagePack array of `length` elements (always the 5-byte array32 form). */
export function arrayHeader(length: number): Uint8Array {
  const out = new Uint8Array(5);
  out[0] = 0xdd;
  new DataView(out.buffer).setUint32(1, length);
  return out;
}

export function unpackValue(bytes: Uint8Array): unknown {
  return decoder.decode(bytes);
}

/**
 * Decodes one value with msgpackr, about twice as fast as `unpackValue` (which showed as half
 * the cost of applying a KV command). It throws on truncated input and trailing bytes, but it
 * is not strict about what it yields: the reserved byte 0xc1 and extension types become
 * objects. Only for callers that check the type of every field they read (KV commands and
 * snapshots), which turns such objects into their own typed errors.
 */
export function unpackLoose(bytes: Uint8Array): unknown {
  return looseUnpackr.unpack(bytes);
}
