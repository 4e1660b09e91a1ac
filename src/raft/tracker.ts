import type { Progress } from './progress.js';
import { jointCommittedIndex, jointVoteResult, jointVoterIds } from './quorum.js';
import type { JointVoters, VoteResult } from './quorum.js';
import type { ConfState, NodeId } from './types.js';

/**
 * A cluster configuration as the core uses it: sets for O(1) membership tests. Treated as
 * immutable; ConfChanger builds a new one for every change.
 */
export interface TrackerConfig {
  /** incoming = the current voters; outgoing = the previous ones while in a joint config. */
  readonly voters: JointVoters;
  /** Non-voting members: they replicate but never count toward a quorum. */
  readonly learners: ReadonlySet<NodeId>;
  /** Outgoing voters that become learners when the joint configuration is left. */
  readonly learnersNext: ReadonlySet<NodeId>;
  readonly autoLeave: boolean;
}

/** Shared by every new tracker: safe because configs are never mutated, only replaced. */
export const EMPTY_TRACKER_CONFIG: TrackerConfig = {
  voters: { incoming: new Set<NodeId>(), outgoing: new Set<NodeId>() },
  learners: new Set<NodeId>(),
  learnersNext: new Set<NodeId>(),
  autoLeave: false,
};

export function isJoint(config: TrackerConfig): boolean {
  return config.voters.outgoing.size > 0;
}

/** Ids in ascending order: everywhere the order of ids is observable, it is this one. */
const sorted = (ids: Iterable<NodeId>): NodeId[] => [...ids].sort((a, b) => a - b);

/** The plain-data form of a config (for storage and snapshots), with sorted arrays. */
export function configToConfState(config: TrackerConfig): ConfState {
  return {
    voters: sorted(config.voters.incoming),
    votersOutgoing: sorted(config.voters.outgoing),
    learners: sorted(config.learners),
    learnersNext: sorted(config.learnersNext),
    autoLeave: config.autoLeave,
  };
}

/**
 * The bookkeeping around the configuration: each member's progress (used by the leader),
 * and the votes of the current election (used by a candidate). Every member of the config
 * has a Progress entry and vice versa (ConfChanger keeps that invariant).
 */
export class ProgressTracker {
  config: TrackerConfig = EMPTY_TRACKER_CONFIG;
  progress = new Map<NodeId, Progress>();
  votes = new Map<NodeId, boolean>();

  constructor(
    readonly maxInflightMsgs: number,
    readonly maxInflightBytes: number,
  ) {}

  confState(): ConfState {
    return configToConfState(this.config);
  }

  /** A one-voter group commits and elects on its own, without any messages. */
  isSingleton(): boolean {
    return this.config.voters.incoming.size === 1 && this.config.voters.outgoing.size === 0;
  }

  /** The highest index a quorum (of both halves, when joint) has; learners never count. */
  committed(): number {
    return jointCommittedIndex(this.config.voters, (id) => this.progress.get(id)?.match);
  }

  voterIds(): Set<NodeId> {
    return jointVoterIds(this.config.voters);
  }

  /** Learners, including the outgoing voters that become learners on leaving joint; ascending. */
  learnerIds(): Set<NodeId> {
    return new Set(sorted([...this.config.learners, ...this.config.learnersNext]));
  }

  /** Every tracked id, ascending. */
  ids(): NodeId[] {
    return sorted(this.progress.keys());
  }

  /** Visits every member in ascending id order, so runs are reproducible. */
  visit(fn: (id: NodeId, pr: Progress) => void): void {
    for (const id of this.ids()) {
      const pr = this.progress.get(id);
      if (pr !== undefined) fn(id, pr);
    }
  }

  /**
   * CheckQuorum: has a quorum of voters (of both halves, when joint) been heard from in the
   * last round? A leader that cannot say so steps down. Learners do not count.
   */
  quorumActive(): boolean {
    const active = new Map<NodeId, boolean>();
    this.visit((id, pr) => {
      if (!pr.isLearner) active.set(id, pr.recentActive);
    });
    return jointVoteResult(this.config.voters, active) === 'won';
  }

  /** The first answer from an id counts; a duplicate (retransmitted) answer cannot flip it. */
  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  resetVotes(): void {
    this.votes = new Map();
  }

  /** Counts the votes of current voters only: answers from learners or removed ids are ignored. */
  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    const voters = this.voterIds();
    for (const [id, v] of this.votes) {
      if (!voters.has(id)) continue;
      if (v) granted++;
      else rejected++;
    }
    return { granted, rejected, result: jointVoteResult(this.config.voters, this.votes) };
  }
}
