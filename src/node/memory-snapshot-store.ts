import type { SnapshotMeta } from '../raft/types.js';
import type { SnapshotStore } from './interfaces.js';

/** Keeps the newest snapshot in memory (tests, the simulator, the benchmark). */
export class MemorySnapshotStore implements SnapshotStore {
  private newest: { meta: SnapshotMeta; data: Uint8Array } | undefined;

  save(meta: SnapshotMeta, data: Uint8Array): Promise<void> {
    if (this.newest === undefined || meta.index > this.newest.meta.index) this.newest = { meta, data };
    return Promise.resolve();
  }

  latest(): { meta: SnapshotMeta; data: Uint8Array } | undefined {
    return this.newest;
  }
}
