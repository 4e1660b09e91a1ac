import type { ConfState, Entry, HardState, SnapshotMeta } from './types.js';

/**
 * What the core reads from the log storage. All calls are synchronous: the core never awaits.
 * Entries handed to the driver in a Ready become visible here once the driver has saved them.
 *
 * Index conventions: the storage holds the entries `firstIndex()..lastIndex()` and still knows the
 * term of the entry at `firstIndex() - 1` (the compaction point; 0 with term 0 for a new log).
 * The newest snapshot is at or above the compaction point: `snapshot().index >= firstIndex() - 1`.
 * When no entries are held, `lastIndex() === firstIndex() - 1`.
 */
export interface LogReader {
  /** The hard state and the configuration saved last (the configuration of the snapshot, or empty). */
  initialState(): { hardState: HardState; confState: ConfState };
  /**
   * Entries in [lo, hi). Returns at least one entry when lo < hi, even if it alone exceeds
   * `maxBytes`; otherwise stops before the total payload size would exceed `maxBytes`.
   * Throws RaftError COMPACTED if lo < firstIndex(), UNAVAILABLE if hi > lastIndex() + 1.
   */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /**
   * The term of the entry at `index`. Valid for firstIndex() - 1 ..lastIndex().
   * Throws RaftError COMPACTED below that range and UNAVAILABLE above it.
   */
  term(index: number): number;
  firstIndex(): number;
  lastIndex(): number;
  /** Metadata of the newest snapshot; throws SNAPSHOT_TEMPORARILY_UNAVAILABLE if it is being made. */
  snapshot(): SnapshotMeta;
}

/** One durable write: what a Ready asks the driver to persist, in this order. */
export interface LogWrite {
  /** Installs a snapshot first: every entry at or below its index is discarded. */
  readonly snapshot?: SnapshotMeta;
  /**
   * Appended after the snapshot. The first entry may overwrite existing entries from its index
   * on: the storage truncates the conflicting suffix before appending.
   */
  readonly entries: readonly Entry[];
  readonly hardState?: HardState;
  /**
   * Nothing depends on this write being durable soon (only the commit index moved: a node that
   * loses it learns it again from the leader). A storage may hold it back and write it with the
   * next durable write, instead of paying an fsync of its own; it stays visible at once.
   */
  readonly lazy?: boolean;
}

/**
 * Log storage as the driver uses it. `save` makes the write visible to readers at once and
 * resolves only when it is durable; a crash before then may lose it, or any suffix of it.
 */
export interface LogStorage extends LogReader {
  save(write: LogWrite): Promise<void>;
  /**
   * Records that a snapshot of the state machine at `meta.index` exists (its bytes are kept by
   * the snapshot store) and releases entries at or below `compactIndex` (≤ meta.index). Entries
   * above `compactIndex` stay readable so a follower a little behind can still be caught up
   * from the log instead of a snapshot.
   */
  compact(meta: SnapshotMeta, compactIndex: number): Promise<void>;
}
