import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { crc32c } from '../util/crc32c.js';
import { fsyncDir } from './fsync-dir.js';
import { WalCorruptError } from './wal-errors.js';
import { FRAME_HEADER_BYTES, MAX_RECORD_BYTES, decodeRecordPayload } from './wal-record.js';
import type { LaidOutRecord } from './wal-record.js';
import { SEGMENT_NAME } from './wal-segment.js';
import type { Segment } from './wal-segment.js';
import { isZeroFrom } from './wal-zero-fill.js';

/** A record found in a segment during recovery (entries without their payloads). */
export interface ScannedRecord {
  readonly record: LaidOutRecord;
  readonly segment: Segment;
  /** Byte offset of the framed record in the segment file. */
  readonly offset: number;
  /** Size of the framed record, header included. */
  readonly bytes: number;
}

/**
 * Reads and verifies one segment, truncating a torn tail of the last one. The file is read
 * whole but only the records' layout is kept: entry payloads stay on disk.
 */
export async function scanSegment(seg: Segment, isLast: boolean, out: ScannedRecord[], onWarning: ((m: string) => void) | undefined): Promise<void> {
  const data = await fs.readFile(seg.file);
  let offset = 0;
  let fileBytes = data.byteLength;
  while (offset < data.byteLength) {
    const bad = verifyAt(data, offset);
    if (typeof bad === 'string') {
      // The space zeroed ahead of the records (WalZeroFill): the segment's records end here.
      if (isZeroFrom(data, offset)) break;
      if (isLast && !hasValidRecordAfter(data, offset + 1)) {
        onWarning?.(`write-ahead log: truncating a torn tail of ${lastNonZero(data) - offset} bytes at ${seg.file}:${offset} (${bad})`);
        await fs.truncate(seg.file, offset);
        fileBytes = offset;
        break;
      }
      throw new WalCorruptError(seg.file, offset, bad);
    }
    out.push({ record: bad.record, segment: seg, offset, bytes: bad.next - offset });
    offset = bad.next;
  }
  seg.bytes = Math.min(offset, data.byteLength);
  seg.zeroedTo = fileBytes;
}

/**
 * The explicit repair behind `keel repair`: truncates the log at the first record that does
 * not verify and deletes every later segment. Returns where it cut, or undefined if the log
 * was sound. Everything after the cut is lost, which is why the node never does this itself.
 */
export async function repairWal(dir: string): Promise<{ file: string; offset: number; bytesDropped: number } | undefined> {
  const names = (await fs.readdir(dir)).filter((n) => SEGMENT_NAME.test(n)).sort();
  for (let i = 0; i < names.length; i++) {
    const file = path.join(dir, names[i] ?? '');
    const data = await fs.readFile(file);
    let offset = 0;
    while (offset < data.byteLength) {
      const r = verifyAt(data, offset);
      if (typeof r === 'string') break;
      offset = r.next;
    }
    if (isZeroFrom(data, offset)) continue;
    let dropped = lastNonZero(data) - offset;
    await fs.truncate(file, offset);
    for (const later of names.slice(i + 1)) {
      const p = path.join(dir, later);
      dropped += (await fs.stat(p)).size;
      await fs.rm(p);
    }
    await fsyncDir(dir);
    return { file, offset, bytesDropped: dropped };
  }
  return undefined;
}

/** The record at `offset`, or why there is none. */
function verifyAt(data: Uint8Array, offset: number): { record: LaidOutRecord; next: number } | string {
  if (data.byteLength - offset < FRAME_HEADER_BYTES) return 'incomplete record header';
  const view = new DataView(data.buffer, data.byteOffset + offset, FRAME_HEADER_BYTES);
  const length = view.getUint32(0);
  const crc = view.getUint32(4);
  if (length === 0 || length > MAX_RECORD_BYTES) return `implausible record length ${length}`;
  const end = offset + FRAME_HEADER_BYTES + length;
  if (end > data.byteLength) return 'record runs past the end of the file';
  const payload = data.subarray(offset + FRAME_HEADER_BYTES, end);
  if (crc32c(payload) !== crc) return 'checksum mismatch';
  try {
    return { record: decodeRecordPayload(payload), next: end };
  } catch (err) {
    return `undecodable record (${err instanceof Error ? err.message : String(err)})`;
  }
}

/** Whether any verifiable record starts at or after `from`: then the damage is not a torn tail. */
function hasValidRecordAfter(data: Uint8Array, from: number): boolean {
  for (let o = from; o + FRAME_HEADER_BYTES < data.byteLength; o++) {
    // A zero length is never a record; the zeroed space ahead of the records is mostly that.
    if (data[o] === 0 && data[o + 1] === 0 && data[o + 2] === 0 && data[o + 3] === 0) continue;
    if (typeof verifyAt(data, o) !== 'string') return true;
  }
  return false;
}

/** The length of `data` without its trailing zeros (the zeroed space is not data to report as lost). */
function lastNonZero(data: Uint8Array): number {
  let end = data.byteLength;
  while (end > 0 && data[end - 1] === 0) end--;
  return end;
}
