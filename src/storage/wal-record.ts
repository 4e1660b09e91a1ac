import { assert } from '../raft/errors.js';
import type { ConfState, Entry, EntryType, HardState, SnapshotMeta } from '../raft/types.js';
import { crc32c } from '../util/crc32c.js';

/**
 * The WAL's records. On disk each is framed as
 *
 *   u32 payload length | u32 CRC-32C of the payload | payload
 *
 * and the payload starts with a type byte and the raft group id. A record is all or nothing:
 * recovery checks its length and checksum before believing any byte of it.
 */
export type WalRecord = WalRecordOf<Entry>;

/**
 * A record as recovery sees it: each entry is where its bytes lie in the record instead of
 * the bytes themselves, so scanning the log does not hold every payload in memory.
 */
export type LaidOutRecord = WalRecordOf<EntryRef>;

/** An entry of a record read from disk, without its payload. */
export interface EntryRef {
  readonly index: number;
  readonly term: number;
  readonly type: EntryType;
  readonly dataBytes: number;
  /** Where the entry's header starts, in bytes from the start of the framed record. */
  readonly entryOffset: number;
}

/** The LogWrite fields a record carries, over either kind of entry. */
export interface RecordWrite<E> {
  readonly snapshot?: SnapshotMeta;
  readonly entries: readonly E[];
  readonly hardState?: HardState;
  readonly lazy?: boolean;
}

export type WalRecordOf<E> =
  /**
   * One LogWrite of one group: snapshot install, entries (truncating a conflicting suffix),
   * hard state. `snapshotKeptLog` says whether the install kept the entries after the
   * snapshot (the log held the snapshot's last entry) or discarded the whole log; recovery
   * needs it when the install itself lies below a later compaction point.
   */
  | { readonly kind: 'write'; readonly group: number; readonly write: RecordWrite<E>; readonly snapshotKeptLog?: boolean }
  /**
   * A group's whole live state, written again so older segments no longer hold anything of
   * it: recovery replaces the group with this and ignores the group's earlier records.
   */
  | {
      readonly kind: 'groupState';
      readonly group: number;
      readonly compactIndex: number;
      readonly compactTerm: number;
      readonly snapshot: SnapshotMeta;
      readonly hardState: HardState;
      readonly entries: readonly E[];
    }
  /** A snapshot recorded and entries up to compactIndex (whose term is compactTerm) released. */
  | { readonly kind: 'compact'; readonly group: number; readonly meta: SnapshotMeta; readonly compactIndex: number; readonly compactTerm: number }
  /**
   * The group is gone from this node: recovery forgets every earlier record of it. Records of
   * the same group id after this one belong to a new group created under that id.
   */
  | { readonly kind: 'deleteGroup'; readonly group: number };

export const FRAME_HEADER_BYTES = 8;
/** A record larger than this is corruption, not data: no single write is that big. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

const KIND_WRITE = 1;
const KIND_COMPACT = 2;
const KIND_GROUP_STATE = 3;
const KIND_DELETE_GROUP = 4;
/** index f64, term f64, type u8, payload length u32: what precedes each entry's payload. */
export const ENTRY_HEADER_BYTES = 21;
const HAS_SNAPSHOT = 1;
const HAS_HARD_STATE = 2;
const SNAPSHOT_KEPT_LOG = 4;

class Writer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.ensure(1);
    this.view.setUint8(this.length, v);
    this.length += 1;
  }
  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.length, v);
    this.length += 4;
  }
  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.length, v);
    this.length += 8;
  }
  bytes(b: Uint8Array): void {
    this.u32(b.byteLength);
    this.ensure(b.byteLength);
    this.buf.set(b, this.length);
    this.length += b.byteLength;
  }
  json(v: unknown): void {
    this.bytes(new TextEncoder().encode(JSON.stringify(v)));
  }
  /** The framed record: header reserved at the start by `frame()`. */
  done(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

class Reader {
  private offset = 0;
  private readonly view: DataView;
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  private need(n: number): void {
    if (this.offset + n > this.buf.byteLength) throw new Error('record payload ends early');
  }
  u8(): number {
    this.need(1);
    return this.view.getUint8(this.offset++);
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.offset);
    this.offset += 4;
    return v;
  }
  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.offset);
    this.offset += 8;
    return v;
  }
  get position(): number {
    return this.offset;
  }
  bytes(): Uint8Array {
    const n = this.u32();
    this.need(n);
    // Copy: the caller keeps entries long after the read buffer is reused.
    const out = this.buf.slice(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
  /** Steps over a length-prefixed byte string; returns its length. */
  skipBytes(): number {
    const n = this.u32();
    this.need(n);
    this.offset += n;
    return n;
  }
  json(): unknown {
    return JSON.parse(new TextDecoder().decode(this.bytes()));
  }
  end(): void {
    if (this.offset !== this.buf.byteLength) throw new Error('record payload has trailing bytes');
  }
}

function writeEntries(w: Writer, entries: readonly Entry[], entryOffsets: number[]): void {
  w.u32(entries.length);
  for (const e of entries) {
    entryOffsets.push(w.length);
    w.f64(e.index);
    w.f64(e.term);
    w.u8(e.type === 'confChange' ? 1 : 0);
    w.bytes(e.data);
  }
}

function readEntryRefs(r: Reader): EntryRef[] {
  const count = r.u32();
  const entries: EntryRef[] = [];
  for (let i = 0; i < count; i++) {
    const entryOffset = FRAME_HEADER_BYTES + r.position;
    const index = r.f64();
    const term = r.f64();
    const type = r.u8() === 1 ? 'confChange' : 'normal';
    entries.push({ index, term, type, dataBytes: r.skipBytes(), entryOffset });
  }
  return entries;
}

/**
 * Reads the entry whose header starts at `offset` in `buf` (a record or part of one) and
 * checks it is the entry the index expects there: the paired check of every disk read.
 * Returns undefined if the bytes are not that entry.
 */
export function readEntryAt(buf: Uint8Array, offset: number, want: { readonly index: number; readonly term: number; readonly dataBytes: number }): Entry | undefined {
  if (offset < 0 || offset + ENTRY_HEADER_BYTES > buf.byteLength) return undefined;
  const view = new DataView(buf.buffer, buf.byteOffset + offset, ENTRY_HEADER_BYTES);
  const index = view.getFloat64(0);
  const term = view.getFloat64(8);
  const type = view.getUint8(16) === 1 ? 'confChange' : 'normal';
  const dataBytes = view.getUint32(17);
  const start = offset + ENTRY_HEADER_BYTES;
  if (index !== want.index || term !== want.term || dataBytes !== want.dataBytes || start + dataBytes > buf.byteLength) return undefined;
  // Copied: a cached entry must not keep the whole read buffer alive.
  return { index, term, type, data: buf.slice(start, start + dataBytes) };
}

/** Encodes a record with its frame header. */
export function encodeRecord(r: WalRecord): Uint8Array {
  return encodeRecordLaidOut(r).bytes;
}

/**
 * Encodes a record with its frame header, and says where each of its entries starts (bytes
 * from the start of the framed record, in the order of the record's entries), so the index
 * can point at them once the record is in a segment.
 */
export function encodeRecordLaidOut(r: WalRecord): { bytes: Uint8Array; entryOffsets: number[] } {
  const entryOffsets: number[] = [];
  const w = new Writer();
  w.u32(0); // length, filled below
  w.u32(0); // crc, filled below
  if (r.kind === 'write') {
    w.u8(KIND_WRITE);
    w.u32(r.group);
    const { snapshot, entries, hardState } = r.write;
    w.u8((snapshot === undefined ? 0 : HAS_SNAPSHOT) | (hardState === undefined ? 0 : HAS_HARD_STATE) | (r.snapshotKeptLog === true ? SNAPSHOT_KEPT_LOG : 0));
    if (snapshot !== undefined) w.json(snapshot);
    writeEntries(w, entries, entryOffsets);
    if (hardState !== undefined) {
      w.f64(hardState.term);
      w.u32(hardState.vote);
      w.f64(hardState.commit);
    }
  } else if (r.kind === 'groupState') {
    w.u8(KIND_GROUP_STATE);
    w.u32(r.group);
    w.f64(r.compactIndex);
    w.f64(r.compactTerm);
    w.json(r.snapshot);
    w.f64(r.hardState.term);
    w.u32(r.hardState.vote);
    w.f64(r.hardState.commit);
    writeEntries(w, r.entries, entryOffsets);
  } else if (r.kind === 'deleteGroup') {
    w.u8(KIND_DELETE_GROUP);
    w.u32(r.group);
  } else {
    w.u8(KIND_COMPACT);
    w.u32(r.group);
    w.f64(r.compactIndex);
    w.f64(r.compactTerm);
    w.json(r.meta);
  }
  const framed = w.done();
  const payload = framed.subarray(FRAME_HEADER_BYTES);
  assert(payload.byteLength <= MAX_RECORD_BYTES, `record of ${payload.byteLength} bytes exceeds the limit`);
  const view = new DataView(framed.buffer, framed.byteOffset, FRAME_HEADER_BYTES);
  view.setUint32(0, payload.byteLength);
  view.setUint32(4, crc32c(payload));
  return { bytes: framed, entryOffsets };
}

/**
 * Decodes a payload whose checksum has been verified, leaving entry payloads where they are
 * (see EntryRef). Throws on a malformed payload.
 */
export function decodeRecordPayload(payload: Uint8Array): LaidOutRecord {
  const r = new Reader(payload);
  const kind = r.u8();
  const group = r.u32();
  if (kind === KIND_WRITE) {
    const flags = r.u8();
    const snapshot = flags & HAS_SNAPSHOT ? (r.json() as SnapshotMeta) : undefined;
    const entries = readEntryRefs(r);
    let hardState: HardState | undefined;
    if (flags & HAS_HARD_STATE) hardState = { term: r.f64(), vote: r.u32(), commit: r.f64() };
    r.end();
    const write: RecordWrite<EntryRef> = {
      entries,
      ...(snapshot === undefined ? {} : { snapshot }),
      ...(hardState === undefined ? {} : { hardState }),
    };
    return { kind: 'write', group, write, ...(flags & SNAPSHOT_KEPT_LOG ? { snapshotKeptLog: true } : {}) };
  }
  if (kind === KIND_GROUP_STATE) {
    const compactIndex = r.f64();
    const compactTerm = r.f64();
    const snapshot = r.json() as SnapshotMeta;
    const hardState: HardState = { term: r.f64(), vote: r.u32(), commit: r.f64() };
    const entries = readEntryRefs(r);
    r.end();
    return { kind: 'groupState', group, compactIndex, compactTerm, snapshot, hardState, entries };
  }
  if (kind === KIND_COMPACT) {
    const compactIndex = r.f64();
    const compactTerm = r.f64();
    const meta = r.json() as { index: number; term: number; confState: ConfState };
    r.end();
    return { kind: 'compact', group, meta, compactIndex, compactTerm };
  }
  if (kind === KIND_DELETE_GROUP) {
    r.end();
    return { kind: 'deleteGroup', group };
  }
  throw new Error(`unknown record kind ${kind}`);
}
