import * as fs from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import * as path from 'node:path';
import { RaftError, assert } from '../raft/errors.js';
import type { LogStorage, LogWrite } from '../raft/storage.js';
import type { HardState, SnapshotMeta } from '../raft/types.js';
import { EMPTY_SNAPSHOT } from '../raft/types.js';
import { CodedError } from '../util/coded-error.js';
import { MemoryBackedLogStorage } from './memory-backed-log-storage.js';
import { MemoryLogStorage } from './memory-log-storage.js';
import { FRAME_HEADER_BYTES, MAX_RECORD_BYTES, decodeRecordPayload, encodeRecord } from './wal-record.js';
import type { WalRecord } from './wal-record.js';
import { crc32c } from '../util/crc32c.js';
import { fsyncDir } from './fsync-dir.js';

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

/** The log is damaged somewhere other than its tail: the node must not start on it. */
export class WalCorruptError extends CodedError<'WAL_CORRUPT'> {
  constructor(
    readonly file: string,
    readonly offset: number,
    why: string,
  ) {
    super('WAL_CORRUPT', `write-ahead log corrupt in ${file} at byte ${offset}: ${why}; run \`keel repair --data-dir DIR\` to truncate the log there (entries after it are lost)`);
  }
}

const SEGMENT_NAME = /^(\d{16})\.wal$/;
const segmentName = (seq: number): string => `${String(seq).padStart(16, '0')}.wal`;

interface Segment {
  readonly seq: number;
  readonly file: string;
  bytes: number;
  /** Per group, the highest entry index written in this segment: it may go once all are released. */
  readonly maxIndex: Map<number, number>;
}

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
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  /** A lazy write: it never starts a flush by itself (see LogWrite.lazy). */
  readonly lazy?: boolean;
}

/** A record found in a segment during recovery. */
interface ScannedRecord {
  readonly record: WalRecord;
  readonly segment: Segment;
  readonly offset: number;
}

/**
 * One write-ahead log per node, shared by every raft group on it (the raft-engine design).
 *
 * - Every change is a CRC-framed record appended to the current segment file.
 * - Group commit: writes from any number of groups and callers that arrive while an fsync is
 *   running are coalesced into one durable (O_DSYNC) write; there is never more than one
 *   fsync in flight. Each caller's promise resolves when its own record is durable.
 * - Reads are served from an in-memory copy of each group's live entries (a MemoryLogStorage
 *   per group), rebuilt from the segments on open.
 * - A new segment starts with a checkpoint of every group's durable hard state and
 *   compaction point, so a segment whose entries have all been compacted away can be deleted.
 * - Recovery verifies every record; a torn tail is truncated (and reported), anything else
 *   that does not verify stops the open with a WalCorruptError naming the file and offset.
 */
/**
 * Opens a segment for appending with O_DSYNC, so that each write is durable when it returns
 * (the data and the metadata needed to read it back, like fdatasync). One call instead of a
 * write and an fdatasync halves the thread-pool round trips of every group commit.
 */
async function openSegmentForAppend(file: string): Promise<fs.FileHandle> {
  return fs.open(file, fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT | fsConstants.O_DSYNC, 0o644);
}

/** How long a lazy write (a commit-index-only hard state) may wait for a durable write to join. */
const LAZY_FLUSH_MS = 100;

export class Wal {
  private readonly groups = new Map<number, MemoryLogStorage>();
  private readonly durable = new Map<number, DurableGroupState>();
  private pending: PendingWrite[] = [];
  private flushing = false;
  private closed = false;
  private fatal: Error | undefined;
  /** Counters for metrics and benchmarks. */
  readonly stats = { fsyncs: 0, records: 0, bytesWritten: 0, groupRewrites: 0, segmentsDeleted: 0 };

  private constructor(
    readonly dir: string,
    private readonly segmentBytes: number,
    private readonly persistence: PersistenceStrategy,
    private readonly maxSegments: number,
    private readonly segments: Segment[],
    private handle: fs.FileHandle,
  ) {}

  static async open(dir: string, options: WalOptions = {}): Promise<Wal> {
    const segmentBytes = options.segmentBytes ?? 64 * 1024 * 1024;
    assert(segmentBytes >= 1024, 'segmentBytes must be at least 1 KiB');
    const persistence = options.persistence ?? { strategy: 'diskFirst' };
    if (persistence.strategy === 'memFirst') {
      if (!Number.isInteger(persistence.flushThreshold) || persistence.flushThreshold < 1) throw new RangeError('memFirst flushThreshold must be a positive integer');
      if (!(persistence.flushIntervalMs > 0)) throw new RangeError('memFirst flushIntervalMs must be positive');
    }
    await fs.mkdir(dir, { recursive: true });
    const names = (await fs.readdir(dir)).filter((n) => SEGMENT_NAME.test(n)).sort();
    const segments: Segment[] = names.map((n) => ({ seq: Number(SEGMENT_NAME.exec(n)?.[1]), file: path.join(dir, n), bytes: 0, maxIndex: new Map() }));
    const scanned: ScannedRecord[] = [];
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i];
      if (seg === undefined) continue;
      await scanSegment(seg, i === segments.length - 1, scanned, options.onWarning);
    }
    let last = segments[segments.length - 1];
    if (last === undefined) {
      last = { seq: 1, file: path.join(dir, segmentName(1)), bytes: 0, maxIndex: new Map() };
      segments.push(last);
      await fs.writeFile(last.file, new Uint8Array(0));
      await fsyncDir(dir);
    }
    const handle = await openSegmentForAppend(last.file);
    const maxSegments = options.maxSegments ?? 8;
    const wal = new Wal(dir, segmentBytes, persistence, maxSegments, segments, handle);
    wal.replay(scanned);
    return wal;
  }

  /** The log storage of one raft group (created empty on first use). */
  storage(group: number): LogStorage & { close(): Promise<void> } {
    assert(Number.isInteger(group) && group >= 0 && group <= 0xffff_ffff, `invalid group id ${group}`);
    return new WalGroupStorage(this, group);
  }

  /** The group ids that have any state in the log. */
  groupIds(): number[] {
    return [...this.groups.keys()].sort((a, b) => a - b);
  }

  segmentFiles(): string[] {
    return this.segments.map((s) => s.file);
  }

  /** Waits for every pending write, then closes the current segment. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.barrier();
    this.closed = true;
    await this.handle.close();
  }

  /** Resolves once everything written so far is durable. */
  async barrier(): Promise<void> {
    if (this.pending.length === 0 && !this.flushing) return;
    await new Promise<void>((resolve, reject) => {
      this.pending.push({ bytes: new Uint8Array(0), record: undefined, resolve, reject });
      this.scheduleFlush();
    });
  }

  memtable(group: number): MemoryLogStorage {
    let m = this.groups.get(group);
    if (m === undefined) {
      m = new MemoryLogStorage();
      this.groups.set(group, m);
    }
    return m;
  }

  /** Drops a group's entries above `index`, its compaction point (recovery only). */
  private truncateAbove(group: number, index: number): void {
    const m = this.memtable(group);
    if (m.lastIndex() <= index) return;
    assert(index === m.firstIndex() - 1, 'truncation only at the compaction point');
    const fresh = new MemoryLogStorage();
    const newest = m.snapshot();
    void fresh.save({ snapshot: { index, term: m.term(index), confState: newest.confState }, entries: [], hardState: m.initialState().hardState });
    if (newest.index > index) void fresh.compact(newest, index);
    this.groups.set(group, fresh);
  }

  // ------------------------------------------------------------------ writing

  append(record: WalRecord): Promise<void> {
    if (this.closed) return Promise.reject(new Error('write-ahead log is closed'));
    if (this.fatal !== undefined) return Promise.reject(this.fatal);
    const bytes = encodeRecord(record);
    const p = this.persistence;
    if (record.kind === 'write' && record.write.lazy === true) {
      // Rides along with the next durable write; a timer bounds how long it may wait.
      this.pending.push({ bytes, record, resolve: () => undefined, reject: (err) => this.onBackgroundError(err), lazy: true });
      this.flushTimer ??= setTimeout(() => this.scheduleFlush(true), p.strategy === 'memFirst' ? p.flushIntervalMs : LAZY_FLUSH_MS);
      return Promise.resolve();
    }
    if (p.strategy === 'memFirst') {
      // Acknowledged from memory; durable at the next batch flush.
      this.pending.push({ bytes, record, resolve: () => undefined, reject: (err) => this.onBackgroundError(err) });
      if (this.pending.length >= p.flushThreshold) this.scheduleFlush();
      else this.flushTimer ??= setTimeout(() => this.scheduleFlush(true), p.flushIntervalMs);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ bytes, record, resolve, reject });
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

  /** Whether a write that must become durable waits (lazy writes alone do not start a flush). */
  private needsFlush(): boolean {
    return this.pending.some((p) => p.lazy !== true);
  }

  private async flushLoop(force: boolean): Promise<void> {
    let forced = force;
    try {
      while (this.pending.length > 0 && (forced || this.forceNext || this.needsFlush())) {
        forced = false;
        this.forceNext = false;
        const batch = this.pending;
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
          await this.handle.writev(buffers);
          this.stats.fsyncs++;
          this.stats.records += batch.length;
          this.stats.bytesWritten += total;
        }
        current.bytes += total;
        for (const p of batch) if (p.record !== undefined) this.noteDurable(p.record, current);
        for (const p of batch) p.resolve();
        await this.collectGarbage();
      }
    } catch (err) {
      // A failed write or fsync leaves the file in an unknown state: refuse all further
      // writes (the node must restart and recover) rather than acknowledge anything more.
      this.fatal = err instanceof Error ? err : new Error(String(err));
      for (const p of this.pending) p.reject(this.fatal);
      this.pending = [];
    } finally {
      this.flushing = false;
      if (this.fatal === undefined) {
        if (this.needsFlush() || this.forceNext) this.scheduleFlush(this.forceNext);
        else if (this.pending.length > 0) this.flushTimer ??= setTimeout(() => this.scheduleFlush(true), LAZY_FLUSH_MS);
      }
    }
  }

  /** Records what a durable record says, for checkpoints and garbage collection. */
  private noteDurable(record: WalRecord, segment: Segment): void {
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
    const seg: Segment = { seq: prev.seq + 1, file: path.join(this.dir, segmentName(prev.seq + 1)), bytes: 0, maxIndex: new Map() };
    const handle = await openSegmentForAppend(seg.file);
    const checkpoint: Uint8Array[] = [];
    for (const [group, d] of [...this.durable].sort((a, b) => a[0] - b[0])) {
      if (d.compactIndex > 0 || d.snapshot.index > 0) {
        checkpoint.push(encodeRecord({ kind: 'compact', group, meta: d.snapshot, compactIndex: d.compactIndex, compactTerm: d.compactTerm }));
      }
      if (d.hardState !== undefined) checkpoint.push(encodeRecord({ kind: 'write', group, write: { entries: [], hardState: d.hardState } }));
    }
    if (checkpoint.length > 0) {
      await handle.writev(checkpoint); // durable on return: O_DSYNC
      for (const b of checkpoint) seg.bytes += b.byteLength;
    }
    await fsyncDir(this.dir);
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
      await fs.rm(oldest.file, { force: true });
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
      const record: WalRecord = {
        kind: 'groupState',
        group,
        compactIndex: base,
        compactTerm: m.term(base),
        snapshot: m.snapshot(),
        hardState: m.initialState().hardState,
        entries: m.lastIndex() > base ? m.entries(base + 1, m.lastIndex() + 1, Number.POSITIVE_INFINITY) : [],
      };
      // Queued behind every write already accepted, so it describes the state they leave.
      this.pending.push({ bytes: encodeRecord(record), record, resolve: () => undefined, reject: (err) => this.onBackgroundError(err) });
    }
  }

  // ------------------------------------------------------------------ recovery

  private replay(scanned: readonly ScannedRecord[]): void {
    // Pass 1: the final compaction point of every group. Entries at or below it may sit in
    // segments already deleted, so replay starts each group from there.
    const finals = new Map<number, DurableGroupState & { compactPos: number; restatedPos: number }>();
    scanned.forEach(({ record }, pos) => {
      if (record.kind === 'write' && record.write.snapshot === undefined && record.write.entries.length === 0 && record.write.hardState === undefined) return;
      let f = finals.get(record.group);
      if (f === undefined) finals.set(record.group, (f = { hardState: undefined, snapshot: EMPTY_SNAPSHOT, compactIndex: 0, compactTerm: 0, compactPos: -1, restatedPos: -1 }));
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
    for (const [group, f] of finals) {
      const m = this.memtable(group);
      if (f.compactIndex > 0 || f.compactTerm > 0) {
        void m.save({ snapshot: { index: f.compactIndex, term: f.compactTerm, confState: f.snapshot.confState }, entries: [] });
      }
      if (f.snapshot.index > f.compactIndex || (f.compactIndex === 0 && f.snapshot !== EMPTY_SNAPSHOT)) void m.compact(f.snapshot, f.compactIndex);
    }
    // Pass 2: replay in order, skipping what the final compaction point already covers.
    // Compactions and installs before the one that set it are superseded by the base.
    for (const [pos, { record, segment, offset }] of scanned.entries()) {
      const f = finals.get(record.group);
      // Records before a full restatement of their group may refer to deleted segments.
      if (f !== undefined && pos < f.restatedPos) continue;
      try {
        this.applyRecovered(record, pos < (f?.compactPos ?? -1));
      } catch (err) {
        throw new WalCorruptError(segment.file, offset, `record does not fit the log before it (${err instanceof Error ? err.message : String(err)})`);
      }
      this.noteDurable(record, segment);
    }
  }

  private applyRecovered(record: WalRecord, superseded: boolean): void {
    if (record.kind === 'write' && record.write.snapshot === undefined && record.write.entries.length === 0 && record.write.hardState === undefined) return;
    if (record.kind === 'groupState') {
      const fresh = new MemoryLogStorage();
      void fresh.save({
        snapshot: { index: record.compactIndex, term: record.compactTerm, confState: record.snapshot.confState },
        entries: record.entries,
        hardState: record.hardState,
      });
      if (record.snapshot.index > record.compactIndex || record.snapshot !== EMPTY_SNAPSHOT) void fresh.compact(record.snapshot, record.compactIndex);
      this.groups.set(record.group, fresh);
      return;
    }
    const m = this.memtable(record.group);
    const compacted = m.firstIndex() - 1;
    if (record.kind === 'compact') {
      if (superseded) return;
      if (record.compactIndex > compacted || record.meta.index >= m.snapshot().index) {
        void m.compact(record.meta, Math.max(compacted, Math.min(record.compactIndex, m.lastIndex())));
      }
      return;
    }
    const { snapshot, entries, hardState } = record.write;
    const liveSnapshot =
      snapshot !== undefined && !superseded && (snapshot.index > compacted || (snapshot.index === compacted && snapshot.index >= m.snapshot().index)) ? snapshot : undefined;
    // An install that discarded the log back then discards what earlier records put above the
    // compaction point now (later records write again what survived). This matters when the
    // compaction point has since moved to or past the install, so the memory copy cannot tell.
    if (snapshot !== undefined && record.snapshotKeptLog !== true) this.truncateAbove(record.group, compacted);
    const floor = liveSnapshot?.index ?? compacted;
    const liveEntries = entries.filter((e) => e.index > floor);
    // Entries that all lie below the compaction point still truncated everything after them.
    if (entries.length > 0 && liveEntries.length === 0) this.truncateAbove(record.group, floor);
    void this.memtable(record.group).save({
      ...(liveSnapshot === undefined ? {} : { snapshot: liveSnapshot }),
      entries: liveEntries,
      ...(hardState === undefined ? {} : { hardState }),
    });
  }
}

/**
 * The explicit repair behind `keel repair`: truncates the log at the first record that does
 * not verify and deletes every later segment. Returns where it cut, or undefined if the log
 * was sound. Everything after the cut is lost, which is why the node never does this itself.
 */
export async function repairWal(dir: string): Promise<{ file: string; offset: number; bytesDropped: number } | undefined> {
  const names = (await fs.readdir(dir)).filter((n) => SEGMENT_NAME.test(n)).sort();
  for (let i = 0; i < names.length; i++) {
    const file = path.join(dir, names[i] ?? '');
    const data = await fs.readFile(file);
    let offset = 0;
    while (offset < data.byteLength) {
      const r = verifyAt(data, offset);
      if (typeof r === 'string') break;
      offset = r.next;
    }
    if (offset === data.byteLength) continue;
    let dropped = data.byteLength - offset;
    await fs.truncate(file, offset);
    for (const later of names.slice(i + 1)) {
      const p = path.join(dir, later);
      dropped += (await fs.stat(p)).size;
      await fs.rm(p);
    }
    await fsyncDir(dir);
    return { file, offset, bytesDropped: dropped };
  }
  return undefined;
}

/** Reads and verifies one segment, truncating a torn tail of the last one. */
async function scanSegment(seg: Segment, isLast: boolean, out: ScannedRecord[], onWarning: ((m: string) => void) | undefined): Promise<void> {
  const data = await fs.readFile(seg.file);
  let offset = 0;
  while (offset < data.byteLength) {
    const bad = verifyAt(data, offset);
    if (typeof bad === 'string') {
      if (isLast && !hasValidRecordAfter(data, offset + 1)) {
        onWarning?.(`write-ahead log: truncating a torn tail of ${data.byteLength - offset} bytes at ${seg.file}:${offset} (${bad})`);
        await fs.truncate(seg.file, offset);
        break;
      }
      throw new WalCorruptError(seg.file, offset, bad);
    }
    out.push({ record: bad.record, segment: seg, offset });
    offset = bad.next;
  }
  seg.bytes = Math.min(offset, data.byteLength);
}

/** The record at `offset`, or why there is none. */
function verifyAt(data: Uint8Array, offset: number): { record: WalRecord; next: number } | string {
  if (data.byteLength - offset < FRAME_HEADER_BYTES) return 'incomplete record header';
  const view = new DataView(data.buffer, data.byteOffset + offset, FRAME_HEADER_BYTES);
  const length = view.getUint32(0);
  const crc = view.getUint32(4);
  if (length === 0 || length > MAX_RECORD_BYTES) return `implausible record length ${length}`;
  const end = offset + FRAME_HEADER_BYTES + length;
  if (end > data.byteLength) return 'record runs past the end of the file';
  const payload = data.subarray(offset + FRAME_HEADER_BYTES, end);
  if (crc32c(payload) !== crc) return 'checksum mismatch';
  try {
    return { record: decodeRecordPayload(payload), next: end };
  } catch (err) {
    return `undecodable record (${err instanceof Error ? err.message : String(err)})`;
  }
}

/** Whether any verifiable record starts at or after `from`: then the damage is not a torn tail. */
function hasValidRecordAfter(data: Uint8Array, from: number): boolean {
  for (let o = from; o + FRAME_HEADER_BYTES < data.byteLength; o++) {
    if (typeof verifyAt(data, o) !== 'string') return true;
  }
  return false;
}


/** One group's LogStorage over the shared WAL: memory for reads, the WAL for durability. */
class WalGroupStorage extends MemoryBackedLogStorage {
  constructor(
    private readonly wal: Wal,
    private readonly group: number,
  ) {
    super();
  }

  protected get mem(): MemoryLogStorage {
    return this.wal.memtable(this.group);
  }

  save(write: LogWrite): Promise<void> {
    const m = this.mem;
    const s = write.snapshot;
    const keptLog = s !== undefined && s.index >= m.firstIndex() - 1 && s.index <= m.lastIndex() && m.term(s.index) === s.term;
    // The memory copy validates the write first: an invalid one is refused before it is logged.
    void m.save(write);
    return this.wal.append({ kind: 'write', group: this.group, write, ...(keptLog ? { snapshotKeptLog: true } : {}) });
  }

  compact(meta: SnapshotMeta, compactIndex: number): Promise<void> {
    const m = this.mem;
    const effective = Math.max(m.firstIndex() - 1, Math.min(compactIndex, m.lastIndex()));
    let compactTerm: number;
    try {
      compactTerm = m.term(effective);
    } catch (err) {
      throw new RaftError('COMPACTED', `cannot compact to ${effective}: ${err instanceof Error ? err.message : String(err)}`);
    }
    void m.compact(meta, compactIndex);
    return this.wal.append({ kind: 'compact', group: this.group, meta, compactIndex: effective, compactTerm });
  }

  close(): Promise<void> {
    return this.wal.close();
  }
}
