import { assert } from '../raft/errors.js';
import type { SnapshotMeta } from '../raft/types.js';
import type { SnapshotSource, SnapshotStore, StagedSnapshot } from './interfaces.js';

/** Chunk size for reading and copying snapshots inside one process. */
export const SNAPSHOT_READ_CHUNK_BYTES = 1024 * 1024;

/**
 * Reads a whole snapshot into one buffer: the single copy `StateMachine.restore` takes. The
 * source verifies its checksum as it streams, so damaged bytes never reach the state machine.
 */
export async function readSnapshotBytes(source: SnapshotSource): Promise<Uint8Array> {
  const out = new Uint8Array(source.totalBytes);
  let offset = 0;
  for await (const chunk of source.chunks(SNAPSHOT_READ_CHUNK_BYTES)) {
    assert(offset + chunk.byteLength <= out.byteLength, 'snapshot source yields more than its size');
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  assert(offset === out.byteLength, 'snapshot source yields less than its size');
  return out;
}

/** Writes, stages and commits a snapshot held in memory (one just taken from the state machine). */
export async function saveSnapshot(store: SnapshotStore, meta: SnapshotMeta, data: Uint8Array): Promise<void> {
  const staged = await stageBytes(store, meta, [data]);
  await staged.commit();
}

/**
 * Copies a snapshot from another store (a peer's, in one process: the tests and the simulator)
 * into `store` as a staged snapshot, chunk by chunk: the same path the peer transport takes.
 */
export async function stageSnapshotCopy(store: SnapshotStore, source: SnapshotSource): Promise<StagedSnapshot> {
  return stageBytes(store, source.meta, source.chunks(SNAPSHOT_READ_CHUNK_BYTES));
}

async function stageBytes(store: SnapshotStore, meta: SnapshotMeta, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<StagedSnapshot> {
  const writer = await store.create(meta);
  try {
    for await (const chunk of chunks) await writer.write(chunk);
    return await writer.stage();
  } catch (err) {
    await writer.abort();
    throw err;
  }
}
