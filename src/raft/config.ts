import type { Rng } from '../util/rng.js';
import { RaftError } from './errors.js';
import type { LogReader } from './storage.js';
import type { NodeId } from './types.js';

/** Options of one Raft instance. Durations are in ticks: the driver decides how long a tick is. */
export interface RaftOptions {
  readonly id: NodeId;
  readonly storage: LogReader;
  /** Randomness for election timeouts; inject a seeded generator for reproducible runs. */
  readonly rng: Rng;
  /** A follower campaigns after a random timeout in [electionTimeoutTicks, 2 * electionTimeoutTicks). */
  readonly electionTimeoutTicks?: number;
  readonly heartbeatTicks?: number;
  /** The index the state machine has applied on restart (entries after it are applied again). */
  readonly appliedIndex?: number;
  /** Bound on the entry payload bytes in one AppendEntries message. */
  readonly maxBytesPerMessage?: number;
  /** Bound on AppendEntries messages in flight to one follower (pipelining window). */
  readonly maxInflightMessages?: number;
  /** Bound on entry payload bytes in flight to one follower; 0 = no byte bound. */
  readonly maxInflightBytes?: number;
  /** Bound on payload bytes of proposed but uncommitted entries on the leader; 0 = none. */
  readonly maxUncommittedBytes?: number;
  /** Bound on payload bytes of committed entries handed out in one Ready. */
  readonly maxApplyBytesPerReady?: number;
  /** Bound on ReadIndex requests queued on the leader. */
  readonly maxPendingReads?: number;
  /** A leader that has not heard from a quorum within an election timeout steps down. */
  readonly checkQuorum?: boolean;
  /** Run a pre-election so a partitioned node cannot bump the term and disrupt the cluster. */
  readonly preVote?: boolean;
  /** Followers drop proposals instead of forwarding them to the leader. */
  readonly disableProposalForwarding?: boolean;
  /**
   * The largest relative drift between two nodes' tick rates (0.1 = 10%). The leader lease
   * lasts electionTimeoutTicks * (1 - drift) - 1 ticks after the quorum-acknowledged
   * heartbeat was sent, so it ends before any follower can vote for another leader.
   */
  readonly clockDriftBound?: number;
  /** A leader removed from the configuration steps down once the removal is applied. */
  readonly stepDownOnRemoval?: boolean;
}

export type ResolvedRaftOptions = Required<RaftOptions>;

export function resolveRaftOptions(o: RaftOptions): ResolvedRaftOptions {
  const r: ResolvedRaftOptions = {
    id: o.id,
    storage: o.storage,
    rng: o.rng,
    electionTimeoutTicks: o.electionTimeoutTicks ?? 10,
    heartbeatTicks: o.heartbeatTicks ?? 1,
    appliedIndex: o.appliedIndex ?? 0,
    maxBytesPerMessage: o.maxBytesPerMessage ?? 1024 * 1024,
    maxInflightMessages: o.maxInflightMessages ?? 256,
    maxInflightBytes: o.maxInflightBytes ?? 0,
    maxUncommittedBytes: o.maxUncommittedBytes ?? 0,
    maxApplyBytesPerReady: o.maxApplyBytesPerReady ?? 16 * 1024 * 1024,
    maxPendingReads: o.maxPendingReads ?? 4096,
    checkQuorum: o.checkQuorum ?? true,
    preVote: o.preVote ?? true,
    disableProposalForwarding: o.disableProposalForwarding ?? false,
    clockDriftBound: o.clockDriftBound ?? 0.1,
    stepDownOnRemoval: o.stepDownOnRemoval ?? true,
  };
  const bad = (field: string, why: string): never => {
    throw new RaftError('INVALID_CONFIG', `${field} ${why}`);
  };
  if (!Number.isInteger(r.id) || r.id <= 0) bad('id', 'must be a positive integer');
  if (!Number.isInteger(r.heartbeatTicks) || r.heartbeatTicks <= 0) bad('heartbeatTicks', 'must be a positive integer');
  if (!Number.isInteger(r.electionTimeoutTicks) || r.electionTimeoutTicks <= r.heartbeatTicks) {
    bad('electionTimeoutTicks', 'must be an integer greater than heartbeatTicks');
  }
  if (!Number.isInteger(r.maxInflightMessages) || r.maxInflightMessages <= 0) bad('maxInflightMessages', 'must be a positive integer');
  if (!Number.isInteger(r.maxBytesPerMessage) || r.maxBytesPerMessage <= 0) bad('maxBytesPerMessage', 'must be a positive integer');
  if (!Number.isInteger(r.maxInflightBytes) || r.maxInflightBytes < 0) bad('maxInflightBytes', 'must be a non-negative integer');
  if (!Number.isInteger(r.maxUncommittedBytes) || r.maxUncommittedBytes < 0) bad('maxUncommittedBytes', 'must be a non-negative integer');
  if (!Number.isInteger(r.maxPendingReads) || r.maxPendingReads <= 0) bad('maxPendingReads', 'must be a positive integer');
  if (r.maxInflightBytes !== 0 && r.maxInflightBytes < r.maxBytesPerMessage) {
    bad('maxInflightBytes', 'must be 0 or at least maxBytesPerMessage');
  }
  if (!(r.clockDriftBound >= 0 && r.clockDriftBound < 0.5)) bad('clockDriftBound', 'must be in [0, 0.5)');
  return r;
}

/** How long a lease lasts after the acknowledged heartbeat was sent, in the leader's ticks. */
export function leaseDurationTicks(o: ResolvedRaftOptions): number {
  return Math.floor(o.electionTimeoutTicks * (1 - o.clockDriftBound)) - 1;
}
