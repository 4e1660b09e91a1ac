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
  /** Replaces the state with a snapshot's. */
  restore(data: Uint8Array): Promise<void> | void;
}

/** A message on its way to a peer; `snapshotData` rides beside a `snap` message. */
export interface OutgoingMessage {
  readonly message: Message;
  readonly snapshotData?: Uint8Array;
}

/**
 * Delivery to peers. `send` never blocks and may drop messages (Raft retries); a transport
 * reports lasting failures through the node's reportUnreachable / reportSnapshot.
 */
export interface Transport {
  send(messages: readonly OutgoingMessage[]): void;
}

/** Where snapshot bytes live. The log storage records only their metadata. */
export interface SnapshotStore {
  /** Durably stores a snapshot; resolves once it survives a crash. */
  save(meta: SnapshotMeta, data: Uint8Array): Promise<void>;
  /** The newest stored snapshot, if any. */
  latest(): { meta: SnapshotMeta; data: Uint8Array } | undefined;
}
