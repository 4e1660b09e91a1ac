/**
 * A synchronous in-process cluster of RawNodes for unit tests of the core: every Ready is
 * persisted to a MemoryLogStorage at once and its messages are queued on a simple network that
 * the test drives step by step (with filters to drop or isolate).
 */
import { bootstrapLog } from '../../src/raft/bootstrap.js';
import type { InitialMembers } from '../../src/raft/bootstrap.js';
import type { RaftOptions } from '../../src/raft/config.js';
import { decodeConfChange } from '../../src/raft/confchange.js';
import type { Message } from '../../src/raft/message.js';
import { RawNode } from '../../src/raft/raw-node.js';
import type { ConfState, Entry, NodeId, ReadState } from '../../src/raft/types.js';
import { MemoryLogStorage } from '../../src/storage/memory-log-storage.js';
import { SeededRng } from '../../src/util/rng.js';

export interface TestNode {
  readonly id: NodeId;
  readonly raw: RawNode;
  readonly storage: MemoryLogStorage;
  readonly applied: Entry[];
  readonly readStates: ReadState[];
  confState: ConfState;
}

export type MessageFilter = (m: Message) => boolean;

export class TestCluster {
  readonly nodes = new Map<NodeId, TestNode>();
  /** Messages in flight, delivered in order by deliverAll(). */
  inflight: Message[] = [];
  /** Return false to drop a message. */
  filters: MessageFilter[] = [];
  readonly sent: Message[] = [];
  private readonly rng: SeededRng;

  constructor(
    voters: NodeId[],
    private readonly options: Partial<Omit<RaftOptions, 'id' | 'storage' | 'rng'>> = {},
    learners: NodeId[] = [],
    seed = 1,
  ) {
    this.rng = new SeededRng(seed);
    for (const id of [...voters, ...learners]) this.addNode(id, { voters, learners });
    // Apply the bootstrap configuration entry on every node.
    this.processReadies();
  }

  /** Adds a node: an initial member (with the bootstrap log) or, without members, a blank one. */
  addNode(id: NodeId, members: InitialMembers | undefined): TestNode {
    const storage = new MemoryLogStorage();
    if (members !== undefined) {
      const boot = bootstrapLog(members);
      void storage.save({ entries: boot.entries, hardState: boot.hardState });
    }
    const raw = new RawNode({ electionTimeoutTicks: 10, heartbeatTicks: 1, ...this.options, id, storage, rng: this.rng.fork() });
    const node: TestNode = { id, raw, storage, applied: [], readStates: [], confState: storage.initialState().confState };
    this.nodes.set(id, node);
    return node;
  }

  node(id: NodeId): TestNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  /** Processes every pending Ready of every node (persist, queue messages, apply). */
  processReadies(): void {
    let again = true;
    while (again) {
      again = false;
      for (const n of this.nodes.values()) {
        if (!n.raw.hasReady()) continue;
        again = true;
        const rd = n.raw.ready();
        this.enqueue(rd.messages);
        void n.storage.save({
          ...(rd.snapshot === undefined ? {} : { snapshot: rd.snapshot }),
          entries: rd.entries,
          ...(rd.hardState === undefined ? {} : { hardState: rd.hardState }),
        });
        this.enqueue(rd.messagesAfterPersist);
        if (rd.snapshot !== undefined) n.confState = rd.snapshot.confState;
        for (const e of rd.committedEntries) {
          n.applied.push(e);
          if (e.type === 'confChange') n.confState = n.raw.applyConfChange(decodeConfChange(e.data));
        }
        n.readStates.push(...rd.readStates);
        n.raw.advance();
      }
    }
  }

  private enqueue(msgs: readonly Message[]): void {
    for (const m of msgs) {
      this.sent.push(m);
      if (this.filters.every((f) => f(m))) this.inflight.push(m);
    }
  }

  /** Delivers messages until the network is quiet (or a step limit is hit). */
  deliverAll(maxSteps = 100_000): void {
    this.processReadies();
    let steps = 0;
    while (this.inflight.length > 0 && steps++ < maxSteps) {
      const batch = this.inflight;
      this.inflight = [];
      for (const m of batch) {
        const to = this.nodes.get(m.to);
        if (to === undefined) continue;
        try {
          to.raw.step(m);
        } catch {
          // responses from unknown peers are refused by RawNode; tests drop them
        }
      }
      this.processReadies();
    }
  }

  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) this.node(id).raw.tick();
    this.processReadies();
  }

  tickAll(times = 1): void {
    for (let i = 0; i < times; i++) {
      for (const n of this.nodes.values()) n.raw.tick();
      this.deliverAll();
    }
  }

  /**
   * Makes `id` campaign and delivers until quiet. Fresh nodes refuse votes for an election
   * timeout after starting (see Raft.bootLease); tests skip that wait, and a test that elects
   * a second leader must first take the followers out of the old leader's lease itself.
   */
  elect(id: NodeId): void {
    for (const n of this.nodes.values()) n.raw.raft.bootLease = false;
    this.node(id).raw.campaign();
    this.deliverAll();
  }

  /** Blocks all traffic to and from `id`. */
  isolate(id: NodeId): void {
    this.filters.push((m) => m.from !== id && m.to !== id);
  }

  cut(a: NodeId, b: NodeId): void {
    this.filters.push((m) => !((m.from === a && m.to === b) || (m.from === b && m.to === a)));
  }

  heal(): void {
    this.filters = [];
  }

  leaders(): NodeId[] {
    return [...this.nodes.values()].filter((n) => n.raw.raft.role === 'leader').map((n) => n.id);
  }

  propose(id: NodeId, text: string): void {
    this.node(id).raw.propose(new TextEncoder().encode(text));
    this.deliverAll();
  }

  /** The payloads of normal, non-empty applied entries of a node, as text. */
  appliedTexts(id: NodeId): string[] {
    return this.node(id)
      .applied.filter((e) => e.type === 'normal' && e.data.byteLength > 0)
      .map((e) => new TextDecoder().decode(e.data));
  }
}
