/**
 * The shapes of `keel serve`'s configuration, kept apart from the code that builds them so the
 * parsers below and serve-config.ts can share them without importing each other.
 */

export interface HostPort {
  readonly host: string;
  /** 0 asks the OS for a free port (tests use it); otherwise 1..65535. */
  readonly port: number;
}

export type MemberRole = 'voter' | 'learner';

export interface InitialMember {
  readonly id: number;
  /** Where peers reach this member (its raft address, which may be its HTTP address). */
  readonly address: HostPort;
  readonly role: MemberRole;
}

export type ReadPolicy = 'linearizable' | 'lease' | 'eventual';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * d-engine's `[raft.persistence]`: diskFirst acknowledges a write once it is fsynced; memFirst
 * acknowledges at once and flushes in batches of `flushThreshold` writes or every
 * `flushIntervalMs`, whichever comes first.
 */
export type PersistenceConfig =
  | { readonly strategy: 'diskFirst' }
  | { readonly strategy: 'memFirst'; readonly flushThreshold: number; readonly flushIntervalMs: number };

export interface RaftTimingConfig {
  readonly tickMs: number;
  /** Minimum election timeout, in ticks; must exceed heartbeatTicks or followers time out between heartbeats. */
  readonly electionTimeoutTicks: number;
  readonly heartbeatTicks: number;
  readonly snapshotEveryEntries: number;
  /** Entries kept in the log below a snapshot, so a slightly lagging follower needs no snapshot. */
  readonly logEntriesKeptAfterSnapshot: number;
  /** Group commit on a loaded leader: the longest a proposal waits for others to share its append (0: never). */
  readonly batchWaitMs: number;
}

export interface ApiLimitsConfig {
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
  readonly maxBodyBytes: number;
}

export interface ReadConsistencyConfig {
  readonly defaultPolicy: ReadPolicy;
  /** Below electionTimeoutTicks * tickMs, so a deposed leader's lease ends before a new leader can be elected. */
  readonly leaseDurationMs: number | undefined;
}

/** Everything `keel serve` needs, validated; fields without a source hold their defaults. */
export interface ServeConfig {
  /** 1 when nothing names it. */
  readonly nodeId: number;
  /** Client/admin API; default 127.0.0.1:21001. */
  readonly httpAddr: HostPort;
  /** A separate peer listener; undefined means peers ride the HTTP port. */
  readonly raftAddr: HostPort | undefined;
  readonly healthPort: number | undefined;
  /** As given (default "./keel-data/node<id>"), not resolved, so log lines show what the user typed. */
  readonly dataDir: string;
  readonly initialCluster: readonly InitialMember[] | undefined;
  readonly join: HostPort | undefined;
  readonly initialGroup: number;
  readonly clusterId: string;
  /**
   * True only when nothing named a node identity or a cluster (no id, no initial cluster, no
   * join): then the node bootstraps a one-node cluster by itself. With an id alone it waits for
   * `POST /init`, like openraft's example.
   */
  readonly bootstrapSingleNode: boolean;
  readonly readConsistency: ReadConsistencyConfig;
  readonly persistence: PersistenceConfig;
  /** Bytes of recent log entries the WAL keeps in memory (the rest are read from disk). */
  readonly entryCacheBytes: number;
  readonly raft: RaftTimingConfig;
  readonly limits: ApiLimitsConfig;
  readonly logLevel: LogLevel;
}

/** The flags of `keel serve` as commander hands them over: strings exactly as typed, absent when not given. */
export interface ServeFlags {
  id?: string;
  httpAddr?: string;
  port?: string;
  raftAddr?: string;
  healthPort?: string;
  dataDir?: string;
  config?: string;
  initialCluster?: string;
  join?: string;
  initialGroup?: string;
  clusterId?: string;
  readConsistency?: string;
  persistence?: string;
  tickMs?: string;
  logLevel?: string;
}
