import { Decoder, Encoder } from '@msgpack/msgpack';

/**
 * The one MessagePack codec of the project (peer frames, KV commands, snapshots). Every
 * encoding stands alone (no shared record tables, so bytes never depend on history), maps
 * decode as plain objects, binary decodes as Uint8Array, and decoding throws on garbage and
 * on trailing bytes.
 *
 * One encoder and one decoder serve every call: the library's `encode`/`decode` functions
 * build a new codec (and a fresh 2 KiB buffer, grown again for every large frame) per call,
 * which showed up as allocation and GC on every write. Both are reentrant (a nested call gets
 * a clone), and `encode` returns a copy, never a view of the shared buffer.
 */
const encoder = new Encoder();
const decoder = new Decoder();

export function packValue(value: unknown): Uint8Array {
  return encoder.encode(value);
}

export function unpackValue(bytes: Uint8Array): unknown {
  return decoder.decode(bytes);
}
