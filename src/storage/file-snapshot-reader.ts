import * as fs from 'node:fs/promises';
import { SnapshotCorruptError } from '../node/snapshot-corrupt-error.js';
import { assert } from '../raft/errors.js';
import { crc32c } from '../util/crc32c.js';
import type { SnapshotFileHeader } from './snapshot-file-format.js';
import { readAt } from './snapshot-file-format.js';

/**
 * Streams a snapshot file's data with positioned reads of at most `maxChunkBytes`, one read per
 * pull, so at most one chunk is in memory here however large the snapshot. The checksum runs
 * over the chunks as they pass; the last chunk is held back until it matches.
 *
 * `file()` is asked at the first pull: a staged snapshot may have been renamed into place
 * since the reader was made. The file stays readable once opened, even if pruned meanwhile.
 */
export async function* readSnapshotFile(file: () => string, header: SnapshotFileHeader, maxChunkBytes: number): AsyncIterableIterator<Uint8Array> {
  assert(maxChunkBytes > 0, 'chunks hold at least one byte');
  const name = file();
  const h = await fs.open(name, 'r');
  try {
    let crc = 0;
    for (let offset = 0; offset < header.dataBytes; ) {
      const want = Math.min(maxChunkBytes, header.dataBytes - offset);
      const chunk = await readAt(h, header.dataOffset + offset, want);
      if (chunk.byteLength !== want) throw new SnapshotCorruptError(name, `ends after ${offset + chunk.byteLength} of ${header.dataBytes} bytes of data`);
      crc = crc32c(chunk, crc);
      offset += want;
      if (offset === header.dataBytes && crc !== header.dataCrc32c) throw new SnapshotCorruptError(name, 'checksum mismatch');
      yield chunk;
    }
    if (header.dataBytes === 0 && crc !== header.dataCrc32c) throw new SnapshotCorruptError(name, 'checksum mismatch');
  } finally {
    await h.close();
  }
}
