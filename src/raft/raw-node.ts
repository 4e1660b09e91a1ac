import type { RaftOptions } from './config.js';
import { encodeConfChange } from './confchange.js';
import { RaftError, assert } from './errors.js';
import { isLocalMessage, isResponseMessage, message } from './message.js';
import type { Message } from './message.js';
import { Raft } from './raft.js';
import type { ConfChange, ConfState, Entry, HardState, NodeId, ReadState, SnapshotMeta, SoftState, StateRole } from './types.js';

/**
 * One batch of work for the driver. Process it in this order, then call `advance()`:
 *
 * 1. Send `messages` now (they depend only on state already durable).
 * 2. Persist `snapshot` (if any), then `entries`, then `hardState`, durably when `mustSync`.
 * 3. Send `messagesAfterPersist` (votes and acknowledgements that promise durable state).
 * 4. Install `snapshot` into the state machine, then apply `committedEntries` in order.
 *    Without a snapshot they may be applied while step 2 is still under way: they are durable
 *    on a quorum already (and `takeCommittedEntries` hands out those committed meanwhile).
 * 5. Serve `readStates` once the applied index reaches each one's `index`.
 */
export interface Ready {
  /** Present when the leader or role changed since the previous Ready. */
  readonly softState?: SoftState;
  /** Present when term, vote or commit changed since the previous Ready. */
  readonly hardState?: HardState;
  readonly entries: readonly Entry[];
  readonly snapshot?: SnapshotMeta;
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly messagesAfterPersist: readonly Message[];
  readonly readStates: readonly ReadState[];
  /** True when entries, the term or the vote changed: they must be fsynced before step 3. */
  readonly mustSync: boolean;
}

export interface Status {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly firstIndex: number;
  readonly role: StateRole;
  readonly leader: NodeId;
  readonly leadTransferee: NodeId;
  readonly confState: ConfState;
  readonly isLearner: boolean;
  /** Leader only: per follower, the highest index known to be replicated there. */
  readonly matchIndex: ReadonlyMap<NodeId, number>;
  readonly leaseValid: boolean;
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/**
 * The driver-facing face of the core: input methods plus the Ready/advance handshake.
 * One Ready at a time: `ready()` may not be called again before `advance()`.
 */
export class RawNode {
  readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  private pending: Ready | undefined;

  constructor(options: RaftOptions) {
    this.raft = new Raft(options);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (tests and single-node bootstrap). */
  campaign(): void {
    this.raft.step(message({ type: 'hup', from: this.raft.id }));
  }

  /** Proposes one or more opaque commands. Throws PROPOSAL_DROPPED when it cannot be taken. */
  propose(...data: Uint8Array[]): void {
    assert(data.length > 0, 'propose needs at least one command');
    const entries = data.map((d) => ({ index: 0, term: 0, type: 'normal' as const, data: d }));
    this.raft.step(message({ type: 'prop', from: this.raft.id, entries }));
  }

  proposeConfChange(cc: ConfChange): void {
    const entries = [{ index: 0, term: 0, type: 'confChange' as const, data: encodeConfChange(cc) }];
    this.raft.step(message({ type: 'prop', from: this.raft.id, entries }));
  }

  /**
   * Requests a read index for `context` (unique per request). The answer arrives as a ReadState
   * in a later Ready. With `lease`, a leader holding a valid lease answers without a heartbeat
   * round.
   */
  readIndex(context: Uint8Array, options: { lease?: boolean } = {}): void {
    this.raft.step(message({ type: 'readIndex', from: this.raft.id, context, ...(options.lease === true ? { lease: true } : {}) }));
  }

  transferLeadership(transferee: NodeId): void {
    this.raft.step(message({ type: 'transferLeader', from: transferee, to: this.raft.id }));
  }

  /** Feeds a message from a peer. Throws on local-only types and responses from unknown peers. */
  step(m: Message): void {
    if (isLocalMessage(m.type) && m.type !== 'unreachable' && m.type !== 'snapStatus') {
      throw new RaftError('STEP_LOCAL_MESSAGE', `${m.type} cannot come from the network`);
    }
    if (isResponseMessage(m.type) && !this.raft.tracker.progress.has(m.from)) {
      throw new RaftError('STEP_PEER_NOT_FOUND', `response from unknown peer ${m.from}`);
    }
    this.raft.step(m);
  }

  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  reportUnreachable(id: NodeId): void {
    this.raft.step(message({ type: 'unreachable', from: id }));
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    this.raft.step(message({ type: 'snapStatus', from: id, reject: !ok }));
  }

  hasReady(): boolean {
    if (this.pending !== undefined) return false;
    const r = this.raft;
    r.flushCommitNotify();
    const ss = r.softState();
    if (ss.leader !== this.prevSoftState.leader || ss.role !== this.prevSoftState.role) return true;
    if (!sameHardState(r.hardState(), this.prevHardState)) return true;
    if (r.msgs.length > 0 || r.msgsAfterPersist.length > 0 || r.readStates.length > 0) return true;
    const u = r.log.unstable;
    if (u.nextSnapshot() !== undefined || u.nextEntries().length > 0) return true;
    return r.log.hasNextCommittedEntries();
  }

  ready(): Ready {
    assert(this.pending === undefined, 'ready() called again before advance()');
    const r = this.raft;
    r.flushCommitNotify();
    const ss = r.softState();
    const hs = r.hardState();
    const entries = r.log.unstable.nextEntries();
    const snapshot = r.log.unstable.nextSnapshot();
    const committedEntries = r.log.nextCommittedEntries();
    const softChanged = ss.leader !== this.prevSoftState.leader || ss.role !== this.prevSoftState.role;
    const hardChanged = !sameHardState(hs, this.prevHardState);
    const rd: Ready = {
      ...(softChanged ? { softState: ss } : {}),
      ...(hardChanged ? { hardState: hs } : {}),
      ...(snapshot === undefined ? {} : { snapshot }),
      entries,
      committedEntries,
      messages: r.msgs,
      messagesAfterPersist: r.msgsAfterPersist,
      readStates: r.readStates,
      mustSync:
        entries.length > 0 ||
        snapshot !== undefined ||
        hs.term !== this.prevHardState.term ||
        hs.vote !== this.prevHardState.vote,
    };
    r.msgs = [];
    r.msgsAfterPersist = [];
    r.readStates = [];
    r.log.unstable.acceptInProgress();
    const lastCommitted = committedEntries[committedEntries.length - 1];
    if (lastCommitted !== undefined) r.log.acceptApplying(lastCommitted.index);
    if (softChanged) this.prevSoftState = ss;
    if (hardChanged) this.prevHardState = hs;
    this.pending = rd;
    return rd;
  }

  /**
   * Committed entries not yet handed out, for a driver that applies them while the pending
   * Ready's writes are still under way (they are durable on a quorum, so that is safe). Only
   * entries already handed to the driver to save are taken, so that once the pending Ready is
   * done nothing applied is missing from this node's log (a snapshot taken then is covered by
   * it). Stops before a configuration change, which waits for the next Ready. Report them with
   * `appliedTo`.
   */
  takeCommittedEntries(): Entry[] {
    const r = this.raft;
    const handedOut = r.log.unstable.offsetInProgress - 1;
    const next = r.log.nextCommittedEntries();
    const cut = next.findIndex((e) => e.type === 'confChange' || e.index > handedOut);
    const entries = cut === -1 ? next : next.slice(0, cut);
    const last = entries[entries.length - 1];
    if (last !== undefined) r.log.acceptApplying(last.index);
    return entries;
  }

  /** Entries taken with `takeCommittedEntries` are applied up to `index`. */
  appliedTo(index: number): void {
    this.raft.log.appliedTo(index);
  }

  /** The driver finished the last Ready: its writes are durable and its entries applied. */
  advance(): void {
    const rd = this.pending;
    assert(rd !== undefined, 'advance() without a pending ready()');
    this.pending = undefined;
    const r = this.raft;
    if (rd.snapshot !== undefined) {
      r.log.unstable.stableSnapTo(rd.snapshot.index);
      r.log.appliedTo(rd.snapshot.index);
    }
    const lastEntry = rd.entries[rd.entries.length - 1];
    if (lastEntry !== undefined) r.onPersisted(lastEntry.index, lastEntry.term);
    const lastCommitted = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastCommitted !== undefined) r.log.appliedTo(lastCommitted.index);
    r.maybeAutoLeaveJoint();
  }

  status(): Status {
    const r = this.raft;
    const matchIndex = new Map<NodeId, number>();
    if (r.role === 'leader') r.tracker.visit((id, pr) => matchIndex.set(id, pr.match));
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      commit: r.log.committed,
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      firstIndex: r.log.firstIndex(),
      role: r.role,
      leader: r.lead,
      leadTransferee: r.leadTransferee,
      confState: r.tracker.confState(),
      isLearner: r.isLearner,
      matchIndex,
      leaseValid: r.leaseValid(),
    };
  }
}


