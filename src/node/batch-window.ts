/** The clock and timer a BatchWindow runs on: real ones in the server, virtual in the simulator. */
export interface BatchTimer {
  /** Milliseconds since any fixed origin. */
  now(): number;
  /** Calls `fn` once, `ms` milliseconds from now. */
  after(ms: number, fn: () => void): void;
}

/**
 * Group commit on a loaded leader: whether the proposals queued now should wait a little for
 * more to join them in one log append.
 *
 * Why: every append costs the leader and each follower a fixed amount (a durable write, a frame
 * each way, the wake-ups of the processes and threads involved), far more than one more entry
 * in it. Under a steady closed-loop load (N clients, each sending its next request when the
 * last is answered) the leader, which appends as soon as its previous write is durable, cuts
 * the clients into two or three interleaved herds, and each herd pays a whole append. The
 * herds never merge by themselves. Waiting until most of the clients have come back, bounded
 * by a few milliseconds, puts them into one append again: on a 3-node cluster at 64
 * connections that halves the appends per second and the CPU they cost, which raises
 * throughput and lowers latency both (see README, "Benchmarks").
 *
 * How much to wait for comes from the load itself: the estimate of concurrency is the largest
 * number of proposals recently outstanding on this node (queued, in the log, or being
 * applied), decaying at every release so it follows a falling load. The window holds a batch
 * only while
 * - at least minConcurrency (default 8) proposals were recently outstanding (a light load
 *   appends at once: one client sees no added latency),
 * - fewer than HERD_SHARE of that estimate are queued, and
 * - either some of this node's earlier proposals are still in flight (in the log or being
 *   applied: once answered, their clients come back and join), or the last of them was
 *   answered less than maxWaitMs ago;
 * and never longer than MAX_WAIT_FACTOR x maxWaitMs in all. Waiting for the herd in flight is
 * what merges two herds into one: a window counted from the first arrival alone ran out just
 * before the other herd came back, so both kept paying the wait and their own appends.
 *
 * Under an open load (arrivals that do not wait for answers) the estimate grows with latency,
 * so batches mostly wait out the whole bound: that bound is what such a load pays, which is why
 * it is small and configurable (maxWaitMs 0 turns the window off).
 *
 * Pure: time comes in as an argument, so the simulator can drive it on virtual time.
 */
export class BatchWindow {
  readonly maxWaitMs: number;
  readonly minConcurrency: number;
  /** Peak of outstanding proposals, decaying: what a whole herd looks like. */
  private concurrency = 0;
  /** When the queued batch started waiting, if it is waiting. */
  private waitingSinceMs: number | undefined;
  /** The last time the waiting batch saw earlier proposals still in flight. */
  private inFlightSeenMs: number | undefined;

  /**
   * `maxWaitMs`: how long a batch waits for clients to come back once nothing of this node's
   * is in flight any more, and half the longest it waits in all (0: never). `minConcurrency`:
   * below this many outstanding proposals batches never wait (the simulator lowers it, as it
   * runs only a few clients).
   */
  constructor(options: { readonly maxWaitMs: number; readonly minConcurrency?: number }) {
    const { maxWaitMs, minConcurrency = MIN_CONCURRENCY } = options;
    if (!(Number.isFinite(maxWaitMs) && maxWaitMs >= 0)) throw new RangeError(`batch window: maxWaitMs must be a non-negative number of ms, got ${maxWaitMs}`);
    if (!(Number.isInteger(minConcurrency) && minConcurrency >= 1)) throw new RangeError(`batch window: minConcurrency must be a positive integer, got ${minConcurrency}`);
    this.maxWaitMs = maxWaitMs;
    this.minConcurrency = minConcurrency;
  }

  /**
   * `queued`: proposals not yet handed to the core; `outstanding`: every proposal of this
   * node not yet answered (the queued ones included). Returns 0 when the queued proposals
   * should be proposed now, else how many ms they may still wait (ask again by then, or when
   * more arrive).
   */
  waitMs(queued: number, outstanding: number, nowMs: number): number {
    if (outstanding > this.concurrency) this.concurrency = outstanding;
    if (queued === 0) return this.release(false);
    if (this.maxWaitMs === 0 || this.concurrency < this.minConcurrency || queued >= Math.ceil(HERD_SHARE * this.concurrency)) return this.release(true);
    this.waitingSinceMs ??= nowMs;
    if (outstanding > queued || this.inFlightSeenMs === undefined) this.inFlightSeenMs = nowMs;
    const deadlineMs = Math.min(this.inFlightSeenMs + this.maxWaitMs, this.waitingSinceMs + MAX_WAIT_FACTOR * this.maxWaitMs);
    return deadlineMs > nowMs ? deadlineMs - nowMs : this.release(true);
  }

  /** Leadership lost or gained: the load seen before says nothing about the next term. */
  reset(): void {
    this.concurrency = 0;
    this.release(false);
  }

  /** For tests and metrics: the current estimate of concurrent proposals. */
  get estimatedConcurrency(): number {
    return this.concurrency;
  }

  /** `batch`: a batch leaves now (the estimate decays); otherwise there was nothing to hold. */
  private release(batch: boolean): 0 {
    this.waitingSinceMs = undefined;
    this.inFlightSeenMs = undefined;
    if (batch) this.concurrency *= DECAY_PER_BATCH;
    return 0;
  }
}

/** Below this many outstanding proposals batches never wait (by default). */
export const MIN_CONCURRENCY = 8;
/** The share of the estimated concurrency that releases a waiting batch at once. */
export const HERD_SHARE = 0.9;
/** No batch waits longer than this many times maxWaitMs, whatever is in flight. */
export const MAX_WAIT_FACTOR = 2;
/** How the estimate shrinks per released batch: a load that falls by 4x is followed within about 30 batches. */
const DECAY_PER_BATCH = 0.95;
