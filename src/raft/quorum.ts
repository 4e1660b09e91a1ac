import { assert } from './errors.js';
import type { NodeId } from './types.js';

/**
 * Majority arithmetic for commit indexes and elections, for a single voter set and for a
 * joint configuration (Raft thesis §4.3: during a joint configuration, every decision needs a
 * majority of the old voters AND a majority of the new voters).
 */

export type VoteResult = 'pending' | 'lost' | 'won';

/** The two voter sets of a (possibly) joint configuration; `outgoing` is empty outside one. */
export interface JointVoters {
  readonly incoming: ReadonlySet<NodeId>;
  readonly outgoing: ReadonlySet<NodeId>;
}

/** The number of votes that make a majority of `size` voters. */
export function quorumSize(size: number): number {
  return Math.floor(size / 2) + 1;
}

/**
 * The largest index acknowledged by a majority of `voters`; a voter without a known match
 * counts as 0. An empty voter set places no constraint (Number.MAX_SAFE_INTEGER), so a joint
 * config with no outgoing half is decided by its incoming half alone.
 */
export function majorityCommittedIndex(voters: ReadonlySet<NodeId>, matchOf: (id: NodeId) => number | undefined): number {
  if (voters.size === 0) return Number.MAX_SAFE_INTEGER;
  const matches: number[] = [];
  for (const id of voters) {
    const m = matchOf(id) ?? 0;
    assert(Number.isInteger(m) && m >= 0, `match of ${id} must be a non-negative integer, got ${m}`);
    matches.push(m);
  }
  matches.sort((a, b) => b - a);
  // Sorted descending, the value at position quorum-1 is held (or exceeded) by `quorum`
  // voters, and no larger value is: it is the highest index a majority has.
  const committed = matches[quorumSize(voters.size) - 1];
  assert(committed !== undefined, 'quorum position inside the voter list');
  return committed;
}

/**
 * The outcome of an election among `voters` given the votes received so far (votes from ids
 * outside `voters` are ignored). An empty voter set wins, mirroring the committed index above.
 */
export function majorityVoteResult(voters: ReadonlySet<NodeId>, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.size === 0) return 'won';
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const quorum = quorumSize(voters.size);
  if (granted >= quorum) return 'won';
  // Still winnable if every voter that has not answered yet grants.
  if (granted + missing >= quorum) return 'pending';
  return 'lost';
}

/** An index is committed in a joint config only once both halves have it: take the minimum. */
export function jointCommittedIndex(voters: JointVoters, matchOf: (id: NodeId) => number | undefined): number {
  return Math.min(majorityCommittedIndex(voters.incoming, matchOf), majorityCommittedIndex(voters.outgoing, matchOf));
}

/** Both halves must win; losing either loses the whole election. */
export function jointVoteResult(voters: JointVoters, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const a = majorityVoteResult(voters.incoming, votes);
  const b = majorityVoteResult(voters.outgoing, votes);
  if (a === 'lost' || b === 'lost') return 'lost';
  if (a === 'won' && b === 'won') return 'won';
  return 'pending';
}

/** Every voter of either half, in ascending id order (iteration order is observable). */
export function jointVoterIds(voters: JointVoters): Set<NodeId> {
  return new Set([...voters.incoming, ...voters.outgoing].sort((a, b) => a - b));
}
