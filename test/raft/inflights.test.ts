import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Inflights } from '../../src/raft/inflights.js';

describe('Inflights', () => {
  it('fills by count', () => {
    const w = new Inflights(3, 0);
    w.add(1, 1000);
    w.add(2, 1000);
    expect(w.full()).toBe(false);
    w.add(3, 1000);
    expect(w.full()).toBe(true);
    expect(w.count).toBe(3);
    expect(w.bytes).toBe(3000);
    expect(() => w.add(4, 1)).toThrow(/while full/);
  });

  it('fills by bytes, even before the count limit', () => {
    const w = new Inflights(10, 100);
    w.add(5, 40);
    w.add(7, 40);
    expect(w.full()).toBe(false);
    // A message may overshoot the byte budget: the window is checked before sending, not after.
    w.add(9, 40);
    expect(w.full()).toBe(true);
    expect(w.bytes).toBe(120);
    w.freeLE(5);
    expect(w.bytes).toBe(80);
    expect(w.full()).toBe(false);
    const b = new Inflights(10, 50);
    b.add(1, 60);
    expect(b.full()).toBe(true);
  });

  it('maxBytes 0 means no byte limit', () => {
    const w = new Inflights(2, 0);
    w.add(1, Number.MAX_SAFE_INTEGER / 4);
    expect(w.full()).toBe(false);
  });

  it('freeLE frees exactly the messages ending at or before the index', () => {
    const w = new Inflights(5, 0);
    for (const [i, b] of [[2, 1], [4, 2], [6, 4], [8, 8]] as const) w.add(i, b);
    w.freeLE(1);
    expect([w.count, w.bytes]).toEqual([4, 15]);
    w.freeLE(5); // between 4 and 6
    expect([w.count, w.bytes]).toEqual([2, 12]);
    w.freeLE(6);
    expect([w.count, w.bytes]).toEqual([1, 8]);
    w.freeLE(3); // stale acknowledgement: nothing left at or below 3
    expect([w.count, w.bytes]).toEqual([1, 8]);
    w.freeLE(100);
    expect([w.count, w.bytes]).toEqual([0, 0]);
    w.freeLE(200); // freeing an empty window is harmless
    expect(w.count).toBe(0);
  });

  it('freeFirstOne frees only the oldest message', () => {
    const w = new Inflights(3, 0);
    w.freeFirstOne();
    w.add(3, 1);
    w.add(5, 2);
    w.add(9, 4);
    w.freeFirstOne();
    expect([w.count, w.bytes]).toEqual([2, 6]);
    expect(w.full()).toBe(false);
  });

  it('wraps around its ring buffer', () => {
    const w = new Inflights(3, 0);
    for (let i = 1; i <= 20; i++) {
      w.add(i, i);
      if (w.full()) w.freeLE(i - 1);
      expect(w.count).toBeLessThanOrEqual(3);
    }
    expect([w.count, w.bytes]).toEqual([2, 19 + 20]); // 19 and 20: the last free (at i = 19) released up to 18
    w.freeLE(20);
    expect(w.count).toBe(0);
  });

  it('refuses indexes that do not grow', () => {
    const w = new Inflights(4, 0);
    w.add(5, 1);
    expect(() => w.add(5, 1)).toThrow(/grow/);
    expect(() => w.add(4, 1)).toThrow(/grow/);
    w.freeLE(5);
    w.add(6, 1);
    // After a reset anything goes again (the leader re-probes from match).
    w.reset();
    expect([w.count, w.bytes, w.full()]).toEqual([0, 0, false]);
    w.add(2, 1);
    expect(w.count).toBe(1);
  });

  it('rejects nonsense limits', () => {
    expect(() => new Inflights(0, 0)).toThrow(/maxCount/);
    expect(() => new Inflights(2, -1)).toThrow(/maxBytes/);
  });

  it('clones are independent', () => {
    const w = new Inflights(3, 0);
    w.add(1, 10);
    w.add(2, 10);
    const c = w.clone();
    w.freeLE(2);
    c.add(3, 10);
    expect([w.count, w.bytes]).toEqual([0, 0]);
    expect([c.count, c.bytes, c.full()]).toEqual([3, 30, true]);
  });

  it('matches a plain-array model over random operations (property)', () => {
    type Op = { kind: 'add'; step: number; bytes: number } | { kind: 'free'; back: number } | { kind: 'freeFirst' } | { kind: 'reset' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), step: fc.integer({ min: 1, max: 3 }), bytes: fc.integer({ min: 0, max: 30 }) }),
      fc.record({ kind: fc.constant('free' as const), back: fc.integer({ min: -2, max: 8 }) }),
      fc.constant({ kind: 'freeFirst' as const }),
      fc.constant({ kind: 'reset' as const }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 60 }), fc.array(op, { maxLength: 60 }), (maxCount, maxBytes, ops) => {
        const w = new Inflights(maxCount, maxBytes);
        let model: { last: number; bytes: number }[] = [];
        let last = 0;
        for (const o of ops) {
          if (o.kind === 'add') {
            if (w.full()) continue;
            last += o.step;
            w.add(last, o.bytes);
            model.push({ last, bytes: o.bytes });
          } else if (o.kind === 'free') {
            const to = last - o.back;
            w.freeLE(to);
            model = model.filter((m) => m.last > to);
          } else if (o.kind === 'freeFirst') {
            w.freeFirstOne();
            model = model.slice(1);
          } else {
            w.reset();
            model = [];
          }
          const bytes = model.reduce((s, m) => s + m.bytes, 0);
          expect(w.count).toBe(model.length);
          expect(w.bytes).toBe(bytes);
          expect(w.full()).toBe(model.length >= maxCount || (maxBytes > 0 && bytes >= maxBytes));
        }
      }),
    );
  });
});
