import { RaftError, assert, isRaftError } from './errors.js';
import { entryPayloadBytes } from './message.js';
import type { LogReader } from './storage.js';
import type { Entry, SnapshotMeta } from './types.js';
import { Unstable } from './unstable.js';

/**
 * The core's view of the log: durable entries in storage followed by unstable ones, plus the
 * commit and apply cursors.
 *
 * Invariant: applied <= applying <= committed <= lastIndex().
 */
export class RaftLog {
  readonly storage: LogReader;
  readonly unstable: Unstable;
  /** Highest index known to be committed on a quorum. */
  committed: number;
  /** Highest index handed out for applying (in a Ready not yet advanced). */
  applying: number;
  /** Highest index the state machine has applied. */
  applied: number;
  /** Bound on the payload bytes of committed entries handed out in one Ready. */
  readonly maxApplyingBytes: number;

  constructor(storage: LogReader, maxApplyingBytes: number) {
    this.storage = storage;
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    // The compaction point is applied and committed by definition.
    this.committed = first - 1;
    this.applying = first - 1;
    this.applied = first - 1;
    this.maxApplyingBytes = maxApplyingBytes;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  /** The term at `index`; throws COMPACTED or UNAVAILABLE outside the known range. */
  term(index: number): number {
    const t = this.unstable.maybeTerm(index);
    if (t !== undefined) return t;
    if (index < this.firstIndex() - 1) throw new RaftError('COMPACTED', `term of ${index}: compacted (first ${this.firstIndex()})`);
    if (index > this.lastIndex()) throw new RaftError('UNAVAILABLE', `term of ${index}: beyond last ${this.lastIndex()}`);
    return this.storage.term(index);
  }

  /** The term at `index`, or 0 if it is compacted or not yet known. */
  termOrZero(index: number): number {
    return this.knownTerm(index) ?? 0;
  }

  /**
   * The term at `index`, or undefined outside the known range. Followers ask this for every
   * entry of every append (most lie beyond their last index), so the common miss must not
   * build an exception and its stack trace.
   */
  private knownTerm(index: number): number | undefined {
    const t = this.unstable.maybeTerm(index);
    if (t !== undefined) return t;
    if (index < this.firstIndex() - 1 || index > this.lastIndex()) return undefined;
    try {
      return this.storage.term(index);
    } catch (err) {
      if (isRaftError(err, 'COMPACTED') || isRaftError(err, 'UNAVAILABLE')) return undefined;
      throw err;
    }
  }

  matchTerm(index: number, term: number): boolean {
    return this.knownTerm(index) === term;
  }

  /**
   * Appends entries from a leader whose log has `logTerm` at `index`. Returns the index of the
   * last new entry, or undefined when our log does not contain (index, logTerm).
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: readonly Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNewIndex = index + ents.length;
    const conflict = this.findConflict(ents);
    if (conflict !== 0) {
      assert(conflict > this.committed, `entry ${conflict} conflicts with committed entry (committed ${this.committed})`);
      const first = ents[0];
      assert(first !== undefined, 'conflict with no entries');
      this.append(ents.slice(conflict - first.index));
    }
    this.commitTo(Math.min(committed, lastNewIndex));
    return lastNewIndex;
  }

  append(ents: readonly Entry[]): number {
    const first = ents[0];
    if (first === undefined) return this.lastIndex();
    assert(first.index - 1 >= this.committed, `append at ${first.index} would overwrite committed ${this.committed}`);
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * The index of the first entry of `ents` that is not already in the log with the same term
   * (0 if all are present). An entry at an index beyond our log counts as a conflict, so new
   * entries are appended.
   */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * Fast backtracking: the largest index <= `index` whose term is <= `term`, and that term.
   * A follower rejecting an append sends this so the leader skips a whole term per round trip.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    let i = index;
    while (i > 0) {
      const t = this.knownTerm(i);
      if (t === undefined) return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
      i--;
    }
    return { index: 0, term: 0 };
  }

  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    assert(index <= this.lastIndex(), `commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
  }

  /** Entries in [lo, hi) with total payload at most maxBytes (at least one). */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo >= hi) return [];
    const first = this.firstIndex();
    if (lo < first) throw new RaftError('COMPACTED', `slice from ${lo}: compacted (first ${first})`);
    assert(hi <= this.lastIndex() + 1, `slice to ${hi} beyond last ${this.lastIndex()}`);
    const out: Entry[] = [];
    const uOffset = this.unstable.offset;
    if (lo < uOffset) {
      const stored = this.storage.entries(lo, Math.min(hi, uOffset), maxBytes);
      for (const e of stored) out.push(e);
      // The storage stopped early because of the byte limit: we are done.
      if (stored.length < Math.min(hi, uOffset) - lo) return out;
    }
    if (hi > uOffset) {
      let bytes = 0;
      for (const e of out) bytes += entryPayloadBytes(e);
      for (const e of this.unstable.slice(Math.max(lo, uOffset), hi)) {
        const size = entryPayloadBytes(e);
        if (out.length > 0 && bytes + size > maxBytes) break;
        out.push(e);
        bytes += size;
      }
    }
    return out;
  }

  /** Entries from `lo` to the end of the log, limited by maxBytes. */
  entriesFrom(lo: number, maxBytes: number): Entry[] {
    if (lo > this.lastIndex()) return [];
    return this.slice(lo, this.lastIndex() + 1, maxBytes);
  }

  /** Committed entries not yet handed out for applying. */
  hasNextCommittedEntries(): boolean {
    if (this.unstable.snapshot !== undefined) return false; // apply the snapshot first
    return this.committed > this.applying;
  }

  nextCommittedEntries(): Entry[] {
    if (!this.hasNextCommittedEntries()) return [];
    return this.slice(Math.max(this.applying + 1, this.firstIndex()), this.committed + 1, this.maxApplyingBytes);
  }

  acceptApplying(index: number): void {
    assert(index <= this.committed, `applying ${index} beyond committed ${this.committed}`);
    this.applying = Math.max(this.applying, index);
  }

  appliedTo(index: number): void {
    if (index === 0) return;
    assert(index <= this.committed, `applied ${index} beyond committed ${this.committed}`);
    this.applied = Math.max(this.applied, index);
    this.applying = Math.max(this.applying, index);
  }

  snapshot(): SnapshotMeta {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  restore(snapshot: SnapshotMeta): void {
    this.committed = snapshot.index;
    this.unstable.restore(snapshot);
  }

  /** The last index whose entry is durable (saved by the driver). */
  lastStableIndex(): number {
    if (this.unstable.snapshot !== undefined) return 0;
    return this.unstable.offset - 1;
  }
}
