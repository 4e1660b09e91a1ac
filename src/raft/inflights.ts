import { assert } from './errors.js';

/**
 * The flow-control window toward one follower: the AppendEntries messages sent but not yet
 * acknowledged, bounded by count and by payload bytes. A ring buffer keeps add/free O(1).
 */
export class Inflights {
  private lastIndexes: number[] = [];
  private sizes: number[] = [];
  private start = 0;
  private countInFlight = 0;
  private bytesInFlight = 0;

  constructor(
    readonly maxCount: number,
    /** 0 = no bound on bytes. */
    readonly maxBytes: number,
  ) {
    assert(maxCount > 0, 'inflights maxCount must be positive');
  }

  get count(): number {
    return this.countInFlight;
  }

  get bytes(): number {
    return this.bytesInFlight;
  }

  add(lastIndex: number, bytes: number): void {
    assert(!this.full(), 'inflights add while full');
    if (this.countInFlight > 0) {
      const prev = this.lastIndexes[(this.start + this.countInFlight - 1) % this.maxCount] ?? 0;
      assert(lastIndex > prev, `inflights must grow: ${lastIndex} after ${prev}`);
    }
    const slot = (this.start + this.countInFlight) % this.maxCount;
    this.lastIndexes[slot] = lastIndex;
    this.sizes[slot] = bytes;
    this.countInFlight++;
    this.bytesInFlight += bytes;
  }

  /** Frees every in-flight message whose last index is at most `index`. */
  freeLE(index: number): void {
    while (this.countInFlight > 0) {
      const last = this.lastIndexes[this.start] ?? 0;
      if (last > index) break;
      this.bytesInFlight -= this.sizes[this.start] ?? 0;
      this.start = (this.start + 1) % this.maxCount;
      this.countInFlight--;
    }
    if (this.countInFlight === 0) this.start = 0;
  }

  /**
   * Frees the oldest in-flight message. Used when a heartbeat response shows the follower is
   * alive while the window is full: the acknowledgements were lost, not the follower.
   */
  freeFirstOne(): void {
    if (this.countInFlight === 0) return;
    this.freeLE(this.lastIndexes[this.start] ?? 0);
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
}
