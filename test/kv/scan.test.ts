import { describe, expect, it } from 'vitest';
import { KvStateMachine } from '../../src/kv/kv-state-machine.js';
import { applyAll } from './helpers.js';

const keysOf = (page: { entries: Array<{ key: string }> }) => page.entries.map((e) => e.key);

describe('scan', () => {
  const setup = () => {
    const sm = new KvStateMachine();
    applyAll(sm, ...['b/2', 'a', 'b/1', 'c', 'b/3', 'b', 'ba'].map((key) => ({ op: 'put' as const, key, value: key.toUpperCase() })));
    return sm;
  };

  it('returns entries in ascending key order with their versions', () => {
    const sm = setup();
    const page = sm.scan({ limit: 100 });
    expect(keysOf(page)).toEqual(['a', 'b', 'b/1', 'b/2', 'b/3', 'ba', 'c']);
    expect(page.more).toBe(false);
    expect(page.entries[0]).toEqual({ key: 'a', value: 'A', version: 2, createVersion: 2 });
  });

  it('filters by prefix and pages with startAfter, limit and more', () => {
    const sm = setup();
    expect(keysOf(sm.scan({ prefix: 'b/', limit: 100 }))).toEqual(['b/1', 'b/2', 'b/3']);
    const p1 = sm.scan({ prefix: 'b', limit: 2 });
    expect(p1).toMatchObject({ more: true });
    expect(keysOf(p1)).toEqual(['b', 'b/1']);
    const p2 = sm.scan({ prefix: 'b', startAfter: 'b/1', limit: 2 });
    expect(keysOf(p2)).toEqual(['b/2', 'b/3']);
    expect(p2.more).toBe(true);
    const p3 = sm.scan({ prefix: 'b', startAfter: 'b/3', limit: 2 });
    expect(keysOf(p3)).toEqual(['ba']);
    expect(p3.more).toBe(false);
    // Exactly `limit` matches left: no more.
    expect(sm.scan({ prefix: 'b/', startAfter: 'b/1', limit: 2 }).more).toBe(false);
    expect(sm.scan({ limit: 0 })).toEqual({ entries: [], more: true });
    expect(keysOf(sm.scan({ startAfter: 'a', limit: 1 }))).toEqual(['b']);
    expect(keysOf(sm.scan({ startAfter: 'bz', limit: 5 }))).toEqual(['c']);
    expect(keysOf(sm.scan({ prefix: 'b/', startAfter: 'a', limit: 5 }))).toEqual(['b/1', 'b/2', 'b/3']);
    expect(sm.scan({ prefix: 'zz', limit: 5 })).toEqual({ entries: [], more: false });
    expect(() => sm.scan({ limit: -1 })).toThrow(RangeError);
  });

  it('sees inserts, deletes and re-inserts made between scans', () => {
    const sm = setup();
    sm.scan({ limit: 1 });
    applyAll(
      sm,
      { op: 'delete', key: 'b/2' },
      { op: 'put', key: 'b/0', value: 'new' },
      { op: 'put', key: 'a', value: 'updated' },
      { op: 'put', key: 'tmp', value: 'x' },
      { op: 'delete', key: 'tmp' },
      { op: 'delete', key: 'c' },
      { op: 'put', key: 'c', value: 'back' },
      { op: 'cas', key: 'b', value: null, expectedVersion: 6 },
    );
    const page = sm.scan({ limit: 100 });
    expect(keysOf(page)).toEqual(['a', 'b/0', 'b/1', 'b/3', 'ba', 'c']);
    expect(page.entries.find((e) => e.key === 'a')).toEqual({ key: 'a', value: 'updated', version: 10, createVersion: 2 });
    expect(page.entries.find((e) => e.key === 'c')).toMatchObject({ value: 'back', createVersion: 14 });
  });

  it('orders by UTF-16 code units', () => {
    const sm = new KvStateMachine();
    const keys = ['\u{1F600}', '\uFFFF', 'Z', 'a', 'é', ''];
    applyAll(sm, ...keys.map((key) => ({ op: 'put' as const, key, value: '' })));
    expect(keysOf(sm.scan({ limit: 10 }))).toEqual([...keys].sort());
  });
});
