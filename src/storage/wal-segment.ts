import * as fs from 'node:fs/promises';
import { closeSync, constants as fsConstants, openSync, readSync } from 'node:fs';
import * as path from 'node:path';
import { assert } from '../raft/errors.js';

export const SEGMENT_NAME = /^(\d{16})\.wal$/;
export const segmentName = (seq: number): string => `${String(seq).padStart(16, '0')}.wal`;

/**
 * One segment file of the WAL, with a read descriptor kept open for the whole life of the
 * segment: the raft core reads entries synchronously (LogReader), so a read is one
 * `readSync` at a known offset, never an open.
 */
export class Segment {
  /** Bytes of whole records in the file (what the next record's offset will be). */
  bytes = 0;
  /** The file holds only zeros from `bytes` up to here (see WalZeroFill); never below `bytes` once written. */
  zeroedTo = 0;
  /** Per group, the highest entry index written in this segment: it may go once all are released. */
  readonly maxIndex = new Map<number, number>();
  /**
   * How many entries of the in-memory index point into this file. It must be zero when the
   * file is deleted: that is what makes "never read a deleted segment" checkable.
   */
  liveEntries = 0;
  private readFd: number | undefined;

  constructor(
    readonly seq: number,
    readonly file: string,
  ) {}

  static inDir(dir: string, seq: number): Segment {
    return new Segment(seq, path.join(dir, segmentName(seq)));
  }

  /** Opens the read descriptor; the file must exist. */
  openForReading(): void {
    assert(this.readFd === undefined, `segment ${this.file} already open for reading`);
    this.readFd = openSync(this.file, fsConstants.O_RDONLY);
  }

  /** Reads exactly `length` bytes at `offset` (within the records written so far). */
  readSync(offset: number, length: number): Buffer {
    const fd = this.readFd;
    assert(fd !== undefined, `segment ${this.file} read while closed`);
    assert(offset >= 0 && offset + length <= this.bytes, `read of ${length} bytes at ${offset} beyond the ${this.bytes} bytes of ${this.file}`);
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, buf, done, length - done, offset + done);
      assert(n > 0, `segment ${this.file} ended at ${offset + done}, before the ${length} bytes read at ${offset}`);
      done += n;
    }
    return buf;
  }

  closeForReading(): void {
    if (this.readFd === undefined) return;
    closeSync(this.readFd);
    this.readFd = undefined;
  }

  /** Deletes the file; nothing may point into it any more. */
  async delete(): Promise<void> {
    assert(this.liveEntries === 0, `segment ${this.file} deleted while ${this.liveEntries} indexed entries point into it`);
    this.closeForReading();
    await fs.rm(this.file, { force: true });
  }
}

/**
 * Opens a segment for writing with O_DSYNC, so that each write is durable when it returns
 * (the data and the metadata needed to read it back, like fdatasync). One call instead of a
 * write and an fdatasync halves the thread-pool round trips of every group commit. Records are
 * written at their offset (`bytes`), not appended: the file may run ahead of them in zeros.
 */
export async function openSegmentForWriting(file: string): Promise<fs.FileHandle> {
  return fs.open(file, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_DSYNC, 0o644);
}
