import { describe, expect, it } from 'vitest';
import type { SnapshotMeta } from '../../src/raft/types.js';
import { MemoryLogStorage } from '../../src/storage/memory-log-storage.js';
import { entry, entryRange, runLogStorageConformance } from './log-storage-conformance.js';

runLogStorageConformance('MemoryLogStorage', () => Promise.resolve(new MemoryLogStorage()));

const CONF = { voters: [1], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };

describe('MemoryLogStorage', () => {
  it('tracks payload bytes through append, overwrite, compact and snapshot install', async () => {
    const s = new MemoryLogStorage();
    expect(s.bytesHeld).toBe(0);
    await s.save({ entries: entryRange(1, 10, 1, 100) });
    expect(s.bytesHeld).toBe(1000);
    await s.compact({ index: 4, term: 1, confState: CONF }, 4);
    expect(s.bytesHeld).toBe(600);
    // Overwriting 9..10 with one 30-byte entry.
    await s.save({ entries: [entry(9, 2, 30)] });
    expect(s.bytesHeld).toBe(430);
    await s.save({ snapshot: { index: 20, term: 3, confState: CONF }, entries: [] });
    expect(s.bytesHeld).toBe(0);
  });

  it('starts from the constructor options as if they had been saved', () => {
    const snapshot: SnapshotMeta = { index: 5, term: 2, confState: CONF };
    const hardState = { term: 3, vote: 1, commit: 6 };
    const s = new MemoryLogStorage({ initialSnapshot: snapshot, initialEntries: entryRange(6, 8, 3, 4), initialHardState: hardState });
    expect(s.firstIndex()).toBe(6);
    expect(s.lastIndex()).toBe(8);
    expect(s.term(5)).toBe(2);
    expect(s.term(8)).toBe(3);
    expect(s.snapshot()).toEqual(snapshot);
    expect(s.initialState()).toEqual({ hardState, confState: CONF });
    expect(s.bytesHeld).toBe(12);
  });

  it('stays correct across many small compactions of a long log', async () => {
    // Exercises reclaiming the released prefix of the backing array many times over.
    const s = new MemoryLogStorage();
    let last = 0;
    for (let batch = 0; batch < 200; batch++) {
      const term = 1 + Math.floor(batch / 10);
      await s.save({ entries: entryRange(last + 1, last + 500, term, 1) });
      last += 500;
      const compactTo = last - 700;
      if (compactTo > 0) await s.compact({ index: compactTo, term: s.term(compactTo), confState: CONF }, compactTo);
    }
    expect(s.firstIndex()).toBe(last - 699);
    expect(s.lastIndex()).toBe(last);
    expect(s.bytesHeld).toBe(700);
    const held = s.entries(s.firstIndex(), last + 1, Infinity);
    expect(held.map((e) => e.index)).toEqual(Array.from({ length: 700 }, (_, i) => last - 699 + i));
    expect(s.term(last - 700)).toBe(20);
  });

  it('keeps the hard state it was given even if the caller mutates its object', async () => {
    const s = new MemoryLogStorage();
    const hs = { term: 2, vote: 1, commit: 0 };
    await s.save({ entries: [], hardState: hs });
    hs.term = 9;
    expect(s.initialState().hardState).toEqual({ term: 2, vote: 1, commit: 0 });
  });
});
