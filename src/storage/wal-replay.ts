import type { SnapshotMeta } from '../raft/types.js';
import { EMPTY_SNAPSHOT } from '../raft/types.js';
import { WalCorruptError } from './wal-errors.js';
import type { GroupIndex, EntrySlot, RecordLocation } from './wal-index.js';
import { placeSlot } from './wal-index.js';
import type { EntryRef, LaidOutRecord } from './wal-record.js';
import type { ScannedRecord } from './wal-scan.js';
import type { Segment } from './wal-segment.js';

/** What replay needs from the WAL it rebuilds. */
export interface ReplayTarget {
  /** A new, empty index whose dropped slots the WAL is told about. */
  newGroupIndex(): GroupIndex;
  /** Told of every record replayed, in log order, as if it had just become durable. */
  noteDurable(record: LaidOutRecord, segment: Segment): void;
}

interface FinalGroupState {
  snapshot: SnapshotMeta;
  compactIndex: number;
  compactTerm: number;
  /** Position of the record that set the final compaction point. */
  compactPos: number;
  /** Position of the group's last full restatement (groupState record). */
  restatedPos: number;
}

/**
 * Rebuilds every group's index from the records of all segments, in log order. Entries are
 * indexed where they lie on disk; no payload is read.
 */
export function replayRecords(scanned: readonly ScannedRecord[], target: ReplayTarget): Map<number, GroupIndex> {
  return new Replay(target).run(scanned);
}

function isEmptyWrite(record: LaidOutRecord): boolean {
  return record.kind === 'write' && record.write.snapshot === undefined && record.write.entries.length === 0 && record.write.hardState === undefined;
}

class Replay {
  private readonly groups = new Map<number, GroupIndex>();

  constructor(private readonly target: ReplayTarget) {}

  run(all: readonly ScannedRecord[]): Map<number, GroupIndex> {
    // A group deletion forgets everything of the group before it; records of the same id after
    // it are a new group's.
    const deletedAt = new Map<number, number>();
    all.forEach(({ record }, pos) => {
      if (record.kind === 'deleteGroup') deletedAt.set(record.group, pos);
    });
    const scanned = deletedAt.size === 0 ? all : all.filter(({ record }, pos) => record.kind !== 'deleteGroup' && pos > (deletedAt.get(record.group) ?? -1));

    const finals = this.finalCompactionPoints(scanned);
    for (const [group, f] of finals) {
      const m = this.index(group);
      if (f.compactIndex > 0 || f.compactTerm > 0) {
        m.apply({ snapshot: { index: f.compactIndex, term: f.compactTerm, confState: f.snapshot.confState }, slots: [] });
      }
      if (f.snapshot.index > f.compactIndex || (f.compactIndex === 0 && f.snapshot !== EMPTY_SNAPSHOT)) m.compact(f.snapshot, f.compactIndex);
    }
    // Pass 2: replay in order, skipping what the final compaction point already covers.
    // Compactions and installs before the one that set it are superseded by the base.
    for (const [pos, { record, segment, offset, bytes }] of scanned.entries()) {
      const f = finals.get(record.group);
      // Records before a full restatement of their group may refer to deleted segments.
      if (f !== undefined && pos < f.restatedPos) continue;
      try {
        this.apply(record, pos < (f?.compactPos ?? -1), { segment, offset, bytes });
      } catch (err) {
        throw new WalCorruptError(segment.file, offset, `record does not fit the log before it (${err instanceof Error ? err.message : String(err)})`);
      }
      this.target.noteDurable(record, segment);
    }
    return this.groups;
  }

  /**
   * Pass 1: the final compaction point of every group. Entries at or below it may sit in
   * segments already deleted, so replay starts each group from there.
   */
  private finalCompactionPoints(scanned: readonly ScannedRecord[]): Map<number, FinalGroupState> {
    const finals = new Map<number, FinalGroupState>();
    scanned.forEach(({ record }, pos) => {
      if (record.kind === 'deleteGroup' || isEmptyWrite(record)) return;
      let f = finals.get(record.group);
      if (f === undefined) finals.set(record.group, (f = { snapshot: EMPTY_SNAPSHOT, compactIndex: 0, compactTerm: 0, compactPos: -1, restatedPos: -1 }));
      if (record.kind === 'groupState') {
        // Everything of this group before it is superseded, compactions included.
        f.restatedPos = pos;
        f.snapshot = record.snapshot;
        f.compactIndex = record.compactIndex;
        f.compactTerm = record.compactTerm;
        f.compactPos = pos;
      } else if (record.kind === 'compact') {
        if (record.meta.index >= f.snapshot.index) f.snapshot = record.meta;
        if (record.compactIndex >= f.compactIndex) {
          f.compactIndex = record.compactIndex;
          f.compactTerm = record.compactTerm;
          f.compactPos = pos;
        }
      } else if (record.write.snapshot !== undefined) {
        // A snapshot install is a compaction too.
        const snap = record.write.snapshot;
        if (snap.index >= f.snapshot.index) f.snapshot = snap;
        if (snap.index >= f.compactIndex) {
          f.compactIndex = snap.index;
          f.compactTerm = snap.term;
          f.compactPos = pos;
        }
      }
    });
    return finals;
  }

  private index(group: number): GroupIndex {
    let m = this.groups.get(group);
    if (m === undefined) {
      m = this.target.newGroupIndex();
      this.groups.set(group, m);
    }
    return m;
  }

  private apply(record: LaidOutRecord, superseded: boolean, location: RecordLocation): void {
    if (record.kind === 'deleteGroup' || isEmptyWrite(record)) return;
    const slotsOf = (entries: readonly EntryRef[]): EntrySlot[] => entries.map((e) => locatedSlot(e, location));
    if (record.kind === 'groupState') {
      const fresh = this.target.newGroupIndex();
      fresh.apply({
        snapshot: { index: record.compactIndex, term: record.compactTerm, confState: record.snapshot.confState },
        slots: slotsOf(record.entries),
        hardState: record.hardState,
      });
      fresh.compact(record.snapshot, record.compactIndex);
      this.groups.get(record.group)?.dropAll();
      this.groups.set(record.group, fresh);
      return;
    }
    const m = this.index(record.group);
    const compacted = m.firstIndex() - 1;
    if (record.kind === 'compact') {
      if (superseded) return;
      if (record.compactIndex > compacted || record.meta.index >= m.snapshot().index) {
        m.compact(record.meta, Math.max(compacted, Math.min(record.compactIndex, m.lastIndex())));
      }
      return;
    }
    const { snapshot, entries, hardState } = record.write;
    const liveSnapshot =
      snapshot !== undefined && !superseded && (snapshot.index > compacted || (snapshot.index === compacted && snapshot.index >= m.snapshot().index)) ? snapshot : undefined;
    // An install that discarded the log back then discards what earlier records put above the
    // compaction point now (later records write again what survived). This matters when the
    // compaction point has since moved to or past the install, so the index cannot tell.
    if (snapshot !== undefined && record.snapshotKeptLog !== true) m.truncateAbove(compacted);
    const floor = liveSnapshot?.index ?? compacted;
    const liveEntries = entries.filter((e) => e.index > floor);
    // Entries that all lie below the compaction point still truncated everything after them.
    if (entries.length > 0 && liveEntries.length === 0) m.truncateAbove(floor);
    m.apply({
      ...(liveSnapshot === undefined ? {} : { snapshot: liveSnapshot }),
      slots: slotsOf(liveEntries),
      ...(hardState === undefined ? {} : { hardState }),
    });
  }
}

/** The slot of an entry found on disk. */
function locatedSlot(e: EntryRef, location: RecordLocation): EntrySlot {
  const slot: EntrySlot = { index: e.index, term: e.term, type: e.type, dataBytes: e.dataBytes, pending: undefined, record: undefined, entryOffset: 0, live: true, cached: undefined, lruNewer: undefined, lruOlder: undefined };
  placeSlot(slot, location, e.entryOffset);
  return slot;
}
