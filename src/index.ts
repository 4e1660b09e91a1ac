/**
 * Keel's public API. The core (`RawNode`) is for callers who drive I/O themselves; `RaftNode`
 * runs the Ready loop over a storage, a transport and a state machine of the caller's choice.
 */
export { RaftNode } from './node/raft-node.js';
export type { LeaderChange, RaftNodeOptions, ReadConsistency } from './node/raft-node.js';
export type { AppliedCommand, OutgoingMessage, SnapshotSource, SnapshotStore, SnapshotWriter, StagedSnapshot, StateMachine, Transport } from './node/interfaces.js';
export { readSnapshotBytes, saveSnapshot, stageSnapshotCopy } from './node/snapshot-io.js';
export { NodeError, isNodeError } from './node/errors.js';
export type { NodeErrorCode } from './node/errors.js';
export { MemorySnapshotStore } from './node/memory-snapshot-store.js';
export { BatchWindow } from './node/batch-window.js';
export type { BatchTimer } from './node/batch-window.js';

export { RawNode } from './raft/raw-node.js';
export type { Ready, Status } from './raft/raw-node.js';
export type { RaftOptions } from './raft/config.js';
export type { Message, MessageType } from './raft/message.js';
export type { LogReader, LogStorage, LogWrite } from './raft/storage.js';
export { bootstrapLog, bootstrapStorage } from './raft/bootstrap.js';
export type { InitialMembers } from './raft/bootstrap.js';
export { RaftError, isRaftError } from './raft/errors.js';
export type { RaftErrorCode } from './raft/errors.js';
export { encodeConfChange, decodeConfChange, oneNodeChange } from './raft/confchange.js';
export { NONE } from './raft/types.js';
export type {
  ConfChange,
  ConfChangeSingle,
  ConfChangeTransition,
  ConfChangeType,
  ConfState,
  Entry,
  EntryType,
  HardState,
  NodeId,
  ReadState,
  SnapshotMeta,
  SoftState,
  StateRole,
} from './raft/types.js';

export { MemoryLogStorage } from './storage/memory-log-storage.js';
export { Wal, WalCorruptError, WalGroupDeletedError, repairWal } from './storage/wal.js';
export type { PersistenceStrategy, WalOptions } from './storage/wal.js';
export { FileSnapshotStore, SnapshotCorruptError } from './storage/file-snapshot-store.js';
export { SeededRng } from './util/rng.js';
export type { Rng } from './util/rng.js';

// The server, its configuration and the typed client.
export { KeelClient } from './client/keel-client.js';
export type { Consistency, Entry as KvClientEntry, KeelClientOptions, Member, Members, NodeStatus } from './client/keel-client.js';
export { KeelClientError } from './client/errors.js';
export { startServer } from './server/server.js';
export type { RunningServer } from './server/server.js';
export { createLogger } from './server/logger.js';
export type { Logger } from './server/logger.js';
export { ConfigError, loadServeConfig, resolveServeConfig } from './config/serve-config.js';
export type { ServeConfig, ServeFlags } from './config/serve-config.js';
export { KvStateMachine } from './kv/kv-state-machine.js';
export type { KvCommand, KvEntry, KvResult } from './kv/commands.js';
export { encodeKvCommand, decodeKvCommand } from './kv/commands.js';
export { PeerTransport } from './transport/peer-transport.js';
export type { PeerTransportHandlers, PeerTransportOptions } from './transport/peer-transport.js';
