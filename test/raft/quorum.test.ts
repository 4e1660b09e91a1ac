import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  jointCommittedIndex,
  jointVoteResult,
  jointVoterIds,
  majorityCommittedIndex,
  majorityVoteResult,
  quorumSize,
} from '../../src/raft/quorum.js';
import type { VoteResult } from '../../src/raft/quorum.js';

const ids = (...xs: number[]): Set<number> => new Set(xs);
const matchesOf = (m: Record<number, number>) => (id: number) => m[id];
const votesOf = (o: Record<number, boolean>): Map<number, boolean> => new Map(Object.entries(o).map(([k, b]) => [Number(k), b]));
const MAX = Number.MAX_SAFE_INTEGER;

describe('majorityCommittedIndex', () => {
  const table: [string, number[], Record<number, number>, number][] = [
    ['empty voter set places no constraint', [], {}, MAX],
    ['single voter', [1], { 1: 4 }, 4],
    ['single voter without match', [1], {}, 0],
    ['two voters need both', [1, 2], { 1: 8, 2: 5 }, 5],
    ['three voters: the median', [1, 2, 3], { 1: 5, 2: 3, 3: 9 }, 5],
    ['three voters, one unknown', [1, 2, 3], { 1: 5, 3: 9 }, 5],
    ['three voters, two unknown', [1, 2, 3], { 1: 5 }, 0],
    ['four voters need three', [1, 2, 3, 4], { 1: 5, 2: 3, 3: 9, 4: 7 }, 5],
    ['four voters, ties', [1, 2, 3, 4], { 1: 6, 2: 6, 3: 2, 4: 2 }, 2],
    ['five voters need three', [1, 2, 3, 4, 5], { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5 }, 3],
    ['five voters, two ahead', [1, 2, 3, 4, 5], { 1: 9, 2: 9, 3: 1, 4: 1, 5: 1 }, 1],
    ['matches of non-voters are ignored', [1, 2, 3], { 1: 2, 2: 2, 3: 2, 4: 100, 5: 100 }, 2],
  ];
  it.each(table)('%s', (_name, voters, matches, want) => {
    expect(majorityCommittedIndex(ids(...voters), matchesOf(matches))).toBe(want);
  });

  it('agrees with a brute-force definition (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 9 }), (ms) => {
        const voters = ids(...ms.map((_, i) => i + 1));
        const got = majorityCommittedIndex(voters, (id) => ms[id - 1]);
        // The largest x such that a majority has match >= x.
        const holders = (x: number) => ms.filter((m) => m >= x).length;
        expect(holders(got)).toBeGreaterThanOrEqual(quorumSize(ms.length));
        expect(holders(got + 1)).toBeLessThan(quorumSize(ms.length));
      }),
    );
  });
});

describe('jointCommittedIndex', () => {
  const m = matchesOf({ 1: 9, 2: 9, 3: 2, 4: 2, 5: 2, 6: 7 });
  const table: [string, number[], number[], number][] = [
    ['not joint: incoming decides', [1, 2, 3], [], 9],
    ['joint: the lower half wins', [1, 2, 3], [3, 4, 5], 2],
    ['joint: symmetric', [3, 4, 5], [1, 2, 3], 2],
    ['joint: both halves ahead', [1, 2, 6], [1, 2], 9],
    ['joint: overlapping halves', [1, 2, 6], [2, 6, 3], 7],
    ['both empty', [], [], MAX],
  ];
  it.each(table)('%s', (_name, incoming, outgoing, want) => {
    expect(jointCommittedIndex({ incoming: ids(...incoming), outgoing: ids(...outgoing) }, m)).toBe(want);
  });
});

describe('majorityVoteResult', () => {
  const table: [number[], Record<number, boolean>, VoteResult][] = [
    [[], {}, 'won'],
    [[1], {}, 'pending'],
    [[1], { 1: true }, 'won'],
    [[1], { 1: false }, 'lost'],
    [[1, 2], { 1: true }, 'pending'],
    [[1, 2], { 1: true, 2: true }, 'won'],
    [[1, 2], { 1: true, 2: false }, 'lost'],
    [[1, 2, 3], { 1: true, 2: true }, 'won'],
    [[1, 2, 3], { 1: true, 2: false }, 'pending'],
    [[1, 2, 3], { 1: false, 2: false }, 'lost'],
    [[1, 2, 3, 4], { 1: true, 2: true }, 'pending'],
    [[1, 2, 3, 4], { 1: true, 2: true, 3: true }, 'won'],
    [[1, 2, 3, 4], { 1: false, 2: false }, 'lost'],
    [[1, 2, 3, 4, 5], { 1: true, 2: true, 3: false, 4: false }, 'pending'],
    [[1, 2, 3, 4, 5], { 1: true, 2: false, 3: false, 4: false }, 'lost'],
    // Votes from non-voters count for nothing.
    [[1, 2, 3], { 1: true, 7: true, 8: true }, 'pending'],
    [[1, 2, 3], { 1: true, 2: false, 3: false, 7: true, 8: true }, 'lost'],
  ];
  it.each(table)('voters %j votes %j → %s', (voters, votes, want) => {
    expect(majorityVoteResult(ids(...voters), votesOf(votes))).toBe(want);
  });
});

describe('jointVoteResult', () => {
  const table: [number[], number[], Record<number, boolean>, VoteResult][] = [
    [[1, 2, 3], [], { 1: true, 2: true }, 'won'],
    [[1, 2, 3], [3, 4, 5], { 1: true, 2: true }, 'pending'],
    [[1, 2, 3], [3, 4, 5], { 1: true, 2: true, 4: false, 5: false }, 'lost'],
    [[1, 2, 3], [3, 4, 5], { 1: true, 3: true, 4: true }, 'won'],
    [[1, 2, 3], [3, 4, 5], { 4: true, 5: true }, 'pending'],
    [[1, 2, 3], [3, 4, 5], { 1: false, 2: false, 4: true, 5: true }, 'lost'],
    [[1], [2], { 1: true }, 'pending'],
    [[1], [2], { 1: true, 2: true }, 'won'],
  ];
  it.each(table)('incoming %j outgoing %j votes %j → %s', (incoming, outgoing, votes, want) => {
    expect(jointVoteResult({ incoming: ids(...incoming), outgoing: ids(...outgoing) }, votesOf(votes))).toBe(want);
  });
});

describe('jointVoterIds', () => {
  it('is the union of both halves, ascending', () => {
    expect([...jointVoterIds({ incoming: ids(5, 1, 3), outgoing: ids(4, 3, 2) })]).toEqual([1, 2, 3, 4, 5]);
    expect([...jointVoterIds({ incoming: ids(), outgoing: ids() })]).toEqual([]);
  });
});
