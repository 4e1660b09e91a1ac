import type { FileHandle } from 'node:fs/promises';
import { SnapshotCorruptError } from '../node/snapshot-corrupt-error.js';
import { assert } from '../raft/errors.js';
import type { NodeId, SnapshotMeta } from '../raft/types.js';
import { crc32c } from '../util/crc32c.js';

/**
 * The layout of a snapshot file: a fixed header, the metadata, then the data.
 *
 *   0  magic "KSNP"              4  format version (u32)
 *   8  data bytes (u64)         16  CRC-32C of the data (u32)
 *  20  metadata bytes (u32)     24  CRC-32C of bytes 0..24 and the metadata (u32)
 *  28  reserved, zero (u32)     32  metadata, then the data
 *
 * Every field sits at a fixed offset, so a writer streams the data first and fills in its
 * length and checksum at the end with one positioned write; a reader learns the metadata and
 * the size from the head of the file without touching the data.
 */
const MAGIC = 0x4b534e50;
const FORMAT_VERSION = 2;
export const FIXED_HEADER_BYTES = 32;
/** Metadata is a few ids; anything larger is damage, and must not drive an allocation. */
const MAX_META_BYTES = 1024 * 1024;

export interface SnapshotFileHeader {
  readonly meta: SnapshotMeta;
  readonly dataBytes: number;
  readonly dataCrc32c: number;
  /** Where the data starts in the file. */
  readonly dataOffset: number;
}

/** The header (fixed part and metadata) of a file holding `dataBytes` bytes with checksum `dataCrc32c`. */
export function encodeHeader(meta: SnapshotMeta, dataBytes: number, dataCrc32c: number): Uint8Array {
  const metaBytes = encodeMeta(meta);
  const out = new Uint8Array(FIXED_HEADER_BYTES + metaBytes.byteLength);
  const v = new DataView(out.buffer);
  v.setUint32(0, MAGIC);
  v.setUint32(4, FORMAT_VERSION);
  v.setBigUint64(8, BigInt(dataBytes));
  v.setUint32(16, dataCrc32c);
  v.setUint32(20, metaBytes.byteLength);
  out.set(metaBytes, FIXED_HEADER_BYTES);
  v.setUint32(24, headerCrc(out));
  return out;
}

/** Reads and verifies a snapshot file's header; checks that the file holds exactly the data it announces. */
export async function readHeader(h: FileHandle, file: string): Promise<SnapshotFileHeader> {
  const fileBytes = (await h.stat()).size;
  const fixed = await readAt(h, 0, Math.min(FIXED_HEADER_BYTES, fileBytes));
  if (fixed.byteLength < FIXED_HEADER_BYTES) throw new SnapshotCorruptError(file, 'too short for a header');
  const v = new DataView(fixed.buffer, fixed.byteOffset, fixed.byteLength);
  if (v.getUint32(0) !== MAGIC) return readFirstFormatHeader(h, file, fileBytes, v.getUint32(0));
  if (v.getUint32(4) !== FORMAT_VERSION) throw new SnapshotCorruptError(file, `unknown format version ${v.getUint32(4)}`);
  const metaLength = v.getUint32(20);
  if (metaLength > MAX_META_BYTES || FIXED_HEADER_BYTES + metaLength > fileBytes) throw new SnapshotCorruptError(file, 'metadata runs past the end');
  const whole = await readAt(h, 0, FIXED_HEADER_BYTES + metaLength);
  if (headerCrc(whole) !== v.getUint32(24)) throw new SnapshotCorruptError(file, 'header checksum mismatch');
  const dataBytes = Number(v.getBigUint64(8));
  const dataOffset = FIXED_HEADER_BYTES + metaLength;
  if (dataOffset + dataBytes !== fileBytes) throw new SnapshotCorruptError(file, `expected ${dataBytes} bytes of data, found ${fileBytes - dataOffset}`);
  return { meta: decodeMeta(whole.subarray(FIXED_HEADER_BYTES), file), dataBytes, dataCrc32c: v.getUint32(16), dataOffset };
}

/**
 * The first format (before streaming): a 4-byte length, a JSON header `{meta, bytes, crc32c}`,
 * then the data. Still read, so a data directory from an earlier build starts; never written.
 */
async function readFirstFormatHeader(h: FileHandle, file: string, fileBytes: number, headerLength: number): Promise<SnapshotFileHeader> {
  if (headerLength > MAX_META_BYTES || 4 + headerLength > fileBytes) throw new SnapshotCorruptError(file, 'not a snapshot file (bad magic)');
  let doc: { meta?: SnapshotMeta; bytes?: unknown; crc32c?: unknown };
  try {
    doc = JSON.parse(new TextDecoder().decode(await readAt(h, 4, headerLength))) as typeof doc;
  } catch {
    throw new SnapshotCorruptError(file, 'not a snapshot file (bad magic)');
  }
  const { meta, bytes, crc32c: crc } = doc;
  if (meta === undefined || typeof bytes !== 'number' || typeof crc !== 'number') throw new SnapshotCorruptError(file, 'header is incomplete');
  const dataOffset = 4 + headerLength;
  if (dataOffset + bytes !== fileBytes) throw new SnapshotCorruptError(file, `expected ${bytes} bytes of data, found ${fileBytes - dataOffset}`);
  return { meta, dataBytes: bytes, dataCrc32c: crc, dataOffset };
}

/** Exactly `length` bytes from `position`, fewer only at the end of the file. */
export async function readAt(h: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await h.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === length ? buf : buf.subarray(0, got);
}

function headerCrc(header: Uint8Array): number {
  // Bytes 24..32 (the checksum itself and the reserved word) are left out.
  return crc32c(header.subarray(FIXED_HEADER_BYTES), crc32c(header.subarray(0, 24)));
}

/** index, term (u64), autoLeave (u8), then voters, votersOutgoing, learners, learnersNext: a u32 count and u64 ids. */
function encodeMeta(meta: SnapshotMeta): Uint8Array {
  const c = meta.confState;
  const lists = [c.voters, c.votersOutgoing, c.learners, c.learnersNext];
  const out = new Uint8Array(17 + lists.reduce((n, l) => n + 4 + 8 * l.length, 0));
  const v = new DataView(out.buffer);
  v.setBigUint64(0, BigInt(meta.index));
  v.setBigUint64(8, BigInt(meta.term));
  v.setUint8(16, c.autoLeave ? 1 : 0);
  let at = 17;
  for (const list of lists) {
    v.setUint32(at, list.length);
    at += 4;
    for (const id of list) {
      v.setBigUint64(at, BigInt(id));
      at += 8;
    }
  }
  assert(at === out.byteLength, 'snapshot metadata layout');
  return out;
}

function decodeMeta(bytes: Uint8Array, file: string): SnapshotMeta {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (): never => {
    throw new SnapshotCorruptError(file, 'metadata does not decode');
  };
  if (bytes.byteLength < 17) fail();
  let at = 17;
  const list = (): NodeId[] => {
    if (at + 4 > bytes.byteLength) fail();
    const n = v.getUint32(at);
    at += 4;
    if (at + 8 * n > bytes.byteLength) fail();
    const ids: NodeId[] = [];
    for (let i = 0; i < n; i++, at += 8) ids.push(Number(v.getBigUint64(at)));
    return ids;
  };
  const voters = list();
  const votersOutgoing = list();
  const learners = list();
  const learnersNext = list();
  if (at !== bytes.byteLength) fail();
  return {
    index: Number(v.getBigUint64(0)),
    term: Number(v.getBigUint64(8)),
    confState: { voters, votersOutgoing, learners, learnersNext, autoLeave: v.getUint8(16) === 1 },
  };
}
