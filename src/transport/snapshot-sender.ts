import type { Socket } from 'node:net';
import type { SnapshotSource } from '../node/interfaces.js';
import type { Message } from '../raft/message.js';
import { FrameKind, encodeFrame } from './frame-codec.js';
import { encodeMessage, packr } from './message-codec.js';

/**
 * Room a snapshot chunk frame needs beside the chunk: the field array and, on the first
 * chunk, the `snap` message (a few ids). The chunk size plus this must fit in a frame.
 */
export const SNAPSHOT_FRAME_OVERHEAD_BYTES = 64 * 1024;

export interface SnapshotSenderOptions {
  readonly peerId: number;
  /** Bytes per chunk frame; the source is asked for chunks no larger. */
  readonly chunkBytes: number;
  /** No chunk is read while this many bytes wait in the socket. */
  readonly highWaterBytes: number;
  /** The link's socket right now (undefined while disconnected). */
  readonly socket: () => Socket | undefined;
  /** A chunk was written: let the link send its queued messages and pump again. */
  readonly wake: () => void;
  /** A stream reached the receiver's raft (`ok`: acknowledged) or broke off. */
  readonly onSent: (group: number, ok: boolean) => void;
  readonly onLog: (level: 'info' | 'warn', message: string) => void;
}

interface SnapshotJob {
  readonly group: number;
  readonly message: Message;
  readonly source: SnapshotSource;
  readonly streamId: number;
  /** Opened at the first pull, so a job superseded while queued never touches the store. */
  chunks: AsyncIterator<Uint8Array> | undefined;
  offset: number;
  /** A pull is in flight: at most one at a time, so the reader is at most one chunk ahead. */
  reading: boolean;
  cancelled: boolean;
}

/**
 * The snapshots one peer link streams, one at a time. A chunk is pulled from the snapshot's
 * source only while the socket holds less than the high-water mark, and written as soon as it
 * is read, so however large the snapshot the sender holds about one chunk of it beyond what
 * the socket buffers. On disconnect the streams stop reading and are reported failed.
 */
export class SnapshotSender {
  private jobs: SnapshotJob[] = [];
  /** Streams written in full, waiting for the receiver's acknowledgement, by stream id. */
  private readonly awaitingAck = new Map<number, SnapshotJob>();
  private nextStreamId = 1;
  /** Snapshot bytes pulled from sources, and bytes the socket has handed to the kernel (for stats and tests). */
  bytesRead = 0;
  bytesFlushed = 0;

  constructor(private readonly opts: SnapshotSenderOptions) {}

  get pending(): number {
    return this.jobs.length;
  }

  enqueue(group: number, message: Message, source: SnapshotSource): void {
    // One pending snapshot per group: a newer one supersedes a queued one not yet started.
    this.jobs = this.jobs.filter((j) => j.group !== group || j.chunks !== undefined);
    this.jobs.push({ group, message, source, streamId: this.nextStreamId++, chunks: undefined, offset: 0, reading: false, cancelled: false });
  }

  /** Starts the next pull if the socket has room. Called when the socket drains and after each chunk. */
  pump(socket: Socket): void {
    const job = this.jobs[0];
    if (job === undefined || job.reading || socket.writableLength >= this.opts.highWaterBytes) return;
    if (job.source.totalBytes === 0) {
      this.writeChunk(socket, job, new Uint8Array(0));
      this.opts.wake();
      return;
    }
    job.reading = true;
    job.chunks ??= job.source.chunks(this.opts.chunkBytes);
    job.chunks.next().then(
      (r) => this.onRead(job, r),
      (err: unknown) => this.fail(job, `reading it failed: ${err instanceof Error ? err.message : String(err)}`),
    );
  }

  /** The connection is gone: stop every stream, release its reader, report it failed. */
  failAll(): void {
    const jobs = this.jobs;
    this.jobs = [];
    for (const j of jobs) {
      j.cancelled = true;
      if (!j.reading) release(j);
      this.opts.onSent(j.group, false);
    }
    // Written in full but never acknowledged: the receiver may have lost it with the connection.
    const unacknowledged = [...this.awaitingAck.values()];
    this.awaitingAck.clear();
    for (const j of unacknowledged) this.opts.onSent(j.group, false);
  }

  /** The receiver's SnapshotAck frame. An unknown stream (already failed) is ignored. */
  acknowledged(streamId: number, group: number, ok: boolean): void {
    const job = this.awaitingAck.get(streamId);
    if (job === undefined || job.group !== group) return;
    this.awaitingAck.delete(streamId);
    if (!ok) this.opts.onLog('warn', `node ${this.opts.peerId} dropped the snapshot at index ${job.source.meta.index} for group ${group}`);
    this.opts.onSent(group, ok);
  }

  private onRead(job: SnapshotJob, r: IteratorResult<Uint8Array>): void {
    job.reading = false;
    if (job.cancelled) {
      release(job);
      return;
    }
    const socket = this.opts.socket();
    if (socket === undefined) return; // failAll runs on close and reports it
    if (r.done === true) {
      this.fail(job, `its source ended after ${job.offset} of ${job.source.totalBytes} bytes`);
      return;
    }
    this.bytesRead += r.value.byteLength;
    this.writeChunk(socket, job, r.value);
    this.opts.wake();
  }

  private writeChunk(socket: Socket, job: SnapshotJob, chunk: Uint8Array): void {
    const total = job.source.totalBytes;
    const end = job.offset + chunk.byteLength;
    if (chunk.byteLength > this.opts.chunkBytes || end > total || (chunk.byteLength === 0 && total > 0)) {
      this.fail(job, `its source yielded a ${chunk.byteLength}-byte chunk at offset ${job.offset} of ${total}`);
      return;
    }
    const final = end === total;
    const head = job.offset === 0 ? encodeMessage(job.group, job.message) : null;
    const frame = encodeFrame(FrameKind.SnapshotChunk, packr.pack([job.streamId, job.group, job.offset, total, final, chunk, head]));
    socket.write(frame, (err) => {
      if (err === undefined || err === null) this.bytesFlushed += chunk.byteLength;
    });
    job.offset = end;
    if (!final) return;
    this.remove(job);
    release(job);
    this.awaitingAck.set(job.streamId, job);
  }

  private fail(job: SnapshotJob, why: string): void {
    job.reading = false;
    if (job.cancelled) return;
    job.cancelled = true;
    this.remove(job);
    release(job);
    this.opts.onLog('warn', `snapshot at index ${job.source.meta.index} for group ${job.group} to node ${this.opts.peerId} abandoned: ${why}`);
    this.opts.onSent(job.group, false);
    this.opts.wake();
  }

  private remove(job: SnapshotJob): void {
    this.jobs = this.jobs.filter((j) => j !== job);
  }
}

/** Closes the job's reader (its file handle) if it was opened. */
function release(job: SnapshotJob): void {
  job.chunks?.return?.().catch(() => undefined);
}
