import type { Progress } from './progress.js';
import { jointCommittedIndex, jointVoteResult, jointVoterIds } from './quorum.js';
import type { JointVoters, VoteResult } from './quorum.js';
import type { ConfState, NodeId } from './types.js';

export interface TrackerConfig {
  readonly voters: JointVoters;
  /** Non-voting members: they replicate but never count toward a quorum. */
  readonly learners: ReadonlySet<NodeId>;
  /** Outgoing voters that become learners when the joint configuration is left. */
  readonly learnersNext: ReadonlySet<NodeId>;
  readonly autoLeave: boolean;
}

export const EMPTY_TRACKER_CONFIG: TrackerConfig = {
  voters: { incoming: new Set(), outgoing: new Set() },
  learners: new Set(),
  learnersNext: new Set(),
  autoLeave: false,
};

export function isJoint(config: TrackerConfig): boolean {
  return config.voters.outgoing.size > 0;
}

const sorted = (ids: Iterable<NodeId>): NodeId[] => [...ids].sort((a, b) => a - b);

export function configToConfState(config: TrackerConfig): ConfState {
  return {
    voters: sorted(config.voters.incoming),
    votersOutgoing: sorted(config.voters.outgoing),
    learners: sorted(config.learners),
    learnersNext: sorted(config.learnersNext),
    autoLeave: config.autoLeave,
  };
}

/** The leader's bookkeeping: the configuration, each member's progress, and election votes. */
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

  isSingleton(): boolean {
    return this.config.voters.incoming.size === 1 && this.config.voters.outgoing.size === 0;
  }

  committed(): number {
    return jointCommittedIndex(this.config.voters, (id) => this.progress.get(id)?.match);
  }

  voterIds(): Set<NodeId> {
    return jointVoterIds(this.config.voters);
  }

  learnerIds(): Set<NodeId> {
    return new Set([...this.config.learners, ...this.config.learnersNext]);
  }

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

  quorumActive(): boolean {
    const active = new Map<NodeId, boolean>();
    this.visit((id, pr) => {
      if (!pr.isLearner) active.set(id, pr.recentActive);
    });
    return jointVoteResult(this.config.voters, active) === 'won';
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  resetVotes(): void {
    this.votes = new Map();
  }

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
