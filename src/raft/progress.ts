import { assert } from './errors.js';
import { Inflights } from './inflights.js';

/**
 * probe: the leader sends one AppendEntries at a time until it finds where the follower's log
 * matches. replicate: it streams appends optimistically, bounded by the inflight window.
 * snapshot: a snapshot is on its way; nothing else is sent.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/**
 * The leader's view of one follower (or of itself). Invariant: match < next, i.e. the leader
 * never plans to send an entry it already knows the follower has.
 */
export class Progress {
  /** Highest index known to be in the follower's log. */
  match: number;
  /** Index of the next entry to send. */
  next: number;
  state: ProgressState = 'probe';
  /** Index of the snapshot being sent (state 'snapshot'), 0 otherwise. */
  pendingSnapshot = 0;
  /** Heard from since the last CheckQuorum round. */
  recentActive = false;
  /** probe: a MsgApp is in flight; replicate: the inflight window is full. */
  msgAppFlowPaused = false;
  inflights: Inflights;
  isLearner: boolean;

  constructor(opts: { match: number; next: number; maxInflightMsgs: number; maxInflightBytes: number; isLearner: boolean }) {
    this.match = opts.match;
    this.next = Math.max(opts.next, opts.match + 1);
    this.inflights = new Inflights(opts.maxInflightMsgs, opts.maxInflightBytes);
    this.isLearner = opts.isLearner;
    this.checkInvariant();
  }

  private checkInvariant(): void {
    // Branch first so the message (with toString) is only built on failure: this runs per ack.
    if (this.match < 0 || this.match >= this.next) assert(false, `progress invariant 0 <= match < next broken: ${this.toString()}`);
  }

  private resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  /**
   * Back to one-at-a-time probing. Leaving snapshot state, the follower most likely has the
   * snapshot by now, so probe right after it rather than from `match` (a failed snapshot
   * resets pendingSnapshot to 0 first, falling back to match+1).
   */
  becomeProbe(): void {
    if (this.state === 'snapshot') {
      const pending = this.pendingSnapshot;
      this.resetState('probe');
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState('probe');
      this.next = this.match + 1;
    }
    this.checkInvariant();
  }

  /** The follower's log matches up to `match`: stream everything after it. */
  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
    this.checkInvariant();
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /**
   * Called after the leader sends a MsgApp carrying `entryCount` entries (`bytes` of payload)
   * starting at `nextIndex`.
   */
  sentEntries(nextIndex: number, entryCount: number, bytes: number): void {
    assert(entryCount >= 0, `negative entry count ${entryCount}`);
    switch (this.state) {
      case 'replicate':
        if (entryCount > 0) {
          // Replicate streams contiguously: each append starts where the previous one ended.
          assert(nextIndex === this.next, `replicate append from ${nextIndex}, expected ${this.next}`);
          const last = nextIndex + entryCount - 1;
          this.next = last + 1;
          this.inflights.add(last, bytes);
        }
        // A message that fills the window (or an empty one sent while full) pauses the flow.
        this.msgAppFlowPaused = this.inflights.full();
        return;
      case 'probe':
        // One probe at a time: wait for its answer (or a heartbeat response) before the next.
        if (entryCount > 0) this.msgAppFlowPaused = true;
        return;
      case 'snapshot':
        assert(false, 'sending entries while a snapshot is in flight');
    }
  }

  /**
   * A successful append response for index `n`. Returns whether match grew; a response that
   * is not news (duplicate or reordered) changes nothing but may still move next forward.
   */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      // The probe was answered: the next one may go.
      this.msgAppFlowPaused = false;
    }
    this.next = Math.max(this.next, n + 1);
    this.checkInvariant();
    return updated;
  }

  /**
   * A rejected append: the follower's log does not contain the entry at `rejected` with the
   * term the leader sent; `matchHint` is the follower's guess of where the logs may agree.
   * Returns false when the rejection is stale and must be ignored.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      // A rejection of an index we already know matches is stale (reordered message).
      if (rejected <= this.match) return false;
      // Appends after match are in doubt: resend from just after it (the caller then probes).
      this.next = this.match + 1;
      return true;
    }
    // In probe (and snapshot) state only the answer to the latest probe counts: it probed
    // the entry just before next.
    if (this.next - 1 !== rejected) return false;
    // Jump back to the follower's hint, but never below match+1 nor above the rejected index.
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.msgAppFlowPaused = false;
    this.checkInvariant();
    return true;
  }

  /** Should the leader hold back appends to this follower? */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.msgAppFlowPaused;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  /** A deep copy (configuration changes work on copies so a refused change leaves no trace). */
  clone(): Progress {
    const p = new Progress({
      match: this.match,
      next: this.next,
      maxInflightMsgs: this.inflights.maxCount,
      maxInflightBytes: this.inflights.maxBytes,
      isLearner: this.isLearner,
    });
    p.state = this.state;
    p.pendingSnapshot = this.pendingSnapshot;
    p.recentActive = this.recentActive;
    p.msgAppFlowPaused = this.msgAppFlowPaused;
    p.inflights = this.inflights.clone();
    return p;
  }

  toString(): string {
    return `${this.state} match=${this.match} next=${this.next}${this.isLearner ? ' learner' : ''}${this.pendingSnapshot > 0 ? ` snap=${this.pendingSnapshot}` : ''} inflight=${this.inflights.count}`;
  }
}
