import { assert } from '../raft/errors.js';
import type { Entry } from '../raft/types.js';

/**
 * What one cached entry costs beyond its payload (the Entry object, the list links), so that
 * a flood of tiny entries is bounded too.
 */
export const CACHED_ENTRY_OVERHEAD_BYTES = 64;

/**
 * What the cache keeps its entries in: the index slot itself, so that a lookup is a field read
 * and the recency list costs no allocation. Invariant: `cached` is set exactly when the node is
 * on the cache's list.
 */
export interface CacheNode {
  readonly index: number;
  readonly dataBytes: number;
  cached: Entry | undefined;
  lruNewer: CacheNode | undefined;
  lruOlder: CacheNode | undefined;
}

/**
 * A least-recently-used cache of entry payloads, bounded in bytes. It holds the entries
 * written last (replication to followers reads the tail of the log, which must not cost a
 * disk read) and the entries read last.
 *
 * Keyed by the index slot, not by (group, index): a truncated or overwritten entry gets a new
 * slot, so a stale payload can never be served for it, even before it is evicted. The list is
 * intrusive (links in the slots) rather than a Map: evicting from the front of a large Map
 * makes V8 skip ever more deleted entries, which cost the write path a third of its rate.
 */
export class EntryCache {
  /** Most and least recently used ends of the list. */
  private newest: CacheNode | undefined;
  private oldest: CacheNode | undefined;
  private heldBytes = 0;
  private count = 0;

  constructor(readonly maxBytes: number) {
    assert(Number.isSafeInteger(maxBytes) && maxBytes >= 0, `entry cache size must be a non-negative integer, not ${maxBytes}`);
  }

  /** Bytes held, payloads plus the per-entry overhead; never above maxBytes. */
  get bytes(): number {
    return this.heldBytes;
  }

  get size(): number {
    return this.count;
  }

  get(node: CacheNode): Entry | undefined {
    const e = node.cached;
    if (e !== undefined && this.newest !== node) {
      // Refresh its recency.
      this.unlink(node);
      this.linkNewest(node);
    }
    return e;
  }

  /** Whether the slot's payload is cached, without refreshing its recency. */
  has(node: CacheNode): boolean {
    return node.cached !== undefined;
  }

  /** Caches an entry, evicting the least recently used ones to make room. */
  put(node: CacheNode, entry: Entry): void {
    assert(entry.index === node.index && entry.data.byteLength === node.dataBytes, `cached entry ${entry.index} does not match its slot ${node.index}`);
    this.delete(node);
    const cost = entry.data.byteLength + CACHED_ENTRY_OVERHEAD_BYTES;
    // An entry larger than the whole cache would only flush everything else out.
    if (cost > this.maxBytes) return;
    while (this.heldBytes + cost > this.maxBytes) {
      const oldest = this.oldest;
      assert(oldest !== undefined, 'entry cache over its limit with nothing in it');
      this.delete(oldest);
    }
    node.cached = entry;
    this.linkNewest(node);
    this.heldBytes += cost;
    this.count++;
  }

  delete(node: CacheNode): void {
    const e = node.cached;
    if (e === undefined) return;
    this.unlink(node);
    node.cached = undefined;
    this.heldBytes -= e.data.byteLength + CACHED_ENTRY_OVERHEAD_BYTES;
    this.count--;
    assert(this.heldBytes >= 0 && this.count >= 0, 'negative cache accounting');
  }

  private linkNewest(node: CacheNode): void {
    node.lruOlder = this.newest;
    node.lruNewer = undefined;
    if (this.newest !== undefined) this.newest.lruNewer = node;
    this.newest = node;
    this.oldest ??= node;
  }

  private unlink(node: CacheNode): void {
    if (node.lruNewer !== undefined) node.lruNewer.lruOlder = node.lruOlder;
    else this.newest = node.lruOlder;
    if (node.lruOlder !== undefined) node.lruOlder.lruNewer = node.lruNewer;
    else this.oldest = node.lruNewer;
    node.lruNewer = undefined;
    node.lruOlder = undefined;
  }
}
