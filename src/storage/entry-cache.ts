import { assert } from '../raft/errors.js';
import type { Entry } from '../raft/types.js';
import type { EntrySlot } from './wal-index.js';

/**
 * What one cached entry costs beyond its payload (the map entry, the Entry object), so that
 * a flood of tiny entries is bounded too.
 */
export const CACHED_ENTRY_OVERHEAD_BYTES = 64;

/**
 * A least-recently-used cache of entry payloads, bounded in bytes. It holds the entries
 * written last (replication to followers reads the tail of the log, which must not cost a
 * disk read) and the entries read last.
 *
 * Keyed by the index slot, not by (group, index): a truncated or overwritten entry gets a new
 * slot, so a stale payload can never be served for it, even before it is evicted.
 */
export class EntryCache {
  /** Map order is recency order: the first key is the least recently used. */
  private readonly entries = new Map<EntrySlot, Entry>();
  private heldBytes = 0;

  constructor(readonly maxBytes: number) {
    assert(Number.isSafeInteger(maxBytes) && maxBytes >= 0, `entry cache size must be a non-negative integer, not ${maxBytes}`);
  }

  /** Bytes held, payloads plus the per-entry overhead; never above maxBytes. */
  get bytes(): number {
    return this.heldBytes;
  }

  get size(): number {
    return this.entries.size;
  }

  get(slot: EntrySlot): Entry | undefined {
    const e = this.entries.get(slot);
    if (e === undefined) return undefined;
    // Refresh its recency.
    this.entries.delete(slot);
    this.entries.set(slot, e);
    return e;
  }

  /** Whether the slot's payload is cached, without refreshing its recency. */
  has(slot: EntrySlot): boolean {
    return this.entries.has(slot);
  }

  /** Caches an entry, evicting the least recently used ones to make room. */
  put(slot: EntrySlot, entry: Entry): void {
    assert(entry.index === slot.index && entry.data.byteLength === slot.dataBytes, `cached entry ${entry.index} does not match its slot ${slot.index}`);
    this.delete(slot);
    const cost = entry.data.byteLength + CACHED_ENTRY_OVERHEAD_BYTES;
    // An entry larger than the whole cache would only flush everything else out.
    if (cost > this.maxBytes) return;
    while (this.heldBytes + cost > this.maxBytes) {
      const oldest = this.entries.keys().next();
      assert(oldest.done !== true, 'entry cache over its limit with nothing in it');
      this.delete(oldest.value);
    }
    this.entries.set(slot, entry);
    this.heldBytes += cost;
  }

  delete(slot: EntrySlot): void {
    const e = this.entries.get(slot);
    if (e === undefined) return;
    this.entries.delete(slot);
    this.heldBytes -= e.data.byteLength + CACHED_ENTRY_OVERHEAD_BYTES;
    assert(this.heldBytes >= 0, 'negative cached byte count');
  }
}
