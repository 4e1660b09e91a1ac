import { describe, expect, it } from 'vitest';
import { BatchWindow, HERD_SHARE, MIN_CONCURRENCY } from '../../src/node/batch-window.js';

describe('BatchWindow', () => {
  it('never holds a light load: one client sees no added latency', () => {
    const w = new BatchWindow({ maxWaitMs: 5 });
    for (let t = 0; t < 100; t++) expect(w.waitMs(1, 1, t)).toBe(0);
    expect(w.waitMs(MIN_CONCURRENCY - 1, MIN_CONCURRENCY - 1, 200)).toBe(0);
  });

  it('holds part of a herd until most of it is queued', () => {
    const w = new BatchWindow({ maxWaitMs: 5 });
    // 64 clients were outstanding: the estimate is 64.
    expect(w.waitMs(64, 64, 0)).toBe(0);
    // The next batch starts with 10 of them back: it waits, at most 5 ms from its first arrival.
    expect(w.waitMs(10, 10, 1)).toBe(5);
    expect(w.waitMs(30, 30, 3)).toBe(3);
    // Once the share of the estimate (which decayed a little at the release) is queued, it goes.
    const herd = Math.ceil(HERD_SHARE * w.estimatedConcurrency);
    expect(w.waitMs(herd - 1, herd - 1, 4)).toBeGreaterThan(0);
    expect(w.waitMs(herd, herd, 4)).toBe(0);
  });

  it('releases a batch maxWaitMs after it started waiting, when nothing else is in flight', () => {
    const w = new BatchWindow({ maxWaitMs: 5 });
    w.waitMs(40, 40, 0);
    expect(w.waitMs(3, 3, 10)).toBe(5);
    expect(w.waitMs(4, 4, 14.5)).toBeCloseTo(0.5);
    expect(w.waitMs(5, 5, 15)).toBe(0);
    // The next batch's wait starts from its own first look.
    expect(w.waitMs(1, 1, 16)).toBe(5);
  });

  it('waits for proposals still in flight to come back, up to twice maxWaitMs in all', () => {
    const w = new BatchWindow({ maxWaitMs: 5 });
    w.waitMs(64, 64, 0);
    // Half the clients queued, the other half in the log: their answers bring them back.
    expect(w.waitMs(32, 64, 10)).toBe(5);
    expect(w.waitMs(33, 64, 14)).toBe(5);
    // The half in flight was answered by 16 (last seen in flight at 14): 5 ms from then.
    expect(w.waitMs(34, 34, 16)).toBe(3);
    expect(w.waitMs(34, 34, 19)).toBe(0);
    // Never more than twice maxWaitMs, however long earlier proposals stay in flight.
    w.waitMs(64, 64, 30);
    expect(w.waitMs(10, 64, 40)).toBe(5);
    expect(w.waitMs(10, 64, 44)).toBe(5);
    expect(w.waitMs(10, 64, 48)).toBe(2);
    expect(w.waitMs(10, 64, 50)).toBe(0);
  });

  it('counts proposals still in the log or being applied toward the estimate, not toward the herd', () => {
    const w = new BatchWindow({ maxWaitMs: 5 });
    // 20 queued while 40 earlier ones are still in flight: 60 outstanding, so 20 is not the herd.
    expect(w.waitMs(20, 60, 0)).toBe(5);
  });

  it('follows a falling load: the estimate decays at every release', () => {
    const w = new BatchWindow({ maxWaitMs: 5 });
    w.waitMs(64, 64, 0);
    let t = 1;
    let held = 0;
    // Only 16 clients remain: batches of 16 wait out the window until the estimate comes down.
    for (let batch = 0; batch < 60; batch++) {
      const wait = w.waitMs(16, 16, t);
      if (wait > 0) {
        held++;
        t += wait;
        expect(w.waitMs(16, 16, t)).toBe(0);
      }
      t += 1;
    }
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(40);
    expect(w.waitMs(16, 16, t)).toBe(0);
    expect(w.estimatedConcurrency).toBeLessThan(16 / HERD_SHARE);
  });

  it('forgets the load on reset (a new term), and never waits with maxWaitMs 0', () => {
    const w = new BatchWindow({ maxWaitMs: 5 });
    w.waitMs(64, 64, 0);
    w.reset();
    expect(w.estimatedConcurrency).toBe(0);
    expect(w.waitMs(4, 4, 1)).toBe(0);
    const off = new BatchWindow({ maxWaitMs: 0 });
    off.waitMs(64, 64, 0);
    expect(off.waitMs(1, 64, 1)).toBe(0);
  });

  it('refuses nonsense settings with a RangeError', () => {
    expect(() => new BatchWindow({ maxWaitMs: -1 })).toThrow(RangeError);
    expect(() => new BatchWindow({ maxWaitMs: Number.NaN })).toThrow(/maxWaitMs/);
    expect(() => new BatchWindow({ maxWaitMs: 1, minConcurrency: 0 })).toThrow(/minConcurrency/);
    expect(() => new BatchWindow({ maxWaitMs: 1, minConcurrency: 1.5 })).toThrow(RangeError);
  });
});
