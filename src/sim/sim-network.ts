import type { OutgoingMessage } from '../node/interfaces.js';
import type { NodeId } from '../raft/types.js';
import type { SeededRng } from '../util/rng.js';
import type { EventQueue } from './event-queue.js';

/** What the network does to messages right now; the fault schedule changes it over time. */
export interface NetworkConditions {
  dropRate: number;
  duplicateRate: number;
  minDelayMs: number;
  maxDelayMs: number;
  /** Share of messages delayed far longer than the rest, which reorders them. */
  slowRate: number;
  slowDelayMs: number;
}

export const CALM_NETWORK: NetworkConditions = {
  dropRate: 0,
  duplicateRate: 0,
  minDelayMs: 1,
  maxDelayMs: 3,
  slowRate: 0,
  slowDelayMs: 0,
};

export type Deliver = (to: NodeId, message: OutgoingMessage) => void;

/**
 * A fake network: per-message drop, duplication, delay and reordering, plus partitions given
 * as a set of blocked directed links (a symmetric partition blocks both directions).
 */
export class SimNetwork {
  conditions: NetworkConditions = { ...CALM_NETWORK };
  private readonly blocked = new Set<string>();
  sent = 0;
  delivered = 0;

  constructor(
    private readonly queue: EventQueue,
    private readonly rng: SeededRng,
    private readonly deliver: Deliver,
  ) {}

  block(from: NodeId, to: NodeId): void {
    this.blocked.add(`${from}>${to}`);
  }

  isBlocked(from: NodeId, to: NodeId): boolean {
    return this.blocked.has(`${from}>${to}`);
  }

  healAll(): void {
    this.blocked.clear();
  }

  describePartition(): string {
    return this.blocked.size === 0 ? 'none' : [...this.blocked].sort().join(' ');
  }

  send(from: NodeId, messages: readonly OutgoingMessage[]): void {
    const c = this.conditions;
    for (const om of messages) {
      const to = om.message.to;
      this.sent++;
      if (this.isBlocked(from, to) || this.rng.chance(c.dropRate)) continue;
      const copies = this.rng.chance(c.duplicateRate) ? 2 : 1;
      for (let i = 0; i < copies; i++) {
        let delay = c.minDelayMs + this.rng.int(c.maxDelayMs - c.minDelayMs + 1);
        if (this.rng.chance(c.slowRate)) delay += this.rng.int(c.slowDelayMs + 1);
        this.queue.after(delay, () => {
          // A partition that starts while a message is in flight catches it too.
          if (this.isBlocked(from, to)) return;
          this.delivered++;
          this.deliver(to, om);
        });
      }
    }
  }
}
