import { describe, expect, it } from 'vitest';
import { jointCommittedIndex, jointVoteResult, majorityCommittedIndex, majorityVoteResult } from '../../src/raft/quorum.js';

const ids = (...xs: number[]): Set<number> => new Set(xs);
const matches = (m: Record<number, number>) => (id: number) => m[id];

describe('quorum', () => {
  it('commits at the index a majority holds', () => {
    expect(majorityCommittedIndex(ids(1, 2, 3), matches({ 1: 5, 2: 3, 3: 9 }))).toBe(5);
    expect(majorityCommittedIndex(ids(1, 2, 3, 4), matches({ 1: 5, 2: 3, 3: 9, 4: 7 }))).toBe(5);
    expect(majorityCommittedIndex(ids(1, 2, 3), matches({ 1: 5 }))).toBe(0);
    expect(majorityCommittedIndex(ids(1), matches({ 1: 4 }))).toBe(4);
  });

  it('an empty voter set places no constraint; a joint config takes the lower half', () => {
    expect(majorityCommittedIndex(ids(), matches({}))).toBe(Number.MAX_SAFE_INTEGER);
    const m = matches({ 1: 9, 2: 9, 3: 2, 4: 2, 5: 2 });
    expect(jointCommittedIndex({ incoming: ids(1, 2, 3), outgoing: ids() }, m)).toBe(9);
    expect(jointCommittedIndex({ incoming: ids(1, 2, 3), outgoing: ids(3, 4, 5) }, m)).toBe(2);
  });

  it('decides votes: won, lost, or pending while a majority is still possible', () => {
    const v = (o: Record<number, boolean>) => new Map(Object.entries(o).map(([k, b]) => [Number(k), b]));
    expect(majorityVoteResult(ids(1, 2, 3), v({ 1: true, 2: true }))).toBe('won');
    expect(majorityVoteResult(ids(1, 2, 3), v({ 1: true, 2: false }))).toBe('pending');
    expect(majorityVoteResult(ids(1, 2, 3), v({ 1: false, 2: false }))).toBe('lost');
    expect(majorityVoteResult(ids(1, 2, 3, 4), v({ 1: true, 2: true }))).toBe('pending');
    expect(majorityVoteResult(ids(), v({}))).toBe('won');
    expect(jointVoteResult({ incoming: ids(1, 2, 3), outgoing: ids(3, 4, 5) }, v({ 1: true, 2: true }))).toBe('pending');
    expect(jointVoteResult({ incoming: ids(1, 2, 3), outgoing: ids(3, 4, 5) }, v({ 1: true, 2: true, 4: false, 5: false }))).toBe('lost');
    expect(jointVoteResult({ incoming: ids(1, 2, 3), outgoing: ids(3, 4, 5) }, v({ 1: true, 3: true, 4: true }))).toBe('won');
  });
});
