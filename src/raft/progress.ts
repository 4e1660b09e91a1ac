import { assert } from './errors.js';
import { Inflights } from './inflights.js';

/**
 * probe: the leader sends one AppendEntries at a time until it finds where the follower's log
 * matches. replicate: it streams appends optimistically, bounded by the inflight window.
 * snapshot: a snapshot is on its way; nothing else is sent.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** The leader's view of one follower. Invariant: match < next. */
export class Progress {
  match: number;
  next: number;
  state: ProgressState = 'probe';
  pendingSnapshot = 0;
  recentActive = false;
  msgAppFlowPaused = false;
  inflights: Inflights;
  isLearner: boolean;

  constructor(opts: { match: number; next: number; maxInflightMsgs: number; maxInflightBytes: number; isLearner: boolean }) {
    this.match = opts.match;
    this.next = Math.max(opts.next, opts.match + 1);
    this.inflights = new Inflights(opts.maxInflightMsgs, opts.maxInflightBytes);
    this.isLearner = opts.isLearner;
  }

  private resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      const pending = this.pendingSnapshot;
      this.resetState('probe');
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState('probe');
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  sentEntries(nextIndex: number, entryCount: number, bytes: number): void {
    switch (this.state) {
      case 'replicate':
        if (entryCount > 0) {
          const last = nextIndex + entryCount - 1;
          this.next = Math.max(this.next, last + 1);
          this.inflights.add(last, bytes);
        }
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

  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.msgAppFlowPaused = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      // A rejection of an index we already know matches is stale (reordered message).
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // In probe state only the answer to the latest probe counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

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

  clone(): Progress {
    const p = new Progress({ match: this.match, next: this.next, maxInflightMsgs: 1, maxInflightBytes: 0, isLearner: this.isLearner });
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
