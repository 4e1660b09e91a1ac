import type { LogStorage, LogWrite } from '../raft/storage.js';
import type { ConfState, Entry, HardState, SnapshotMeta } from '../raft/types.js';
import type { MemoryLogStorage } from './memory-log-storage.js';

/**
 * A LogStorage that answers every read from an in-memory copy of the log and leaves only
 * durability to the subclass (the WAL, the simulator's disk).
 */
export abstract class MemoryBackedLogStorage implements LogStorage {
  /** The in-memory copy; it also validates writes before they are made durable. */
  protected abstract get mem(): MemoryLogStorage;
  abstract save(write: LogWrite): Promise<void>;
  abstract compact(meta: SnapshotMeta, compactIndex: number): Promise<void>;

  initialState(): { hardState: HardState; confState: ConfState } {
    return this.mem.initialState();
  }
  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    return this.mem.entries(lo, hi, maxBytes);
  }
  term(index: number): number {
    return this.mem.term(index);
  }
  firstIndex(): number {
    return this.mem.firstIndex();
  }
  lastIndex(): number {
    return this.mem.lastIndex();
  }
  snapshot(): SnapshotMeta {
    return this.mem.snapshot();
  }
}
