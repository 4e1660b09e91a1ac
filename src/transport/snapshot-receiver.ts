import type { SnapshotStore, SnapshotWriter, StagedSnapshot } from '../node/interfaces.js';
import type { Message } from '../raft/message.js';
import { TransportError } from './errors.js';

/** One inbound peer stream, as the receiver sees it: where backpressure is applied. */
export interface InboundConnection {
  readonly from: number;
  pause(): void;
  resume(): void;
  /** Tells the sender that stream `streamId` reached raft (`ok`) or was dropped. */
  acknowledge(streamId: number, group: number, ok: boolean): void;
}

export interface SnapshotReceiverOptions {
  /** The group's snapshot store, or undefined if this node will not take a snapshot for it. */
  readonly storeFor: (group: number) => Promise<SnapshotStore | undefined>;
  /** All chunks are durable: hand the `snap` message and its staged snapshot to the group. */
  readonly deliver: (group: number, message: Message, staged: StagedSnapshot) => void;
  readonly log: (level: 'info' | 'warn', message: string) => void;
  readonly maxSnapshotBytes: number;
  /** A connection stops reading while this many of its chunks wait to be written. */
  readonly maxPendingChunks: number;
}

/** The first chunk of a stream: where it goes and how long it is. */
export interface StreamStart {
  readonly streamId: number;
  readonly group: number;
  readonly message: Message;
  readonly totalBytes: number;
}

/**
 * Inbound snapshot streams, one per (sender, group): each chunk is written straight into the
 * group's snapshot store as it arrives, the connection pausing while the disk lags behind, and
 * only once the last chunk is durable (staged) does the `snap` message go to the node. A new
 * stream from the same sender for the same group aborts the older one, and so does the loss of
 * the connection that carried it, so a partial snapshot never lingers.
 */
export class SnapshotReceiver {
  private readonly streams = new Map<string, InboundStream>();
  private readonly pendingChunks = new Map<InboundConnection, number>();
  private closed = false;

  constructor(private readonly opts: SnapshotReceiverOptions) {}

  /** A chunk frame. Throws TransportError for a malformed or out-of-order one (the connection is then closed). */
  onChunk(conn: InboundConnection, start: StreamStart | undefined, streamId: number, group: number, offset: number, chunk: Uint8Array, final: boolean): void {
    const key = `${conn.from}/${group}`;
    let stream = this.streams.get(key);
    if (start !== undefined) {
      if (offset !== 0) throw new TransportError('BAD_FRAME', 'a snapshot stream must start at offset 0');
      if (start.totalBytes > this.opts.maxSnapshotBytes) throw new TransportError('FRAME_TOO_LARGE', `snapshot of ${start.totalBytes} bytes exceeds the limit of ${this.opts.maxSnapshotBytes}`);
      // Only the newest snapshot from a sender can be installed: drop a half-received older one.
      stream?.abort('superseded by a newer snapshot from the same node');
      stream = new InboundStream(conn, start, this.opts.storeFor(group), this);
      this.streams.set(key, stream);
    }
    // The start of this stream was dropped (an older connection), or the stream was abandoned.
    if (stream === undefined || stream.conn !== conn || stream.streamId !== streamId) return;
    stream.push(offset, chunk, final);
  }

  /** The connection closed: abort its streams that had not received every chunk. */
  onConnectionClosed(conn: InboundConnection): void {
    this.pendingChunks.delete(conn);
    for (const s of this.streams.values()) if (s.conn === conn) s.abort('the connection closed');
  }

  close(): void {
    this.closed = true;
    for (const s of this.streams.values()) s.abort('the transport is closing');
  }

  // ---------------------------------------------------------------- called by InboundStream

  /** @internal */
  chunkQueued(conn: InboundConnection): void {
    const n = (this.pendingChunks.get(conn) ?? 0) + 1;
    this.pendingChunks.set(conn, n);
    if (n === this.opts.maxPendingChunks) conn.pause();
  }

  /** @internal */
  chunkWritten(conn: InboundConnection): void {
    const n = this.pendingChunks.get(conn);
    if (n === undefined) return; // the connection is gone
    this.pendingChunks.set(conn, n - 1);
    if (n === this.opts.maxPendingChunks) conn.resume();
  }

  /** @internal */
  finished(stream: InboundStream, staged: StagedSnapshot | undefined): void {
    const key = `${stream.conn.from}/${stream.group}`;
    if (this.streams.get(key) === stream) this.streams.delete(key);
    if (staged !== undefined && this.closed) {
      staged.discard().catch(() => undefined);
      return;
    }
    if (staged !== undefined) this.opts.deliver(stream.group, stream.message, staged);
    // After the delivery: by the time the sender hears of it, raft has the snapshot, so the
    // leader's next probe finds the follower's log already past it.
    stream.conn.acknowledge(stream.streamId, stream.group, staged !== undefined);
  }

  /** @internal */
  log(level: 'info' | 'warn', message: string): void {
    this.opts.log(level, message);
  }
}

/** One snapshot on its way in: its chunks written in order through one promise chain. */
class InboundStream {
  readonly streamId: number;
  readonly group: number;
  readonly message: Message;
  private readonly totalBytes: number;
  /** Bytes accepted from frames so far (written, or queued to be). */
  private received = 0;
  private state: 'receiving' | 'staging' | 'done' | 'aborted' = 'receiving';
  private chain: Promise<SnapshotWriter | undefined>;

  constructor(
    readonly conn: InboundConnection,
    start: StreamStart,
    store: Promise<SnapshotStore | undefined>,
    private readonly owner: SnapshotReceiver,
  ) {
    this.streamId = start.streamId;
    this.group = start.group;
    this.message = start.message;
    this.totalBytes = start.totalBytes;
    const meta = start.message.snapshot;
    this.chain = store.then((s) => {
      if (s === undefined || meta === undefined) {
        this.abort(`group ${this.group} takes no snapshot here`);
        return undefined;
      }
      return s.create(meta);
    });
    this.chain.catch((err: unknown) => this.onError(err));
  }

  push(offset: number, chunk: Uint8Array, final: boolean): void {
    if (this.state !== 'receiving') return;
    if (offset !== this.received) throw new TransportError('BAD_FRAME', `snapshot chunk at offset ${offset}, expected ${this.received}`);
    const end = offset + chunk.byteLength;
    if (end > this.totalBytes || final !== (end === this.totalBytes)) throw new TransportError('BAD_FRAME', 'snapshot chunk does not fit the announced size');
    this.received = end;
    if (chunk.byteLength > 0) {
      this.owner.chunkQueued(this.conn);
      this.chain = this.chain.then(async (w) => {
        try {
          if (w !== undefined && this.state !== 'aborted') await w.write(chunk);
          return w;
        } finally {
          this.owner.chunkWritten(this.conn);
        }
      });
    }
    if (final) {
      this.state = 'staging';
      this.chain
        .then(async (w) => {
          if (this.state !== 'staging') return;
          // No writer: the group refused the snapshot after every chunk had already arrived.
          const staged = w === undefined ? undefined : await w.stage();
          this.state = 'done';
          this.owner.finished(this, staged);
        })
        .catch((err: unknown) => this.onError(err));
    } else {
      this.chain.catch((err: unknown) => this.onError(err));
    }
  }

  /**
   * Stops the stream and removes what it wrote. Once every chunk has arrived the stream
   * finishes instead: the snapshot is complete, and the node decides whether it is still wanted.
   */
  abort(why: string): void {
    if (this.state !== 'receiving') return;
    this.drop('info', why);
  }

  /** A create, write or stage failed (the writer has removed its file); nothing is delivered. */
  private onError(err: unknown): void {
    if (this.state === 'aborted' || this.state === 'done') return;
    this.drop('warn', `writing it failed: ${err instanceof Error ? err.message : String(err)}`);
  }

  private drop(level: 'info' | 'warn', why: string): void {
    this.state = 'aborted';
    this.owner.log(level, `snapshot at index ${this.message.snapshot?.index ?? '?'} for group ${this.group} from node ${this.conn.from} dropped: ${why}`);
    this.owner.finished(this, undefined);
    this.chain.then((w) => w?.abort()).catch(() => undefined);
  }
}
