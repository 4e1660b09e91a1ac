import { leaseDurationTicks, resolveRaftOptions } from './config.js';
import type { RaftOptions, ResolvedRaftOptions } from './config.js';
import { applyConfChangeToTracker, decodeConfChange, encodeConfChange, restoreConfState } from './confchange.js';
import type { ChangeResult } from './confchange.js';
import { RaftError, assert, isRaftError } from './errors.js';
import { entryPayloadBytes, message, voteResponseType } from './message.js';
import type { Message, MessageType } from './message.js';
import type { Progress } from './progress.js';
import { jointCommittedIndex, jointVoteResult } from './quorum.js';
import { RaftLog } from './raft-log.js';
import { ReadOnlyQueue } from './read-only.js';
import { ProgressTracker, isJoint } from './tracker.js';
import { NONE } from './types.js';
import type { ConfChange, ConfState, Entry, HardState, NodeId, ReadState, SnapshotMeta, SoftState, StateRole } from './types.js';

/**
 * Messages that report or depend on this node's own state (its term, its vote, its log) may
 * only leave once that state is durable; everything a leader sends is derived from state that
 * is already durable on a quorum, so it may leave at once, in parallel with the leader's own
 * disk write (Raft thesis 10.2.1).
 */
const SEND_AFTER_PERSIST: ReadonlySet<MessageType> = new Set<MessageType>([
  'appResp',
  'vote',
  'voteResp',
  'preVoteResp',
  'heartbeatResp',
]);

const EMPTY_DATA = new Uint8Array(0);

/**
 * The Raft state machine: one node of one group. Purely synchronous; time is `tick()` and
 * randomness comes from the injected generator, so a run is reproducible from its inputs.
 *
 * Fields are public so the driver can read them and tests can inspect them; only this class
 * and RawNode mutate them.
 */
export class Raft {
  readonly id: NodeId;
  readonly opts: ResolvedRaftOptions;
  readonly log: RaftLog;
  tracker: ProgressTracker;

  term = 0;
  vote: NodeId = NONE;
  role: StateRole = 'follower';
  lead: NodeId = NONE;
  isLearner = false;

  /** Messages to send now. */
  msgs: Message[] = [];
  /** Messages to send once this node's pending writes are durable. */
  msgsAfterPersist: Message[] = [];
  readStates: ReadState[] = [];

  /** The transferee of an ongoing leadership transfer, NONE otherwise. */
  leadTransferee: NodeId = NONE;
  /**
   * Once the leader has sent TimeoutNow in this term it never serves lease reads again in it:
   * the transferee's forced election ignores follower leases, so the lease argument breaks.
   */
  timeoutNowSentInTerm = false;
  /** Index of the latest configuration change proposed; a new one waits until it is applied. */
  pendingConfIndex = 0;
  /** Payload bytes of uncommitted entries on the leader (for maxUncommittedBytes). */
  uncommittedBytes = 0;
  readonly readOnly: ReadOnlyQueue;
  /** ReadIndex requests that arrived before the leader committed an entry of its term. */
  pendingReadIndexMessages: Message[] = [];

  electionElapsedTicks = 0;
  heartbeatElapsedTicks = 0;
  randomizedElectionTimeoutTicks = 0;
  /** Ticks since this instance started; the leader's clock for leases. */
  tickCount = 0;
  /**
   * A node that just started does not know whether a leader holds a lease, so it refuses votes
   * for one election timeout as if it had just heard from one. A node that has never had a
   * term (an empty, brand-new member) cannot be part of any lease, and votes at once.
   */
  bootLease = true;
  /** Leader: per voter, the leader's tick at which the newest acknowledged heartbeat was sent. */
  leaseAckTick = new Map<NodeId, number>();

  constructor(options: RaftOptions) {
    this.opts = resolveRaftOptions(options);
    this.id = this.opts.id;
    this.log = new RaftLog(this.opts.storage, this.opts.maxApplyBytesPerReady);
    this.readOnly = new ReadOnlyQueue(this.opts.maxPendingReads);
    this.tracker = new ProgressTracker(this.opts.maxInflightMessages, this.opts.maxInflightBytes);

    const { hardState, confState } = this.opts.storage.initialState();
    const restored = restoreConfState(this.tracker, confState, this.log.lastIndex());
    this.applyChangeResult(restored);
    if (hardState.term !== 0 || hardState.vote !== NONE || hardState.commit !== 0) this.loadHardState(hardState);
    if (hardState.term === 0) this.bootLease = false;
    const applied = this.opts.appliedIndex;
    if (applied > 0) {
      // Entries are durable before they are applied, so an applied index is in our log and
      // committed on the cluster, even when the commit index in the hard state lags behind it
      // (commit-only changes are saved without an fsync).
      assert(applied <= this.log.lastIndex(), `applied index ${applied} beyond last log index ${this.log.lastIndex()}`);
      this.log.commitTo(applied);
      this.log.appliedTo(applied);
    }
    this.becomeFollower(this.term, NONE);
  }

  // ---------------------------------------------------------------- state transitions

  private loadHardState(hs: HardState): void {
    assert(hs.commit <= this.log.lastIndex(), `hard state commit ${hs.commit} beyond last index ${this.log.lastIndex()}`);
    // The compaction point may be above a lagging saved commit index; it is committed anyway.
    this.log.committed = Math.max(this.log.committed, hs.commit);
    this.term = hs.term;
    this.vote = hs.vote;
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  softState(): SoftState {
    return { leader: this.lead, role: this.role };
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsedTicks = 0;
    this.heartbeatElapsedTicks = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.timeoutNowSentInTerm = false;
    this.tracker.resetVotes();
    const lastIndex = this.log.lastIndex();
    this.tracker.visit((id, pr) => {
      pr.match = 0;
      pr.next = lastIndex + 1;
      pr.becomeProbe();
      pr.next = lastIndex + 1;
      pr.recentActive = id === this.id;
      if (id === this.id) pr.match = this.log.lastStableIndex();
    });
    this.leaseAckTick.clear();
    this.pendingConfIndex = 0;
    this.uncommittedBytes = 0;
    this.readOnly.reset();
    this.pendingReadIndexMessages = [];
  }

  private resetRandomizedElectionTimeout(): void {
    const et = this.opts.electionTimeoutTicks;
    this.randomizedElectionTimeoutTicks = et + this.opts.rng.int(et);
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.role = 'follower';
    this.lead = lead;
  }

  becomePreCandidate(): void {
    assert(this.role !== 'leader', 'leader cannot become pre-candidate');
    // A pre-candidate changes neither term nor vote: a lost pre-election leaves no trace.
    this.tracker.resetVotes();
    this.role = 'preCandidate';
    this.lead = NONE;
    this.bootLease = false;
  }

  becomeCandidate(): void {
    assert(this.role !== 'leader', 'leader cannot become candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
    this.bootLease = false;
  }

  becomeLeader(): void {
    assert(this.role === 'candidate' || this.role === 'preCandidate', `${this.role} cannot become leader`);
    this.reset(this.term);
    this.lead = this.id;
    this.role = 'leader';
    const self = this.tracker.progress.get(this.id);
    assert(self !== undefined, 'leader must be in its own configuration');
    self.becomeReplicate();
    self.match = this.log.lastStableIndex();
    self.next = this.log.lastIndex() + 1;
    // Configuration changes in the uncommitted tail may exist; be conservative.
    this.pendingConfIndex = this.log.lastIndex();
    // The no-op entry lets the leader commit entries of earlier terms (Raft §5.4.2).
    this.appendEntries([{ index: 0, term: 0, type: 'normal', data: EMPTY_DATA }]);
  }

  /** Can this node become leader? Learners and removed nodes cannot. */
  promotable(): boolean {
    const pr = this.tracker.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && !this.log.unstable.snapshot;
  }

  // ---------------------------------------------------------------- ticks

  tick(): void {
    this.tickCount++;
    if (this.role === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsedTicks++;
    if (this.electionElapsedTicks >= this.opts.electionTimeoutTicks) this.bootLease = false;
    if (this.promotable() && this.electionElapsedTicks >= this.randomizedElectionTimeoutTicks) {
      this.electionElapsedTicks = 0;
      this.step(message({ type: 'hup', from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsedTicks++;
    this.electionElapsedTicks++;
    if (this.electionElapsedTicks >= this.opts.electionTimeoutTicks) {
      this.electionElapsedTicks = 0;
      if (this.opts.checkQuorum) this.step(message({ type: 'checkQuorum', from: this.id }));
      // A transfer that has not finished within an election timeout is abandoned.
      if (this.role === 'leader' && this.leadTransferee !== NONE) this.abortLeaderTransfer();
    }
    if (this.role !== 'leader') return;
    if (this.heartbeatElapsedTicks >= this.opts.heartbeatTicks) {
      this.heartbeatElapsedTicks = 0;
      this.step(message({ type: 'beat', from: this.id }));
    }
  }

  // ---------------------------------------------------------------- sending

  send(fields: Partial<Message> & Pick<Message, 'type' | 'to'>): void {
    let m = message({ from: this.id, ...fields });
    if (m.type === 'vote' || m.type === 'voteResp' || m.type === 'preVote' || m.type === 'preVoteResp') {
      assert(m.term !== 0, `${m.type} must carry a term`);
    } else if (m.type === 'prop' || m.type === 'readIndex') {
      // Forwarded requests carry no term: they are not Raft RPCs.
      m = { ...m, term: 0 };
    } else {
      m = { ...m, term: this.term };
    }
    if (SEND_AFTER_PERSIST.has(m.type)) this.msgsAfterPersist.push(m);
    else this.msgs.push(m);
  }

  /**
   * Sends an AppendEntries (or a snapshot) to `to` if its flow control allows. `toldCommit`:
   * sent to tell the commit index; if it carries no entries to a follower in replicate state,
   * it is marked commitOnly and an accepting follower does not answer it. Other empty appends
   * (probes, the one after a heartbeat answer) are answered: if an acknowledgement was lost,
   * that answer is how the leader learns the follower's match again.
   */
  maybeSendAppend(to: NodeId, sendIfEmpty: boolean, toldCommit = false): boolean {
    const pr = this.tracker.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    let prevTerm: number;
    let ents: Entry[];
    try {
      prevTerm = this.log.term(prevIndex);
      ents = this.log.entriesFrom(pr.next, this.opts.maxBytesPerMessage);
    } catch (err) {
      if (isRaftError(err, 'COMPACTED')) return this.maybeSendSnapshot(to, pr);
      throw err;
    }
    if (ents.length === 0 && !sendIfEmpty) return false;
    let bytes = 0;
    for (const e of ents) bytes += entryPayloadBytes(e);
    const commitOnly = toldCommit && ents.length === 0 && pr.state === 'replicate';
    this.send({ type: 'app', to, index: prevIndex, logTerm: prevTerm, entries: ents, commit: this.log.committed, ...(commitOnly ? { commitOnly } : {}) });
    pr.sentEntries(pr.next, ents.length, bytes);
    return true;
  }

  private maybeSendSnapshot(to: NodeId, pr: Progress): boolean {
    // Do not stream a snapshot to a node we have not heard from: it may be down.
    if (!pr.recentActive) return false;
    let snapshot: SnapshotMeta;
    try {
      snapshot = this.log.snapshot();
    } catch (err) {
      if (isRaftError(err, 'SNAPSHOT_TEMPORARILY_UNAVAILABLE')) return false;
      throw err;
    }
    assert(snapshot.index > 0, 'need a snapshot but none exists');
    pr.becomeSnapshot(snapshot.index);
    this.send({ type: 'snap', to, snapshot });
    return true;
  }

  sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  /**
   * The commit index advanced and followers have not been told. Under load, the next Ready
   * usually carries new entries to every follower anyway; telling them then, in those
   * messages, saves a commit-only append and its response per follower per commit.
   */
  private commitNotifyPending = false;

  /**
   * Called when a Ready is about to be taken: each follower learns the current commit index,
   * through the newest append already queued for it (its commit field raised to the current
   * one, as if it had been sent now), or else through an append of its own (empty if it has
   * everything), as far as its flow control allows.
   */
  flushCommitNotify(): void {
    if (!this.commitNotifyPending) return;
    this.commitNotifyPending = false;
    if (this.role !== 'leader') return;
    const committed = this.log.committed;
    const last = new Map<NodeId, number>();
    this.msgs.forEach((m, i) => {
      if (m.type === 'app') last.set(m.to, i);
    });
    this.tracker.visit((id) => {
      if (id === this.id) return;
      const i = last.get(id);
      const queued = i === undefined ? undefined : this.msgs[i];
      if (i !== undefined && queued !== undefined) {
        if (queued.commit < committed) this.msgs[i] = { ...queued, commit: committed };
        return;
      }
      this.maybeSendAppend(id, true, true);
    });
  }

  /** Sends to every follower as much as its window allows (pipelining). */
  bcastAppend(): void {
    this.tracker.visit((id) => {
      if (id === this.id) return;
      if (!this.maybeSendAppend(id, true)) return;
      while (this.maybeSendAppend(id, false)) {
        // keep filling the window
      }
    });
  }

  bcastHeartbeat(context?: Uint8Array): void {
    this.tracker.visit((id, pr) => {
      if (id === this.id) return;
      // Never tell a follower to commit past what it is known to hold.
      const commit = Math.min(pr.match, this.log.committed);
      this.send({ type: 'heartbeat', to: id, commit, leaseTick: this.tickCount, ...(context === undefined ? {} : { context }) });
    });
  }

  private sendTimeoutNow(to: NodeId): void {
    this.timeoutNowSentInTerm = true;
    this.send({ type: 'timeoutNow', to });
  }

  // ---------------------------------------------------------------- log

  /** Appends proposals to the leader's log; returns false if the uncommitted bound refuses them. */
  appendEntries(es: readonly Entry[]): boolean {
    let li = this.log.lastIndex();
    let bytes = 0;
    for (const e of es) bytes += entryPayloadBytes(e);
    const limit = this.opts.maxUncommittedBytes;
    // One proposal is always allowed so a large entry cannot wedge an idle leader.
    if (limit > 0 && this.uncommittedBytes > 0 && this.uncommittedBytes + bytes > limit) return false;
    this.uncommittedBytes += bytes;
    const stamped = es.map((e) => ({ index: ++li, term: this.term, type: e.type, data: e.data }));
    this.log.append(stamped);
    // The leader's own entries count toward commit only once durable: see onPersisted.
    return true;
  }

  /** Leader: advance the commit index if a quorum has entries of the current term. */
  maybeCommit(): boolean {
    const mci = this.tracker.committed();
    if (mci <= this.log.committed) return false;
    // Raft §5.4.2: only entries of the current term are committed by counting replicas.
    if (this.log.termOrZero(mci) !== this.term) return false;
    const before = this.log.committed;
    this.log.commitTo(mci);
    this.reduceUncommittedBytes(before, mci);
    return true;
  }

  private reduceUncommittedBytes(fromExclusive: number, toInclusive: number): void {
    if (this.uncommittedBytes === 0) return;
    let bytes = 0;
    try {
      for (const e of this.log.slice(fromExclusive + 1, toInclusive + 1, Number.MAX_SAFE_INTEGER)) bytes += entryPayloadBytes(e);
    } catch (err) {
      if (!isRaftError(err, 'COMPACTED')) throw err;
    }
    this.uncommittedBytes = Math.max(0, this.uncommittedBytes - bytes);
  }

  /**
   * The driver has made the log durable up to `index` (term `term`). On the leader this is the
   * moment its own copy counts toward the quorum.
   */
  onPersisted(index: number, term: number): void {
    this.log.unstable.stableTo(index, term);
    if (this.role !== 'leader') return;
    const self = this.tracker.progress.get(this.id);
    if (self === undefined) return;
    if (self.maybeUpdate(this.log.lastStableIndex()) && this.maybeCommit()) {
      this.releasePendingReadIndexMessages();
      this.commitNotifyPending = true;
    }
  }

  // ---------------------------------------------------------------- step

  /**
   * Feeds one message into the state machine. Throws RaftError PROPOSAL_DROPPED for a local
   * proposal that cannot be accepted (no leader, transfer in progress, removed node).
   */
  step(m: Message): void {
    if (m.term === 0) {
      // local message or forwarded request
    } else if (m.term > this.term) {
      if (m.type === 'vote' || m.type === 'preVote') {
        const inLease =
          this.opts.checkQuorum &&
          (this.lead !== NONE || this.bootLease) &&
          this.electionElapsedTicks < this.opts.electionTimeoutTicks;
        // A node that heard from a live leader within an election timeout ignores candidates:
        // this is what keeps a rejoining partitioned node from deposing a healthy leader, and
        // what makes leader leases safe. A leadership transfer forces the vote.
        if (!m.force && inLease) return;
      }
      if (m.type === 'preVote') {
        // Never change our term in response to a pre-vote.
      } else if (m.type === 'preVoteResp' && !m.reject) {
        // The pre-vote was granted at a future term; we bump our term when the election starts.
      } else if (m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if ((this.opts.checkQuorum || this.opts.preVote) && (m.type === 'heartbeat' || m.type === 'app')) {
        // A stale leader (e.g. after a partition) learns of the newer term from this reply;
        // without it, a node ignoring its own higher-term elections could stall forever.
        this.send({ type: 'appResp', to: m.from });
      } else if (m.type === 'preVote') {
        this.send({ type: 'preVoteResp', to: m.from, term: this.term, reject: true });
      }
      return;
    }

    switch (m.type) {
      case 'hup':
        this.hup(false);
        return;
      case 'vote':
      case 'preVote':
        this.handleVoteRequest(m);
        return;
      default:
        break;
    }
    if (this.role === 'leader') this.stepLeader(m);
    else if (this.role === 'follower') this.stepFollower(m);
    else this.stepCandidate(m);
  }

  handleVoteRequest(m: Message): void {
    const canVote =
      this.vote === m.from ||
      (this.vote === NONE && this.lead === NONE) ||
      (m.type === 'preVote' && m.term > this.term);
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      // The reply carries the request's term so a pre-candidate can count it; a real vote
      // has already moved our term to m.term above.
      this.send({ type: voteResponseType(m.type), to: m.from, term: m.term });
      if (m.type === 'vote') {
        this.electionElapsedTicks = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: voteResponseType(m.type), to: m.from, term: this.term, reject: true });
    }
  }

  /** Starts an election (or a pre-election). `transfer` forces it past follower leases. */
  hup(transfer: boolean): void {
    if (this.role === 'leader') return;
    if (!this.promotable()) return;
    // Configuration changes that are committed but not yet applied could remove us.
    if (this.log.applied < this.log.committed && this.hasUnappliedConfChange()) return;
    if (this.opts.preVote && !transfer) this.campaign('preVote', false);
    else this.campaign('vote', transfer);
  }

  private hasUnappliedConfChange(): boolean {
    let found = false;
    try {
      for (const e of this.log.slice(this.log.applied + 1, this.log.committed + 1, Number.MAX_SAFE_INTEGER)) {
        if (e.type === 'confChange') found = true;
      }
    } catch (err) {
      if (!isRaftError(err, 'COMPACTED')) throw err;
    }
    return found;
  }

  campaign(kind: 'preVote' | 'vote', force: boolean): void {
    let term: number;
    if (kind === 'preVote') {
      this.becomePreCandidate();
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      term = this.term;
    }
    this.tracker.recordVote(this.id, true);
    if (this.tracker.tallyVotes().result === 'won') {
      // A single-node cluster wins at once.
      if (kind === 'preVote') this.campaign('vote', force);
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const id of this.tracker.voterIds()) {
      if (id === this.id) continue;
      this.send({ type: kind, to: id, term, index: lastIndex, logTerm: lastTerm, ...(force ? { force: true } : {}) });
    }
  }

  // ---------------------------------------------------------------- leader

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'beat':
        this.bcastHeartbeat();
        return;
      case 'checkQuorum':
        if (!this.tracker.quorumActive()) {
          this.becomeFollower(this.term, NONE);
        }
        this.tracker.visit((id, pr) => {
          pr.recentActive = id === this.id;
        });
        return;
      case 'prop':
        this.leaderPropose(m);
        return;
      case 'readIndex':
        this.leaderReadIndex(m);
        return;
      case 'transferLeader':
        this.leaderTransfer(m.from);
        return;
      default:
        break;
    }

    const pr = this.tracker.progress.get(m.from);
    if (pr === undefined) return;
    switch (m.type) {
      case 'appResp':
        this.handleAppendResponse(m, pr);
        return;
      case 'heartbeatResp':
        this.handleHeartbeatResponse(m, pr);
        return;
      case 'snapStatus':
        if (pr.state !== 'snapshot') return;
        if (m.reject) pr.pendingSnapshot = 0;
        pr.becomeProbe();
        // Wait for the follower's next response before probing again.
        pr.msgAppFlowPaused = true;
        return;
      case 'unreachable':
        if (pr.state === 'replicate') pr.becomeProbe();
        return;
      default:
        return;
    }
  }

  private leaderPropose(m: Message): void {
    assert(m.entries.length > 0, 'empty proposal');
    const local = m.from === NONE || m.from === this.id;
    if (!this.tracker.progress.has(this.id)) {
      if (local) throw new RaftError('PROPOSAL_DROPPED', 'this node was removed from the configuration');
      return;
    }
    if (this.leadTransferee !== NONE) {
      if (local) throw new RaftError('PROPOSAL_DROPPED', `leadership transfer to ${this.leadTransferee} in progress`);
      return;
    }
    const entries = m.entries.map((e, i) => {
      if (e.type !== 'confChange') return e;
      const why = this.confChangeRefusal(e);
      if (why === undefined) {
        this.pendingConfIndex = this.log.lastIndex() + i + 1;
        return e;
      }
      if (local) throw new RaftError('CONF_CHANGE_IN_PROGRESS', why);
      // A forwarded change we refuse becomes a no-op, so the proposer sees it never applied.
      return { index: 0, term: 0, type: 'normal' as const, data: EMPTY_DATA };
    });
    if (!this.appendEntries(entries)) {
      if (local) throw new RaftError('PROPOSAL_DROPPED', 'too many uncommitted bytes on the leader');
      return;
    }
    this.bcastAppend();
  }

  /** Why a configuration change proposal must be refused now, or undefined if it may go ahead. */
  private confChangeRefusal(e: Entry): string | undefined {
    if (this.pendingConfIndex > this.log.applied) {
      return `a configuration change at index ${this.pendingConfIndex} is not yet applied (applied ${this.log.applied})`;
    }
    let cc: ConfChange;
    try {
      cc = decodeConfChange(e.data);
    } catch (err) {
      return err instanceof Error ? err.message : 'undecodable configuration change';
    }
    const joint = isJoint(this.tracker.config);
    const leave = cc.changes.length === 0;
    if (joint && !leave) return 'in a joint configuration: leave it before another change';
    if (!joint && leave) return 'not in a joint configuration: nothing to leave';
    // Dry-run the change so an invalid one is refused at proposal time, not at apply time.
    try {
      applyConfChangeToTracker(this.tracker, cc, this.log.lastIndex());
    } catch (err) {
      if (isRaftError(err, 'INVALID_CONF_CHANGE')) return err.message;
      throw err;
    }
    return undefined;
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.log.termOrZero(this.log.committed) === this.term;
  }

  leaseValid(): boolean {
    if (this.role !== 'leader' || !this.opts.checkQuorum) return false;
    if (this.leadTransferee !== NONE || this.timeoutNowSentInTerm) return false;
    // The leader acknowledges itself at every tick; the rest as their responses say.
    const base = jointCommittedIndex(this.tracker.config.voters, (id) => (id === this.id ? this.tickCount : this.leaseAckTick.get(id)));
    return this.tickCount < base + leaseDurationTicks(this.opts);
  }

  private leaderReadIndex(m: Message): void {
    if (this.tracker.isSingleton()) {
      this.respondToReadIndex(m, this.log.committed);
      return;
    }
    // Until the leader commits an entry of its term, its commit index may be behind the
    // cluster's (Raft thesis 6.4): hold the read until the no-op commits.
    if (!this.committedEntryInCurrentTerm()) {
      if (this.pendingReadIndexMessages.length >= this.opts.maxPendingReads) {
        if (m.from === NONE || m.from === this.id) throw new RaftError('PROPOSAL_DROPPED', 'too many reads waiting for the new leader to commit');
        return;
      }
      this.pendingReadIndexMessages.push(m);
      return;
    }
    this.serveReadIndex(m);
  }

  private serveReadIndex(m: Message): void {
    if (m.lease === true && this.leaseValid()) {
      this.respondToReadIndex(m, this.log.committed);
      return;
    }
    const ctx = m.context ?? EMPTY_DATA;
    // A lease read without a valid lease falls back to a heartbeat round: slower, still safe.
    if (!this.readOnly.add(this.log.committed, m, ctx)) return;
    const acks = this.readOnly.recvAck(this.id, ctx);
    if (acks !== undefined && jointVoteResult(this.tracker.config.voters, acks) === 'won') {
      for (const rs of this.readOnly.advance(ctx)) this.respondToReadIndex(rs.request, rs.index);
      return;
    }
    this.bcastHeartbeat(ctx);
  }

  respondToReadIndex(req: Message, index: number): void {
    const ctx = req.context ?? EMPTY_DATA;
    if (req.from === NONE || req.from === this.id) {
      this.readStates.push({ index, requestCtx: ctx });
    } else {
      this.send({ type: 'readIndexResp', to: req.from, index, context: ctx });
    }
  }

  private releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0 || !this.committedEntryInCurrentTerm()) return;
    const pending = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of pending) this.serveReadIndex(m);
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    if (m.reject) {
      let nextProbe = m.rejectHint;
      if (m.logTerm > 0) nextProbe = this.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
      if (pr.maybeDecrTo(m.index, nextProbe)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (pr.maybeUpdate(m.index) || (pr.match === m.index && pr.state === 'probe')) {
      if (pr.state === 'probe') {
        pr.becomeReplicate();
      } else if (pr.state === 'snapshot' && pr.match + 1 >= this.log.firstIndex()) {
        // The follower caught up through the snapshot; replicate from its end.
        pr.becomeProbe();
        pr.becomeReplicate();
      } else if (pr.state === 'replicate') {
        pr.inflights.freeLE(m.index);
      }
      if (this.maybeCommit()) {
        this.releasePendingReadIndexMessages();
        this.commitNotifyPending = true;
        // m.from's window is filled below; the others hear of the commit in flushCommitNotify.
      } else if (wasPaused) {
        this.sendAppend(m.from);
      }
      while (this.maybeSendAppend(m.from, false)) {
        // fill the window
      }
      if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.sendTimeoutNow(m.from);
    }
  }

  private handleHeartbeatResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    pr.msgAppFlowPaused = false;
    if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
    if (m.leaseTick !== undefined) {
      const prev = this.leaseAckTick.get(m.from) ?? -1;
      if (m.leaseTick > prev) this.leaseAckTick.set(m.from, m.leaseTick);
    }
    if (pr.match < this.log.lastIndex()) this.sendAppend(m.from);
    if (m.context === undefined || m.context.byteLength === 0) return;
    const acks = this.readOnly.recvAck(m.from, m.context);
    if (acks === undefined) return;
    if (jointVoteResult(this.tracker.config.voters, acks) !== 'won') return;
    for (const rs of this.readOnly.advance(m.context)) this.respondToReadIndex(rs.request, rs.index);
  }

  private leaderTransfer(transferee: NodeId): void {
    const pr = this.tracker.progress.get(transferee);
    if (pr === undefined || pr.isLearner) return;
    if (this.leadTransferee === transferee) return;
    if (transferee === this.id) {
      this.abortLeaderTransfer();
      return;
    }
    // The transfer must finish within an election timeout or it is abandoned.
    this.electionElapsedTicks = 0;
    this.leadTransferee = transferee;
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(transferee);
    else this.sendAppend(transferee);
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  // ---------------------------------------------------------------- candidate

  private stepCandidate(m: Message): void {
    const myVoteResp: MessageType = this.role === 'preCandidate' ? 'preVoteResp' : 'voteResp';
    switch (m.type) {
      case 'prop':
        if (m.from === NONE || m.from === this.id) throw new RaftError('PROPOSAL_DROPPED', 'no leader: election in progress');
        return;
      case 'readIndex':
        if (m.from === NONE || m.from === this.id) throw new RaftError('PROPOSAL_DROPPED', 'no leader: election in progress');
        return;
      case 'app':
        this.becomeFollower(m.term, m.from);
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case 'snap':
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case 'voteResp':
      case 'preVoteResp': {
        if (m.type !== myVoteResp) return;
        this.tracker.recordVote(m.from, !m.reject);
        const { result } = this.tracker.tallyVotes();
        if (result === 'won') {
          if (this.role === 'preCandidate') {
            this.campaign('vote', false);
          } else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (result === 'lost') {
          // A rejection at our term is enough; a higher term would have moved us already.
          this.becomeFollower(this.term, NONE);
        }
        return;
      }
      default:
        return;
    }
  }

  // ---------------------------------------------------------------- follower

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'prop': {
        const local = m.from === NONE || m.from === this.id;
        if (this.lead === NONE) {
          if (local) throw new RaftError('PROPOSAL_DROPPED', 'no leader');
          return;
        }
        if (this.opts.disableProposalForwarding) {
          if (local) throw new RaftError('PROPOSAL_DROPPED', 'proposal forwarding is disabled');
          return;
        }
        // The leader never answers a forwarded proposal: the proposer learns its fate when
        // it applies the entry (or when its own deadline passes).
        this.send({ type: 'prop', to: this.lead, entries: m.entries });
        return;
      }
      case 'app':
      case 'heartbeat':
      case 'snap':
        // Hearing from the leader restarts the election timer (and the follower's lease).
        this.electionElapsedTicks = 0;
        this.lead = m.from;
        if (m.type === 'app') this.handleAppend(m);
        else if (m.type === 'heartbeat') this.handleHeartbeat(m);
        else this.handleSnapshot(m);
        return;
      case 'transferLeader':
        if (this.lead === NONE) return;
        // `from` names the transferee, as when stepped locally.
        this.send({ type: 'transferLeader', to: this.lead, from: m.from });
        return;
      case 'timeoutNow':
        // The leader asked us to take over: campaign at once, past follower leases.
        this.hup(true);
        return;
      case 'readIndex': {
        const local = m.from === NONE || m.from === this.id;
        if (this.lead === NONE) {
          if (local) throw new RaftError('PROPOSAL_DROPPED', 'no leader to serve the read index');
          return;
        }
        this.send({
          type: 'readIndex',
          to: this.lead,
          ...(m.context === undefined ? {} : { context: m.context }),
          ...(m.lease === true ? { lease: true } : {}),
        });
        return;
      }
      case 'readIndexResp':
        this.readStates.push({ index: m.index, requestCtx: m.context ?? EMPTY_DATA });
        return;
      default:
        return;
    }
  }

  handleAppend(m: Message): void {
    if (m.index < this.log.committed) {
      this.send({ type: 'appResp', to: m.from, index: this.log.committed });
      return;
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      if (m.commitOnly === true && m.entries.length === 0) return;
      this.send({ type: 'appResp', to: m.from, index: lastNew });
      return;
    }
    // Fast backtracking (Raft thesis 5.3 / etcd): hint the largest index whose term is at
    // most the leader's term at m.index, so the leader skips whole terms per round trip.
    const hintIndex = Math.min(m.index, this.log.lastIndex());
    const hint = this.log.findConflictByTerm(hintIndex, m.logTerm);
    this.send({ type: 'appResp', to: m.from, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term });
  }

  handleHeartbeat(m: Message): void {
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send({
      type: 'heartbeatResp',
      to: m.from,
      ...(m.context === undefined ? {} : { context: m.context }),
      ...(m.leaseTick === undefined ? {} : { leaseTick: m.leaseTick }),
    });
  }

  handleSnapshot(m: Message): void {
    const s = m.snapshot;
    if (s === undefined) return;
    if (this.restore(s)) {
      this.send({ type: 'appResp', to: m.from, index: this.log.lastIndex() });
    } else {
      this.send({ type: 'appResp', to: m.from, index: this.log.committed });
    }
  }

  /** Installs a snapshot from the leader; returns false if it is stale or already covered. */
  restore(s: SnapshotMeta): boolean {
    if (s.index <= this.log.committed) return false;
    if (this.role !== 'follower') {
      // Defensive: only a follower may install a snapshot.
      this.becomeFollower(this.term + 1, NONE);
      return false;
    }
    // A snapshot taken before this node was added does not list it; it is accepted anyway:
    // the node cannot campaign until the change that adds it is applied from the log.
    const cs = s.confState;
    if (this.log.matchTerm(s.index, s.term)) {
      // We already hold the snapshot's last entry: just fast-forward the commit index.
      this.log.commitTo(s.index);
      return false;
    }
    this.log.restore(s);
    this.tracker = new ProgressTracker(this.opts.maxInflightMessages, this.opts.maxInflightBytes);
    this.applyChangeResult(restoreConfState(this.tracker, cs, this.log.lastIndex()));
    return true;
  }

  // ---------------------------------------------------------------- configuration

  /**
   * After a joint configuration with automatic leave has been applied, the leader proposes
   * leaving it (an empty change). Called by RawNode once applied entries are advanced.
   */
  maybeAutoLeaveJoint(): void {
    const cfg = this.tracker.config;
    if (this.role !== 'leader' || !cfg.autoLeave || !isJoint(cfg)) return;
    if (this.log.applied < this.pendingConfIndex) return;
    const data = encodeConfChange({ transition: 'auto', changes: [], context: EMPTY_DATA });
    this.pendingConfIndex = this.log.lastIndex() + 1;
    if (this.appendEntries([{ index: 0, term: 0, type: 'confChange', data }])) this.bcastAppend();
  }

  /** Applies a committed configuration change; the driver calls this when it applies the entry. */
  applyConfChange(cc: ConfChange): ConfState {
    const result = applyConfChangeToTracker(this.tracker, cc, this.log.lastIndex());
    this.applyChangeResult(result);
    return this.tracker.confState();
  }

  private applyChangeResult(result: ChangeResult): void {
    this.tracker.config = result.config;
    this.tracker.progress = result.progress;
    const pr = this.tracker.progress.get(this.id);
    this.isLearner = pr?.isLearner ?? false;
    if ((pr === undefined || this.isLearner) && this.role === 'leader') {
      // We were removed or demoted: step down so the rest elect a leader among themselves.
      if (this.opts.stepDownOnRemoval) this.becomeFollower(this.term, NONE);
      return;
    }
    if (this.role !== 'leader' || this.tracker.voterIds().size === 0) return;
    // The quorum may have shrunk: entries may now be committed.
    if (this.maybeCommit()) this.bcastAppend();
    else this.tracker.visit((id) => {
      if (id !== this.id) this.maybeSendAppend(id, false);
    });
    if (this.leadTransferee !== NONE && !this.tracker.voterIds().has(this.leadTransferee)) this.abortLeaderTransfer();
  }
}
