import type { Message } from './message.js';
import type { NodeId } from './types.js';

/** A ReadIndex request waiting for a quorum to confirm the leader's leadership. */
export interface PendingRead {
  /** The leader's commit index when the request arrived: the read may be served at this index. */
  readonly index: number;
  readonly request: Message;
  readonly acks: Map<NodeId, boolean>;
}

/** Latin-1 key for a context, so any byte string is a distinct map key. */
export function contextKey(ctx: Uint8Array): string {
  let s = '';
  for (const b of ctx) s += String.fromCharCode(b);
  return s;
}

/**
 * The leader's queue of ReadIndex requests. Each request's context rides on one heartbeat
 * round; a quorum of acknowledgements for a context also confirms every request queued before
 * it, so one round serves many reads.
 *
 * Invariant: `queue` holds exactly the keys of `pending`, in arrival order.
 */
export class ReadOnlyQueue {
  private readonly pending = new Map<string, PendingRead>();
  private queue: string[] = [];
  /** Bound on queued requests; beyond it new requests are dropped (the caller retries). */
  readonly maxPending: number;

  constructor(maxPending: number) {
    this.maxPending = maxPending;
  }

  get size(): number {
    return this.queue.length;
  }

  /** Queues a request; returns false if it was already queued or the queue is full. */
  add(index: number, request: Message, ctx: Uint8Array): boolean {
    const key = contextKey(ctx);
    if (this.pending.has(key) || this.queue.length >= this.maxPending) return false;
    this.pending.set(key, { index, request, acks: new Map() });
    this.queue.push(key);
    return true;
  }

  /** Records an acknowledgement; returns the request's acks, or undefined if unknown. */
  recvAck(id: NodeId, ctx: Uint8Array): Map<NodeId, boolean> | undefined {
    const rs = this.pending.get(contextKey(ctx));
    if (rs === undefined) return undefined;
    rs.acks.set(id, true);
    return rs.acks;
  }

  /** Removes and returns the request for `ctx` and every request queued before it. */
  advance(ctx: Uint8Array): PendingRead[] {
    const key = contextKey(ctx);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const done: PendingRead[] = [];
    for (const k of this.queue.slice(0, at + 1)) {
      const rs = this.pending.get(k);
      if (rs !== undefined) done.push(rs);
      this.pending.delete(k);
    }
    this.queue = this.queue.slice(at + 1);
    return done;
  }

  lastPendingContext(): Uint8Array | undefined {
    const key = this.queue[this.queue.length - 1];
    if (key === undefined) return undefined;
    return this.pending.get(key)?.request.context;
  }

  reset(): void {
    this.pending.clear();
    this.queue = [];
  }
}
