import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { SnapshotSource, SnapshotStore, SnapshotWriter } from '../node/interfaces.js';
import { assert } from '../raft/errors.js';
import type { SnapshotMeta } from '../raft/types.js';
import { readSnapshotFile } from './file-snapshot-reader.js';
import { FileSnapshotWriter } from './file-snapshot-writer.js';
import type { StagedFileOwner } from './file-snapshot-writer.js';
import { fsyncDir } from './fsync-dir.js';
import type { SnapshotFileHeader } from './snapshot-file-format.js';
import { readHeader } from './snapshot-file-format.js';

export { SnapshotCorruptError } from '../node/snapshot-corrupt-error.js';

const SNAP_NAME = /^(\d{16})-(\d+)\.snap$/;
const TEMP_SUFFIX = '.tmp';
const fileName = (meta: SnapshotMeta): string => `${String(meta.index).padStart(16, '0')}-${meta.term}.snap`;

/**
 * Snapshots of one raft group on disk. Each is streamed into a temporary file, fsynced (it is
 * then "staged": complete and durable, but not current), and on commit renamed into place with
 * the directory fsynced, so a crash leaves either the old newest snapshot or the new one,
 * never half of one, and never one raft had not accepted yet. A file holds a header (metadata,
 * length, CRC-32C of the data; see snapshot-file-format.ts) and the data, which is read back
 * in chunks and verified as it streams. The newest few are kept.
 */
export class FileSnapshotStore implements SnapshotStore, StagedFileOwner {
  private newest: { file: string; header: SnapshotFileHeader } | undefined;
  private tempSeq = 0;
  /** Commits run one at a time: each compares against the newest the previous one left. */
  private commits: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly dir: string,
    private readonly keep: number,
  ) {}

  /**
   * Opens (creating) the directory. Temporary files are removed: they are interrupted writes,
   * or staged snapshots raft never accepted. The newest snapshot's header is verified here;
   * its data when it is read.
   */
  static async open(dir: string, options: { keep?: number } = {}): Promise<FileSnapshotStore> {
    const keep = options.keep ?? 3;
    assert(keep >= 1, 'keep at least one snapshot');
    await fs.mkdir(dir, { recursive: true });
    const store = new FileSnapshotStore(dir, keep);
    const names = (await fs.readdir(dir)).sort();
    for (const n of names) if (n.endsWith(TEMP_SUFFIX)) await fs.rm(path.join(dir, n), { force: true });
    const snaps = names.filter((n) => SNAP_NAME.test(n));
    const newestName = snaps[snaps.length - 1];
    if (newestName !== undefined) {
      const file = path.join(dir, newestName);
      const h = await fs.open(file, 'r');
      try {
        store.newest = { file, header: await readHeader(h, file) };
      } finally {
        await h.close();
      }
    }
    return store;
  }

  latest(): SnapshotSource | undefined {
    const n = this.newest;
    if (n === undefined) return undefined;
    return { meta: n.header.meta, totalBytes: n.header.dataBytes, chunks: (maxChunkBytes) => readSnapshotFile(() => n.file, n.header, maxChunkBytes) };
  }

  create(meta: SnapshotMeta): Promise<SnapshotWriter> {
    // A sequence number keeps two writers of the same snapshot (a leader resending it) apart.
    const temp = path.join(this.dir, `${fileName(meta)}.${++this.tempSeq}${TEMP_SUFFIX}`);
    return FileSnapshotWriter.create(meta, temp, this);
  }

  commitStaged(tempFile: string, header: SnapshotFileHeader): Promise<string> {
    const run = this.commits.then(() => this.install(tempFile, header));
    this.commits = run.catch(() => undefined);
    return run;
  }

  private async install(tempFile: string, header: SnapshotFileHeader): Promise<string> {
    if (this.newest !== undefined && header.meta.index <= this.newest.header.meta.index) {
      // Not newer than what is current: it could never be installed. Drop it.
      await fs.rm(tempFile, { force: true });
      return tempFile;
    }
    const file = path.join(this.dir, fileName(header.meta));
    await fs.rename(tempFile, file);
    await fsyncDir(this.dir);
    this.newest = { file, header };
    await this.prune();
    return file;
  }

  private async prune(): Promise<void> {
    const snaps = (await fs.readdir(this.dir)).filter((n) => SNAP_NAME.test(n)).sort();
    // A reader that already opened a pruned file (a snapshot on its way to a peer) still reads it.
    for (const old of snaps.slice(0, Math.max(0, snaps.length - this.keep))) await fs.rm(path.join(this.dir, old), { force: true });
  }
}
