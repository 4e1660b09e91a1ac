import { assert } from './errors.js';
import type { Entry, SnapshotMeta } from './types.js';

/**
 * Entries and a snapshot that the core has accepted but the driver has not yet made durable.
 * They are handed out in a Ready, then released by `stableTo` once the driver has saved them.
 *
 * Invariant: when `snapshot` is set, `offset === snapshot.index + 1`; `entries[i].index === offset + i`.
 * Invariant: `offset <= offsetInProgress <= offset + entries.length`: entries below
 * `offsetInProgress` have been handed to the driver and are being saved.
 */
export class Unstable {
  snapshot: SnapshotMeta | undefined;
  snapshotInProgress = false;
  entries: Entry[] = [];
  offset: number;
  offsetInProgress: number;

  constructor(offset: number) {
    this.offset = offset;
    this.offsetInProgress = offset;
  }

  maybeFirstIndex(): number | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.index + 1;
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot?.index;
  }

  maybeTerm(index: number): number | undefined {
    if (index < this.offset) {
      if (this.snapshot !== undefined && this.snapshot.index === index) return this.snapshot.term;
      return undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || index > last) return undefined;
    return this.entries[index - this.offset]?.term;
  }

  /** Entries not yet handed to the driver. */
  nextEntries(): Entry[] {
    const inProgress = this.offsetInProgress - this.offset;
    if (inProgress >= this.entries.length) return [];
    return this.entries.slice(inProgress);
  }

  nextSnapshot(): SnapshotMeta | undefined {
    return this.snapshotInProgress ? undefined : this.snapshot;
  }

  /** Marks everything handed out so far as being saved. */
  acceptInProgress(): void {
    if (this.entries.length > 0) this.offsetInProgress = this.offset + this.entries.length;
    if (this.snapshot !== undefined) this.snapshotInProgress = true;
  }

  /**
   * The driver saved entries up to `index` with `term`. Ignored if the entry there has since
   * been replaced (a new leader overwrote it while the save was running).
   */
  stableTo(index: number, term: number): void {
    const t = this.maybeTerm(index);
    if (t === undefined || t !== term || index < this.offset) return;
    const count = index + 1 - this.offset;
    this.entries = this.entries.slice(count);
    this.offset = index + 1;
    this.offsetInProgress = Math.max(this.offsetInProgress, this.offset);
  }

  stableSnapTo(index: number): void {
    if (this.snapshot !== undefined && this.snapshot.index === index) {
      this.snapshot = undefined;
      this.snapshotInProgress = false;
    }
  }

  restore(snapshot: SnapshotMeta): void {
    this.offset = snapshot.index + 1;
    this.offsetInProgress = this.offset;
    this.entries = [];
    this.snapshot = snapshot;
    this.snapshotInProgress = false;
  }

  truncateAndAppend(ents: readonly Entry[]): void {
    const first = ents[0];
    if (first === undefined) return;
    const fromIndex = first.index;
    if (fromIndex === this.offset + this.entries.length) {
      // The common case: a plain append.
      for (const e of ents) this.entries.push(e);
    } else if (fromIndex <= this.offset) {
      // Replace everything: the log is truncated back to before our unstable entries.
      this.offset = fromIndex;
      this.entries = ents.slice();
    } else {
      // Truncate our suffix from fromIndex, then append.
      this.entries = this.entries.slice(0, fromIndex - this.offset).concat(ents);
    }
    this.offsetInProgress = Math.min(this.offsetInProgress, fromIndex);
    assert(this.offsetInProgress >= this.offset || this.entries.length === 0 || this.offsetInProgress === fromIndex, 'unstable in-progress offset');
    if (this.offsetInProgress < this.offset) this.offsetInProgress = this.offset;
  }

  /** Entries in [lo, hi), which must lie within the unstable range. */
  slice(lo: number, hi: number): Entry[] {
    assert(lo >= this.offset && hi <= this.offset + this.entries.length && lo <= hi, `unstable slice [${lo},${hi}) out of [${this.offset},${this.offset + this.entries.length})`);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
