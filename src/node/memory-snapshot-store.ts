import { assert } from '../raft/errors.js';
import type { SnapshotMeta } from '../raft/types.js';
import { crc32c } from '../util/crc32c.js';
import type { SnapshotSource, SnapshotStore, SnapshotWriter, StagedSnapshot } from './interfaces.js';
import { SnapshotCorruptError } from './snapshot-corrupt-error.js';

/** A complete snapshot held in memory, with the checksum it was written with. */
interface HeldSnapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
  readonly crc32c: number;
}

const WHERE = 'in memory';

/**
 * Keeps the newest snapshot in memory (tests, the simulator, the benchmark). It follows the
 * same staged-then-committed life as the file store, checksum included, so the in-process
 * paths exercise the same code as the real one.
 */
export class MemorySnapshotStore implements SnapshotStore {
  private newest: HeldSnapshot | undefined;

  latest(): SnapshotSource | undefined {
    return this.newest === undefined ? undefined : sourceOf(this.newest);
  }

  create(meta: SnapshotMeta): Promise<SnapshotWriter> {
    return Promise.resolve(new MemorySnapshotWriter(meta, (held) => this.commit(held)));
  }

  /**
   * Fault injection for tests and the simulator: flips one byte of the latest snapshot's data,
   * as a failing disk would. Reading it must then fail with SnapshotCorruptError.
   */
  damageLatest(byteOffset: number): void {
    const n = this.newest;
    assert(n !== undefined && byteOffset >= 0 && byteOffset < n.data.byteLength, 'damage inside the latest snapshot');
    n.data[byteOffset] = (n.data[byteOffset] ?? 0) ^ 0xff;
  }

  private commit(held: HeldSnapshot): void {
    if (this.newest === undefined || held.meta.index > this.newest.meta.index) this.newest = held;
  }
}

class MemorySnapshotWriter implements SnapshotWriter {
  private chunks: Uint8Array[] = [];
  private state: 'writing' | 'staged' | 'aborted' = 'writing';

  constructor(
    readonly meta: SnapshotMeta,
    private readonly onCommit: (held: HeldSnapshot) => void,
  ) {}

  write(chunk: Uint8Array): Promise<void> {
    assert(this.state === 'writing', `write to a ${this.state} snapshot`);
    // A copy: the caller's buffer (a network frame, another store's bytes) is not ours to keep.
    this.chunks.push(chunk.slice());
    return Promise.resolve();
  }

  stage(): Promise<StagedSnapshot> {
    assert(this.state === 'writing', `stage a ${this.state} snapshot`);
    this.state = 'staged';
    const total = this.chunks.reduce((n, c) => n + c.byteLength, 0);
    const data = new Uint8Array(total);
    let offset = 0;
    for (const c of this.chunks) {
      data.set(c, offset);
      offset += c.byteLength;
    }
    this.chunks = [];
    const held: HeldSnapshot = { meta: this.meta, data, crc32c: crc32c(data) };
    let settled = false;
    const staged: StagedSnapshot = {
      ...sourceOf(held),
      commit: () => {
        assert(!settled, 'a staged snapshot is committed or discarded once');
        settled = true;
        this.onCommit(held);
        return Promise.resolve();
      },
      discard: () => {
        settled = true;
        return Promise.resolve();
      },
    };
    return Promise.resolve(staged);
  }

  abort(): Promise<void> {
    if (this.state === 'writing') this.state = 'aborted';
    this.chunks = [];
    return Promise.resolve();
  }
}

function sourceOf(held: HeldSnapshot): SnapshotSource {
  return { meta: held.meta, totalBytes: held.data.byteLength, chunks: (maxChunkBytes) => readHeld(held, maxChunkBytes) };
}

// eslint-disable-next-line @typescript-eslint/require-await -- an async iterator, like the file store's
async function* readHeld(held: HeldSnapshot, maxChunkBytes: number): AsyncIterableIterator<Uint8Array> {
  assert(maxChunkBytes > 0, 'chunks hold at least one byte');
  const { data } = held;
  // Verified before the first chunk leaves: the bytes are all here, so there is no reason to
  // let a reader act on the front of a snapshot whose end is damaged.
  if (crc32c(data) !== held.crc32c) throw new SnapshotCorruptError(WHERE, 'checksum mismatch');
  for (let offset = 0; offset < data.byteLength; offset += maxChunkBytes) {
    yield data.subarray(offset, Math.min(offset + maxChunkBytes, data.byteLength));
  }
}
