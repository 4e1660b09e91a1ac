import type { RaftOptions } from '../raft/config.js';
import { decodeConfChange } from '../raft/confchange.js';
import { assert, isRaftError } from '../raft/errors.js';
import type { Message } from '../raft/message.js';
import { contextKey } from '../raft/read-only.js';
import { RawNode } from '../raft/raw-node.js';
import type { Ready } from '../raft/raw-node.js';
import type { LogStorage } from '../raft/storage.js';
import { NONE } from '../raft/types.js';
import type { ConfChange, ConfState, Entry, NodeId, ReadState, SnapshotMeta, StateRole } from '../raft/types.js';
import type { BatchTimer, BatchWindow } from './batch-window.js';
import { NodeError } from './errors.js';
import type { AppliedCommand, OutgoingMessage, SnapshotStore, StagedSnapshot, StateMachine, Transport } from './interfaces.js';
import { PROPOSAL_HEADER_BYTES, unwrapCommand, wrapCommand } from './proposal-id.js';
import { ProposalDedup, decodeNodeSnapshot, encodeNodeSnapshot, encodeNodeSnapshotHead } from './proposal-dedup.js';
import type { ProposalId } from './proposal-id.js';
import { readSnapshotBytes, saveSnapshot } from './snapshot-io.js';

export type ReadConsistency = 'linearizable' | 'lease' | 'eventual';

/** How long reads wait behind a ReadIndex round still under way before they get their own. */
const READ_ROUND_PATIENCE_TICKS = 2;

export interface RaftNodeOptions<R> {
  /** Core options; storage and applied index are filled in by the node. */
  readonly raft: Omit<RaftOptions, 'storage' | 'appliedIndex'>;
  readonly storage: LogStorage;
  readonly stateMachine: StateMachine<R>;
  readonly transport: Transport;
  readonly snapshots: SnapshotStore;
  /** Must grow with every start of the same node (a persisted boot counter or a clock), so
   *  proposal ids never repeat across restarts and stale copies of old proposals are skipped. */
  readonly bootId: number;
  /** A proposal not applied within this many ticks fails with TIMEOUT (outcome unknown). */
  readonly proposalTimeoutTicks?: number;
  /** A read not served within this many ticks fails with TIMEOUT. */
  readonly readTimeoutTicks?: number;
  /** Take a snapshot after this many applied entries; 0 disables snapshots. */
  readonly snapshotEveryEntries?: number;
  /** Entries kept in the log below a new snapshot, so slightly lagging followers need no snapshot. */
  readonly logEntriesKeptAfterSnapshot?: number;
  /** Bound on commands proposed in one batch (one log append). */
  readonly maxProposalsPerBatch?: number;
  /** Observer for tests and the simulator: every entry as it is applied. */
  readonly onApply?: (entry: Entry) => void;
  /**
   * Group commit on the leader under load: queued proposals may wait up to `window.maxWaitMs`
   * for more to join their append (see BatchWindow), woken by `timer`. Absent: never wait.
   */
  readonly batching?: { readonly window: BatchWindow; readonly timer: BatchTimer };
}

export interface LeaderChange {
  readonly leader: NodeId;
  readonly term: number;
  readonly role: StateRole;
}

interface PendingProposal<R> {
  readonly resolve: (result: R) => void;
  readonly reject: (err: Error) => void;
  readonly deadlineTick: number;
  /** The wrapped command once proposed: proposed again when the leader changes (see reproposePending). */
  entry?: Uint8Array;
  /** Proposed while this node was not the leader: forwarded, so absent from this node's log. */
  forwarded?: boolean;
}

interface PendingRead {
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  readonly deadlineTick: number;
  /** The index to wait for once the read index is known. */
  index: number;
}

interface QueuedProposal {
  readonly seq: number;
  readonly data: Uint8Array;
}

/**
 * The driver: runs one Raft group's Ready loop over a log storage, a transport and a state
 * machine. The same code runs over the real WAL and TCP and over the simulator's fakes.
 *
 * Everything that touches the core happens synchronously between awaits, and only this class
 * awaits, so the core stays pure and a run over fake I/O stays deterministic.
 */
export class RaftNode<R = unknown> {
  readonly id: NodeId;
  readonly raw: RawNode;
  private readonly opts: RaftNodeOptions<R>;
  private readonly proposalTimeoutTicks: number;
  private readonly readTimeoutTicks: number;
  private readonly snapshotEveryEntries: number;
  private readonly keepAfterSnapshot: number;
  private readonly maxProposalsPerBatch: number;

  private ticks = 0;
  private seq = 0;
  private stopped = false;
  private processing = false;
  private kickScheduled = false;
  /** True while handleReady waits for this node's own write: committed entries may be applied aside. */
  private awaitingOwnWrite = false;
  /** The aside application under way; the Ready waits for it before advancing. */
  private applyingAside: Promise<void> | undefined;
  private failure: Error | undefined;
  /** A timer is set to look at held proposals again (see holdProposals). */
  private batchTimerSet = false;

  private readonly proposals = new Map<number, PendingProposal<R>>();
  private proposalQueue: QueuedProposal[] = [];
  private readonly queuedReads: { lease: PendingRead[]; linearizable: PendingRead[] } = { lease: [], linearizable: [] };
  private readonly readsInFlight = new Map<string, PendingRead[]>();
  /**
   * The context of the ReadIndex round under way, per kind. Reads that arrive meanwhile wait
   * for the next round, as in etcd's read loop: a busy node then runs one heartbeat round per
   * batch of reads, not one per turn of the event loop.
   */
  private readonly readRounds: Record<'lease' | 'linearizable', { readonly key: string; readonly issuedTick: number } | undefined> = { lease: undefined, linearizable: undefined };
  /** Reads whose index is known, waiting for the state machine to catch up. */
  private readsAwaitingApply: PendingRead[] = [];
  private readCtxSeq = 0;
  /**
   * Staged snapshots the core accepted, by index, until the Ready loop installs them. Only
   * accepted ones are kept: one the core refused is discarded at once (see receive).
   */
  private readonly incomingSnapshots = new Map<number, StagedSnapshot>();

  private appliedIndex: number;
  private appliedTerm: number;
  /** Which proposals were applied: replicated state, saved in every snapshot. */
  private dedup: ProposalDedup;
  private confState: ConfState;
  private lastSnapshotIndex: number;
  /** A captured snapshot is being serialized and written (see maybeSnapshot). */
  private snapshotWriting = false;
  /** A snapshot now durable in the store, whose compaction of the log waits for the Ready loop. */
  private snapshotToCompact: SnapshotMeta | undefined;
  private leader: NodeId = NONE;
  private role: StateRole = 'follower';
  private readonly leaderListeners = new Set<(change: LeaderChange) => void>();
  private readonly removedListeners = new Set<() => void>();
  private readonly fatalListeners = new Set<(err: Error) => void>();
  private readonly leaderWaiters = new Set<{ resolve: (leader: NodeId) => void; reject: (err: Error) => void; deadlineTick: number }>();

  private constructor(opts: RaftNodeOptions<R>, appliedIndex: number, confState: ConfState, dedup: ProposalDedup) {
    this.opts = opts;
    this.dedup = dedup;
    this.id = opts.raft.id;
    const et = opts.raft.electionTimeoutTicks ?? 10;
    this.proposalTimeoutTicks = opts.proposalTimeoutTicks ?? et * 5;
    this.readTimeoutTicks = opts.readTimeoutTicks ?? et * 3;
    this.snapshotEveryEntries = opts.snapshotEveryEntries ?? 10_000;
    this.keepAfterSnapshot = opts.logEntriesKeptAfterSnapshot ?? 1_000;
    this.maxProposalsPerBatch = opts.maxProposalsPerBatch ?? 4096;
    this.raw = new RawNode({ ...opts.raft, storage: opts.storage, appliedIndex });
    this.appliedIndex = Math.max(appliedIndex, this.raw.raft.log.applied);
    this.appliedTerm = this.raw.raft.log.termOrZero(this.appliedIndex);
    this.confState = confState;
    this.lastSnapshotIndex = opts.storage.snapshot().index;
  }

  /** Restores the state machine from the newest snapshot, then starts the node. */
  static async start<R>(opts: RaftNodeOptions<R>): Promise<RaftNode<R>> {
    const snap = opts.snapshots.latest();
    let applied = 0;
    let dedup = new ProposalDedup();
    let confState = opts.storage.initialState().confState;
    if (snap !== undefined && snap.meta.index > opts.storage.snapshot().index) {
      // The snapshot's bytes were saved, but a crash lost the log's record of it: either the
      // install of a snapshot from the leader, or the compaction after taking one. Record it
      // again. The core takes its configuration from the log's snapshot and re-applies only
      // the entries after it, so the two must describe the same point. If the log holds the
      // snapshot's last entry, keep what follows; otherwise the log diverged there (entries of
      // a deposed leader) and the install discards it, as it would have before the crash.
      const s = opts.storage;
      const i = snap.meta.index;
      const holdsIt = i >= s.firstIndex() - 1 && i <= s.lastIndex() && s.term(i) === snap.meta.term;
      if (holdsIt) await s.compact(snap.meta, s.firstIndex() - 1);
      else await s.save({ snapshot: snap.meta, entries: [] });
    }
    if (snap !== undefined && snap.meta.index >= opts.storage.firstIndex() - 1) {
      const decoded = decodeNodeSnapshot(await readSnapshotBytes(snap));
      await opts.stateMachine.restore(decoded.stateMachine);
      dedup = decoded.dedup;
      applied = snap.meta.index;
      confState = snap.meta.confState;
    }
    const compacted = opts.storage.firstIndex() - 1;
    if (applied < compacted) {
      // The log has released entries that no snapshot here covers: starting would silently
      // leave them out of the state machine.
      throw new NodeError('SNAPSHOT_MISSING', `the log is compacted through index ${compacted} but the newest snapshot available covers only ${applied}`);
    }
    const node = new RaftNode(opts, applied, confState, dedup);
    node.kick();
    return node;
  }

  // ------------------------------------------------------------------ inputs

  tick(): void {
    if (this.stopped) return;
    this.ticks++;
    this.raw.tick();
    this.expireDeadlines();
    this.kick();
  }

  /**
   * A message from a peer. A `snap` message comes with its snapshot already staged in this
   * node's snapshot store (durable, not current): the transport wrote it there as it arrived.
   * If the core accepts it, the Ready loop commits it and restores the state machine from it;
   * otherwise (stale, or this node is not a follower) it is discarded here.
   */
  receive(m: Message, staged?: StagedSnapshot): void {
    if (this.stopped || (m.type === 'snap' && staged === undefined)) {
      // A snapshot without its bytes cannot be installed; the leader sends it again.
      if (staged !== undefined) this.discard(staged);
      return;
    }
    const pendingBefore = this.raw.raft.log.unstable.snapshot;
    try {
      this.raw.step(m);
    } catch (err) {
      // A late response from a removed peer, or garbage: drop it, never crash the node.
      if (!isRaftError(err)) throw err;
    }
    if (staged !== undefined) {
      const pending = this.raw.raft.log.unstable.snapshot;
      if (pending !== pendingBefore && pending?.index === staged.meta.index && pending.term === staged.meta.term) {
        // Accepted. An older accepted one not yet taken by the Ready loop is superseded.
        for (const older of this.incomingSnapshots.values()) this.discard(older);
        this.incomingSnapshots.clear();
        this.incomingSnapshots.set(staged.meta.index, staged);
      } else {
        this.discard(staged);
      }
    }
    this.kick();
  }

  /** Proposes a command; resolves with the state machine's result once applied here. */
  propose(command: Uint8Array): Promise<R> {
    if (this.stopped) return Promise.reject(new NodeError('STOPPED', 'node is stopped'));
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const seq = this.nextSeq();
    const p = new Promise<R>((resolve, reject) => {
      this.proposals.set(seq, { resolve, reject, deadlineTick: this.ticks + this.proposalTimeoutTicks });
    });
    this.proposalQueue.push({ seq, data: command });
    this.kick();
    return p;
  }

  /** Proposes a membership change; resolves with the new configuration once applied here. */
  changeMembership(cc: ConfChange): Promise<ConfState> {
    if (this.stopped) return Promise.reject(new NodeError('STOPPED', 'node is stopped'));
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const seq = this.nextSeq();
    const id: ProposalId = { nodeId: this.id, bootId: this.opts.bootId, seq };
    const p = new Promise<ConfState>((resolve, reject) => {
      this.proposals.set(seq, {
        resolve: (r) => resolve(r as unknown as ConfState),
        reject,
        deadlineTick: this.ticks + this.proposalTimeoutTicks,
      });
    });
    try {
      this.raw.proposeConfChange({ ...cc, context: wrapCommand(id, this.watermark(), cc.context) });
    } catch (err) {
      this.proposals.delete(seq);
      return Promise.reject(toNodeError(err));
    }
    this.kick();
    return p;
  }

  /**
   * Resolves when a local read at `consistency` is safe: `eventual` at once; `linearizable`
   * after a ReadIndex round (batched with concurrent reads) and the apply that it requires;
   * `lease` the same but answered from the leader's lease when it holds one.
   */
  readBarrier(consistency: ReadConsistency): Promise<void> {
    if (this.stopped) return Promise.reject(new NodeError('STOPPED', 'node is stopped'));
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (consistency === 'eventual') return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const read: PendingRead = { resolve, reject, deadlineTick: this.ticks + this.readTimeoutTicks, index: 0 };
      this.queuedReads[consistency].push(read);
      this.kick();
    });
  }

  /** Runs `fn` against the local state machine once a read at `consistency` is safe. */
  async read<T>(consistency: ReadConsistency, fn: () => T): Promise<T> {
    await this.readBarrier(consistency);
    return fn();
  }

  transferLeadership(to: NodeId): void {
    this.raw.transferLeadership(to);
    this.kick();
  }

  campaign(): void {
    this.raw.campaign();
    this.kick();
  }

  /**
   * Resolves once this node knows a leader (itself or another), like d-engine's wait_ready:
   * proposals before that are dropped. Fails with TIMEOUT after `timeoutTicks` ticks
   * (default ten election timeouts) and with STOPPED if the node stops first.
   */
  waitForLeader(timeoutTicks = this.proposalTimeoutTicks * 2): Promise<NodeId> {
    if (this.stopped) return Promise.reject(new NodeError('STOPPED', 'node is stopped'));
    if (this.leader !== NONE) return Promise.resolve(this.leader);
    return new Promise<NodeId>((resolve, reject) => {
      const deadlineTick = this.ticks + timeoutTicks;
      const waiter = { resolve, reject, deadlineTick };
      this.leaderWaiters.add(waiter);
    });
  }

  onLeaderChange(listener: (change: LeaderChange) => void): () => void {
    this.leaderListeners.add(listener);
    return () => this.leaderListeners.delete(listener);
  }

  /** Called once this node has applied its own removal from the group. */
  onRemoved(listener: () => void): () => void {
    this.removedListeners.add(listener);
    return () => this.removedListeners.delete(listener);
  }

  /**
   * Called once if the node fails (its storage or state machine threw): it has stopped taking
   * part in the group but still looks like a member from outside, so its owner must stop it
   * (the server exits, to be restarted and recover from its log).
   */
  onFatal(listener: (err: Error) => void): () => void {
    this.fatalListeners.add(listener);
    return () => this.fatalListeners.delete(listener);
  }

  reportUnreachable(id: NodeId): void {
    this.raw.reportUnreachable(id);
    this.kick();
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    this.raw.reportSnapshot(id, ok);
    this.kick();
  }

  /** Stops the node: pending requests fail with STOPPED; nothing is sent afterwards. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    const err = new NodeError('STOPPED', 'node stopped');
    this.failAll(err);
    for (const staged of this.incomingSnapshots.values()) this.discard(staged);
    this.incomingSnapshots.clear();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  get leaderId(): NodeId {
    return this.leader;
  }

  get currentRole(): StateRole {
    return this.role;
  }

  get applied(): number {
    return this.appliedIndex;
  }

  get configuration(): ConfState {
    return this.confState;
  }

  /** The error that stopped the Ready loop, if any (a storage or state machine failure). */
  get fatalError(): Error | undefined {
    return this.failure;
  }

  // ------------------------------------------------------------------ the Ready loop

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    return this.seq;
  }

  private kick(): void {
    if (this.kickScheduled || this.stopped) return;
    this.kickScheduled = true;
    // A microtask lets every request made in the same turn join one batch.
    queueMicrotask(() => {
      this.kickScheduled = false;
      if (!this.processing) void this.processLoop();
      else if (this.awaitingOwnWrite) this.applyAside();
    });
  }

  private async processLoop(): Promise<void> {
    this.processing = true;
    try {
      while (!this.stopped && this.failure === undefined) {
        if (!this.holdProposals()) this.flushProposals();
        this.issueReads();
        if (this.raw.hasReady()) await this.handleReady(this.raw.ready());
        else if (this.snapshotToCompact !== undefined) await this.compactToSnapshot();
        else break;
      }
    } catch (err) {
      this.failWith(err);
    } finally {
      this.processing = false;
    }
  }

  /** Storage or state machine failure: the node cannot go on safely. */
  private failWith(err: unknown): void {
    // A stopped node's late errors (its storage closed under a write that was under way) are
    // the stop's doing, not a failure: everything pending has already been told STOPPED.
    if (this.failure !== undefined || this.stopped) return;
    this.failure = err instanceof Error ? err : new Error(String(err));
    this.failAll(this.failure);
    for (const l of this.fatalListeners) l(this.failure);
  }

  /**
   * Whether the queued proposals wait for more to join their append (group commit on a loaded
   * leader, see BatchWindow). Everything else the loop does (acknowledgements, applying,
   * reads, messages) goes on meanwhile; a timer brings the loop back when the wait is over.
   */
  private holdProposals(): boolean {
    const batching = this.opts.batching;
    if (batching === undefined || this.raw.raft.role !== 'leader') return false;
    const waitMs = batching.window.waitMs(this.proposalQueue.length, this.proposals.size, batching.timer.now());
    if (waitMs === 0) return false;
    if (!this.batchTimerSet) {
      this.batchTimerSet = true;
      batching.timer.after(waitMs, () => {
        this.batchTimerSet = false;
        this.kick();
      });
    }
    return true;
  }

  private flushProposals(): void {
    while (this.proposalQueue.length > 0) {
      const batch = this.proposalQueue.splice(0, this.maxProposalsPerBatch);
      const watermark = this.watermark();
      const data = batch.map((p) => wrapCommand({ nodeId: this.id, bootId: this.opts.bootId, seq: p.seq }, watermark, p.data));
      const forwarded = this.raw.raft.role !== 'leader';
      batch.forEach((p, i) => {
        const pending = this.proposals.get(p.seq);
        const entry = data[i];
        if (pending === undefined || entry === undefined) return;
        pending.entry = entry;
        pending.forwarded = forwarded;
      });
      try {
        this.raw.propose(...data);
      } catch (err) {
        const e = toNodeError(err);
        for (const p of batch) {
          this.proposals.get(p.seq)?.reject(e);
          this.proposals.delete(p.seq);
        }
      }
    }
  }

  /** The oldest seq this node still waits for (proposals are kept in seq order). */
  private watermark(): number {
    for (const seq of this.proposals.keys()) return seq;
    return this.seq + 1;
  }

  private issueReads(): void {
    for (const kind of ['linearizable', 'lease'] as const) {
      const reads = this.queuedReads[kind];
      if (reads.length === 0) continue;
      const round = this.readRounds[kind];
      // A round whose answer is lost (the leader changed) is given up after a while: its own
      // reads time out, and the ones queued behind it get a round of their own.
      if (round !== undefined && this.readsInFlight.has(round.key) && this.ticks - round.issuedTick < READ_ROUND_PATIENCE_TICKS) continue;
      this.queuedReads[kind] = [];
      const ctx = new Uint8Array(8);
      new DataView(ctx.buffer).setFloat64(0, ++this.readCtxSeq);
      try {
        this.raw.readIndex(ctx, { lease: kind === 'lease' });
        const key = contextKey(ctx);
        this.readsInFlight.set(key, reads);
        this.readRounds[kind] = { key, issuedTick: this.ticks };
      } catch (err) {
        const e = toNodeError(err);
        for (const r of reads) r.reject(e);
      }
    }
  }

  private async handleReady(rd: Ready): Promise<void> {
    if (rd.softState !== undefined) this.onSoftState(rd.softState.leader, rd.softState.role);
    if (rd.snapshot !== undefined) {
      await this.handleSnapshotReady(rd, rd.snapshot);
      return;
    }
    // This node's write is queued before the messages: both leave on microtasks, and a frame's
    // socket write costs more than handing a write to the disk, so the disk starts first and
    // the frames still leave in this turn.
    const saved = this.persist(rd);
    this.sendMessages(rd.messages);
    if (saved !== undefined && this.raw.raft.role !== 'leader') {
      // A follower's acknowledgement is what the leader's commit waits for; its own applying
      // only serves reads here. So it acknowledges as soon as its write is durable, and
      // applies after (at one request in flight, the entries committed by the append that
      // brought the new ones would otherwise be applied first, on the commit's critical path).
      await saved;
      if (this.stopped) return;
      this.sendMessages(rd.messagesAfterPersist);
      await this.applyEntries(rd.committedEntries);
      await this.finishReady(rd);
      return;
    }
    // Committed entries are durable on a quorum already, so applying them need not wait for
    // this node's fsync of the new entries (etcd applies in parallel with its WAL write too):
    // the leader answers clients one fsync sooner. Applying answers clients, which costs the
    // event loop more than the write and the frames: yield to their microtasks first.
    if (rd.committedEntries.length > 0) {
      await Promise.resolve();
      if (this.stopped) return;
      await this.applyEntries(rd.committedEntries);
    }
    if (saved !== undefined) {
      // Entries that commit while this node's write is under way (a follower's acknowledgement
      // arrives) are applied at once too, instead of one write later.
      this.awaitingOwnWrite = true;
      this.applyAside();
      try {
        await saved;
      } finally {
        this.awaitingOwnWrite = false;
      }
      while (this.applyingAside !== undefined) await this.applyingAside;
    }
    if (this.stopped) return;
    this.sendMessages(rd.messagesAfterPersist);
    await this.finishReady(rd);
  }

  /** A Ready that installs a snapshot: everything in order, the snapshot before any entry. */
  private async handleSnapshotReady(rd: Ready, snapshot: SnapshotMeta): Promise<void> {
    this.sendMessages(rd.messages);
    const installing = this.incomingSnapshots.get(snapshot.index);
    assert(installing !== undefined, `no staged bytes for accepted snapshot ${snapshot.index}`);
    this.incomingSnapshots.delete(snapshot.index);
    // The bytes are durable already (staged); they must be the store's latest before the log
    // records the snapshot, so a restart finds them (see start).
    await installing.commit();
    const saved = this.persist(rd);
    if (saved !== undefined) await saved;
    if (this.stopped) return;
    this.sendMessages(rd.messagesAfterPersist);
    const decoded = decodeNodeSnapshot(await readSnapshotBytes(installing));
    await this.opts.stateMachine.restore(decoded.stateMachine);
    this.dedup = decoded.dedup;
    this.appliedIndex = snapshot.index;
    this.appliedTerm = snapshot.term;
    this.confState = snapshot.confState;
    this.lastSnapshotIndex = snapshot.index;
    await this.applyEntries(rd.committedEntries);
    await this.finishReady(rd);
  }

  /**
   * Hands the Ready's snapshot, entries and hard state to storage. Returns the write to wait
   * for when it must be durable before acknowledging (mustSync); undefined when there is none.
   */
  private persist(rd: Ready): Promise<void> | undefined {
    if (rd.snapshot === undefined && rd.entries.length === 0 && rd.hardState === undefined) return undefined;
    const saved = this.opts.storage.save({
      ...(rd.snapshot === undefined ? {} : { snapshot: rd.snapshot }),
      entries: rd.entries,
      ...(rd.hardState === undefined ? {} : { hardState: rd.hardState }),
      ...(rd.mustSync ? {} : { lazy: true }),
    });
    if (!rd.mustSync) {
      // Only a new commit index: nothing sent or applied depends on it being durable (a node
      // that loses it learns the commit index again from the leader), so the Ready loop does
      // not wait for that fsync. It still reaches the log in order, batched with later writes.
      saved.catch((err: unknown) => this.failWith(err));
      return undefined;
    }
    saved.catch(() => undefined); // awaited by the caller; this keeps an early failure from counting as unhandled
    return saved;
  }

  private async finishReady(rd: Ready): Promise<void> {
    for (const rs of rd.readStates) this.onReadState(rs);
    this.raw.advance();
    this.serveReads();
    await this.compactToSnapshot();
    await this.maybeSnapshot();
  }

  /** Applies entries committed since the current Ready was taken (see handleReady). */
  private applyAside(): void {
    if (this.applyingAside !== undefined || this.stopped || this.failure !== undefined) return;
    const entries = this.raw.takeCommittedEntries();
    const last = entries[entries.length - 1];
    if (last === undefined) return;
    this.applyingAside = this.applyEntries(entries).then(
      () => {
        this.applyingAside = undefined;
        this.raw.appliedTo(last.index);
        this.serveReads();
        if (this.awaitingOwnWrite) this.applyAside();
      },
      (err: unknown) => {
        this.applyingAside = undefined;
        this.failWith(err);
      },
    );
  }

  private sendMessages(msgs: readonly Message[]): void {
    if (msgs.length === 0 || this.stopped) return;
    const out: OutgoingMessage[] = [];
    const sentSnapshots: NodeId[] = [];
    for (const m of msgs) {
      if (m.type === 'snap' && m.snapshot !== undefined) {
        const snap = this.opts.snapshots.latest();
        if (snap === undefined || snap.meta.index !== m.snapshot.index) {
          this.raw.reportSnapshot(m.to, false);
          continue;
        }
        out.push({ message: m, snapshot: snap });
        sentSnapshots.push(m.to);
      } else {
        out.push({ message: m });
      }
    }
    this.opts.transport.send(out);
    // A transport that reports delivery keeps the follower in snapshot state (no probes, so
    // no second copy queued) until the receiver has the snapshot. Otherwise the snapshot counts
    // as sent once taken: if it never arrives, the follower's next rejection makes the leader
    // send it again.
    if (this.opts.transport.reportsSnapshotDelivery === true) return;
    for (const to of sentSnapshots) this.raw.reportSnapshot(to, true);
  }

  private async applyEntries(entries: readonly Entry[]): Promise<void> {
    let batch: { entry: Entry; command: AppliedCommand; id: ProposalId | undefined }[] = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const current = batch;
      batch = [];
      const results = await this.opts.stateMachine.apply(current.map((b) => b.command));
      assert(results.length === current.length, 'state machine must return one result per command');
      current.forEach((b, i) => this.settle(b.id, true, results[i]));
    };
    for (const e of entries) {
      if (e.index <= this.appliedIndex) continue;
      this.opts.onApply?.(e);
      if (e.type === 'confChange') {
        await flush();
        this.applyConfChangeEntry(e);
      } else if (e.data.byteLength >= PROPOSAL_HEADER_BYTES) {
        const unwrapped = unwrapCommand(e.data);
        assert(unwrapped !== undefined, 'command envelope');
        // A second copy of a proposal (or one its proposer gave up on) is skipped by every node.
        if (this.dedup.admit(unwrapped.id, unwrapped.watermark)) batch.push({ entry: e, command: { index: e.index, term: e.term, data: unwrapped.command }, id: unwrapped.id });
      }
      this.appliedIndex = e.index;
      this.appliedTerm = e.term;
    }
    await flush();
  }

  private applyConfChangeEntry(e: Entry): void {
    let cc: ConfChange;
    try {
      cc = decodeConfChange(e.data);
    } catch {
      return; // every node skips the same undecodable entry
    }
    const id = unwrapCommand(cc.context)?.id;
    const wasMember = isMember(this.confState, this.id);
    try {
      this.confState = this.raw.applyConfChange(cc);
      this.settle(id, true, this.confState);
    } catch (err) {
      // Every node refuses the same change in the same way, so skipping it keeps them equal.
      if (!isRaftError(err, 'INVALID_CONF_CHANGE')) throw err;
      this.settle(id, false, new NodeError('INVALID_CONF_CHANGE', err.message));
      return;
    }
    // A new node replays changes from before it joined: only leaving the membership counts.
    if (wasMember && !isMember(this.confState, this.id)) for (const l of this.removedListeners) l();
  }

  private settle(id: ProposalId | undefined, ok: boolean, value: unknown): void {
    if (id === undefined || id.nodeId !== this.id || id.bootId !== this.opts.bootId) return;
    const p = this.proposals.get(id.seq);
    if (p === undefined) return;
    this.proposals.delete(id.seq);
    if (ok) p.resolve(value as R);
    else p.reject(value as Error);
  }

  private onReadState(rs: ReadState): void {
    const key = contextKey(rs.requestCtx);
    const reads = this.readsInFlight.get(key);
    if (reads === undefined) return;
    this.readsInFlight.delete(key);
    for (const r of reads) {
      r.index = rs.index;
      this.readsAwaitingApply.push(r);
    }
  }

  private serveReads(): void {
    if (this.readsAwaitingApply.length === 0) return;
    const waiting: PendingRead[] = [];
    for (const r of this.readsAwaitingApply) {
      if (r.index <= this.appliedIndex) r.resolve();
      else waiting.push(r);
    }
    this.readsAwaitingApply = waiting;
  }

  private onSoftState(leader: NodeId, role: StateRole): void {
    const changed = leader !== this.leader || role !== this.role;
    const newLeader = leader !== this.leader && leader !== NONE;
    this.leader = leader;
    this.role = role;
    if (!changed) return;
    this.opts.batching?.window.reset();
    const change: LeaderChange = { leader, role, term: this.raw.raft.term };
    for (const l of this.leaderListeners) l(change);
    if (newLeader) this.reproposePending();
    if (leader !== NONE) {
      for (const w of this.leaderWaiters) w.resolve(leader);
      this.leaderWaiters.clear();
    }
  }

  /**
   * A new leader: proposals still waiting may have been forwarded to a leader that died with
   * them, and would only time out. Propose them again. The copy carries the same proposal id,
   * so if the first copy did reach the log, the replicated proposal table applies only one.
   * A node that becomes leader itself proposes again only what it forwarded and does not find
   * in its own uncommitted log (what it proposed as leader is there already).
   */
  private reproposePending(): void {
    const self = this.raw.raft.role === 'leader';
    let inLog: Set<number> | undefined;
    if (self) {
      inLog = new Set();
      const log = this.raw.raft.log;
      for (const e of log.slice(log.committed + 1, log.lastIndex() + 1, Number.MAX_SAFE_INTEGER)) {
        const id = e.type === 'normal' ? unwrapCommand(e.data)?.id : undefined;
        if (id !== undefined && id.nodeId === this.id && id.bootId === this.opts.bootId) inLog.add(id.seq);
      }
    }
    const entries: Uint8Array[] = [];
    for (const [seq, p] of this.proposals) {
      if (p.entry === undefined || (self && (p.forwarded !== true || inLog?.has(seq) === true))) continue;
      entries.push(p.entry);
    }
    if (entries.length === 0) return;
    try {
      this.raw.propose(...entries);
    } catch {
      // Dropped (the leader is transferring, or the log is full): they wait for the next change or time out.
    }
  }

  /**
   * Takes a snapshot once enough entries were applied since the last. A state machine that can
   * capture its state (StateMachine.captureSnapshot) is serialized and written in the
   * background while the Ready loop goes on, and the log is compacted once it is durable (see
   * compactToSnapshot); otherwise the loop waits for the whole snapshot here.
   */
  private async maybeSnapshot(): Promise<void> {
    if (this.snapshotEveryEntries <= 0 || this.snapshotWriting) return;
    if (this.appliedIndex - this.lastSnapshotIndex < this.snapshotEveryEntries) return;
    const index = this.appliedIndex;
    // The term comes from the applied entry itself: the core's log view may already sit past
    // it, on a newer snapshot from the leader that is still being saved.
    const meta: SnapshotMeta = { index, term: this.appliedTerm, confState: this.confState };
    const sm = this.opts.stateMachine;
    this.lastSnapshotIndex = index;
    if (sm.captureSnapshot === undefined) {
      await saveSnapshot(this.opts.snapshots, meta, encodeNodeSnapshot(this.dedup, await sm.snapshot()));
      this.snapshotToCompact = meta;
      await this.compactToSnapshot();
      return;
    }
    // Both captured now, between applies: the proposal table and the state machine describe
    // the same index.
    const head = encodeNodeSnapshotHead(this.dedup);
    const body = sm.captureSnapshot();
    this.snapshotWriting = true;
    this.writeSnapshot(meta, head, body).then(
      (written) => {
        this.snapshotWriting = false;
        if (!written) return;
        this.snapshotToCompact = meta;
        this.kick();
      },
      (err: unknown) => {
        this.snapshotWriting = false;
        this.failWith(err);
      },
    );
  }

  /** Streams a captured snapshot into the store; false if the node stopped first (nothing is kept). */
  private async writeSnapshot(meta: SnapshotMeta, head: Uint8Array, body: Iterable<Uint8Array>): Promise<boolean> {
    const iterator = body[Symbol.iterator]();
    const writer = await this.opts.snapshots.create(meta).catch((err: unknown) => {
      iterator.return?.();
      throw err;
    });
    try {
      await writer.write(head);
      for (;;) {
        if (this.stopped) {
          await writer.abort();
          return false;
        }
        // Each chunk is serialized here, between the Ready loop's turns.
        const next = iterator.next();
        if (next.done === true) break;
        await writer.write(next.value);
      }
      const staged = await writer.stage();
      if (this.stopped) {
        await staged.discard();
        return false;
      }
      await staged.commit();
      return true;
    } catch (err) {
      await writer.abort();
      throw err;
    } finally {
      iterator.return?.();
    }
  }

  /**
   * Compacts the log up to the snapshot just written (in the Ready loop, which owns the log
   * storage), keeping a tail for followers that are only slightly behind.
   */
  private async compactToSnapshot(): Promise<void> {
    const meta = this.snapshotToCompact;
    if (meta === undefined) return;
    this.snapshotToCompact = undefined;
    // A snapshot from the leader installed meanwhile already moved the log past this one.
    if (meta.index <= this.opts.storage.snapshot().index) return;
    const index = meta.index;
    let compactIndex = index - this.keepAfterSnapshot;
    const r = this.raw.raft;
    if (r.role === 'leader') {
      // Keep what live followers are still catching up through, so they need no snapshot.
      r.tracker.visit((id, pr) => {
        if (id !== this.id && pr.recentActive && pr.state !== 'snapshot') compactIndex = Math.min(compactIndex, pr.match);
      });
    }
    compactIndex = Math.max(compactIndex, this.opts.storage.firstIndex() - 1);
    await this.opts.storage.compact(meta, Math.min(compactIndex, index));
  }

  /** Drops a staged snapshot that will not be installed; a failure only leaves a temp file the store's next open removes. */
  private discard(staged: StagedSnapshot): void {
    staged.discard().catch(() => undefined);
  }

  private expireDeadlines(): void {
    const now = this.ticks;
    for (const w of this.leaderWaiters) {
      if (w.deadlineTick > now) continue;
      this.leaderWaiters.delete(w);
      w.reject(new NodeError('TIMEOUT', 'no leader known before the deadline'));
    }
    for (const [seq, p] of this.proposals) {
      if (p.deadlineTick <= now) {
        this.proposals.delete(seq);
        p.reject(new NodeError('TIMEOUT', 'proposal not applied before its deadline; it may still be applied'));
      }
    }
    const expire = (reads: PendingRead[]): PendingRead[] =>
      reads.filter((r) => {
        if (r.deadlineTick > now) return true;
        r.reject(new NodeError('TIMEOUT', 'read not served before its deadline'));
        return false;
      });
    this.readsAwaitingApply = expire(this.readsAwaitingApply);
    // Reads not yet issued too: they wait while the Ready loop is busy (a slow disk or apply).
    this.queuedReads.lease = expire(this.queuedReads.lease);
    this.queuedReads.linearizable = expire(this.queuedReads.linearizable);
    for (const [key, reads] of this.readsInFlight) {
      const left = expire(reads);
      if (left.length === 0) this.readsInFlight.delete(key);
      else this.readsInFlight.set(key, left);
    }
  }

  private failAll(err: Error): void {
    for (const w of this.leaderWaiters) w.reject(err);
    this.leaderWaiters.clear();
    for (const p of this.proposals.values()) p.reject(err);
    this.proposals.clear();
    this.proposalQueue = [];
    for (const r of [...this.queuedReads.lease, ...this.queuedReads.linearizable, ...this.readsAwaitingApply]) r.reject(err);
    for (const reads of this.readsInFlight.values()) for (const r of reads) r.reject(err);
    this.queuedReads.lease = [];
    this.queuedReads.linearizable = [];
    this.readsAwaitingApply = [];
    this.readsInFlight.clear();
  }
}

function isMember(cs: ConfState, id: NodeId): boolean {
  return [cs.voters, cs.learners, cs.votersOutgoing, cs.learnersNext].some((ids) => ids.includes(id));
}

function toNodeError(err: unknown): Error {
  if (isRaftError(err, 'PROPOSAL_DROPPED')) return new NodeError('DROPPED', err.message);
  if (isRaftError(err, 'CONF_CHANGE_IN_PROGRESS')) return new NodeError('CONF_CHANGE_IN_PROGRESS', err.message);
  if (isRaftError(err, 'INVALID_CONF_CHANGE')) return new NodeError('INVALID_CONF_CHANGE', err.message);
  return err instanceof Error ? err : new Error(String(err));
}

