import { assert } from './errors.js';

/**
 * The flow-control window toward one follower: the AppendEntries messages sent but not yet
 * acknowledged, bounded by count and by payload bytes, so a slow follower cannot make the
 * leader buffer an unbounded amount of data. Each message is identified by the index of its
 * last entry; an acknowledgement of index i frees every message ending at or before i.
 * A ring buffer of at most `maxCount` slots keeps add/free O(1) without reallocating.
 */
export class Inflights {
  private lastIndexes: number[] = [];
  private sizes: number[] = [];
  /** Slot of the oldest in-flight message. */
  private start = 0;
  private countInFlight = 0;
  private bytesInFlight = 0;

  constructor(
    readonly maxCount: number,
    /** 0 = no bound on bytes. */
    readonly maxBytes: number,
  ) {
    assert(Number.isInteger(maxCount) && maxCount > 0, `inflights maxCount must be a positive integer, got ${maxCount}`);
    assert(Number.isInteger(maxBytes) && maxBytes >= 0, `inflights maxBytes must be a non-negative integer, got ${maxBytes}`);
  }

  get count(): number {
    return this.countInFlight;
  }

  get bytes(): number {
    return this.bytesInFlight;
  }

  /**
   * Records one dispatched MsgApp whose last entry is `lastIndex`. The caller checks full()
   * first (a paused follower is not sent to); appends are sent in log order, so the indexes
   * grow strictly, which is what makes freeLE a prefix removal.
   */
  add(lastIndex: number, bytes: number): void {
    assert(!this.full(), 'inflights add while full');
    assert(bytes >= 0, `inflights message size must be non-negative, got ${bytes}`);
    if (this.countInFlight > 0) {
      const prev = this.lastIndexes[this.slot(this.countInFlight - 1)];
      assert(prev !== undefined && lastIndex > prev, `inflights must grow: ${lastIndex} after ${prev}`);
    }
    const slot = this.slot(this.countInFlight);
    this.lastIndexes[slot] = lastIndex;
    this.sizes[slot] = bytes;
    this.countInFlight++;
    this.bytesInFlight += bytes;
  }

  /** Frees every in-flight message whose last index is at most `index`. */
  freeLE(index: number): void {
    while (this.countInFlight > 0) {
      const last = this.lastIndexes[this.start];
      const size = this.sizes[this.start];
      assert(last !== undefined && size !== undefined, 'occupied inflights slot');
      if (last > index) break;
      this.bytesInFlight -= size;
      this.start = this.slot(1);
      this.countInFlight--;
    }
    // Restart at slot 0 when empty: cheaper wrap-around and a canonical state for clone().
    if (this.countInFlight === 0) this.start = 0;
    assert(this.bytesInFlight >= 0, 'inflights bytes never negative');
  }

  /**
   * Frees the oldest in-flight message. Used when a heartbeat response shows the follower is
   * alive while the window is full: the acknowledgements were lost, not the follower, and
   * without this the leader would never send to it again.
   */
  freeFirstOne(): void {
    if (this.countInFlight === 0) return;
    const first = this.lastIndexes[this.start];
    assert(first !== undefined, 'occupied inflights slot');
    this.freeLE(first);
  }

  full(): boolean {
    return this.countInFlight >= this.maxCount || (this.maxBytes > 0 && this.bytesInFlight >= this.maxBytes);
  }

  reset(): void {
    this.start = 0;
    this.countInFlight = 0;
    this.bytesInFlight = 0;
  }

  clone(): Inflights {
    const c = new Inflights(this.maxCount, this.maxBytes);
    c.lastIndexes = this.lastIndexes.slice();
    c.sizes = this.sizes.slice();
    c.start = this.start;
    c.countInFlight = this.countInFlight;
    c.bytesInFlight = this.bytesInFlight;
    return c;
  }

  /** The ring slot `offset` positions after the oldest message. */
  private slot(offset: number): number {
    return (this.start + offset) % this.maxCount;
  }
}
