import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { StagedSnapshot } from '../node/interfaces.js';
import { BatchWindow } from '../node/batch-window.js';
import type { BatchTimer } from '../node/batch-window.js';
import { RaftNode } from '../node/raft-node.js';
import type { ReadConsistency } from '../node/raft-node.js';
import { isNodeError, NodeError } from '../node/errors.js';
import { wrapCommand } from '../node/proposal-id.js';
import { bootstrapStorage } from '../raft/bootstrap.js';
import type { Message } from '../raft/message.js';
import { NONE } from '../raft/types.js';
import type { ConfChange, ConfChangeSingle, ConfState, NodeId } from '../raft/types.js';
import { FileSnapshotStore } from '../storage/file-snapshot-store.js';
import { Wal } from '../storage/wal.js';
import type { PersistenceStrategy, WalWrite } from '../storage/wal.js';
import { PeerTransport } from '../transport/peer-transport.js';
import type { PeerAddress } from '../transport/peer-link.js';
import { SeededRng } from '../util/rng.js';
import { encodeKvCommand } from '../kv/commands.js';
import type { KvCommand, KvResult } from '../kv/commands.js';
import { GroupStateMachine } from './group-state-machine.js';
import { HostError } from './host-error.js';
import { encodeMemberContext } from './member-directory.js';
import type { MemberAddress } from './member-directory.js';
import { openNodeMeta, saveNodeMeta } from './node-meta.js';
import type { NodeMeta } from './node-meta.js';

export interface HostLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface RaftTiming {
  readonly tickMs: number;
  readonly electionTimeoutTicks: number;
  readonly heartbeatTicks: number;
  readonly snapshotEveryEntries: number;
  readonly logEntriesKeptAfterSnapshot: number;
  /** Group commit on a loaded leader (see BatchWindow); 0 turns it off. */
  readonly batchWaitMs: number;
}

export interface InitialMember {
  readonly id: number;
  readonly address: MemberAddress;
  readonly role: 'voter' | 'learner';
}

export interface HostOptions {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly dataDir: string;
  readonly raft: RaftTiming;
  readonly persistence: PersistenceStrategy;
  /** Bytes of recent log entries the WAL keeps in memory; default the WAL's own. */
  readonly entryCacheBytes?: number;
  readonly log: HostLog;
}

/** One raft group on this node. */
export interface GroupRuntime {
  readonly id: number;
  readonly node: RaftNode<KvResult>;
  readonly sm: GroupStateMachine;
}

export interface GroupStatus {
  readonly group: number;
  readonly role: string;
  readonly leader: number;
  readonly term: number;
  readonly commit: number;
  readonly applied: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly voters: readonly number[];
  readonly learners: readonly number[];
  readonly votersOutgoing: readonly number[];
  readonly matchIndex: Record<string, number>;
  readonly leaseValid: boolean;
  readonly members: Record<string, MemberAddress>;
}

const MAX_GROUP_ID = 2 ** 31 - 1;
/** The clock and timers of the process, for the raft groups' batch windows. */
const REAL_TIMER: BatchTimer = { now: () => performance.now(), after: (ms, fn) => void setTimeout(fn, ms) };
/** Messages held for a group while it is being created; beyond this they are dropped (raft retries). */
const MAX_PENDING_MESSAGES = 1024;

/**
 * The multi-raft host: every raft group on this node, over one WAL and one peer transport.
 * It owns the tick timer, creates groups (bootstrap, /init, group creation, or lazily when a
 * leader first contacts a node that was added to a group), routes peer messages to groups, and
 * keeps the member directory that maps node ids to addresses.
 */
export class Host {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly transport: PeerTransport;
  private self: MemberAddress | undefined;
  private wal: Wal | undefined;
  private readonly walWriteListeners = new Set<(write: WalWrite) => void>();
  private meta: NodeMeta | undefined;
  private readonly groups = new Map<number, GroupRuntime>();
  /** The groups this node leads now (the WAL writes synchronously while there are none). */
  private readonly groupsLed = new Set<number>();
  private readonly creating = new Map<number, Promise<GroupRuntime>>();
  private readonly pending = new Map<number, { message: Message; staged: StagedSnapshot | undefined }[]>();
  /**
   * Each group's snapshot store, opened once: the transport writes inbound snapshots into it
   * (perhaps before the group exists here) and the group's node reads and commits them.
   * Opening twice would not do: an open removes the temporary files of writes in progress.
   */
  private readonly snapshotStores = new Map<number, Promise<FileSnapshotStore>>();
  /** Addresses learned outside any group's directory: the initial cluster, handshakes, joins. */
  private readonly addressHints = new Map<number, MemberAddress>();
  private ticker: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly removedListeners = new Set<(group: number) => void>();

  constructor(private readonly opts: HostOptions) {
    this.nodeId = opts.nodeId;
    this.clusterId = opts.clusterId;
    this.transport = new PeerTransport({
      localId: opts.nodeId,
      clusterId: opts.clusterId,
      handlers: {
        deliver: (group, message, staged) => this.deliver(group, message, staged),
        snapshotStore: (group) => this.inboundSnapshotStore(group),
        unreachable: (group, peer) => this.groups.get(group)?.node.reportUnreachable(peer),
        snapshotSent: (group, peer, ok) => this.groups.get(group)?.node.reportSnapshot(peer, ok),
        acceptsPeer: (peer) => this.acceptsPeer(peer),
        addressOf: (peer) => this.peerAddress(peer),
        notePeerAddress: (peer, raft) => {
          if (!this.addressHints.has(peer)) this.addressHints.set(peer, { raft, api: raft });
        },
        selfAddress: () => this.self?.raft,
        log: (level, message) => opts.log[level](message),
      },
    });
  }

  /** Opens the data directory and starts every group it holds. `self` is where this node listens. */
  async open(self: MemberAddress): Promise<void> {
    this.self = self;
    this.meta = await openNodeMeta(this.opts.dataDir, this.nodeId, this.clusterId);
    this.wal = await Wal.open(path.join(this.opts.dataDir, 'wal'), {
      // A node that leads no group only acknowledges: blocking on its write is cheaper than the
      // thread pool's two wake-ups, and nothing else on its event loop is waiting for the turn.
      writeSynchronously: () => this.groupsLed.size === 0,
      persistence: this.opts.persistence,
      ...(this.opts.entryCacheBytes === undefined ? {} : { entryCacheBytes: this.opts.entryCacheBytes }),
      onWarning: (m) => this.opts.log.warn(m),
      onWrite: (w) => {
        for (const l of this.walWriteListeners) l(w);
      },
    });
    const removed = new Set(this.meta.removedGroups);
    for (const g of this.wal.groupIds()) if (!removed.has(g)) await this.startGroup(g, undefined);
    // A group removed just before a crash may still have a log or snapshots: finish deleting it.
    for (const g of removed) await this.deleteGroupData(g);
    this.ticker = setInterval(() => {
      for (const g of this.groups.values()) g.node.tick();
    }, this.opts.raft.tickMs);
  }

  /** Called after every write of this node's log reaches the disk (for metrics). */
  onWalWrite(listener: (write: WalWrite) => void): () => void {
    this.walWriteListeners.add(listener);
    return () => this.walWriteListeners.delete(listener);
  }

  /** Counters of this node's log since it opened (zeros before). */
  walStats(): { fsyncs: number; records: number; bytesWritten: number } {
    return this.wal?.stats ?? { fsyncs: 0, records: 0, bytesWritten: 0 };
  }

  get isOpen(): boolean {
    return this.wal !== undefined && !this.stopped;
  }

  /** Whether this node holds any group (false until bootstrap, /init or a join). */
  get initialized(): boolean {
    return this.groups.size > 0 || this.creating.size > 0;
  }

  get selfAddress(): MemberAddress {
    if (this.self === undefined) throw new HostError('NOT_READY', 'node is starting');
    return this.self;
  }

  group(id: number): GroupRuntime | undefined {
    return this.groups.get(id);
  }

  requireGroup(id: number): GroupRuntime {
    if (!this.isOpen) throw new HostError('NOT_READY', 'node is starting or stopping');
    const g = this.groups.get(id);
    if (g === undefined) throw new HostError('UNKNOWN_GROUP', `group ${id} does not exist on node ${this.nodeId}`);
    return g;
  }

  groupIds(): number[] {
    return [...this.groups.keys()].sort((a, b) => a - b);
  }

  onGroupRemoved(listener: (group: number) => void): void {
    this.removedListeners.add(listener);
  }

  /** Told when a group's node fails (storage or state machine error); see RaftNode.onFatal. */
  onGroupFailed(listener: (group: number, err: Error) => void): void {
    this.fatalListeners.add(listener);
  }

  private readonly fatalListeners = new Set<(group: number, err: Error) => void>();

  /**
   * Creates `group` on this node with a bootstrap log listing `members` (every member must be
   * given the same list, as with --initial-cluster). Idempotent for a group that exists.
   */
  async bootstrapGroup(group: number, members: readonly InitialMember[], opts: { campaign?: boolean } = {}): Promise<GroupRuntime> {
    checkGroupId(group);
    if (!members.some((m) => m.id === this.nodeId)) throw new HostError('NOT_IN_MEMBERS', `node ${this.nodeId} is not among the members ${members.map((m) => m.id).join(', ')}`);
    if (this.meta?.removedGroups.includes(group) === true) throw new HostError('GROUP_REMOVED', `group ${group} was removed from this node`);
    for (const m of members) this.addressHints.set(m.id, m.address);
    const existing = this.groups.get(group) ?? (await this.creating.get(group));
    if (existing !== undefined) return existing;
    const sorted = [...members].sort((a, b) => a.id - b.id);
    const runtime = await this.createGroup(group, {
      voters: sorted.filter((m) => m.role === 'voter').map((m) => m.id),
      learners: sorted.filter((m) => m.role === 'learner').map((m) => m.id),
      context: bootstrapContext(new Map(sorted.map((m) => [m.id, m.address]))),
    });
    // An admin /init names this node the first leader (openraft's behaviour); nodes that all
    // bootstrap together from --initial-cluster elect one the usual way instead.
    if (opts.campaign === true) runtime.node.campaign();
    return runtime;
  }

  /** Proposes a KV command; retries while no leader is known (the command was certainly not appended). */
  async propose(group: number, command: KvCommand): Promise<KvResult> {
    const g = this.requireGroup(group);
    const data = encodeKvCommand(command);
    for (let attempt = 0; ; attempt++) {
      try {
        return await g.node.propose(data);
      } catch (err) {
        if (!isNodeError(err, 'DROPPED') || attempt >= 20) throw err;
        await this.waitForLeaderOrTick(g);
      }
    }
  }

  /** Runs `fn` on the group's state once a read at `consistency` is safe on this node. */
  async read<T>(group: number, consistency: ReadConsistency, fn: (sm: GroupStateMachine) => T): Promise<T> {
    const g = this.requireGroup(group);
    for (let attempt = 0; ; attempt++) {
      try {
        return await g.node.read(consistency, () => fn(g.sm));
      } catch (err) {
        if (!isNodeError(err, 'DROPPED') || attempt >= 20) throw err;
        await this.waitForLeaderOrTick(g);
      }
    }
  }

  /** Adds (or re-addresses) a learner; resolves once the change is applied here. */
  async addLearner(group: number, id: number, address: MemberAddress): Promise<ConfState> {
    const g = this.requireGroup(group);
    this.addressHints.set(id, address);
    const cs = g.node.configuration;
    if (cs.voters.includes(id) || cs.learners.includes(id)) {
      const known = g.sm.directory.get(id);
      if (known?.raft === address.raft && known.api === address.api) return cs;
    }
    // Adding a voter as a learner would demote it; re-adding keeps its role with the new address.
    const type = cs.voters.includes(id) ? 'addVoter' : 'addLearner';
    return this.changeMembership(g, [{ type, nodeId: id }], new Map([[id, address]]));
  }

  /**
   * Makes `voters` the voter set: listed learners are promoted, voters not listed are removed,
   * and learners not listed are dropped (openraft's change-membership). Several changes go
   * through joint consensus.
   */
  async changeVoters(group: number, voters: readonly number[]): Promise<ConfState> {
    const g = this.requireGroup(group);
    if (voters.length === 0) throw new HostError('EMPTY_MEMBERSHIP', 'the voter set cannot be empty');
    const cs = g.node.configuration;
    if (cs.votersOutgoing.length > 0) throw new HostError('CONF_CHANGE_IN_PROGRESS', 'a membership change is still in progress');
    const changes: ConfChangeSingle[] = [];
    for (const id of voters) {
      if (cs.voters.includes(id)) continue;
      if (!cs.learners.includes(id)) throw new HostError('LEARNER_NOT_FOUND', `node ${id} is neither a voter nor a learner; add it as a learner first`, { nodeId: id });
      changes.push({ type: 'addVoter', nodeId: id });
    }
    for (const id of cs.voters) if (!voters.includes(id)) changes.push({ type: 'removeNode', nodeId: id });
    for (const id of cs.learners) if (!voters.includes(id)) changes.push({ type: 'removeNode', nodeId: id });
    if (changes.length === 0) return cs;
    return this.changeMembership(g, changes, new Map());
  }

  async removeMember(group: number, id: number): Promise<ConfState> {
    const g = this.requireGroup(group);
    const cs = g.node.configuration;
    if (!cs.voters.includes(id) && !cs.learners.includes(id)) throw new HostError('MEMBER_NOT_FOUND', `node ${id} is not a member of group ${group}`);
    if (cs.voters.length === 1 && cs.voters[0] === id) throw new HostError('EMPTY_MEMBERSHIP', 'cannot remove the last voter');
    return this.changeMembership(g, [{ type: 'removeNode', nodeId: id }], new Map());
  }

  /** On the leader: resolves once `id` has replicated everything the leader had at the call. */
  async waitCaughtUp(group: number, id: number, timeoutMs: number): Promise<void> {
    const g = this.requireGroup(group);
    const target = g.node.raw.status().lastIndex;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = g.node.raw.status();
      if (s.role !== 'leader') throw new HostError('NOT_LEADER', `node ${this.nodeId} stopped being the leader while node ${id} caught up`);
      if ((s.matchIndex.get(id) ?? 0) >= target) return;
      if (Date.now() >= deadline) throw new HostError('CATCH_UP_TIMEOUT', `node ${id} did not catch up to index ${target} within ${timeoutMs} ms (it has ${s.matchIndex.get(id) ?? 0})`);
      if (this.stopped) throw new NodeError('STOPPED', 'node stopped');
      await new Promise((r) => setTimeout(r, Math.min(this.opts.raft.tickMs, 50)));
    }
  }

  transferLeadership(group: number, to: number): void {
    const g = this.requireGroup(group);
    if (!g.node.configuration.voters.includes(to)) throw new HostError('MEMBER_NOT_FOUND', `node ${to} is not a voter of group ${group}`);
    g.node.transferLeadership(to);
  }

  /** The leader of a group as this node knows it, with its API address when known. */
  leaderOf(group: number): { id: number; address: MemberAddress | undefined } | undefined {
    const g = this.groups.get(group);
    if (g === undefined || g.node.leaderId === NONE) return undefined;
    const id = g.node.leaderId;
    return { id, address: this.addressOf(id, g) };
  }

  addressOf(id: number, g?: GroupRuntime): MemberAddress | undefined {
    if (id === this.nodeId && this.self !== undefined) return this.self;
    if (g !== undefined) {
      const a = g.sm.directory.get(id);
      if (a !== undefined) return a;
    }
    for (const other of this.groups.values()) {
      const a = other.sm.directory.get(id);
      if (a !== undefined) return a;
    }
    return this.addressHints.get(id);
  }

  status(group: number): GroupStatus {
    const g = this.requireGroup(group);
    const s = g.node.raw.status();
    const cs = g.node.configuration;
    const members: Record<string, MemberAddress> = {};
    for (const id of new Set([...cs.voters, ...cs.learners, ...cs.votersOutgoing])) {
      const a = this.addressOf(id, g);
      if (a !== undefined) members[String(id)] = a;
    }
    return {
      group,
      role: s.role,
      leader: s.leader,
      term: s.term,
      commit: s.commit,
      applied: g.node.applied,
      firstIndex: s.firstIndex,
      lastIndex: s.lastIndex,
      voters: cs.voters,
      learners: cs.learners,
      votersOutgoing: cs.votersOutgoing,
      matchIndex: Object.fromEntries([...s.matchIndex].map(([k, v]) => [String(k), v])),
      leaseValid: s.leaseValid,
      members,
    };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.ticker !== undefined) clearInterval(this.ticker);
    for (const g of this.groups.values()) {
      g.sm.watch.close();
      g.node.stop();
    }
    await this.transport.close();
    await this.wal?.close();
  }

  // ------------------------------------------------------------------ internals

  private async changeMembership(g: GroupRuntime, changes: ConfChangeSingle[], addresses: Map<number, MemberAddress>): Promise<ConfState> {
    const cc: ConfChange = { transition: 'auto', changes, context: encodeMemberContext(addresses) };
    for (let attempt = 0; ; attempt++) {
      try {
        return await g.node.changeMembership(cc);
      } catch (err) {
        if (!isNodeError(err, 'DROPPED') || attempt >= 20) throw err;
        await this.waitForLeaderOrTick(g);
      }
    }
  }

  private async waitForLeaderOrTick(g: GroupRuntime): Promise<void> {
    await Promise.all([g.node.waitForLeader().catch(() => undefined), new Promise((r) => setTimeout(r, this.opts.raft.tickMs))]);
    if (this.stopped) throw new NodeError('STOPPED', 'node stopped');
  }

  private deliver(group: number, message: Message, staged: StagedSnapshot | undefined): void {
    const g = this.groups.get(group);
    if (staged !== undefined) {
      this.opts.log.info(`group ${group}: received a snapshot at index ${staged.meta.index} (${staged.totalBytes} bytes) from node ${message.from}`);
    }
    if (g !== undefined) {
      g.node.receive(message, staged);
      return;
    }
    const queue = this.pending.get(group) ?? [];
    // A leader (or candidate) of a group this node was added to: create the group with an empty
    // log; it learns the membership history by replication.
    const creatable = this.mayCreateGroup(group) && ['app', 'heartbeat', 'snap', 'vote', 'preVote', 'timeoutNow'].includes(message.type);
    if (!creatable || queue.length >= MAX_PENDING_MESSAGES) {
      staged?.discard().catch(() => undefined);
      return;
    }
    queue.push({ message, staged });
    this.pending.set(group, queue);
    if (!this.creating.has(group)) {
      this.opts.log.info(`node ${message.from} contacted this node for group ${group}; creating it`);
      this.createGroup(group, undefined).catch((err: unknown) => this.opts.log.error(`cannot create group ${group}: ${String(err)}`));
    }
  }

  /** Whether a message for `group`, which does not run here, may create it. */
  private mayCreateGroup(group: number): boolean {
    return this.isOpen && group > 0 && group <= MAX_GROUP_ID && this.meta?.removedGroups.includes(group) !== true;
  }

  /** The store an inbound snapshot for `group` is staged in: a group that runs here, or one a message may create. */
  private inboundSnapshotStore(group: number): Promise<FileSnapshotStore | undefined> {
    if (!this.groups.has(group) && !this.mayCreateGroup(group)) return Promise.resolve(undefined);
    return this.snapshotStoreFor(group);
  }

  private snapshotStoreFor(group: number): Promise<FileSnapshotStore> {
    let store = this.snapshotStores.get(group);
    if (store === undefined) {
      store = FileSnapshotStore.open(path.join(this.opts.dataDir, 'snapshots', String(group)));
      this.snapshotStores.set(group, store);
      // A failed open is not cached: the next attempt tries again.
      store.catch(() => this.snapshotStores.delete(group)).catch(() => undefined);
    }
    return store;
  }

  private async createGroup(group: number, bootstrap: Parameters<typeof bootstrapStorage>[1] | undefined): Promise<GroupRuntime> {
    const p = this.startGroup(group, bootstrap);
    this.creating.set(group, p);
    try {
      return await p;
    } finally {
      this.creating.delete(group);
    }
  }

  private async startGroup(group: number, bootstrap: Parameters<typeof bootstrapStorage>[1] | undefined): Promise<GroupRuntime> {
    const wal = this.wal;
    if (wal === undefined || this.meta === undefined) throw new HostError('NOT_READY', 'node is starting');
    const storage = wal.storage(group);
    if (bootstrap !== undefined) await bootstrapStorage(storage, bootstrap);
    const snapshots = await this.snapshotStoreFor(group);
    const sm = new GroupStateMachine();
    const t = this.opts.raft;
    const node = await RaftNode.start<KvResult>({
      raft: {
        id: this.nodeId,
        // Randomness lives at the edge: the core only sees the seed.
        rng: new SeededRng((Math.random() * 2 ** 32) >>> 0),
        electionTimeoutTicks: t.electionTimeoutTicks,
        heartbeatTicks: t.heartbeatTicks,
        maxBytesPerMessage: 1024 * 1024,
        maxInflightMessages: 256,
      },
      storage,
      stateMachine: sm,
      transport: this.transport.forGroup(group),
      snapshots,
      bootId: this.meta.bootCount,
      snapshotEveryEntries: t.snapshotEveryEntries,
      logEntriesKeptAfterSnapshot: t.logEntriesKeptAfterSnapshot,
      ...(t.batchWaitMs > 0 ? { batching: { window: new BatchWindow({ maxWaitMs: t.batchWaitMs }), timer: REAL_TIMER } } : {}),
      onApply: (e) => sm.observe(e),
    });
    const runtime: GroupRuntime = { id: group, node, sm };
    this.groups.set(group, runtime);
    node.onLeaderChange((c) => {
      if (c.role === 'leader') this.groupsLed.add(group);
      else this.groupsLed.delete(group);
      if (c.leader === NONE) return;
      this.opts.log.info(`group ${group}: leader is node ${c.leader} (term ${c.term}); this node is ${c.role}`);
      this.publishOwnAddress(runtime);
    });
    node.onRemoved(() => void this.onRemoved(group));
    node.onFatal((err) => {
      // A node stopped because this node left its group may trip over its deleted storage on
      // the way out; that is not a failure of a live group.
      if (this.stopped || this.groups.get(group) !== runtime) return;
      this.opts.log.error(`group ${group} failed and cannot go on safely: ${err.stack ?? err.message}`);
      for (const l of this.fatalListeners) l(group, err);
    });
    for (const { message, staged } of this.pending.get(group) ?? []) node.receive(message, staged);
    this.pending.delete(group);
    return runtime;
  }

  /**
   * Members list each other by the addresses they were given (--initial-cluster, /init), which
   * may name only the raft address. Once a leader is known, a member whose directory entry
   * differs from where it really listens records its own addresses through the log, so
   * every node (and every leader hint) points at its real API address.
   */
  private publishOwnAddress(g: GroupRuntime, attempt = 0): void {
    const self = this.self;
    if (self === undefined || this.stopped || this.publishing.has(g.id) || this.groups.get(g.id) !== g) return;
    const cs = g.node.configuration;
    if (!cs.voters.includes(this.nodeId) && !cs.learners.includes(this.nodeId)) return;
    const known = g.sm.directory.get(this.nodeId);
    if (known?.raft === self.raft && known.api === self.api) return;
    this.publishing.add(g.id);
    this.addLearner(g.id, this.nodeId, self)
      .then(
        () => this.publishing.delete(g.id),
        (err: unknown) => {
          this.publishing.delete(g.id);
          // Another member's change may have held it back (one change at a time): try again.
          if (attempt >= 20) {
            this.opts.log.warn(`group ${g.id}: could not record this node's address: ${err instanceof Error ? err.message : String(err)}`);
            return;
          }
          setTimeout(() => this.publishOwnAddress(g, attempt + 1), this.opts.raft.tickMs * (5 + attempt)).unref();
        },
      );
  }

  private readonly publishing = new Set<number>();

  private async onRemoved(group: number): Promise<void> {
    const g = this.groups.get(group);
    if (g === undefined || this.meta === undefined) return;
    this.opts.log.warn(`this node was removed from group ${group}; stopping it there`);
    g.node.stop();
    this.groups.delete(group);
    this.groupsLed.delete(group);
    this.meta = { ...this.meta, removedGroups: [...this.meta.removedGroups, group] };
    // The removed list first: it keeps stray leader messages from creating the group again,
    // and a restart finishes a deletion a crash interrupted.
    await saveNodeMeta(this.opts.dataDir, this.meta);
    // Its log and snapshots go, so they no longer pin old segments or cost memory and disk.
    // Should that fail (the node is stopping), the next start finishes it.
    await this.deleteGroupData(group).catch((err: unknown) => this.opts.log.warn(`group ${group}: data not deleted yet: ${err instanceof Error ? err.message : String(err)}`));
    for (const l of this.removedListeners) l(group);
  }

  /** Deletes a removed group's log (a WAL deletion record) and its snapshot directory. */
  private async deleteGroupData(group: number): Promise<void> {
    if (this.wal?.groupIds().includes(group) === true) await this.wal.deleteGroup(group);
    const store = this.snapshotStores.get(group);
    this.snapshotStores.delete(group);
    await store?.catch(() => undefined);
    await fs.rm(path.join(this.opts.dataDir, 'snapshots', String(group)), { recursive: true, force: true });
  }

  private acceptsPeer(peer: number): boolean {
    if (this.addressHints.has(peer)) return true;
    for (const g of this.groups.values()) {
      const cs = g.node.configuration;
      // A group still learning its membership (just created for a join) accepts its leader.
      if (cs.voters.length === 0 && cs.learners.length === 0) return true;
      if ([...cs.voters, ...cs.learners, ...cs.votersOutgoing].includes(peer) || g.sm.directory.get(peer) !== undefined) return true;
    }
    // A node that holds no group yet waits to be initialized or added: anyone of this cluster may reach it.
    return this.groups.size === 0;
  }

  private peerAddress(peer: number): PeerAddress | undefined {
    const a = this.addressOf(peer);
    return a === undefined ? undefined : parseAddress(a.raft);
  }
}

/** The bootstrap change's context: the member addresses behind a node-0 proposal header. */
function bootstrapContext(members: ReadonlyMap<NodeId, MemberAddress>): Uint8Array {
  return wrapCommand({ nodeId: 0, bootId: 0, seq: 0 }, 0, encodeMemberContext(members));
}

export function parseAddress(address: string): PeerAddress | undefined {
  const m = /^\[?([^\]]*)\]?:(\d+)$/.exec(address);
  if (m === null) return undefined;
  const port = Number(m[2]);
  return { host: m[1] === '' ? '127.0.0.1' : (m[1] ?? '127.0.0.1'), port };
}

function checkGroupId(group: number): void {
  if (!Number.isSafeInteger(group) || group <= 0 || group > MAX_GROUP_ID) throw new HostError('BAD_REQUEST', `group id must be an integer from 1 to ${MAX_GROUP_ID}`);
}
