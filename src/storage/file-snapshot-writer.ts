import * as fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { SnapshotWriter, StagedSnapshot } from '../node/interfaces.js';
import { assert } from '../raft/errors.js';
import type { SnapshotMeta } from '../raft/types.js';
import { crc32c } from '../util/crc32c.js';
import { readSnapshotFile } from './file-snapshot-reader.js';
import type { SnapshotFileHeader } from './snapshot-file-format.js';
import { encodeHeader } from './snapshot-file-format.js';

/** The store's side of a staged file: making it current. */
export interface StagedFileOwner {
  /** Renames the staged file into place (if newer than the latest); resolves with where it now lives. */
  commitStaged(tempFile: string, header: SnapshotFileHeader): Promise<string>;
}

/**
 * Writes one snapshot into a temporary file as its chunks arrive. The data goes after room
 * for the header, whose length and checksum fields are filled in when it is staged; the
 * temporary name means a crash before the commit leaves nothing the store would load.
 */
export class FileSnapshotWriter implements SnapshotWriter {
  private dataBytes = 0;
  private crc = 0;
  private state: 'writing' | 'staged' | 'aborted' = 'writing';
  private writing = false;
  private readonly headerBytes: number;

  private constructor(
    readonly meta: SnapshotMeta,
    private readonly h: FileHandle,
    private readonly tempFile: string,
    private readonly owner: StagedFileOwner,
  ) {
    this.headerBytes = encodeHeader(meta, 0, 0).byteLength;
  }

  static async create(meta: SnapshotMeta, tempFile: string, owner: StagedFileOwner): Promise<FileSnapshotWriter> {
    // 'wx': a name already taken is a bug (two writers on one file), never something to overwrite.
    const h = await fs.open(tempFile, 'wx');
    return new FileSnapshotWriter(meta, h, tempFile, owner);
  }

  async write(chunk: Uint8Array): Promise<void> {
    assert(this.state === 'writing', `write to a ${this.state} snapshot`);
    assert(!this.writing, 'snapshot writes must be awaited one by one');
    this.writing = true;
    try {
      await writeAt(this.h, chunk, this.headerBytes + this.dataBytes);
    } catch (err) {
      await this.abort();
      throw err;
    } finally {
      this.writing = false;
    }
    this.crc = crc32c(chunk, this.crc);
    this.dataBytes += chunk.byteLength;
  }

  async stage(): Promise<StagedSnapshot> {
    assert(this.state === 'writing' && !this.writing, `stage a ${this.state} snapshot`);
    const headerBytes = encodeHeader(this.meta, this.dataBytes, this.crc);
    assert(headerBytes.byteLength === this.headerBytes, 'the header keeps its length');
    try {
      await writeAt(this.h, headerBytes, 0);
      // Durable before anyone is told it exists: the node installs it only from here on.
      await this.h.sync();
      await this.h.close();
    } catch (err) {
      await this.abort();
      throw err;
    }
    this.state = 'staged';
    const header: SnapshotFileHeader = { meta: this.meta, dataBytes: this.dataBytes, dataCrc32c: this.crc, dataOffset: this.headerBytes };
    return new FileStagedSnapshot(header, this.tempFile, this.owner);
  }

  async abort(): Promise<void> {
    if (this.state !== 'writing') return;
    this.state = 'aborted';
    await this.h.close().catch(() => undefined);
    await fs.rm(this.tempFile, { force: true });
  }
}

/** A durable temporary snapshot file waiting to be committed or discarded. */
class FileStagedSnapshot implements StagedSnapshot {
  readonly meta: SnapshotMeta;
  readonly totalBytes: number;
  private file: string;
  private settled = false;

  constructor(
    private readonly header: SnapshotFileHeader,
    private readonly tempFile: string,
    private readonly owner: StagedFileOwner,
  ) {
    this.meta = header.meta;
    this.totalBytes = header.dataBytes;
    this.file = tempFile;
  }

  chunks(maxChunkBytes: number): AsyncIterableIterator<Uint8Array> {
    return readSnapshotFile(() => this.file, this.header, maxChunkBytes);
  }

  async commit(): Promise<void> {
    assert(!this.settled, 'a staged snapshot is committed or discarded once');
    this.settled = true;
    this.file = await this.owner.commitStaged(this.tempFile, this.header);
  }

  async discard(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    await fs.rm(this.tempFile, { force: true });
  }
}

async function writeAt(h: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const { bytesWritten } = await h.write(bytes, done, bytes.byteLength - done, position + done);
    assert(bytesWritten > 0, 'a file write makes progress');
    done += bytesWritten;
  }
}
