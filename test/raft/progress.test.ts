import { describe, expect, it } from 'vitest';
import { Inflights } from '../../src/raft/inflights.js';
import { Progress } from '../../src/raft/progress.js';

const progress = (match: number, next: number, maxInflightMsgs = 3, maxInflightBytes = 0) =>
  new Progress({ match, next, maxInflightMsgs, maxInflightBytes, isLearner: false });

describe('Inflights', () => {
  it('fills by count and by bytes, and frees by index', () => {
    const w = new Inflights(3, 100);
    w.add(5, 10);
    w.add(7, 10);
    expect(w.full()).toBe(false);
    w.add(9, 90);
    expect(w.full()).toBe(true);
    w.freeLE(7);
    expect(w.count).toBe(1);
    expect(w.bytes).toBe(90);
    expect(w.full()).toBe(false);
    w.freeFirstOne();
    expect(w.count).toBe(0);
    const b = new Inflights(10, 50);
    b.add(1, 60);
    expect(b.full()).toBe(true);
  });

  it('wraps around its ring buffer', () => {
    const w = new Inflights(2, 0);
    for (let i = 1; i <= 10; i++) {
      w.add(i, 1);
      w.freeLE(i - 1);
      expect(w.count).toBeLessThanOrEqual(2);
    }
    w.freeLE(10);
    expect(w.count).toBe(0);
  });

  it('refuses indexes that do not grow', () => {
    const w = new Inflights(4, 0);
    w.add(5, 1);
    expect(() => w.add(5, 1)).toThrow(/grow/);
  });
});

describe('Progress', () => {
  it('probe: one message at a time; replicate: optimistic within the window', () => {
    const p = progress(0, 5);
    p.sentEntries(5, 2, 20);
    expect(p.isPaused()).toBe(true);
    expect(p.maybeUpdate(6)).toBe(true);
    expect(p.isPaused()).toBe(false);
    p.becomeReplicate();
    expect(p.next).toBe(7);
    p.sentEntries(7, 3, 30);
    p.sentEntries(10, 1, 10);
    expect(p.next).toBe(11);
    p.sentEntries(11, 1, 10);
    expect(p.isPaused()).toBe(true);
  });

  it('ignores stale rejections and backs off on real ones', () => {
    const r = progress(5, 10);
    r.becomeReplicate();
    r.sentEntries(6, 4, 4);
    expect(r.maybeDecrTo(4, 4)).toBe(false); // at or below match: stale
    expect(r.maybeDecrTo(8, 6)).toBe(true);
    expect(r.next).toBe(6);
    const p = progress(0, 10);
    expect(p.maybeDecrTo(5, 2)).toBe(false); // not the latest probe
    expect(p.maybeDecrTo(9, 3)).toBe(true);
    expect(p.next).toBe(4);
  });

  it('leaves snapshot state for probe after the snapshot index', () => {
    const p = progress(3, 4);
    p.becomeSnapshot(20);
    expect(p.isPaused()).toBe(true);
    p.becomeProbe();
    expect(p.next).toBe(21);
  });
});
