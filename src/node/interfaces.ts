import type { Message } from '../raft/message.js';
import type { SnapshotMeta } from '../raft/types.js';

/** A committed command as the state machine sees it. */
export interface AppliedCommand {
  readonly index: number;
  readonly term: number;
  readonly data: Uint8Array;
}

/**
 * The application's replicated state. `apply` must be deterministic: every node applies the
 * same commands in the same order and must reach the same state and the same results.
 */
export interface StateMachine<Result = unknown> {
  /** Applies a batch of committed commands in log order; returns one result per command. */
  apply(commands: readonly AppliedCommand[]): Promise<Result[]> | Result[];
  /** Serializes the state as of the last applied command. */
  snapshot(): Promise<Uint8Array> | Uint8Array;
  /**
   * Optional, for a large state: captures the state as of the last applied command at once,
   * and serializes it later, a slice per chunk pulled. The node writes the chunks to disk
   * while it goes on applying commands, so a snapshot of a big state never stalls it (a
   * synchronous `snapshot()` of 100,000 keys holds the event loop for hundreds of
   * milliseconds). The captured view must not change with the applies that follow (copy on
   * write), and the chunks put together must be the bytes `snapshot()` would have returned at
   * the capture. A node that stops early drops the iterator without finishing it.
   */
  captureSnapshot?(): Iterable<Uint8Array>;
  /** Replaces the state with a snapshot's. */
  restore(data: Uint8Array): Promise<void> | void;
}

/** A message on its way to a peer; a `snap` message carries the source of its snapshot's bytes. */
export interface OutgoingMessage {
  readonly message: Message;
  /** Read by the transport chunk by chunk, only as fast as the peer takes them. */
  readonly snapshot?: SnapshotSource;
}

/**
 * Delivery to peers. `send` never blocks and may drop messages (Raft retries); a transport
 * reports lasting failures through the node's reportUnreachable / reportSnapshot.
 */
export interface Transport {
  send(messages: readonly OutgoingMessage[]): void;
  /**
   * True when the transport itself calls the node's reportSnapshot (success once the receiver
   * has the snapshot in raft, failure if it is lost). Otherwise the node reports a snapshot
   * sent as soon as the transport takes it, and a lost one is found by probing.
   */
  readonly reportsSnapshotDelivery?: boolean;
}

/**
 * One stored snapshot: its metadata and size at once, its bytes on demand. Reading never loads
 * the whole snapshot: a multi-gigabyte state must not sit in memory twice.
 */
export interface SnapshotSource {
  readonly meta: SnapshotMeta;
  readonly totalBytes: number;
  /**
   * The bytes in order, at most `maxChunkBytes` per chunk, read only as the caller pulls. The
   * checksum is verified as they stream; the last chunk is yielded only once it matched, else
   * the iterator throws a SnapshotCorruptError. Returning early releases what the read holds.
   */
  chunks(maxChunkBytes: number): AsyncIterableIterator<Uint8Array>;
}

/**
 * A snapshot being written, chunk by chunk. Nothing is visible until it is staged and then
 * committed; `abort` (or a crash) before that leaves nothing behind.
 */
export interface SnapshotWriter {
  readonly meta: SnapshotMeta;
  /** Appends bytes. Await each write before the next: that is the backpressure. */
  write(chunk: Uint8Array): Promise<void>;
  /** Makes the bytes durable, not yet current. Resolves with the staged snapshot. */
  stage(): Promise<StagedSnapshot>;
  /** Drops everything written. Safe to call more than once, and after a failed write. */
  abort(): Promise<void>;
}

/**
 * A complete, durable snapshot that is not the store's latest yet: one received from a leader
 * and waiting for raft to accept it. A crash now leaves the store on its previous snapshot
 * (the staged one is removed when the store reopens).
 */
export interface StagedSnapshot extends SnapshotSource {
  /**
   * Makes this the store's latest snapshot, durably, and prunes old ones. A snapshot not newer
   * than the current latest is discarded instead (it can never be installed).
   */
  commit(): Promise<void>;
  /** Removes it: raft rejected it, or a newer one superseded it. */
  discard(): Promise<void>;
}

/** Where snapshot bytes live. The log storage records only their metadata. */
export interface SnapshotStore {
  /** The newest committed snapshot, if any: metadata at once, bytes on demand. */
  latest(): SnapshotSource | undefined;
  /** Starts writing a snapshot (see SnapshotWriter); the store may hold several at once. */
  create(meta: SnapshotMeta): Promise<SnapshotWriter>;
}
