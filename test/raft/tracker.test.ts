import { describe, expect, it } from 'vitest';
import { restoreConfState } from '../../src/raft/confchange.js';
import { EMPTY_TRACKER_CONFIG, ProgressTracker, configToConfState, isJoint } from '../../src/raft/tracker.js';
import type { ConfState } from '../../src/raft/types.js';

const confState = (p: Partial<ConfState>): ConfState => ({
  voters: [],
  votersOutgoing: [],
  learners: [],
  learnersNext: [],
  autoLeave: false,
  ...p,
});

function trackerOf(cs: Partial<ConfState>, matches: Record<number, number> = {}): ProgressTracker {
  const t = new ProgressTracker(4, 0);
  const r = restoreConfState(t, confState(cs), 10);
  t.config = r.config;
  t.progress = r.progress;
  for (const [id, m] of Object.entries(matches)) {
    const pr = t.progress.get(Number(id));
    if (pr === undefined) throw new Error(`no progress for ${id}`);
    pr.match = m;
    pr.next = Math.max(pr.next, m + 1);
  }
  return t;
}

describe('tracker config helpers', () => {
  it('the empty config is empty and not joint', () => {
    expect(isJoint(EMPTY_TRACKER_CONFIG)).toBe(false);
    expect(configToConfState(EMPTY_TRACKER_CONFIG)).toEqual(confState({}));
    const t = new ProgressTracker(1, 0);
    expect([t.ids(), t.committed(), t.isSingleton()]).toEqual([[], Number.MAX_SAFE_INTEGER, false]);
  });

  it('configToConfState sorts every list', () => {
    const cfg = {
      voters: { incoming: new Set([3, 1, 2]), outgoing: new Set([4, 2, 1]) },
      learners: new Set([9, 7]),
      learnersNext: new Set([4]),
      autoLeave: true,
    };
    expect(isJoint(cfg)).toBe(true);
    expect(configToConfState(cfg)).toEqual({ voters: [1, 2, 3], votersOutgoing: [1, 2, 4], learners: [7, 9], learnersNext: [4], autoLeave: true });
  });
});

describe('ProgressTracker', () => {
  it('confState, ids, voterIds and learnerIds are sorted', () => {
    const t = trackerOf({ voters: [5, 1, 3], votersOutgoing: [1, 3, 4], learners: [9, 7], learnersNext: [4] });
    expect(t.confState()).toEqual({ voters: [1, 3, 5], votersOutgoing: [1, 3, 4], learners: [7, 9], learnersNext: [4], autoLeave: false });
    expect(t.ids()).toEqual([1, 3, 4, 5, 7, 9]);
    expect([...t.voterIds()]).toEqual([1, 3, 4, 5]);
    expect([...t.learnerIds()]).toEqual([4, 7, 9]);
    const seen: number[] = [];
    t.visit((id) => seen.push(id));
    expect(seen).toEqual([1, 3, 4, 5, 7, 9]);
  });

  it('isSingleton: exactly one voter and not joint', () => {
    expect(trackerOf({ voters: [1] }).isSingleton()).toBe(true);
    expect(trackerOf({ voters: [1], learners: [2] }).isSingleton()).toBe(true);
    expect(trackerOf({ voters: [1, 2] }).isSingleton()).toBe(false);
    expect(trackerOf({ voters: [1], votersOutgoing: [2] }).isSingleton()).toBe(false);
  });

  it('committed: majority of voters, learners never count', () => {
    expect(trackerOf({ voters: [1, 2, 3] }, { 1: 5, 2: 7, 3: 2 }).committed()).toBe(5);
    expect(trackerOf({ voters: [1] }, { 1: 9 }).committed()).toBe(9);
    // Two learners far ahead cannot commit anything for a lagging voter majority.
    expect(trackerOf({ voters: [1, 2, 3], learners: [4, 5] }, { 1: 9, 2: 1, 3: 1, 4: 9, 5: 9 }).committed()).toBe(1);
  });

  it('committed: joint needs both halves', () => {
    const t = trackerOf({ voters: [1, 2, 3], votersOutgoing: [3, 4, 5] }, { 1: 9, 2: 9, 3: 4, 4: 2, 5: 3 });
    expect(t.committed()).toBe(3);
    // An outgoing voter staged to become a learner still counts for the outgoing half.
    const s = trackerOf({ voters: [1, 2], votersOutgoing: [1, 2, 3], learnersNext: [3] }, { 1: 9, 2: 1, 3: 9 });
    expect(s.committed()).toBe(1); // the incoming half (1 2) needs both, and 2 is at 1
    const s2 = trackerOf({ voters: [1, 2], votersOutgoing: [1, 2, 3], learnersNext: [3] }, { 1: 9, 2: 9, 3: 1 });
    expect(s2.committed()).toBe(9);
  });

  it('quorumActive: recently active voters of both halves; learners ignored', () => {
    const t = trackerOf({ voters: [1, 2, 3], learners: [4, 5] });
    t.visit((_id, pr) => (pr.recentActive = false));
    const set = (...active: number[]) => t.visit((id, pr) => (pr.recentActive = active.includes(id)));
    set(1, 4, 5);
    expect(t.quorumActive()).toBe(false);
    set(1, 2);
    expect(t.quorumActive()).toBe(true);

    const j = trackerOf({ voters: [1, 2, 3], votersOutgoing: [3, 4, 5] });
    const setJ = (...active: number[]) => j.visit((id, pr) => (pr.recentActive = active.includes(id)));
    setJ(1, 2);
    expect(j.quorumActive()).toBe(false);
    setJ(1, 2, 4, 5);
    expect(j.quorumActive()).toBe(true);
    setJ(1, 3, 4);
    expect(j.quorumActive()).toBe(true);
  });

  it('new members start recently active (CheckQuorum must not fire before they could answer)', () => {
    const t = trackerOf({ voters: [1, 2, 3] });
    expect(t.quorumActive()).toBe(true);
  });

  it('records the first vote per id and tallies voters only', () => {
    const t = trackerOf({ voters: [1, 2, 3], learners: [4] });
    t.recordVote(1, true);
    t.recordVote(1, false); // duplicate: ignored
    t.recordVote(4, true); // learner: not counted
    t.recordVote(8, true); // unknown id: not counted
    expect(t.votes.get(1)).toBe(true);
    expect(t.tallyVotes()).toEqual({ granted: 1, rejected: 0, result: 'pending' });
    t.recordVote(2, false);
    expect(t.tallyVotes()).toEqual({ granted: 1, rejected: 1, result: 'pending' });
    t.recordVote(3, true);
    expect(t.tallyVotes()).toEqual({ granted: 2, rejected: 1, result: 'won' });
    t.resetVotes();
    expect(t.tallyVotes()).toEqual({ granted: 0, rejected: 0, result: 'pending' });
    t.recordVote(2, false);
    t.recordVote(3, false);
    expect(t.tallyVotes()).toEqual({ granted: 0, rejected: 2, result: 'lost' });
  });

  it('tallies a joint election across both halves', () => {
    const t = trackerOf({ voters: [1, 2, 3], votersOutgoing: [3, 4, 5] });
    t.recordVote(1, true);
    t.recordVote(2, true);
    expect(t.tallyVotes()).toEqual({ granted: 2, rejected: 0, result: 'pending' });
    t.recordVote(4, false);
    t.recordVote(5, false);
    expect(t.tallyVotes()).toEqual({ granted: 2, rejected: 2, result: 'lost' });
  });
});
