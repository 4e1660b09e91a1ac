import { assert } from '../raft/errors.js';
import type { Entry } from '../raft/types.js';
import { crc32c } from '../util/crc32c.js';
import { WalCorruptError } from './wal-errors.js';
import type { EntrySlot, RecordLocation } from './wal-index.js';
import { ENTRY_HEADER_BYTES, FRAME_HEADER_BYTES, readEntryAt } from './wal-record.js';

/**
 * Records up to this size are read whole, so their checksum is verified again on every read.
 * Larger ones (a group's whole live log written again) are read only over the entries asked
 * for, each checked against the index: rereading megabytes for one entry would make catching
 * a follower up quadratic.
 */
export const VERIFIED_READ_MAX_BYTES = 1024 * 1024;

/**
 * Reads consecutive entries of one record from its segment, synchronously (the raft core
 * reads its log without awaiting). Every entry read must be the one the index expects there;
 * anything else means the file changed under the log, and is reported as corruption.
 */
export function readRecordEntries(record: RecordLocation, run: readonly EntrySlot[]): Entry[] {
  const first = run[0];
  const last = run[run.length - 1];
  assert(first !== undefined && last !== undefined, 'disk read of no entries');
  const { segment } = record;
  let buf: Buffer;
  let base: number;
  if (record.bytes <= VERIFIED_READ_MAX_BYTES) {
    buf = segment.readSync(record.offset, record.bytes);
    base = 0;
    const length = buf.readUInt32BE(0);
    if (length !== record.bytes - FRAME_HEADER_BYTES || crc32c(buf.subarray(FRAME_HEADER_BYTES)) !== buf.readUInt32BE(4)) {
      throw new WalCorruptError(segment.file, record.offset, 'record no longer verifies when read back');
    }
  } else {
    base = first.entryOffset;
    buf = segment.readSync(record.offset + base, last.entryOffset + ENTRY_HEADER_BYTES + last.dataBytes - base);
  }
  const out: Entry[] = [];
  for (const slot of run) {
    assert(slot.record === record, `entry ${slot.index} is not in the record being read`);
    const e = readEntryAt(buf, slot.entryOffset - base, slot);
    if (e === undefined) throw new WalCorruptError(segment.file, record.offset + slot.entryOffset, `entry ${slot.index} (term ${slot.term}) is not where the index says`);
    out.push(e);
  }
  return out;
}
