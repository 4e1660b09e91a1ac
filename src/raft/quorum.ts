import type { NodeId } from './types.js';

export type VoteResult = 'pending' | 'lost' | 'won';

export interface JointVoters {
  readonly incoming: ReadonlySet<NodeId>;
  readonly outgoing: ReadonlySet<NodeId>;
}

/**
 * The largest index acknowledged by a majority of `voters`. An empty voter set places no
 * constraint (so a joint config with no outgoing half is decided by its incoming half).
 */
export function majorityCommittedIndex(voters: ReadonlySet<NodeId>, matchOf: (id: NodeId) => number | undefined): number {
  if (voters.size === 0) return Number.MAX_SAFE_INTEGER;
  const matches: number[] = [];
  for (const id of voters) matches.push(matchOf(id) ?? 0);
  matches.sort((a, b) => b - a);
  // The (n/2 + 1)-th largest value is held by a majority.
  return matches[Math.floor(voters.size / 2)] ?? 0;
}

export function majorityVoteResult(voters: ReadonlySet<NodeId>, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.size === 0) return 'won';
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const quorum = Math.floor(voters.size / 2) + 1;
  if (granted >= quorum) return 'won';
  if (granted + missing >= quorum) return 'pending';
  return 'lost';
}

export function jointCommittedIndex(voters: JointVoters, matchOf: (id: NodeId) => number | undefined): number {
  return Math.min(majorityCommittedIndex(voters.incoming, matchOf), majorityCommittedIndex(voters.outgoing, matchOf));
}

export function jointVoteResult(voters: JointVoters, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const a = majorityVoteResult(voters.incoming, votes);
  const b = majorityVoteResult(voters.outgoing, votes);
  if (a === b) return a;
  if (a === 'lost' || b === 'lost') return 'lost';
  return 'pending';
}

export function jointVoterIds(voters: JointVoters): Set<NodeId> {
  return new Set([...voters.incoming, ...voters.outgoing]);
}
