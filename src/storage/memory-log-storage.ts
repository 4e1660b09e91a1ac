/**
 * In-memory LogStorage: the reference implementation used by unit tests, by the simulator (which
 * layers crash semantics on top) and by the core benchmark. Nothing is durable, so every write
 * resolves at once.
 *
 * Layout: `slots[head..]` hold the entries `firstIndex()..lastIndex()` in order, so the entry at
 * index i lives in `slots[head + i - firstIndex()]` (O(1) term lookup). Truncating a suffix is a
 * length change; releasing a prefix moves `head` forward and the dead prefix is cut off only once
 * it is at least half of the array, so appends and compactions stay amortized O(1) per entry.
 */
import { assert, RaftError } from '../raft/errors.js';
import type { LogStorage, LogWrite } from '../raft/storage.js';
import { EMPTY_HARD_STATE, EMPTY_SNAPSHOT } from '../raft/types.js';
import type { ConfState, Entry, HardState, SnapshotMeta } from '../raft/types.js';

export interface MemoryLogStorageOptions {
  /** Installed first, exactly as a `save({ snapshot })` would. */
  readonly initialSnapshot?: SnapshotMeta;
  /** Appended after the snapshot; must start right after it (or at 1 without one). */
  readonly initialEntries?: readonly Entry[];
  readonly initialHardState?: HardState;
}

/**
 * Put in released slots so that compacted payloads can be garbage-collected right away instead of
 * waiting for the dead prefix to be cut off.
 */
const RELEASED: Entry = Object.freeze({ index: 0, term: 0, type: 'normal', data: new Uint8Array(0) });

/** Below this many dead slots the prefix is not worth copying the array for. */
const MIN_DEAD_SLOTS_TO_RECLAIM = 1024;

/** Memory writes are "durable" as soon as they are visible; one shared settled promise suffices. */
const DONE: Promise<void> = Promise.resolve();

export class MemoryLogStorage implements LogStorage {
  private slots: Entry[] = [];
  /** Slot of the entry at firstIndex(); slots before it are released. */
  private head = 0;
  /** The compaction point: the index just below firstIndex(), whose term is still known. */
  private compactedIndex = 0;
  private compactedTerm = 0;
  /** Sum of `data.byteLength` over the held entries. */
  private payloadBytes = 0;
  private hardState: HardState = EMPTY_HARD_STATE;
  private snap: SnapshotMeta = EMPTY_SNAPSHOT;

  constructor(options: MemoryLogStorageOptions = {}) {
    this.apply({
      ...(options.initialSnapshot === undefined ? {} : { snapshot: options.initialSnapshot }),
      entries: options.initialEntries ?? [],
      ...(options.initialHardState === undefined ? {} : { hardState: options.initialHardState }),
    });
  }

  /** Payload bytes of the entries currently held (what compaction gives back). */
  get bytesHeld(): number {
    return this.payloadBytes;
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardState, confState: this.snap.confState };
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    assert(lo <= hi, `entries: lo ${lo} > hi ${hi}`);
    const first = this.firstIndex();
    if (lo < first) throw new RaftError('COMPACTED', `entries from ${lo}: log compacted through ${this.compactedIndex}`);
    const last = this.lastIndex();
    if (hi > last + 1) throw new RaftError('UNAVAILABLE', `entries up to ${hi - 1}: last index is ${last}`);
    const startSlot = this.head + (lo - first);
    const endSlot = startSlot + (hi - lo);
    // Count how far the byte budget reaches, then copy once; the first entry is always taken so
    // that a single oversized entry cannot stall replication.
    let stopSlot = startSlot;
    let totalBytes = 0;
    while (stopSlot < endSlot) {
      totalBytes += this.slotAt(stopSlot).data.byteLength;
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

  snapshot(): SnapshotMeta {
    return this.snap;
  }

  save(write: LogWrite): Promise<void> {
    this.apply(write);
    return DONE;
  }

  compact(meta: SnapshotMeta, compactIndex: number): Promise<void> {
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
    return DONE;
  }

  /** Applies a write in LogWrite order: snapshot, entries, hard state. */
  private apply(write: LogWrite): void {
    const { snapshot, entries, hardState } = write;
    // Validate everything before mutating anything, so that a rejected write leaves no trace.
    const keepSuffix = snapshot !== undefined && this.snapshotMatchesLog(snapshot);
    if (snapshot !== undefined) {
      assert(snapshot.index >= this.snap.index, `save: snapshot ${snapshot.index} older than current ${this.snap.index}`);
      assert(snapshot.index >= this.compactedIndex, `save: snapshot ${snapshot.index} below compaction point ${this.compactedIndex}`);
    }
    if (entries.length > 0) {
      const pointAfterSnapshot = snapshot === undefined ? this.compactedIndex : snapshot.index;
      const lastAfterSnapshot = snapshot === undefined || keepSuffix ? this.lastIndex() : snapshot.index;
      this.checkAppendable(entries, pointAfterSnapshot, lastAfterSnapshot);
    }

    if (snapshot !== undefined) {
      if (keepSuffix) {
        if (snapshot.index > this.compactedIndex) this.releaseThrough(snapshot.index);
      } else {
        this.discardAll(snapshot.index, snapshot.term);
      }
      this.snap = snapshot;
    }
    if (entries.length > 0) this.append(entries);
    if (hardState !== undefined) {
      // Copied so that a caller mutating its object later cannot change what was "persisted".
      this.hardState = { term: hardState.term, vote: hardState.vote, commit: hardState.commit };
    }
    this.checkInvariants();
  }

  /** True if the log holds the snapshot's last entry, in which case the entries after it stay. */
  private snapshotMatchesLog(snapshot: SnapshotMeta): boolean {
    return (
      snapshot.index >= this.compactedIndex && snapshot.index <= this.lastIndex() && this.term(snapshot.index) === snapshot.term
    );
  }

  private checkAppendable(entries: readonly Entry[], compactionPoint: number, last: number): void {
    const first = entries[0];
    assert(first !== undefined, 'checkAppendable: no entries');
    assert(first.index > compactionPoint, `save: entry ${first.index} at or below compaction point ${compactionPoint}`);
    assert(first.index <= last + 1, `save: entry ${first.index} leaves a gap after last index ${last}`);
    for (let i = 1; i < entries.length; i++) {
      const e = entries[i];
      assert(e !== undefined && e.index === first.index + i, `save: entries not contiguous at position ${i}`);
    }
  }

  /** Truncates any suffix from entries[0].index on, then appends. Validated by checkAppendable. */
  private append(entries: readonly Entry[]): void {
    const first = entries[0];
    assert(first !== undefined, 'append: no entries');
    const keptLength = this.head + (first.index - this.firstIndex());
    for (let slot = keptLength; slot < this.slots.length; slot++) this.payloadBytes -= this.slotAt(slot).data.byteLength;
    this.slots.length = keptLength;
    for (const e of entries) {
      this.slots.push(e);
      this.payloadBytes += e.data.byteLength;
    }
  }

  /** Releases the entries up to and including `index` (which must be held). */
  private releaseThrough(index: number): void {
    assert(index > this.compactedIndex && index <= this.lastIndex(), `releaseThrough: ${index} not held`);
    const newCompactedTerm = this.term(index);
    const newHead = this.head + (index - this.compactedIndex);
    for (let slot = this.head; slot < newHead; slot++) {
      this.payloadBytes -= this.slotAt(slot).data.byteLength;
      this.slots[slot] = RELEASED;
    }
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
    this.slots = [];
    this.head = 0;
    this.payloadBytes = 0;
    this.compactedIndex = index;
    this.compactedTerm = term;
  }

  private slotAt(slot: number): Entry {
    const e = this.slots[slot];
    assert(e !== undefined && slot >= this.head, `slot ${slot} out of range`);
    return e;
  }

  /** O(1) checks only: these run on every write in the benchmark. */
  private checkInvariants(): void {
    assert(this.head <= this.slots.length, 'head past the end of the log');
    assert(this.snap.index >= this.compactedIndex, `snapshot ${this.snap.index} below compaction point ${this.compactedIndex}`);
    assert(this.payloadBytes >= 0, 'negative payload byte count');
  }
}
