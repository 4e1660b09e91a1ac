import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { isNodeError } from '../node/errors.js';
import { MemorySnapshotStore } from '../node/memory-snapshot-store.js';
import { stageSnapshotCopy } from '../node/snapshot-io.js';
import { BatchWindow } from '../node/batch-window.js';
import type { BatchTimer } from '../node/batch-window.js';
import { RaftNode } from '../node/raft-node.js';
import type { ReadConsistency } from '../node/raft-node.js';
import { jointVoteResult } from '../raft/quorum.js';
import type { LogReader } from '../raft/storage.js';
import { bootstrapStorage } from '../raft/bootstrap.js';
import type { ConfChangeSingle, Entry, NodeId } from '../raft/types.js';
import { SeededRng } from '../util/rng.js';
import { EventQueue } from './event-queue.js';
import { kvModel } from './kv-model.js';
import type { KvInput, KvOutput } from './kv-model.js';
import { checkLinearizable } from './linearizability.js';
import type { HistoryOp } from './linearizability.js';
import { PLANTS } from './plants.js';
import type { PlantName } from './plants.js';
import { SimDisk } from './sim-disk.js';
import { SimKv, encodeKvCommand } from './sim-kv.js';
import { CALM_NETWORK, SimNetwork } from './sim-network.js';

export interface SimulationOptions {
  readonly seed: number;
  /** A planted bug to enable (see plants.ts); the simulator must then fail. */
  readonly plant?: PlantName;
  /** Lines of trace kept for the failure report. */
  readonly traceLines?: number;
}

export interface SimulationResult {
  readonly seed: number;
  readonly ok: boolean;
  /** The first violated property, when not ok. */
  readonly failure?: string;
  /** The last events before the end (or the failure), oldest first. */
  readonly trace: readonly string[];
  readonly stats: {
    readonly virtualMs: number;
    readonly events: number;
    readonly ops: number;
    readonly opsOk: number;
    readonly crashes: number;
    readonly confChanges: number;
    readonly leaderTerms: number;
    readonly maxCommit: number;
  };
}

class SimFailure extends Error {}

const TICK_MS = 10;
const ELECTION_TIMEOUT_TICKS = 10;
const HEARTBEAT_TICKS = 2;
const MAX_NODE_ID = 7;
const KEYS = ['a', 'b', 'c'];
const CLIENTS = 8;
const CLIENT_TIMEOUT_MS = 800;
/** Batch window of the nodes that batch (virtual ms). */
const SIM_BATCH_WAIT_MS = 4;
const CHAOS_MS = 4_000;
const HEAL_DEADLINE_MS = 4_000;

interface SimNode {
  readonly id: NodeId;
  readonly disk: SimDisk;
  readonly snapshots: MemorySnapshotStore;
  /** Clock rate relative to real time, within the drift bound the core is told about. */
  readonly tickPeriodMs: number;
  node: RaftNode<KvOutput> | undefined;
  kv: SimKv;
  incarnation: number;
  alive: boolean;
  removed: boolean;
  lastApplied: number;
  /** The node's commit index up to which its log has been checked against `committedTerms`. */
  checkedCommit: number;
}

/**
 * One deterministic run: a 3-5 node cluster on a fake network, disk and clock, a random fault
 * schedule, concurrent clients, invariant checks after every event, and a linearizability
 * check of the client history at the end. Everything derives from `seed`.
 */
export class Simulation {
  private readonly rng: SeededRng;
  private readonly queue = new EventQueue();
  private readonly network: SimNetwork;
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly traceLines: number;
  private trace: string[] = [];
  private failure: string | undefined;
  private readonly history: HistoryOp<KvInput, KvOutput>[] = [];
  /** Values ever proposed per key, to check eventual reads. */
  private readonly writtenValues = new Map<string, Set<string>>();
  private readonly eventualReads: { key: string; value: string | null }[] = [];
  /** Client operations still waiting for an answer. */
  private readonly pendingOps = new Set<() => void>();
  /** The entry applied at each index by any node: all nodes must agree (state machine safety). */
  private readonly appliedAt = new Map<number, { term: number; data: string }>();
  /** The term at each index that any node's core has held committed: it may never change. */
  private readonly committedTerms = new Map<number, number>();
  private maxCommitted = 0;
  /** For each (index, term) the entry data and the previous term: log matching. */
  private readonly entryIdentity = new Map<string, { data: string; prevTerm: number }>();
  private readonly leaderOfTerm = new Map<number, NodeId>();
  private events = 0;
  private crashes = 0;
  private confChanges = 0;
  private opsOk = 0;
  private nextClientSeq = 0;
  private unusedIds: NodeId[] = [];
  private chaosOver = false;

  constructor(private readonly opts: SimulationOptions) {
    this.rng = new SeededRng(opts.seed);
    this.traceLines = opts.traceLines ?? 120;
    this.network = new SimNetwork(this.queue, this.rng.fork(), (to, om) => {
      const n = this.nodes.get(to);
      if (n?.alive !== true || n.node === undefined) return;
      if (om.message.type !== 'heartbeat' && om.message.type !== 'heartbeatResp') this.log(`deliver ${om.message.type} ${om.message.from}->${to} t${om.message.term} i${om.message.index} n${om.message.entries.length} c${om.message.commit}${om.message.reject ? ' reject' : ''}`);
      const source = om.snapshot;
      if (source === undefined) {
        n.node.receive(om.message);
        return;
      }
      // The snapshot's bytes go into the receiver's own store first, chunk by chunk, as the
      // peer transport does; the message follows once they are staged.
      stageSnapshotCopy(n.snapshots, source).then(
        (staged) => {
          if (n.alive && n.node !== undefined) n.node.receive(om.message, staged);
          else void staged.discard();
        },
        (err: unknown) => this.log(`snapshot ${om.message.from}->${to} not staged: ${String(err)}`),
      );
    });
  }

  private log(line: string): void {
    this.trace.push(`${this.queue.nowMs.toFixed(0).padStart(6)}ms ${line}`);
    if (this.trace.length > this.traceLines * 2) this.trace = this.trace.slice(-this.traceLines);
  }

  /**
   * Records the first violation and throws to stop the current step. The record matters when
   * the throw lands inside a node's own promise chain, which catches it as a fatal error.
   */
  private fail(why: string): never {
    this.failure ??= why;
    throw new SimFailure(why);
  }

  // ---------------------------------------------------------------- nodes

  private snapshotEveryEntries = 50;
  /** Batch windows run on the simulation's clock. */
  private readonly virtualTimer: BatchTimer = { now: () => this.queue.nowMs, after: (ms, fn) => this.queue.after(ms, fn) };
  /** Small messages and windows split a leader's appends, which widens the races that matter. */
  private maxBytesPerMessage = 512;
  private maxInflightMessages = 4;
  /** A leader the faults just cut off; clients favour it, since stale answers come from there. */
  private suspect: NodeId | undefined;
  private churnUntilMs = 0;
  private keepAfterSnapshot = 5;

  private addNode(id: NodeId): SimNode {
    const drift = (this.rng.next() - 0.5) * 0.08; // ±4%: two nodes differ by at most 8% < the 10% bound
    const n: SimNode = {
      id,
      disk: new SimDisk(this.queue, this.rng.fork(), this.fsyncLatencyMs),
      snapshots: new MemorySnapshotStore(),
      tickPeriodMs: TICK_MS * (1 + drift),
      node: undefined,
      kv: new SimKv({ capturesSnapshots: id % 2 === 1 }),
      incarnation: 0,
      alive: false,
      removed: false,
      lastApplied: 0,
      checkedCommit: 0,
    };
    n.disk.onEntriesSaved = (entries, storage) => this.checkLogMatching(id, entries, storage);
    this.nodes.set(id, n);
    return n;
  }

  private fsyncLatencyMs = { min: 1, max: 5 };

  private async startNode(n: SimNode, bootstrap: readonly NodeId[] | undefined): Promise<void> {
    n.incarnation++;
    const incarnation = n.incarnation;
    // Odd nodes write their snapshots in the background (as the server's KV store does), even
    // ones inside the Ready loop: every run exercises both paths.
    n.kv = new SimKv({ capturesSnapshots: n.id % 2 === 1 });
    const storage = n.disk.open();
    // Every initial member starts from the same bootstrap log, so no node needs an init call.
    if (bootstrap !== undefined) await bootstrapStorage(storage, { voters: bootstrap });
    n.lastApplied = 0;
    const node = await RaftNode.start<KvOutput>({
      raft: {
        id: n.id,
        rng: this.rng.fork(),
        electionTimeoutTicks: ELECTION_TIMEOUT_TICKS,
        heartbeatTicks: HEARTBEAT_TICKS,
        maxBytesPerMessage: this.maxBytesPerMessage,
        maxInflightMessages: this.maxInflightMessages,
        checkQuorum: true,
        preVote: true,
        clockDriftBound: 0.1,
      },
      storage,
      stateMachine: n.kv,
      transport: { send: (msgs) => this.network.send(n.id, msgs) },
      snapshots: n.snapshots,
      bootId: incarnation, // grows with every start, as ProposalDedup requires
      proposalTimeoutTicks: 50,
      readTimeoutTicks: 50,
      snapshotEveryEntries: this.snapshotEveryEntries,
      logEntriesKeptAfterSnapshot: this.keepAfterSnapshot,
      // Nodes whose id is not a multiple of 3 batch proposals on virtual time when they lead,
      // the others never: every run exercises both. Few clients, so the window opens from two
      // outstanding proposals.
      ...(n.id % 3 === 0 ? {} : { batching: { window: new BatchWindow({ maxWaitMs: SIM_BATCH_WAIT_MS, minConcurrency: 2 }), timer: this.virtualTimer } }),
      onApply: (e) => this.checkApply(n, e),
    });
    if (n.incarnation !== incarnation) {
      node.stop();
      return;
    }
    const plant = this.opts.plant;
    if (plant !== undefined) PLANTS[plant].patch(node.raw.raft);
    n.node = node;
    n.alive = true;
    n.lastApplied = node.applied;
    this.checkAcknowledgedDurable(n);
    node.onLeaderChange((c) => {
      this.log(`node ${n.id} role=${c.role} leader=${c.leader} term=${c.term}`);
      if (c.role !== 'leader') return;
      this.checkLeaderCompleteness(n);
      // Under churn a new leader may die soon after taking office, while it is still bringing
      // followers up to date with entries of earlier terms (the Figure 8 situation).
      if (this.queue.nowMs < this.churnUntilMs && this.rng.chance(0.5)) {
        this.queue.after(this.rng.int(40), () => {
          if (n.alive && n.incarnation === incarnation) this.crashAndRestart(n, 10 + this.rng.int(120));
        });
      }
    });
    node.onRemoved(() => {
      this.log(`node ${n.id} applied its removal and stops`);
      n.removed = true;
      this.crashNode(n, false);
    });
    this.log(`node ${n.id} started (incarnation ${incarnation}, applied ${node.applied}, last ${storage.lastIndex()})`);
    this.scheduleTick(n, incarnation);
  }

  /** Starts a node from an event; a failure to start is a finding, never a crash of the run. */
  private spawnNode(n: SimNode, bootstrap: readonly NodeId[] | undefined): void {
    this.startNode(n, bootstrap).catch((err: unknown) => {
      this.failure ??= `node ${n.id} failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
    });
  }

  private scheduleTick(n: SimNode, incarnation: number): void {
    this.queue.after(n.tickPeriodMs, () => {
      if (!n.alive || n.incarnation !== incarnation || n.node === undefined) return;
      n.node.tick();
      this.scheduleTick(n, incarnation);
    });
  }

  private crashNode(n: SimNode, loseUnsynced: boolean): void {
    if (!n.alive) return;
    n.alive = false;
    n.node?.stop();
    n.node = undefined;
    n.incarnation++;
    if (loseUnsynced) n.disk.crash();
    this.log(`node ${n.id} ${loseUnsynced ? 'crashed' : 'stopped'}`);
  }

  // ---------------------------------------------------------------- invariants

  private checkLogMatching(id: NodeId, entries: readonly Entry[], storage: LogReader): void {
    for (const e of entries) {
      let prevTerm = 0;
      try {
        prevTerm = e.index > 1 ? storage.term(e.index - 1) : 0;
      } catch {
        prevTerm = -1; // compacted: unknown
      }
      const key = `${e.index}/${e.term}`;
      const data = bytesKey(e.data) + e.type;
      const seen = this.entryIdentity.get(key);
      if (seen === undefined) {
        this.entryIdentity.set(key, { data, prevTerm });
        continue;
      }
      if (seen.data !== data) this.fail(`log matching: node ${id} holds a different entry at index ${e.index} term ${e.term}`);
      if (seen.prevTerm >= 0 && prevTerm >= 0 && seen.prevTerm !== prevTerm) {
        this.fail(`log matching: node ${id} entry ${e.index}/${e.term} follows term ${prevTerm}, another log has ${seen.prevTerm}`);
      }
    }
  }

  private checkApply(n: SimNode, e: Entry): void {
    if (e.index <= n.lastApplied) this.fail(`node ${n.id} applied index ${e.index} after ${n.lastApplied}`);
    n.lastApplied = e.index;
    const data = bytesKey(e.data) + e.type;
    const prior = this.appliedAt.get(e.index);
    if (prior === undefined) {
      this.appliedAt.set(e.index, { term: e.term, data });
    } else if (prior.term !== e.term || prior.data !== data) {
      this.fail(`state machine safety: node ${n.id} applied ${e.index}/${e.term}, another node applied ${e.index}/${prior.term} there`);
    }
  }

  /**
   * A node just restarted from its disk must still hold every entry it acknowledged to the
   * newest leader (whose match index for it says what it acknowledged): a crash may only lose
   * writes that were never promised durable. Only a leader of a later term may take them away.
   */
  private checkAcknowledgedDurable(n: SimNode): void {
    const own = n.node?.raw.raft;
    if (own === undefined) return;
    const log = own.log;
    let leader: SimNode | undefined;
    for (const l of this.liveNodes()) {
      const r = l.node?.raw.raft;
      if (r?.role === 'leader' && (leader?.node === undefined || r.term > leader.node.raw.raft.term)) leader = l;
    }
    const lr = leader?.node?.raw.raft;
    const match = lr?.tracker.progress.get(n.id)?.match ?? 0;
    // The leader's term must be the newest the node knows, and the leader must still know the term at match.
    if (lr === undefined || leader === undefined || match === 0 || lr.term < own.term) return;
    if (match < log.firstIndex() - 1 || match < lr.log.firstIndex() - 1) return;
    const term = lr.log.termOrZero(match);
    const held = match === log.firstIndex() - 1 || (match <= log.lastIndex() && log.termOrZero(match) === term);
    if (!held) this.fail(`durability: node ${n.id} restarted with its log ending ${log.lastIndex()}/${log.lastTerm()}, but it had acknowledged ${match}/${term} to leader ${leader.id}`);
  }

  private checkLeaderCompleteness(n: SimNode): void {
    const node = n.node;
    if (node === undefined) return;
    const log = node.raw.raft.log;
    const first = log.firstIndex();
    for (const [index, committedTerm] of this.committedTerms) {
      if (index < first) continue;
      const term = log.termOrZero(index);
      if (term !== committedTerm) {
        this.fail(`leader completeness: new leader ${n.id} (term ${node.raw.raft.term}) has term ${term} at committed index ${index} (committed term ${committedTerm})`);
      }
    }
  }

  /**
   * Records the term of every index a node's core holds committed, as soon as it is committed:
   * it may never differ between nodes or over time. This sees a wrong commit even when the
   * node that made it crashes before applying it (the Figure 8 situation under leader churn).
   */
  private checkCommitted(): void {
    for (const n of this.nodes.values()) {
      const log = n.node?.raw.raft.log;
      if (!n.alive || log === undefined) continue;
      const to = Math.min(log.committed, log.lastIndex());
      for (let index = Math.max(n.checkedCommit + 1, log.firstIndex()); index <= to; index++) {
        const term = log.termOrZero(index);
        const known = this.committedTerms.get(index);
        if (known === undefined) this.committedTerms.set(index, term);
        else if (known !== term) this.fail(`commit safety: node ${n.id} holds ${index}/${term} committed, where ${index}/${known} was committed before`);
      }
      n.checkedCommit = Math.max(n.checkedCommit, to);
      this.maxCommitted = Math.max(this.maxCommitted, to);
    }
    this.checkElectableNodesHoldCommitted();
  }

  /**
   * Leader completeness, checked before anyone is elected: a live node that lacks the latest
   * committed entry must not be able to collect a majority of its voters from the live nodes
   * whose logs are no more up to date than its own (those are the votes it would get in a
   * new term). In a correct Raft a committed entry sits on a majority that refuses such a
   * node; a wrong commit is caught the moment it happens, not only if that node later wins.
   * By log matching, holding the latest committed entry means holding all of them.
   */
  private checkElectableNodesHoldCommitted(): void {
    const index = this.maxCommitted;
    const term = this.committedTerms.get(index);
    if (index === 0 || term === undefined) return;
    const live = this.liveNodes();
    for (const n of live) {
      const r = n.node?.raw.raft;
      if (r === undefined) continue;
      const log = r.log;
      if (index < log.firstIndex() || (index <= log.lastIndex() && log.termOrZero(index) === term)) continue;
      const voters = r.tracker.config.voters;
      if (!voters.incoming.has(n.id) && !voters.outgoing.has(n.id)) continue;
      const votes = new Map<NodeId, boolean>();
      for (const v of live) {
        const vr = v.node?.raw.raft;
        if (vr !== undefined && vr.log.isUpToDate(log.lastIndex(), log.lastTerm())) votes.set(v.id, true);
      }
      if (jointVoteResult(voters, votes) === 'won') {
        this.fail(`leader completeness at risk: node ${n.id} (log ends ${log.lastIndex()}/${log.lastTerm()}) lacks committed ${index}/${term} but nodes ${[...votes.keys()].join(',')} would elect it`);
      }
    }
  }

  private checkElectionSafety(): void {
    let newest: { id: NodeId; term: number } | undefined;
    for (const n of this.nodes.values()) {
      const r = n.node?.raw.raft;
      if (!n.alive || r?.role !== 'leader') continue;
      const other = this.leaderOfTerm.get(r.term);
      if (other === undefined) this.leaderOfTerm.set(r.term, n.id);
      else if (other !== n.id) this.fail(`election safety: nodes ${other} and ${n.id} are both leaders of term ${r.term}`);
      if (newest === undefined || r.term > newest.term) newest = { id: n.id, term: r.term };
    }
    // Lease safety: a leader whose lease says no one else can lead yet must be the newest.
    for (const n of this.nodes.values()) {
      const r = n.node?.raw.raft;
      if (!n.alive || r?.role !== 'leader' || newest === undefined || r.term >= newest.term) continue;
      if (r.leaseValid()) this.fail(`lease safety: node ${n.id} holds a valid lease in term ${r.term} while node ${newest.id} leads term ${newest.term}`);
    }
  }

  // ---------------------------------------------------------------- clients

  private liveNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.alive && n.node !== undefined);
  }

  private randomInput(): KvInput {
    const key = this.rng.pick(KEYS);
    const value = `v${this.nextClientSeq++}`;
    const roll = this.rng.next();
    if (roll < 0.35) return { kind: 'put', key, value };
    if (roll < 0.75) return { kind: 'get', key };
    if (roll < 0.85) return { kind: 'delete', key };
    const known = [...(this.writtenValues.get(key) ?? [])];
    const expected = known.length > 0 && this.rng.chance(0.7) ? this.rng.pick(known) : null;
    return { kind: 'cas', key, expected, value };
  }

  private runClient(clientId: number): void {
    if (this.chaosOver) return;
    const live = this.liveNodes();
    if (live.length === 0) {
      this.queue.after(20, () => this.runClient(clientId));
      return;
    }
    const suspect = live.find((n) => n.id === this.suspect);
    const target = suspect !== undefined && this.rng.chance(0.5) ? suspect : this.rng.pick(live);
    const node = target.node;
    if (node === undefined) return;
    const input = this.randomInput();
    const consistency: ReadConsistency = this.rng.pick(['linearizable', 'lease', 'eventual'] as const);
    if (input.kind === 'put' || input.kind === 'cas') {
      let set = this.writtenValues.get(input.key);
      if (set === undefined) this.writtenValues.set(input.key, (set = new Set()));
      set.add(input.value);
    }
    const callTime = this.queue.nowMs;
    let settled = false;
    const describe = input.kind === 'get' ? `get(${input.key}) ${consistency}` : JSON.stringify(input);
    this.log(`client ${clientId} -> node ${target.id}: ${describe}`);
    const finish = (output: KvOutput | undefined, recorded: boolean): void => {
      if (settled) return;
      settled = true;
      this.pendingOps.delete(abandon);
      if (recorded) {
        const returnTime = output === undefined ? Number.POSITIVE_INFINITY : this.queue.nowMs;
        if (input.kind === 'get' && consistency === 'eventual') {
          if (output?.kind === 'get') this.eventualReads.push({ key: input.key, value: output.value });
        } else {
          this.history.push({ clientId, input, output, callTime, returnTime });
        }
        if (output !== undefined) this.opsOk++;
      }
      this.log(`client ${clientId} <- ${output === undefined ? (recorded ? 'unknown' : 'failed') : JSON.stringify(output)}`);
      this.queue.after(this.rng.int(15), () => this.runClient(clientId));
    };
    // At the end of the run an op still in flight has an unknown outcome (a write) or none.
    const abandon = (): void => finish(undefined, input.kind !== 'get');
    this.pendingOps.add(abandon);
    const kv = target.kv;
    const op: Promise<KvOutput> =
      input.kind === 'get'
        ? node.read(consistency, () => ({ kind: 'get' as const, value: kv.get(input.key) }))
        : node.propose(encodeKvCommand(input));
    if (input.kind !== 'get' && this.queue.nowMs < this.churnUntilMs && node.currentRole === 'leader' && this.rng.chance(0.5)) {
      this.queue.after(this.rng.int(4), () => {
        if (target.alive) this.crashAndRestart(target, 10 + this.rng.int(120));
      });
    }
    op.then(
      (out) => finish(out, true),
      (err: unknown) => {
        // A write that timed out or whose node died may still be applied: its outcome is
        // unknown. A write refused before entering the log, and any failed read, left no trace.
        const unknown = input.kind !== 'get' && (isNodeError(err, 'TIMEOUT') || isNodeError(err, 'STOPPED'));
        if (!isNodeError(err)) this.failure ??= `unexpected error from node ${target.id}: ${String(err)}`;
        finish(undefined, unknown);
      },
    );
    this.queue.after(CLIENT_TIMEOUT_MS, abandon);
  }

  // ---------------------------------------------------------------- faults

  private currentLeader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.liveNodes()) {
      const r = n.node?.raw.raft;
      if (r?.role === 'leader' && (best?.node === undefined || r.term > best.node.raw.raft.term)) best = n;
    }
    return best;
  }

  private crashAndRestart(victim: SimNode, downMs: number): void {
    this.crashes++;
    this.crashNode(victim, true);
    this.queue.after(downMs, () => {
      if (!victim.alive && !victim.removed) this.spawnNode(victim, undefined);
    });
  }

  private scheduleFault(): void {
    this.queue.after(30 + this.rng.int(200), () => {
      if (this.chaosOver) return;
      this.injectFault();
      this.scheduleFault();
    });
  }

  private injectFault(): void {
    const ids = [...this.nodes.keys()].filter((id) => !this.nodes.get(id)?.removed);
    const roll = this.rng.int(12);
    switch (roll) {
      case 0:
      case 1: {
        // A symmetric partition into two random sides.
        this.network.healAll();
        const side = new Set(ids.filter(() => this.rng.chance(0.5)));
        this.suspect = this.currentLeader()?.id;
        for (const a of ids) for (const b of ids) if (side.has(a) !== side.has(b)) this.network.block(a, b);
        this.log(`partition {${[...side].join(',')}} | rest`);
        return;
      }
      case 2:
      case 3: {
        // Isolate the leader, in one direction or both.
        const leader = this.currentLeader();
        if (leader === undefined) return;
        this.network.healAll();
        const oneWay = this.rng.int(3);
        for (const b of ids) {
          if (b === leader.id) continue;
          if (oneWay !== 1) this.network.block(leader.id, b);
          if (oneWay !== 2) this.network.block(b, leader.id);
        }
        this.suspect = leader.id;
        this.log(`isolate leader ${leader.id} (${['both ways', 'inbound only', 'outbound only'][oneWay]})`);
        return;
      }
      case 4:
        this.network.healAll();
        this.log('heal partitions');
        return;
      case 5: {
        const live = this.liveNodes();
        if (live.length === 0) return;
        this.crashAndRestart(this.rng.pick(live), 20 + this.rng.int(600));
        return;
      }
      case 6:
        // Leader churn: for a while, a leader that takes a write is likely to crash before
        // the write spreads, and comes back soon, so entries of dead leaders linger on
        // minorities with different terms at the same index (the Figure 8 situation).
        this.churnUntilMs = this.queue.nowMs + 200 + this.rng.int(400);
        this.log(`leader churn until ${this.churnUntilMs.toFixed(0)}ms`);
        return;
      case 7:
      case 8:
        this.changeMembership();
        return;
      case 9: {
        const leader = this.currentLeader();
        const node = leader?.node;
        if (leader === undefined || node === undefined) return;
        const voters = node.configuration.voters.filter((v) => v !== leader.id);
        if (voters.length === 0) return;
        const to = this.rng.pick(voters);
        this.log(`transfer leadership ${leader.id} -> ${to}`);
        node.transferLeadership(to);
        return;
      }
      case 10: {
        const c = this.network.conditions;
        c.dropRate = this.rng.pick([0, 0.01, 0.05, 0.15]);
        c.duplicateRate = this.rng.pick([0, 0.02, 0.1]);
        c.maxDelayMs = this.rng.pick([3, 10, 30]);
        c.slowRate = this.rng.pick([0, 0.02, 0.1]);
        c.slowDelayMs = this.rng.pick([50, 200, 400]);
        this.log(`network drop=${c.dropRate} dup=${c.duplicateRate} delay<=${c.maxDelayMs} slow=${c.slowRate}x${c.slowDelayMs}`);
        return;
      }
      default:
        return;
    }
  }

  private changeMembership(): void {
    const leader = this.currentLeader();
    const node = leader?.node;
    if (leader === undefined || node === undefined) return;
    const cs = node.configuration;
    if (cs.votersOutgoing.length > 0) return;
    const options: (() => ConfChangeSingle[] | undefined)[] = [
      () => {
        const id = this.unusedIds.shift();
        if (id === undefined) return undefined;
        const n = this.addNode(id);
        this.spawnNode(n, undefined);
        return [{ type: 'addLearner', nodeId: id }];
      },
      () => (cs.learners.length > 0 ? [{ type: 'addVoter', nodeId: this.rng.pick(cs.learners) }] : undefined),
      () => (cs.voters.length > 3 ? [{ type: 'removeNode', nodeId: this.rng.pick(cs.voters) }] : undefined),
      () =>
        cs.learners.length > 0 && cs.voters.length >= 3
          ? [
              { type: 'addVoter', nodeId: this.rng.pick(cs.learners) },
              { type: 'removeNode', nodeId: this.rng.pick(cs.voters) },
            ]
          : undefined,
      () => (cs.voters.length > 3 ? [{ type: 'addLearner', nodeId: this.rng.pick(cs.voters) }] : undefined),
    ];
    const changes = this.rng.pick(options)();
    if (changes === undefined) return;
    this.confChanges++;
    this.log(`membership change via ${leader.id}: ${JSON.stringify(changes)}`);
    node.changeMembership({ transition: 'auto', changes, context: new Uint8Array(0) }).then(
      (cs2) => this.log(`membership now voters=${cs2.voters.join(',')} learners=${cs2.learners.join(',')}`),
      (err: unknown) => this.log(`membership change failed: ${String(err)}`),
    );
  }

  // ---------------------------------------------------------------- the run

  private async drain(): Promise<void> {
    // Let every promise chain triggered by the last event settle before the next one.
    await nextMacrotask();
  }

  private async runUntil(endMs: number, stop?: () => boolean): Promise<void> {
    while (this.failure === undefined) {
      const next = this.queue.peekTimeMs();
      if (next === undefined || next > endMs) break;
      const ev = this.queue.pop();
      if (ev === undefined) break;
      this.events++;
      try {
        ev();
        await this.drain();
        this.checkElectionSafety();
        this.checkCommitted();
      } catch (err) {
        if (err instanceof SimFailure) this.failure ??= err.message;
        else this.failure ??= `crash: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
      }
      if (this.failure === undefined) this.checkFatal();
      if (stop?.() === true) break;
    }
    this.queue.nowMs = Math.max(this.queue.nowMs, Math.min(endMs, this.queue.peekTimeMs() ?? endMs));
  }

  private checkFatal(): void {
    for (const n of this.nodes.values()) {
      const err = n.node?.fatalError;
      if (err !== undefined) this.failure ??= err instanceof SimFailure ? err.message : `node ${n.id} failed: ${err.stack ?? err.message}`;
    }
  }

  async run(): Promise<SimulationResult> {
    const voterCount = 3 + this.rng.int(3);
    this.snapshotEveryEntries = this.rng.pick([8, 20, 60]);
    this.keepAfterSnapshot = this.rng.pick([0, 3, 10]);
    this.maxBytesPerMessage = this.rng.pick([1, 64, 512]);
    this.maxInflightMessages = this.rng.pick([1, 4, 16]);
    this.fsyncLatencyMs = this.rng.pick([
      { min: 1, max: 3 },
      { min: 2, max: 12 },
      { min: 5, max: 30 },
    ]);
    const voters: NodeId[] = [];
    for (let id = 1; id <= voterCount; id++) voters.push(id);
    for (let id = voterCount + 1; id <= MAX_NODE_ID; id++) this.unusedIds.push(id);
    this.log(`seed ${this.opts.seed}: ${voterCount} voters, snapshot every ${this.snapshotEveryEntries}, fsync ${this.fsyncLatencyMs.min}-${this.fsyncLatencyMs.max}ms${this.opts.plant === undefined ? '' : `, plant ${this.opts.plant}`}`);
    try {
      // Starting involves disk writes, which complete as simulated events: start from the queue.
      for (const id of voters) {
        const n = this.addNode(id);
        this.queue.at(0, () => this.spawnNode(n, voters));
      }
      for (let c = 1; c <= CLIENTS; c++) this.queue.after(100 + this.rng.int(100), () => this.runClient(c));
      this.queue.after(300, () => this.scheduleFault());

      await this.runUntil(CHAOS_MS);
      if (this.failure === undefined) await this.heal();
      if (this.failure === undefined) this.checkHistory();
    } catch (err) {
      this.failure ??= err instanceof SimFailure ? err.message : `crash: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
    }
    for (const n of this.nodes.values()) n.node?.stop();
    return {
      seed: this.opts.seed,
      ok: this.failure === undefined,
      ...(this.failure === undefined ? {} : { failure: this.failure }),
      trace: this.trace.slice(-this.traceLines),
      stats: {
        virtualMs: this.queue.nowMs,
        events: this.events,
        ops: this.history.length + this.eventualReads.length,
        opsOk: this.opsOk,
        crashes: this.crashes,
        confChanges: this.confChanges,
        leaderTerms: this.leaderOfTerm.size,
        maxCommit: Math.max(0, ...this.appliedAt.keys()),
      },
    };
  }

  /** Ends the faults, restarts every node, and requires the cluster to converge. */
  private async heal(): Promise<void> {
    this.chaosOver = true;
    this.network.healAll();
    this.network.conditions = { ...CALM_NETWORK };
    this.log('chaos over: heal network, restart crashed nodes');
    for (const n of this.nodes.values()) if (!n.alive && !n.removed) this.spawnNode(n, undefined);
    const deadline = this.queue.nowMs + HEAL_DEADLINE_MS;

    // Progress: a write must commit once the faults heal.
    let committed = false;
    const attempt = (): void => {
      if (committed || this.queue.nowMs > deadline) return;
      const leader = this.currentLeader();
      const node = leader?.node;
      if (node === undefined) {
        this.queue.after(50, attempt);
        return;
      }
      node.propose(encodeKvCommand({ kind: 'put', key: 'final', value: 'done' })).then(
        () => {
          committed = true;
          this.log(`final write committed through ${leader?.id}`);
        },
        () => this.queue.after(50, attempt),
      );
    };
    this.queue.after(0, attempt);
    await this.runUntil(deadline, () => committed);
    if (this.failure !== undefined) return;
    if (!committed) this.fail(`no progress: no write committed within ${HEAL_DEADLINE_MS}ms after the faults healed`);

    // Convergence: every member applies the same state.
    const converged = (): boolean => {
      const leader = this.currentLeader()?.node;
      if (leader === undefined) return false;
      const cs = leader.configuration;
      const members = [...cs.voters, ...cs.learners];
      const digests = new Set<string>();
      for (const id of members) {
        const n = this.nodes.get(id);
        if (n?.alive !== true || n.node === undefined) return false;
        if (n.node.applied < leader.applied) return false;
        digests.add(n.kv.digest());
      }
      return digests.size === 1;
    };
    await this.runUntil(deadline, converged);
    if (this.failure === undefined && !converged()) {
      const states = [...this.nodes.values()].map((n) =>
        n.node === undefined ? `node ${n.id} ${n.removed ? 'removed' : 'down'}` : `node ${n.id} applied=${n.node.applied} role=${n.node.currentRole} digest=${n.kv.digest().length}`,
      );
      const cs = this.currentLeader()?.node?.configuration;
      this.fail(`no convergence within ${HEAL_DEADLINE_MS}ms after healing (leader config ${JSON.stringify(cs)}): ${states.join('; ')}`);
    }
  }

  private checkHistory(): void {
    for (const abandon of [...this.pendingOps]) abandon();
    for (const r of this.eventualReads) {
      if (r.value !== null && this.writtenValues.get(r.key)?.has(r.value) !== true) {
        this.fail(`eventual read of ${r.key} returned ${r.value}, which no client wrote`);
      }
    }
    const result = checkLinearizable(kvModel, this.history, { maxStepsPerPartition: 50_000_000 });
    if (result.kind === 'unknown') {
      // A check that gave up proves nothing: treat it as a failure so it gets looked at.
      this.fail(`linearizability check inconclusive: ${result.reason}`);
    }
    if (result.kind === 'illegal') {
      this.fail(
        `linearizability: history of key partition ${result.partition} is not linearizable: ${result.explanation}\n` +
          `  longest linearizable prefix (last 10): ${result.longestPrefix.slice(-10).join(' ; ')}\n` +
          `  could not place next: ${result.stuckAt.slice(0, 10).join(' ; ')}`,
      );
    }
  }
}

function bytesKey(data: Uint8Array): string {
  let s = '';
  for (const b of data) s += String.fromCharCode(b);
  return s;
}

export async function runSimulation(opts: SimulationOptions): Promise<SimulationResult> {
  return new Simulation(opts).run();
}
