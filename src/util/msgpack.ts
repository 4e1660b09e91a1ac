import { decode, encode } from '@msgpack/msgpack';

/**
 * The one MessagePack codec of the project (peer frames, KV commands, snapshots). Every
 * encoding stands alone (no shared record tables, so bytes never depend on history), maps
 * decode as plain objects, binary decodes as Uint8Array, and decoding throws on garbage and
 * on trailing bytes.
 */
export function packValue(value: unknown): Uint8Array {
  return encode(value);
}

export function unpackValue(bytes: Uint8Array): unknown {
  return decode(bytes);
}
