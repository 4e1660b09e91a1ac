import { describe, expect, it } from 'vitest';
import { WatchCompactedError, WatchHub } from '../../src/server/watch-hub.js';

describe('WatchHub', () => {
  it('returns held changes at once, filtered by prefix and version', async () => {
    const h = new WatchHub();
    h.push({ type: 'put', key: 'a/1', value: 'x', version: 5 });
    h.push({ type: 'put', key: 'b/1', value: 'y', version: 6 });
    h.push({ type: 'delete', key: 'a/1', version: 7 });
    expect(await h.wait('a/', 0, 1000)).toEqual([
      { type: 'put', key: 'a/1', value: 'x', version: 5 },
      { type: 'delete', key: 'a/1', version: 7 },
    ]);
    expect(await h.wait('a/', 5, 1000)).toEqual([{ type: 'delete', key: 'a/1', version: 7 }]);
  });

  it('wakes a waiter on a matching change only, and times out empty', async () => {
    const h = new WatchHub();
    const waiting = h.wait('p', 10, 5000);
    h.push({ type: 'put', key: 'q', value: 'no', version: 11 });
    h.push({ type: 'put', key: 'p1', value: 'yes', version: 12 });
    expect(await waiting).toEqual([{ type: 'put', key: 'p1', value: 'yes', version: 12 }]);
    expect(await h.wait('p', 12, 20)).toEqual([]);
  });

  it('refuses a watch from before what it still holds (ring overflow, snapshot install)', () => {
    const h = new WatchHub(2);
    for (let v = 1; v <= 4; v++) h.push({ type: 'put', key: 'k', value: String(v), version: v });
    expect(() => h.since('', 1)).toThrow(WatchCompactedError);
    expect(h.since('', 2).map((c) => c.version)).toEqual([3, 4]);
    h.reset(10);
    expect(() => h.since('', 4)).toThrow(/before version 10/);
    expect(h.since('', 10)).toEqual([]);
  });

  it('ends every wait on close', async () => {
    const h = new WatchHub();
    const w = h.wait('', 0, 60_000);
    h.close();
    expect(await w).toEqual([]);
  });
});
