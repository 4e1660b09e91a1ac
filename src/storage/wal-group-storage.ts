import { RaftError } from '../raft/errors.js';
import type { LogStorage, LogWrite } from '../raft/storage.js';
import type { ConfState, Entry, HardState, SnapshotMeta } from '../raft/types.js';
import { WalGroupDeletedError } from './wal-errors.js';
import type { EntrySlot, GroupIndex } from './wal-index.js';
import { pendingSlot } from './wal-index.js';
import type { WalRecord } from './wal-record.js';

/** What a group's storage needs from the shared WAL. */
export interface GroupLogHost {
  /** The group's index, created empty on first use. */
  groupIndex(group: number): GroupIndex;
  /** Bumped each time the group is deleted: storages of an older incarnation refuse to act. */
  incarnation(group: number): number;
  /** The entries of live slots: from memory while pending, else from the cache or the disk. */
  loadEntries(slots: readonly EntrySlot[]): Entry[];
  /** Logs a record; `slots` are the record's entries in the index, placed once it is written. */
  append(record: WalRecord, slots?: readonly EntrySlot[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * One group's LogStorage over the shared WAL. Terms and positions come from the WAL's
 * in-memory index; payloads from memory until written, then from the entry cache or the
 * segment files.
 */
export class WalGroupStorage implements LogStorage {
  private readonly incarnation: number;

  constructor(
    private readonly wal: GroupLogHost,
    private readonly group: number,
  ) {
    this.incarnation = wal.incarnation(group);
  }

  /** The index of this storage's incarnation of the group. */
  private get index(): GroupIndex {
    if (this.wal.incarnation(this.group) !== this.incarnation) throw new WalGroupDeletedError(this.group);
    return this.wal.groupIndex(this.group);
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return this.index.initialState();
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    return this.wal.loadEntries(this.index.slotsIn(lo, hi, maxBytes));
  }

  term(index: number): number {
    return this.index.term(index);
  }

  firstIndex(): number {
    return this.index.firstIndex();
  }

  lastIndex(): number {
    return this.index.lastIndex();
  }

  snapshot(): SnapshotMeta {
    return this.index.snapshot();
  }

  save(write: LogWrite): Promise<void> {
    const m = this.index;
    const s = write.snapshot;
    const keptLog = s !== undefined && m.snapshotMatchesLog(s);
    const slots = write.entries.map(pendingSlot);
    // The index validates the write first: an invalid one is refused before it is logged.
    m.apply({
      ...(s === undefined ? {} : { snapshot: s }),
      slots,
      ...(write.hardState === undefined ? {} : { hardState: write.hardState }),
    });
    return this.wal.append({ kind: 'write', group: this.group, write, ...(keptLog ? { snapshotKeptLog: true } : {}) }, slots);
  }

  compact(meta: SnapshotMeta, compactIndex: number): Promise<void> {
    const m = this.index;
    const effective = Math.max(m.firstIndex() - 1, Math.min(compactIndex, m.lastIndex()));
    let compactTerm: number;
    try {
      compactTerm = m.term(effective);
    } catch (err) {
      throw new RaftError('COMPACTED', `cannot compact to ${effective}: ${err instanceof Error ? err.message : String(err)}`);
    }
    m.compact(meta, compactIndex);
    return this.wal.append({ kind: 'compact', group: this.group, meta, compactIndex: effective, compactTerm });
  }

  close(): Promise<void> {
    return this.wal.close();
  }
}
