/**
 * The data types of the pure Raft core. Everything here is plain data: it can be cloned,
 * serialized and compared, and it carries no behaviour.
 */

/** A node id. 0 is reserved for "none" (no vote, no known leader). */
export type NodeId = number;
export const NONE: NodeId = 0;

export type EntryType = 'normal' | 'confChange';

/**
 * One log entry. `index` and `term` identify it. A `confChange` entry carries an encoded
 * {@link ConfChange} in `data` (see confchange-codec.ts); an empty normal entry is the no-op
 * a new leader appends to commit entries of earlier terms.
 */
export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/**
 * The state that must be durable before the node answers a message that depends on it:
 * a vote is never granted twice in a term because `term` and `vote` are fsynced before the
 * vote reply is sent.
 */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: NONE, commit: 0 };

/**
 * A cluster configuration. Outside a joint configuration `votersOutgoing` is empty.
 * Invariant: `learners` and `voters ∪ votersOutgoing` are disjoint, except that a node that is
 * being demoted sits in `votersOutgoing` and in `learnersNext` at the same time.
 */
export interface ConfState {
  readonly voters: readonly NodeId[];
  /** The old voter set while in a joint configuration; empty otherwise. */
  readonly votersOutgoing: readonly NodeId[];
  readonly learners: readonly NodeId[];
  /** Voters of the outgoing config that become learners when the joint config is left. */
  readonly learnersNext: readonly NodeId[];
  /** Leave the joint configuration automatically once it is committed. */
  readonly autoLeave: boolean;
}

export const EMPTY_CONF_STATE: ConfState = {
  voters: [],
  votersOutgoing: [],
  learners: [],
  learnersNext: [],
  autoLeave: false,
};

/**
 * Snapshot metadata. The core never touches snapshot bytes: the driver stores them, the
 * transport streams them, and the state machine restores from them. The core only decides
 * whether a snapshot is needed, and whether a received one is accepted.
 */
export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

export const EMPTY_SNAPSHOT: SnapshotMeta = { index: 0, term: 0, confState: EMPTY_CONF_STATE };

export type ConfChangeType = 'addVoter' | 'addLearner' | 'removeNode';

export interface ConfChangeSingle {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
}

/**
 * How a multi-change is carried out. `auto` uses a joint configuration when more than one
 * voter changes and leaves it automatically; `explicitJoint` enters a joint configuration and
 * waits for an explicit leave; `implicitJoint` enters joint and leaves it automatically.
 */
export type ConfChangeTransition = 'auto' | 'implicitJoint' | 'explicitJoint';

/**
 * A membership change. An empty `changes` list means "leave the joint configuration".
 * `context` is opaque to the core (the server stores node addresses there).
 */
export interface ConfChange {
  readonly transition: ConfChangeTransition;
  readonly changes: readonly ConfChangeSingle[];
  readonly context: Uint8Array;
}

/** A read request that the core has confirmed: reads at `index` or later are linearizable. */
export interface ReadState {
  readonly index: number;
  /** The caller's opaque request context, echoed back. */
  readonly requestCtx: Uint8Array;
}

export type StateRole = 'follower' | 'candidate' | 'preCandidate' | 'leader';

/** Volatile state that the application may want to observe (leader changes, role). */
export interface SoftState {
  readonly leader: NodeId;
  readonly role: StateRole;
}
