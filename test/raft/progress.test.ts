import { describe, expect, it } from 'vitest';
import { Progress } from '../../src/raft/progress.js';
import type { ProgressState } from '../../src/raft/progress.js';

const progress = (match: number, next: number, maxInflightMsgs = 3, maxInflightBytes = 0) =>
  new Progress({ match, next, maxInflightMsgs, maxInflightBytes, isLearner: false });

function inState(state: ProgressState, match: number, next: number, maxInflightMsgs = 3): Progress {
  const p = progress(match, next, maxInflightMsgs);
  if (state === 'replicate') p.becomeReplicate();
  if (state === 'snapshot') p.becomeSnapshot(next + 10);
  p.next = next;
  return p;
}

describe('Progress construction', () => {
  it('starts in probe, and keeps match < next', () => {
    const p = progress(0, 5);
    expect([p.state, p.match, p.next, p.isPaused(), p.recentActive]).toEqual(['probe', 0, 5, false, false]);
    expect(progress(7, 3).next).toBe(8);
  });
});

describe('state transitions', () => {
  it('becomeProbe from replicate restarts right after match', () => {
    const p = inState('replicate', 5, 9);
    p.sentEntries(9, 2, 10);
    p.becomeProbe();
    expect([p.state, p.next, p.inflights.count, p.msgAppFlowPaused]).toEqual(['probe', 6, 0, false]);
  });

  it('becomeProbe from snapshot probes after the snapshot, or after match if that is further', () => {
    const p = progress(3, 4);
    p.becomeSnapshot(20);
    expect([p.state, p.pendingSnapshot, p.isPaused()]).toEqual(['snapshot', 20, true]);
    p.becomeProbe();
    expect([p.state, p.next, p.pendingSnapshot]).toEqual(['probe', 21, 0]);

    const q = progress(3, 4);
    q.becomeSnapshot(20);
    q.maybeUpdate(25);
    q.becomeProbe();
    expect(q.next).toBe(26);

    // A failed snapshot clears pendingSnapshot first: probe from match.
    const f = progress(3, 4);
    f.becomeSnapshot(20);
    f.pendingSnapshot = 0;
    f.becomeProbe();
    expect(f.next).toBe(4);
  });

  it('becomeReplicate resets the window and streams from match+1', () => {
    const p = inState('replicate', 2, 3);
    p.sentEntries(3, 3, 30);
    expect(p.inflights.count).toBe(1);
    p.becomeReplicate();
    expect([p.state, p.next, p.inflights.count, p.inflights.bytes]).toEqual(['replicate', 3, 0, 0]);
  });

  it('becomeSnapshot pauses everything', () => {
    const p = inState('replicate', 2, 3);
    p.becomeSnapshot(50);
    expect([p.state, p.pendingSnapshot, p.isPaused()]).toEqual(['snapshot', 50, true]);
    expect(() => p.sentEntries(3, 1, 1)).toThrow(/snapshot/);
  });
});

describe('sentEntries', () => {
  it('probe: one message with entries at a time', () => {
    const p = progress(0, 5);
    p.sentEntries(5, 0, 0); // an empty probe does not pause
    expect(p.isPaused()).toBe(false);
    p.sentEntries(5, 2, 20);
    expect(p.isPaused()).toBe(true);
    expect(p.next).toBe(5); // probing does not move next
    expect(p.maybeUpdate(6)).toBe(true);
    expect(p.isPaused()).toBe(false);
  });

  it('replicate: optimistic within the count window', () => {
    const p = inState('replicate', 6, 7);
    p.sentEntries(7, 3, 30);
    p.sentEntries(10, 1, 10);
    expect([p.next, p.isPaused()]).toEqual([11, false]);
    p.sentEntries(11, 1, 10);
    expect([p.next, p.isPaused(), p.msgAppFlowPaused]).toEqual([12, true, true]);
    // Acks free the window.
    p.maybeUpdate(9);
    p.inflights.freeLE(9);
    expect(p.isPaused()).toBe(false);
  });

  it('replicate: the byte window pauses too', () => {
    const p = new Progress({ match: 0, next: 1, maxInflightMsgs: 100, maxInflightBytes: 50, isLearner: false });
    p.becomeReplicate();
    p.sentEntries(1, 1, 30);
    expect(p.isPaused()).toBe(false);
    p.sentEntries(2, 1, 30);
    expect(p.isPaused()).toBe(true);
  });

  it('replicate: an empty message changes nothing but the pause flag', () => {
    const p = inState('replicate', 3, 4);
    p.sentEntries(4, 0, 0);
    expect([p.next, p.inflights.count, p.msgAppFlowPaused]).toEqual([4, 0, false]);
  });

  it('replicate: appends must be contiguous', () => {
    const p = inState('replicate', 3, 4);
    expect(() => p.sentEntries(6, 1, 1)).toThrow(/expected 4/);
  });
});

describe('maybeUpdate', () => {
  it('only grows match; next never goes back', () => {
    const p = inState('replicate', 5, 10);
    expect(p.maybeUpdate(4)).toBe(false); // stale ack
    expect([p.match, p.next]).toEqual([5, 10]);
    expect(p.maybeUpdate(5)).toBe(false); // duplicate ack
    expect(p.maybeUpdate(7)).toBe(true);
    expect([p.match, p.next]).toEqual([7, 10]);
    expect(p.maybeUpdate(12)).toBe(true);
    expect([p.match, p.next]).toEqual([12, 13]);
  });

  it('unpauses a probe only when match grows', () => {
    const p = progress(5, 6);
    p.sentEntries(6, 1, 1);
    expect(p.maybeUpdate(5)).toBe(false);
    expect(p.isPaused()).toBe(true);
    expect(p.maybeUpdate(6)).toBe(true);
    expect(p.isPaused()).toBe(false);
  });
});

describe('maybeDecrTo', () => {
  // [state, match, next, rejected, hint, accepted, next after]
  const table: [ProgressState, number, number, number, number, boolean, number][] = [
    // replicate: a rejection at or below match is stale.
    ['replicate', 5, 10, 5, 5, false, 10],
    ['replicate', 5, 10, 4, 4, false, 10],
    // replicate: a real rejection falls back to match+1 (the hint is not used).
    ['replicate', 5, 10, 9, 9, true, 6],
    ['replicate', 5, 10, 7, 0, true, 6],
    // probe: only the answer to the latest probe (next-1) counts.
    ['probe', 0, 10, 5, 2, false, 10],
    ['probe', 0, 10, 10, 2, false, 10],
    // probe: jump to hint+1...
    ['probe', 0, 10, 9, 3, true, 4],
    // ...but never above the rejected index...
    ['probe', 0, 10, 9, 20, true, 9],
    // ...and never below match+1.
    ['probe', 5, 10, 9, 1, true, 6],
    ['probe', 0, 1, 0, 0, true, 1],
    // snapshot: treated like probe (only the latest probe counts).
    ['snapshot', 0, 10, 5, 2, false, 10],
  ];
  it.each(table)('%s match=%i next=%i rejected=%i hint=%i → %s, next %i', (state, match, next, rejected, hint, ok, wantNext) => {
    const p = inState(state, match, next);
    if (state === 'probe') p.msgAppFlowPaused = true;
    expect(p.maybeDecrTo(rejected, hint)).toBe(ok);
    expect(p.next).toBe(wantNext);
    expect(p.match).toBe(match);
    if (state === 'probe') expect(p.msgAppFlowPaused).toBe(!ok);
  });
});

describe('isPaused', () => {
  it('depends on the state', () => {
    const p = progress(0, 1, 1);
    p.msgAppFlowPaused = true;
    expect(p.isPaused()).toBe(true);
    p.becomeReplicate();
    expect(p.isPaused()).toBe(false);
    p.sentEntries(1, 1, 1);
    expect(p.isPaused()).toBe(true);
    p.becomeSnapshot(5);
    expect(p.isPaused()).toBe(true);
  });
});

describe('clone', () => {
  it('is deep and independent', () => {
    const p = inState('replicate', 2, 3, 4);
    p.sentEntries(3, 2, 20);
    p.recentActive = true;
    p.isLearner = true;
    const c = p.clone();
    expect(c.toString()).toBe(p.toString());
    expect([c.state, c.match, c.next, c.recentActive, c.isLearner, c.inflights.count, c.inflights.maxCount]).toEqual([
      'replicate', 2, 5, true, true, 1, 4,
    ]);
    c.sentEntries(5, 1, 1);
    c.maybeUpdate(4);
    expect([p.next, p.match, p.inflights.count]).toEqual([5, 2, 1]);
  });

  it('toString mentions the state and indexes', () => {
    const p = progress(3, 4);
    p.becomeSnapshot(9);
    expect(p.toString()).toBe('snapshot match=3 next=4 snap=9 inflight=0');
  });
});
