/**
 * The WAL's in-memory index of one raft group's log: for every live entry its term, its type,
 * its payload size and where its bytes lie in a segment, but not the payload itself (the
 * raft-engine design). Memory per entry is a small fixed cost, so a long un-compacted log
 * costs disk, not memory; `term()` and the byte budget of `entries()` are answered from here
 * without touching the disk.
 *
 * Layout and semantics are those of MemoryLogStorage (the reference implementation): `slots[head..]`
 * describe the entries `firstIndex()..lastIndex()` in order; releasing a prefix moves `head` and
 * the dead prefix is cut off once it is at least half of the array.
 */
import { assert, RaftError } from '../raft/errors.js';
import { EMPTY_HARD_STATE, EMPTY_SNAPSHOT } from '../raft/types.js';
import type { ConfState, Entry, EntryType, HardState, SnapshotMeta } from '../raft/types.js';
import type { CacheNode } from './entry-cache.js';
import type { Segment } from './wal-segment.js';

/** Where one record lies: shared by every entry of the record. */
export interface RecordLocation {
  readonly segment: Segment;
  /** Byte offset of the framed record in the segment file. */
  readonly offset: number;
  /** Size of the framed record, header included. */
  readonly bytes: number;
}

/**
 * One indexed entry. Exactly one of `pending` and `record` is set while the slot is live:
 * `pending` holds the entry itself until its record is in the file (a group-commit batch not
 * yet written, or memFirst persistence), then `record` and `entryOffset` say where it is.
 */
export interface EntrySlot extends CacheNode {
  readonly index: number;
  readonly term: number;
  readonly type: EntryType;
  readonly dataBytes: number;
  pending: Entry | undefined;
  record: RecordLocation | undefined;
  /** Where the entry's header starts, in bytes from the start of `record`. */
  entryOffset: number;
  /**
   * False once the entry was truncated, compacted or its group deleted: a write that lands
   * later must not point it anywhere, and nothing may serve it.
   */
  live: boolean;
  // `cached`, `lruNewer`, `lruOlder` (CacheNode): the entry cache's, set only by it.
}

/** A LogWrite whose entries are slots. */
export interface IndexedWrite {
  readonly snapshot?: SnapshotMeta;
  readonly slots: readonly EntrySlot[];
  readonly hardState?: HardState;
}

export function pendingSlot(e: Entry): EntrySlot {
  return { index: e.index, term: e.term, type: e.type, dataBytes: e.data.byteLength, pending: e, record: undefined, entryOffset: 0, live: true, cached: undefined, lruNewer: undefined, lruOlder: undefined };
}

/** Points a slot at where its record now lies, moving its pin from any older segment. */
export function placeSlot(slot: EntrySlot, record: RecordLocation, entryOffset: number): void {
  assert(slot.live, `entry ${slot.index} placed after it was dropped`);
  if (slot.record !== undefined) slot.record.segment.liveEntries--;
  slot.record = record;
  slot.entryOffset = entryOffset;
  slot.pending = undefined;
  record.segment.liveEntries++;
}

/** Marks a slot dropped from the index: it no longer pins its segment nor holds its payload. */
export function releaseSlot(slot: EntrySlot): void {
  if (!slot.live) return;
  slot.live = false;
  slot.pending = undefined;
  if (slot.record !== undefined) slot.record.segment.liveEntries--;
}

/** Below this many dead slots the prefix is not worth copying the array for. */
const MIN_DEAD_SLOTS_TO_RECLAIM = 1024;

export class GroupIndex {
  private slots: EntrySlot[] = [];
  /** Slot of the entry at firstIndex(); slots before it are released. */
  private head = 0;
  /** The compaction point: the index just below firstIndex(), whose term is still known. */
  private compactedIndex = 0;
  private compactedTerm = 0;
  private hardState: HardState = EMPTY_HARD_STATE;
  private snap: SnapshotMeta = EMPTY_SNAPSHOT;

  /** `onDrop` is told of every slot leaving the index, so its cached payload and disk pin go too. */
  constructor(private readonly onDrop: (slot: EntrySlot) => void) {}

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardState, confState: this.snap.confState };
  }

  /**
   * The slots of entries [lo, hi) whose payloads fit in `maxBytes` (at least one), with the
   * errors LogReader.entries promises. The budget is counted here, from the index, so only
   * the entries returned are ever read.
   */
  slotsIn(lo: number, hi: number, maxBytes: number): EntrySlot[] {
    assert(lo <= hi, `entries: lo ${lo} > hi ${hi}`);
    const first = this.firstIndex();
    if (lo < first) throw new RaftError('COMPACTED', `entries from ${lo}: log compacted through ${this.compactedIndex}`);
    const last = this.lastIndex();
    if (hi > last + 1) throw new RaftError('UNAVAILABLE', `entries up to ${hi - 1}: last index is ${last}`);
    const startSlot = this.head + (lo - first);
    const endSlot = startSlot + (hi - lo);
    let stopSlot = startSlot;
    let totalBytes = 0;
    while (stopSlot < endSlot) {
      totalBytes += this.slotAt(stopSlot).dataBytes;
      if (totalBytes > maxBytes && stopSlot > startSlot) break;
      stopSlot++;
    }
    return this.slots.slice(startSlot, stopSlot);
  }

  term(index: number): number {
    if (index < this.compactedIndex) {
      throw new RaftError('COMPACTED', `term of ${index}: log compacted through ${this.compactedIndex}`);
    }
    const last = this.lastIndex();
    if (index > last) throw new RaftError('UNAVAILABLE', `term of ${index}: last index is ${last}`);
    if (index === this.compactedIndex) return this.compactedTerm;
    return this.slotAt(this.head + (index - this.compactedIndex - 1)).term;
  }

  firstIndex(): number {
    return this.compactedIndex + 1;
  }

  lastIndex(): number {
    return this.compactedIndex + (this.slots.length - this.head);
  }

  /** How many entries the index holds. */
  get size(): number {
    return this.slots.length - this.head;
  }

  snapshot(): SnapshotMeta {
    return this.snap;
  }

  /** True if the log holds the snapshot's last entry, in which case the entries after it stay. */
  snapshotMatchesLog(snapshot: SnapshotMeta): boolean {
    return snapshot.index >= this.compactedIndex && snapshot.index <= this.lastIndex() && this.term(snapshot.index) === snapshot.term;
  }

  /** Applies a write in LogWrite order: snapshot, entries, hard state. Refused writes change nothing. */
  apply(write: IndexedWrite): void {
    const { snapshot, slots, hardState } = write;
    const keepSuffix = snapshot !== undefined && this.snapshotMatchesLog(snapshot);
    if (snapshot !== undefined) {
      assert(snapshot.index >= this.snap.index, `save: snapshot ${snapshot.index} older than current ${this.snap.index}`);
      assert(snapshot.index >= this.compactedIndex, `save: snapshot ${snapshot.index} below compaction point ${this.compactedIndex}`);
    }
    if (slots.length > 0) {
      const pointAfterSnapshot = snapshot === undefined ? this.compactedIndex : snapshot.index;
      const lastAfterSnapshot = snapshot === undefined || keepSuffix ? this.lastIndex() : snapshot.index;
      this.checkAppendable(slots, pointAfterSnapshot, lastAfterSnapshot);
    }

    if (snapshot !== undefined) {
      if (keepSuffix) {
        if (snapshot.index > this.compactedIndex) this.releaseThrough(snapshot.index);
      } else {
        this.discardAll(snapshot.index, snapshot.term);
      }
      this.snap = snapshot;
    }
    if (slots.length > 0) this.append(slots);
    if (hardState !== undefined) {
      // Copied so that a caller mutating its object later cannot change what was "persisted".
      this.hardState = { term: hardState.term, vote: hardState.vote, commit: hardState.commit };
    }
    this.checkInvariants();
  }

  /** Records a snapshot and releases entries up to `compactIndex` (clamped to lastIndex). */
  compact(meta: SnapshotMeta, compactIndex: number): void {
    assert(compactIndex <= meta.index, `compact: compactIndex ${compactIndex} above snapshot index ${meta.index}`);
    if (meta.index >= this.compactedIndex && meta.index <= this.lastIndex()) {
      // A snapshot is of applied (hence committed) entries, so it must agree with the log.
      assert(this.term(meta.index) === meta.term, `compact: snapshot term ${meta.term} at ${meta.index} differs from log`);
    }
    // A late compaction request must not roll the newest snapshot back.
    if (meta.index >= this.snap.index) this.snap = meta;
    const releaseThrough = Math.min(compactIndex, this.lastIndex());
    if (releaseThrough > this.compactedIndex) this.releaseThrough(releaseThrough);
    this.checkInvariants();
  }

  /** Drops every entry above `index`, which must be the compaction point (recovery only). */
  truncateAbove(index: number): void {
    if (this.lastIndex() <= index) return;
    assert(index === this.compactedIndex, 'truncation only at the compaction point');
    this.discardAll(this.compactedIndex, this.compactedTerm);
  }

  /** Drops every entry: the group is being deleted or replaced. */
  dropAll(): void {
    this.discardAll(this.compactedIndex, this.compactedTerm);
  }

  private checkAppendable(slots: readonly EntrySlot[], compactionPoint: number, last: number): void {
    const first = slots[0];
    assert(first !== undefined, 'checkAppendable: no entries');
    assert(first.index > compactionPoint, `save: entry ${first.index} at or below compaction point ${compactionPoint}`);
    assert(first.index <= last + 1, `save: entry ${first.index} leaves a gap after last index ${last}`);
    for (let i = 1; i < slots.length; i++) {
      const e = slots[i];
      assert(e !== undefined && e.index === first.index + i, `save: entries not contiguous at position ${i}`);
    }
  }

  /** Truncates any suffix from slots[0].index on, then appends. Validated by checkAppendable. */
  private append(slots: readonly EntrySlot[]): void {
    const first = slots[0];
    assert(first !== undefined, 'append: no entries');
    const keptLength = this.head + (first.index - this.firstIndex());
    for (let slot = keptLength; slot < this.slots.length; slot++) this.onDrop(this.slotAt(slot));
    this.slots.length = keptLength;
    for (const s of slots) this.slots.push(s);
  }

  /** Releases the entries up to and including `index` (which must be held). */
  private releaseThrough(index: number): void {
    assert(index > this.compactedIndex && index <= this.lastIndex(), `releaseThrough: ${index} not held`);
    const newCompactedTerm = this.term(index);
    const newHead = this.head + (index - this.compactedIndex);
    for (let slot = this.head; slot < newHead; slot++) this.onDrop(this.slotAt(slot));
    this.head = newHead;
    this.compactedIndex = index;
    this.compactedTerm = newCompactedTerm;
    if (this.head >= MIN_DEAD_SLOTS_TO_RECLAIM && this.head * 2 >= this.slots.length) {
      this.slots = this.slots.slice(this.head);
      this.head = 0;
    }
  }

  /** Drops every entry; the log restarts right after (index, term). */
  private discardAll(index: number, term: number): void {
    for (let slot = this.head; slot < this.slots.length; slot++) this.onDrop(this.slotAt(slot));
    this.slots = [];
    this.head = 0;
    this.compactedIndex = index;
    this.compactedTerm = term;
  }

  private slotAt(slot: number): EntrySlot {
    const e = this.slots[slot];
    assert(e !== undefined && slot >= this.head, `slot ${slot} out of range`);
    return e;
  }

  /** O(1) checks only: these run on every write. */
  private checkInvariants(): void {
    assert(this.head <= this.slots.length, 'head past the end of the log');
    assert(this.snap.index >= this.compactedIndex, `snapshot ${this.snap.index} below compaction point ${this.compactedIndex}`);
  }
}
