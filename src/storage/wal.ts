import { writevSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { assert } from '../raft/errors.js';
import type { LogStorage } from '../raft/storage.js';
import type { Entry, HardState, SnapshotMeta } from '../raft/types.js';
import { EMPTY_SNAPSHOT } from '../raft/types.js';
import { EntryCache } from './entry-cache.js';
import { fsyncDir } from './fsync-dir.js';
import { readRecordEntries } from './wal-entry-reader.js';
import { WalGroupStorage } from './wal-group-storage.js';
import type { GroupLogHost } from './wal-group-storage.js';
import { GroupIndex, placeSlot, releaseSlot } from './wal-index.js';
import type { EntrySlot, RecordLocation } from './wal-index.js';
import { encodeRecord, encodeRecordLaidOut } from './wal-record.js';
import type { LaidOutRecord, WalRecord } from './wal-record.js';
import { replayRecords } from './wal-replay.js';
import { scanSegment } from './wal-scan.js';
import type { ScannedRecord } from './wal-scan.js';
import { SEGMENT_NAME, Segment, openSegmentForWriting } from './wal-segment.js';
import { WalZeroFill } from './wal-zero-fill.js';

export { WalCorruptError, WalGroupDeletedError } from './wal-errors.js';
export { repairWal } from './wal-scan.js';

export interface WalOptions {
  /** Start a new segment file once the current one holds this many bytes. */
  readonly segmentBytes?: number;
  /** Told when recovery truncates a torn tail (a crash in the middle of a write). */
  readonly onWarning?: (message: string) => void;
  /**
   * Once there are more segments than this, groups that keep the oldest one alive (they have
   * not compacted its entries) are written again in full, so disk use stays bounded by live
   * data. Default 8.
   */
  readonly maxSegments?: number;
  /** When a write counts as done: d-engine's `[raft.persistence]` knobs. Default diskFirst. */
  readonly persistence?: PersistenceStrategy;
  /**
   * Memory for entry payloads read back or written recently (the tail that replication reads),
   * in bytes. Entries not in it are read from the segment files. Default 4 MiB (DEFAULT_ENTRY_CACHE_BYTES).
   */
  readonly entryCacheBytes?: number;
  /**
   * Told after each write of the log reaches the disk (the segment is opened with O_DSYNC, so
   * the write includes its fsync): its wall time in ms and size, for metrics.
   */
  readonly onWrite?: (write: WalWrite) => void;
  /**
   * Asked before each write: true to write on the calling thread (blocking it until the write
   * is durable) instead of handing the write to the thread pool. The hand-off costs two
   * wake-ups per write (the pool thread, then the event loop), which on a small VM add a few
   * tenths of a millisecond to every commit; a node whose event loop has nothing else to do
   * meanwhile (it leads no raft group, so no client waits on it) is better off blocking. The
   * server says true while the node leads no group. Default: never.
   */
  readonly writeSynchronously?: () => boolean;
}

/**
 * One write of the log: `durationMs` from handing it to the OS until the event loop learned it
 * was durable (on a busy node that includes the wait for the event loop).
 */
export interface WalWrite {
  readonly durationMs: number;
  readonly bytes: number;
  readonly records: number;
}

/**
 * `diskFirst`: a write resolves once it is fsynced. `memFirst`: a write resolves at once, from
 * memory, and the log is written and fsynced in batches, when `flushThreshold` writes are
 * pending or `flushIntervalMs` after the first of them, whichever comes first. Under memFirst
 * a crash of the process (or the machine) loses every write acknowledged since the last
 * completed flush on that node; see the README for what that means for the cluster.
 */
export type PersistenceStrategy =
  | { readonly strategy: 'diskFirst' }
  | { readonly strategy: 'memFirst'; readonly flushThreshold: number; readonly flushIntervalMs: number };

/**
 * Enough for the tail that replication reads (followers are rarely more than a few batches
 * behind; a lagging one reads from disk). Larger costs more than it saves: every cached payload
 * outlives young-generation collections and must be swept from the old one, and at 32 MiB the
 * nodes of a three-node cluster spent about 7% more CPU per put (bench http, 64 connections).
 */
export const DEFAULT_ENTRY_CACHE_BYTES = 4 * 1024 * 1024;

/** What a group's durable records say, for the checkpoint at the head of each new segment. */
interface DurableGroupState {
  hardState: HardState | undefined;
  snapshot: SnapshotMeta;
  compactIndex: number;
  compactTerm: number;
}

interface PendingWrite {
  readonly bytes: Uint8Array;
  /** Undefined for a barrier: it writes nothing and resolves once everything before it is durable. */
  readonly record: WalRecord | undefined;
  /** The record's entries in the index, and where each starts in `bytes`: placed once written. */
  readonly slots?: readonly EntrySlot[];
  readonly entryOffsets?: readonly number[];
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  /** A lazy write: it never starts a flush by itself (see LogWrite.lazy). */
  readonly lazy?: boolean;
}

/**
 * One write-ahead log per node, shared by every raft group on it (the raft-engine design).
 *
 * - Every change is a CRC-framed record written after the last one in the current segment
 *   file, into space kept zeroed ahead of it (WalZeroFill), so a durable write never grows the file.
 * - Group commit: writes from any number of groups and callers that arrive while an fsync is
 *   running are coalesced into one durable (O_DSYNC) write; there is never more than one
 *   fsync in flight. Each caller's promise resolves when its own record is durable.
 * - Memory holds an index, not the log: per group, every live entry's term, size and place in
 *   a segment (GroupIndex). Payloads are read back from the segments synchronously, through a
 *   cache bounded in bytes (EntryCache) that keeps the entries written and read last. An entry
 *   whose record is not in the file yet is served from the write that carries it.
 * - A new segment starts with a checkpoint of every group's durable hard state and
 *   compaction point, so a segment whose entries have all been compacted away can be deleted.
 * - Recovery verifies every record up to the zeroed space; a torn tail is truncated (and
 *   reported), anything else that does not verify stops the open with a WalCorruptError
 *   naming the file and offset.
 */
/** How long a lazy write (a commit-index-only hard state) may wait for a durable write to join. */
const LAZY_FLUSH_MS = 100;
/** How far ahead of its records the current segment is kept zeroed (see WalZeroFill): a 1 MiB write about every 3,000 small entries. */
const ZERO_FILL_AHEAD_BYTES = 1024 * 1024;

export class Wal implements GroupLogHost {
  private groups = new Map<number, GroupIndex>();
  private readonly durable = new Map<number, DurableGroupState>();
  /** Per group id, how many times it was deleted (see WalGroupStorage). */
  private readonly deletions = new Map<number, number>();
  private readonly cache: EntryCache;
  private pending: PendingWrite[] = [];
  private flushing = false;
  private closed = false;
  private fatal: Error | undefined;
  /** Counters for metrics and benchmarks. */
  readonly stats = { fsyncs: 0, records: 0, bytesWritten: 0, groupRewrites: 0, segmentsDeleted: 0, diskReads: 0, groupsDeleted: 0 };

  private constructor(
    readonly dir: string,
    private readonly segmentBytes: number,
    private readonly persistence: PersistenceStrategy,
    private readonly maxSegments: number,
    private readonly segments: Segment[],
    private handle: fs.FileHandle,
    entryCacheBytes: number,
    private readonly onWrite: ((write: WalWrite) => void) | undefined,
    private readonly writeSynchronously: (() => boolean) | undefined,
  ) {
    this.cache = new EntryCache(entryCacheBytes);
  }

  static async open(dir: string, options: WalOptions = {}): Promise<Wal> {
    const segmentBytes = options.segmentBytes ?? 64 * 1024 * 1024;
    assert(segmentBytes >= 1024, 'segmentBytes must be at least 1 KiB');
    const entryCacheBytes = options.entryCacheBytes ?? DEFAULT_ENTRY_CACHE_BYTES;
    if (!Number.isSafeInteger(entryCacheBytes) || entryCacheBytes < 0) throw new RangeError('entryCacheBytes must be a non-negative integer');
    const persistence = options.persistence ?? { strategy: 'diskFirst' };
    if (persistence.strategy === 'memFirst') {
      if (!Number.isInteger(persistence.flushThreshold) || persistence.flushThreshold < 1) throw new RangeError('memFirst flushThreshold must be a positive integer');
      if (!(persistence.flushIntervalMs > 0)) throw new RangeError('memFirst flushIntervalMs must be positive');
    }
    await fs.mkdir(dir, { recursive: true });
    const names = (await fs.readdir(dir)).filter((n) => SEGMENT_NAME.test(n)).sort();
    const segments = names.map((n) => new Segment(Number(SEGMENT_NAME.exec(n)?.[1]), path.join(dir, n)));
    const scanned: ScannedRecord[] = [];
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i];
      if (seg === undefined) continue;
      await scanSegment(seg, i === segments.length - 1, scanned, options.onWarning);
    }
    let last = segments[segments.length - 1];
    if (last === undefined) {
      last = Segment.inDir(dir, 1);
      segments.push(last);
      await fs.writeFile(last.file, new Uint8Array(0));
      await fsyncDir(dir);
    }
    const handle = await openSegmentForWriting(last.file);
    for (const seg of segments) seg.openForReading();
    const maxSegments = options.maxSegments ?? 8;
    const wal = new Wal(dir, segmentBytes, persistence, maxSegments, segments, handle, entryCacheBytes, options.onWrite, options.writeSynchronously);
    wal.groups = replayRecords(scanned, {
      newGroupIndex: () => wal.newGroupIndex(),
      noteDurable: (record, segment) => wal.noteDurable(record, segment),
    });
    return wal;
  }

  /** The log storage of one raft group (created empty on first use). */
  storage(group: number): LogStorage & { close(): Promise<void> } {
    checkGroupId(group);
    return new WalGroupStorage(this, group);
  }

  /** The group ids that have any state in the log. */
  groupIds(): number[] {
    return [...this.groups.keys()].sort((a, b) => a - b);
  }

  segmentFiles(): string[] {
    return this.segments.map((s) => s.file);
  }

  /** Bytes of entry payloads held in the cache (with a small per-entry overhead); at most entryCacheBytes. */
  get cachedBytes(): number {
    return this.cache.bytes;
  }

  /** Entries in the index, over all groups: each costs a small fixed amount of memory, not its payload. */
  get indexedEntries(): number {
    let n = 0;
    for (const g of this.groups.values()) n += g.size;
    return n;
  }

  /**
   * Deletes a group: its entries, hard state, snapshot record and compaction point are gone
   * from memory at once, and from the log (for recovery and segment reclamation) once the
   * returned promise resolves. Storages obtained before refuse to act afterwards; the group id
   * may be used again for a new, empty group.
   */
  deleteGroup(group: number): Promise<void> {
    checkGroupId(group);
    this.groups.get(group)?.dropAll();
    this.groups.delete(group);
    this.deletions.set(group, (this.deletions.get(group) ?? 0) + 1);
    this.stats.groupsDeleted++;
    return this.append({ kind: 'deleteGroup', group });
  }

  /** Waits for every pending write, then closes the current segment and the read descriptors. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.barrier();
    this.closed = true;
    await this.zeroFill.settle();
    await this.handle.close();
    for (const seg of this.segments) seg.closeForReading();
  }

  /** Resolves once everything written so far is durable. */
  async barrier(): Promise<void> {
    if (this.pending.length === 0 && !this.flushing) return;
    await new Promise<void>((resolve, reject) => {
      this.pending.push({ bytes: new Uint8Array(0), record: undefined, resolve, reject });
      this.scheduleFlush();
    });
  }

  // ------------------------------------------------------------------ GroupLogHost

  groupIndex(group: number): GroupIndex {
    let m = this.groups.get(group);
    if (m === undefined) {
      m = this.newGroupIndex();
      this.groups.set(group, m);
    }
    return m;
  }

  incarnation(group: number): number {
    return this.deletions.get(group) ?? 0;
  }

  loadEntries(slots: readonly EntrySlot[]): Entry[] {
    return this.readSlots(slots, true);
  }

  private newGroupIndex(): GroupIndex {
    return new GroupIndex((slot) => {
      releaseSlot(slot);
      this.cache.delete(slot);
    });
  }

  /**
   * The payloads of live slots, in order. `remember`: keep what had to be read from disk in
   * the cache (not for a group's rewrite, which reads everything once and would flush the
   * cache of the entries replication needs).
   */
  private readSlots(slots: readonly EntrySlot[], remember: boolean): Entry[] {
    const out: Entry[] = [];
    let i = 0;
    while (i < slots.length) {
      const slot = slots[i];
      assert(slot !== undefined && slot.live, `read of a dropped entry at ${i}`);
      const held = slot.pending ?? this.cache.get(slot);
      if (held !== undefined) {
        out.push(held);
        i++;
        continue;
      }
      // Read the run of uncached entries that share this record in one go.
      const record = slot.record;
      assert(record !== undefined, `entry ${slot.index} neither pending nor on disk`);
      let end = i + 1;
      for (let next = slots[end]; next !== undefined && next.record === record && next.pending === undefined && !this.cache.has(next); next = slots[++end]);
      const run = slots.slice(i, end);
      const read = readRecordEntries(record, run);
      this.stats.diskReads++;
      read.forEach((e, k) => {
        out.push(e);
        const s = run[k];
        if (remember && s !== undefined) this.cache.put(s, e);
      });
      i = end;
    }
    return out;
  }

  // ------------------------------------------------------------------ writing

  append(record: WalRecord, slots?: readonly EntrySlot[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('write-ahead log is closed'));
    if (this.fatal !== undefined) return Promise.reject(this.fatal);
    const { bytes, entryOffsets } = encodeRecordLaidOut(record);
    const placed = slots === undefined || slots.length === 0 ? {} : { slots, entryOffsets };
    assert(slots === undefined || slots.length === entryOffsets.length, 'slots and record entries differ');
    const p = this.persistence;
    if (record.kind === 'write' && record.write.lazy === true) {
      // Rides along with the next durable write; a timer bounds how long it may wait.
      this.pending.push({ bytes, record, ...placed, resolve: () => undefined, reject: (err) => this.onBackgroundError(err), lazy: true });
      this.flushTimer ??= setTimeout(() => this.scheduleFlush(true), p.strategy === 'memFirst' ? p.flushIntervalMs : LAZY_FLUSH_MS);
      return Promise.resolve();
    }
    if (p.strategy === 'memFirst') {
      // Acknowledged from memory; durable at the next batch flush.
      this.pending.push({ bytes, record, ...placed, resolve: () => undefined, reject: (err) => this.onBackgroundError(err) });
      if (this.pending.length >= p.flushThreshold) this.scheduleFlush();
      else this.flushTimer ??= setTimeout(() => this.scheduleFlush(true), p.flushIntervalMs);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ bytes, record, ...placed, resolve, reject });
      this.scheduleFlush();
    });
  }

  private flushTimer: ReturnType<typeof setTimeout> | undefined;

  private onBackgroundError(err: Error): void {
    this.fatal ??= err;
  }

  /** `force`: flush even if only lazy writes wait (their timer fired). */
  private scheduleFlush(force = false): void {
    if (this.flushTimer !== undefined) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    if (this.flushing) {
      this.forceNext ||= force;
      return;
    }
    this.flushing = true;
    // A microtask lets every write issued in the same turn join this batch.
    queueMicrotask(() => void this.flushLoop(force));
  }

  private forceNext = false;
  private readonly zeroFill = new WalZeroFill(ZERO_FILL_AHEAD_BYTES);

  /** Whether a write that must become durable waits (lazy writes alone do not start a flush). */
  private needsFlush(): boolean {
    return this.pending.some((p) => p.lazy !== true);
  }

  private async flushLoop(force: boolean): Promise<void> {
    let forced = force;
    /** The batch being written: its callers wait too, and must hear of a failure. */
    let inFlight: PendingWrite[] = [];
    try {
      while (this.pending.length > 0 && (forced || this.forceNext || this.needsFlush())) {
        forced = false;
        this.forceNext = false;
        const batch = this.pending;
        inFlight = batch;
        this.pending = [];
        let current = this.segments[this.segments.length - 1];
        assert(current !== undefined, 'no current segment');
        if (current.bytes >= this.segmentBytes) current = await this.rotate();
        const buffers = batch.map((p) => p.bytes);
        let total = 0;
        for (const b of buffers) total += b.byteLength;
        if (total > 0) {
          // The segment is open with O_DSYNC: the write returns once it is durable, as a write
          // followed by fdatasync would, in one system call instead of two.
          const overlap = this.zeroFill.beforeWrite(current.bytes + total);
          if (overlap !== undefined) await overlap;
          const startedMs = performance.now();
          const at = current.bytes;
          const written = this.writeSynchronously?.() === true ? writevSync(this.handle.fd, buffers, at) : (await this.handle.writev(buffers, at)).bytesWritten;
          // A short write (a full disk) leaves a partial record: nothing after it may count as durable.
          if (written !== total) throw new Error(`write-ahead log: wrote ${written} of ${total} bytes to ${current.file}`);
          this.stats.fsyncs++;
          this.stats.records += batch.length;
          this.stats.bytesWritten += total;
          try {
            this.onWrite?.({ durationMs: performance.now() - startedMs, bytes: total, records: batch.length });
          } catch {
            // An observer (metrics) must never fail the log.
          }
        }
        let offset = current.bytes;
        current.bytes += total;
        this.zeroFill.afterWrite(current, this.handle, this.segmentBytes);
        for (const p of batch) {
          if (p.slots !== undefined) this.place(p, { segment: current, offset, bytes: p.bytes.byteLength });
          offset += p.bytes.byteLength;
          if (p.record !== undefined) this.noteDurable(p.record, current);
        }
        inFlight = [];
        for (const p of batch) p.resolve();
        await this.collectGarbage();
      }
    } catch (err) {
      // A failed write or fsync leaves the file in an unknown state: refuse all further
      // writes (the node must restart and recover) rather than acknowledge anything more.
      this.fatal = err instanceof Error ? err : new Error(String(err));
      for (const p of [...inFlight, ...this.pending]) p.reject(this.fatal);
      this.pending = [];
    } finally {
      this.flushing = false;
      // A timer that fired during the flush (forceNext) asked for what was pending then; if
      // the flush took it all, nothing is left to force. Rescheduling with nothing pending
      // would start a loop of empty flushes on microtasks that starves the event loop.
      if (this.pending.length === 0) this.forceNext = false;
      if (this.fatal === undefined && this.pending.length > 0) {
        if (this.needsFlush() || this.forceNext) this.scheduleFlush(this.forceNext);
        else this.flushTimer ??= setTimeout(() => this.scheduleFlush(true), LAZY_FLUSH_MS);
      }
    }
  }

  /**
   * Points the entries of a record just written at the file. Those written by this write move
   * from the write into the cache (the tail is what replication reads next); those of a
   * rewrite only change place. An entry truncated or compacted meanwhile stays dropped.
   */
  private place(p: PendingWrite, record: RecordLocation): void {
    const { slots, entryOffsets } = p;
    assert(slots !== undefined && entryOffsets !== undefined && slots.length === entryOffsets.length, 'placing a write without its layout');
    slots.forEach((slot, i) => {
      if (!slot.live) return;
      const written = slot.pending;
      placeSlot(slot, record, entryOffsets[i] ?? -1);
      if (written !== undefined) this.cache.put(slot, written);
    });
  }

  /** Records what a durable record says, for checkpoints and garbage collection. */
  private noteDurable(record: WalRecord | LaidOutRecord, segment: Segment): void {
    if (record.kind === 'deleteGroup') {
      // Nothing of the group is needed any more: it no longer pins a segment nor goes into checkpoints.
      this.durable.delete(record.group);
      this.rewriting.delete(record.group);
      for (const seg of this.segments) seg.maxIndex.delete(record.group);
      return;
    }
    const d = this.durableState(record.group);
    if (record.kind === 'groupState') {
      d.snapshot = record.snapshot;
      d.compactIndex = record.compactIndex;
      d.compactTerm = record.compactTerm;
      d.hardState = record.hardState;
      // Older segments hold nothing of this group that recovery still needs.
      for (const old of this.segments) if (old !== segment) old.maxIndex.delete(record.group);
      this.rewriting.delete(record.group);
      const last = record.entries[record.entries.length - 1];
      if (last !== undefined) segment.maxIndex.set(record.group, Math.max(segment.maxIndex.get(record.group) ?? 0, last.index));
    } else if (record.kind === 'write') {
      const { snapshot, entries, hardState } = record.write;
      if (snapshot !== undefined && snapshot.index >= d.compactIndex) {
        d.snapshot = snapshot;
        d.compactIndex = snapshot.index;
        d.compactTerm = snapshot.term;
      }
      if (hardState !== undefined) d.hardState = hardState;
      const lastEntry = entries[entries.length - 1];
      if (lastEntry !== undefined) segment.maxIndex.set(record.group, Math.max(segment.maxIndex.get(record.group) ?? 0, lastEntry.index));
    } else if (record.kind === 'compact') {
      if (record.meta.index >= d.snapshot.index) d.snapshot = record.meta;
      if (record.compactIndex > d.compactIndex) {
        d.compactIndex = record.compactIndex;
        d.compactTerm = record.compactTerm;
      }
    }
  }

  private durableState(group: number): DurableGroupState {
    let d = this.durable.get(group);
    if (d === undefined) {
      d = { hardState: undefined, snapshot: EMPTY_SNAPSHOT, compactIndex: 0, compactTerm: 0 };
      this.durable.set(group, d);
    }
    return d;
  }

  /** Starts a new segment headed by a checkpoint of every group's durable state. */
  private async rotate(): Promise<Segment> {
    const prev = this.segments[this.segments.length - 1];
    assert(prev !== undefined, 'rotate without a segment');
    const seg = Segment.inDir(this.dir, prev.seq + 1);
    const handle = await openSegmentForWriting(seg.file);
    seg.openForReading();
    const checkpoint: Uint8Array[] = [];
    for (const [group, d] of [...this.durable].sort((a, b) => a[0] - b[0])) {
      if (d.compactIndex > 0 || d.snapshot.index > 0) {
        checkpoint.push(encodeRecord({ kind: 'compact', group, meta: d.snapshot, compactIndex: d.compactIndex, compactTerm: d.compactTerm }));
      }
      if (d.hardState !== undefined) checkpoint.push(encodeRecord({ kind: 'write', group, write: { entries: [], hardState: d.hardState } }));
    }
    if (checkpoint.length > 0) {
      await handle.writev(checkpoint, 0); // durable on return: O_DSYNC
      for (const b of checkpoint) seg.bytes += b.byteLength;
    }
    await fsyncDir(this.dir);
    await this.zeroFill.settle();
    await this.handle.close();
    this.handle = handle;
    this.segments.push(seg);
    return seg;
  }

  /** Deletes old segments whose entries every group has compacted away. */
  private async collectGarbage(): Promise<void> {
    // Only a prefix of segments may go: recovery needs each remaining one's checkpoint to
    // describe everything before it.
    while (this.segments.length > 1) {
      const oldest = this.segments[0];
      if (oldest === undefined) break;
      let releasable = true;
      for (const [group, max] of oldest.maxIndex) {
        const d = this.durable.get(group);
        if (d === undefined || d.compactIndex < max) releasable = false;
      }
      if (!releasable) break;
      this.segments.shift();
      // Asserts that no indexed entry points into it, and closes its read descriptor first.
      await oldest.delete();
      this.stats.segmentsDeleted++;
    }
    if (this.segments.length > this.maxSegments) this.rewriteBlockers();
  }

  /** Groups with a rewrite of their live state queued and not yet durable. */
  private readonly rewriting = new Set<number>();

  /** Queues a full rewrite of each group whose live entries keep the oldest segment alive. */
  private rewriteBlockers(): void {
    const oldest = this.segments[0];
    if (oldest === undefined) return;
    for (const [group, max] of oldest.maxIndex) {
      const d = this.durable.get(group);
      if ((d !== undefined && d.compactIndex >= max) || this.rewriting.has(group)) continue;
      const m = this.groups.get(group);
      if (m === undefined) continue;
      this.rewriting.add(group);
      this.stats.groupRewrites++;
      const base = m.firstIndex() - 1;
      // The live entries come back from disk (or memory) through the index, and the index is
      // pointed at their new place once the rewrite is written.
      const slots = m.lastIndex() > base ? m.slotsIn(base + 1, m.lastIndex() + 1, Number.POSITIVE_INFINITY) : [];
      const record: WalRecord = {
        kind: 'groupState',
        group,
        compactIndex: base,
        compactTerm: m.term(base),
        snapshot: m.snapshot(),
        hardState: m.initialState().hardState,
        entries: this.readSlots(slots, false),
      };
      const { bytes, entryOffsets } = encodeRecordLaidOut(record);
      // Queued behind every write already accepted, so it describes the state they leave.
      this.pending.push({ bytes, record, slots, entryOffsets, resolve: () => undefined, reject: (err) => this.onBackgroundError(err) });
    }
  }
}

function checkGroupId(group: number): void {
  assert(Number.isInteger(group) && group >= 0 && group <= 0xffff_ffff, `invalid group id ${group}`);
}
