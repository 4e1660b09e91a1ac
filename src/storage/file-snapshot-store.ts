import * as fs from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { SnapshotStore } from '../node/interfaces.js';
import { assert } from '../raft/errors.js';
import type { SnapshotMeta } from '../raft/types.js';
import { CodedError } from '../util/coded-error.js';
import { crc32c } from './crc32c.js';
import { fsyncDir } from './fsync-dir.js';

/** A snapshot file that does not verify: the node must not start from it. */
export class SnapshotCorruptError extends CodedError<'SNAPSHOT_CORRUPT'> {
  constructor(
    readonly file: string,
    why: string,
  ) {
    super('SNAPSHOT_CORRUPT', `snapshot ${file} is damaged: ${why}`);
  }
}

const SNAP_NAME = /^(\d{16})-(\d+)\.snap$/;
const fileName = (meta: SnapshotMeta): string => `${String(meta.index).padStart(16, '0')}-${meta.term}.snap`;

interface Header {
  readonly meta: SnapshotMeta;
  readonly bytes: number;
  readonly crc32c: number;
}

/**
 * Snapshots of one raft group on disk. Each is written to a temporary file, fsynced, renamed
 * into place and the directory fsynced, so a crash leaves either the old newest snapshot or
 * the new one, never half of one. The file holds a header (metadata, length, CRC-32C of the
 * data) and the data. The newest few are kept.
 *
 * The bytes are read back whole when asked for; streaming them in chunks belongs to the
 * snapshot transfer work.
 */
export class FileSnapshotStore implements SnapshotStore {
  private newest: { meta: SnapshotMeta; file: string } | undefined;
  private cached: { index: number; data: Uint8Array } | undefined;

  private constructor(
    readonly dir: string,
    private readonly keep: number,
  ) {}

  static async open(dir: string, options: { keep?: number } = {}): Promise<FileSnapshotStore> {
    const keep = options.keep ?? 3;
    assert(keep >= 1, 'keep at least one snapshot');
    await fs.mkdir(dir, { recursive: true });
    const store = new FileSnapshotStore(dir, keep);
    const names = (await fs.readdir(dir)).sort();
    // Leftovers of a crash in the middle of writing a snapshot.
    for (const n of names) if (n.endsWith('.tmp')) await fs.rm(path.join(dir, n), { force: true });
    const snaps = names.filter((n) => SNAP_NAME.test(n));
    const newestName = snaps[snaps.length - 1];
    if (newestName !== undefined) {
      const file = path.join(dir, newestName);
      const { header, data } = readSnapshotFile(file);
      store.newest = { meta: header.meta, file };
      store.cached = { index: header.meta.index, data };
    }
    return store;
  }

  async save(meta: SnapshotMeta, data: Uint8Array): Promise<void> {
    if (this.newest !== undefined && meta.index <= this.newest.meta.index) return;
    const header: Header = { meta, bytes: data.byteLength, crc32c: crc32c(data) };
    const headerBytes = new TextEncoder().encode(JSON.stringify(header));
    const lengthPrefix = new Uint8Array(4);
    new DataView(lengthPrefix.buffer).setUint32(0, headerBytes.byteLength);
    const file = path.join(this.dir, fileName(meta));
    const tmp = `${file}.tmp`;
    const h = await fs.open(tmp, 'w');
    try {
      await h.writev([lengthPrefix, headerBytes, data]);
      await h.sync();
    } finally {
      await h.close();
    }
    await fs.rename(tmp, file);
    await fsyncDir(this.dir);
    this.newest = { meta, file };
    this.cached = { index: meta.index, data };
    await this.prune();
  }

  latest(): { meta: SnapshotMeta; data: Uint8Array } | undefined {
    const n = this.newest;
    if (n === undefined) return undefined;
    if (this.cached?.index !== n.meta.index) this.cached = { index: n.meta.index, data: readSnapshotFile(n.file).data };
    return { meta: n.meta, data: this.cached.data };
  }

  private async prune(): Promise<void> {
    const snaps = (await fs.readdir(this.dir)).filter((n) => SNAP_NAME.test(n)).sort();
    for (const old of snaps.slice(0, Math.max(0, snaps.length - this.keep))) await fs.rm(path.join(this.dir, old), { force: true });
  }
}

function readSnapshotFile(file: string): { header: Header; data: Uint8Array } {
  const raw = readFileSync(file);
  if (raw.byteLength < 4) throw new SnapshotCorruptError(file, 'too short for a header');
  const headerLength = new DataView(raw.buffer, raw.byteOffset, 4).getUint32(0);
  if (4 + headerLength > raw.byteLength) throw new SnapshotCorruptError(file, 'header runs past the end');
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(raw.subarray(4, 4 + headerLength))) as Header;
  } catch {
    throw new SnapshotCorruptError(file, 'header is not valid JSON');
  }
  const data = raw.subarray(4 + headerLength);
  if (data.byteLength !== header.bytes) throw new SnapshotCorruptError(file, `expected ${header.bytes} bytes of data, found ${data.byteLength}`);
  if (crc32c(data) !== header.crc32c) throw new SnapshotCorruptError(file, 'checksum mismatch');
  return { header, data };
}
