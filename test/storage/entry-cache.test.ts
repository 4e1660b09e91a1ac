import { describe, expect, it } from 'vitest';
import { CACHED_ENTRY_OVERHEAD_BYTES, EntryCache } from '../../src/storage/entry-cache.js';
import type { CacheNode } from '../../src/storage/entry-cache.js';
import type { Entry } from '../../src/raft/types.js';

function node(index: number, dataBytes: number): { node: CacheNode; entry: Entry } {
  return {
    node: { index, dataBytes, cached: undefined, lruNewer: undefined, lruOlder: undefined },
    entry: { index, term: 1, type: 'normal', data: new Uint8Array(dataBytes) },
  };
}

describe('EntryCache', () => {
  it('evicts the least recently used entries to stay within its byte limit', () => {
    const cost = 100 + CACHED_ENTRY_OVERHEAD_BYTES;
    const cache = new EntryCache(3 * cost);
    const [a, b, c, d] = [1, 2, 3, 4].map((i) => node(i, 100));
    if (a === undefined || b === undefined || c === undefined || d === undefined) throw new Error('setup');
    for (const x of [a, b, c]) cache.put(x.node, x.entry);
    expect(cache.bytes).toBe(3 * cost);
    expect(cache.get(a.node)).toBe(a.entry); // a is now the most recent: b goes first
    cache.put(d.node, d.entry);
    expect(cache.has(b.node)).toBe(false);
    expect([a, c, d].every((x) => cache.has(x.node))).toBe(true);
    expect(cache.bytes).toBe(3 * cost);
    cache.delete(c.node);
    expect(cache.size).toBe(2);
    expect(cache.bytes).toBe(2 * cost);
  });

  it('does not cache an entry larger than itself, and holds nothing at size 0', () => {
    const cache = new EntryCache(1000);
    const big = node(1, 2000);
    cache.put(big.node, big.entry);
    expect(cache.size).toBe(0);
    const none = new EntryCache(0);
    const small = node(2, 1);
    none.put(small.node, small.entry);
    expect(none.bytes).toBe(0);
  });

  it('refuses an entry that is not the slot it is cached under', () => {
    const cache = new EntryCache(1000);
    const a = node(1, 10);
    const b = node(2, 10);
    expect(() => cache.put(a.node, b.entry)).toThrow(/does not match/);
  });
});
