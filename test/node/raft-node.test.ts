import { afterEach, describe, expect, it } from 'vitest';
import { isNodeError } from '../../src/node/errors.js';
import type { AppliedCommand, OutgoingMessage, SnapshotWriter, StateMachine } from '../../src/node/interfaces.js';
import { MemorySnapshotStore } from '../../src/node/memory-snapshot-store.js';
import { ProposalDedup, decodeNodeSnapshot, encodeNodeSnapshot } from '../../src/node/proposal-dedup.js';
import { BatchWindow } from '../../src/node/batch-window.js';
import type { BatchTimer } from '../../src/node/batch-window.js';
import { RaftNode } from '../../src/node/raft-node.js';
import { readSnapshotBytes, saveSnapshot, stageSnapshotCopy } from '../../src/node/snapshot-io.js';
import type { LeaderChange } from '../../src/node/raft-node.js';
import { bootstrapStorage } from '../../src/raft/bootstrap.js';
import { message } from '../../src/raft/message.js';
import { EMPTY_CONF_STATE } from '../../src/raft/types.js';
import type { NodeId, SnapshotMeta } from '../../src/raft/types.js';
import { MemoryLogStorage } from '../../src/storage/memory-log-storage.js';
import { SeededRng } from '../../src/util/rng.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A counter state machine: each command adds its number; the result is the new total. */
class Counter implements StateMachine<number> {
  total = 0;
  apply(commands: readonly AppliedCommand[]): number[] {
    return commands.map((c) => (this.total += Number(dec.decode(c.data))));
  }
  snapshot(): Uint8Array {
    return enc.encode(String(this.total));
  }
  restore(data: Uint8Array): void {
    this.total = Number(dec.decode(data));
  }
}

/** A counter whose snapshots the node writes in the background: the total is captured at once, its bytes handed out a digit at a time. */
class CapturingCounter extends Counter {
  /** The total at each capture. */
  readonly captured: number[] = [];
  captureSnapshot(): Iterable<Uint8Array> {
    this.captured.push(this.total);
    const digits = String(this.total);
    return (function* chunks(): Generator<Uint8Array> {
      for (const d of digits) yield enc.encode(d);
    })();
  }
}

/** A snapshot store whose writes wait while it is closed, as a slow disk would. */
class GatedSnapshotStore extends MemorySnapshotStore {
  private gate: Promise<void> = Promise.resolve();
  private openGate: () => void = () => undefined;
  writes = 0;

  close(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  open(): void {
    this.openGate();
  }

  override async create(meta: SnapshotMeta): Promise<SnapshotWriter> {
    const writer = await super.create(meta);
    const write = writer.write.bind(writer);
    return Object.assign(Object.create(writer) as SnapshotWriter, {
      write: async (chunk: Uint8Array) => {
        this.writes++;
        await this.gate;
        await write(chunk);
      },
    });
  }
}

/** Virtual milliseconds for batch windows: time moves only when the test says so. */
class ManualTimer implements BatchTimer {
  nowMs = 0;
  private timers: { atMs: number; fn: () => void }[] = [];
  now(): number {
    return this.nowMs;
  }
  after(ms: number, fn: () => void): void {
    this.timers.push({ atMs: this.nowMs + ms, fn });
  }
  advance(ms: number): void {
    this.nowMs += ms;
    const due = this.timers.filter((t) => t.atMs <= this.nowMs);
    this.timers = this.timers.filter((t) => t.atMs > this.nowMs);
    for (const t of due) t.fn();
  }
}

interface Member {
  node: RaftNode<number>;
  sm: Counter;
  storage: MemoryLogStorage;
  snapshots: MemorySnapshotStore;
}

/** Real RaftNodes in one process; messages hop through setImmediate; ticks are driven by the test. */
class LocalCluster {
  readonly members = new Map<NodeId, Member>();
  private readonly rng = new SeededRng(3);
  down = new Set<NodeId>();

  private snapshotEveryEntries = 0;
  private boots = 0;

  async start(ids: NodeId[], snapshotEveryEntries = 0, snapshotStore = (): MemorySnapshotStore => new MemorySnapshotStore()): Promise<void> {
    this.snapshotEveryEntries = snapshotEveryEntries;
    for (const id of ids) {
      const storage = new MemoryLogStorage();
      await bootstrapStorage(storage, { voters: ids });
      await this.boot(id, storage, snapshotStore());
    }
  }

  /** State machines that capture their snapshots (written in the background) instead of plain counters. */
  capturing = false;
  /** Batch windows of this many virtual ms (see ManualTimer) on every node; 0: none. */
  batchWaitMs = 0;
  readonly timer = new ManualTimer();

  /** Starts (or restarts) a node over the given storage, with a fresh state machine. */
  async boot(id: NodeId, storage: MemoryLogStorage, snapshots: MemorySnapshotStore): Promise<Member> {
    const sm = this.capturing ? new CapturingCounter() : new Counter();
    const node = await RaftNode.start<number>({
      raft: { id, rng: this.rng.fork(), electionTimeoutTicks: 10, heartbeatTicks: 1 },
      storage,
      stateMachine: sm,
      transport: { send: (msgs) => this.deliver(id, msgs) },
      snapshots,
      bootId: ++this.boots,
      snapshotEveryEntries: this.snapshotEveryEntries,
      logEntriesKeptAfterSnapshot: 2,
      ...(this.batchWaitMs > 0 ? { batching: { window: new BatchWindow({ maxWaitMs: this.batchWaitMs }), timer: this.timer } } : {}),
    });
    const m = { node, sm, storage, snapshots };
    this.members.set(id, m);
    return m;
  }

  /** Sees every message a node sends, before delivery. */
  onSend: ((m: OutgoingMessage['message']) => void) | undefined;
  /** Return true to lose a message. */
  drop: ((m: OutgoingMessage['message']) => boolean) | undefined;

  private deliver(from: NodeId, msgs: readonly OutgoingMessage[]): void {
    for (const om of msgs) {
      this.onSend?.(om.message);
      if (this.drop?.(om.message) === true) continue;
      setImmediate(() => {
        if (this.down.has(from) || this.down.has(om.message.to)) return;
        const to = this.members.get(om.message.to);
        if (to === undefined) return;
        if (om.snapshot === undefined) to.node.receive(om.message);
        else void stageSnapshotCopy(to.snapshots, om.snapshot).then((staged) => to.node.receive(om.message, staged));
      });
    }
  }

  member(id: NodeId): Member {
    const m = this.members.get(id);
    if (m === undefined) throw new Error(`no member ${id}`);
    return m;
  }

  /** Ticks every node until `done` holds, yielding to deliveries between ticks. */
  async tickUntil(done: () => boolean, maxTicks = 500): Promise<void> {
    for (let i = 0; i < maxTicks && !done(); i++) {
      for (const m of this.members.values()) m.node.tick();
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
    }
    if (!done()) throw new Error('condition not reached within the tick budget');
  }

  /** Ticks until a leader is elected, and returns it. */
  async electedLeader(): Promise<Member> {
    await this.tickUntil(() => this.leader() !== undefined);
    const leader = this.leader();
    if (leader === undefined) throw new Error('no leader');
    return leader;
  }

  leader(): Member | undefined {
    return [...this.members.values()].find((m) => m.node.currentRole === 'leader' && !this.down.has(m.node.id));
  }

  stop(): void {
    for (const m of this.members.values()) m.node.stop();
  }
}

let cluster: LocalCluster | undefined;
afterEach(() => cluster?.stop());

describe('RaftNode', () => {
  it('elects a leader, applies proposals on every node and returns the result to the proposer', async () => {
    cluster = new LocalCluster();
    const c = cluster;
    await c.start([1, 2, 3]);
    await c.tickUntil(() => c.leader() !== undefined);
    const follower = [...c.members.values()].find((m) => m.node.currentRole !== 'leader');
    if (follower === undefined) throw new Error('no follower');
    const results = await Promise.all([follower.node.propose(enc.encode('5')), follower.node.propose(enc.encode('7'))]);
    // Each result is the running total after that command: 5 then 12, or 7 then 12.
    expect([[5, 12], [7, 12]]).toContainEqual([...results].sort((a, b) => a - b));
    await c.tickUntil(() => [...c.members.values()].every((m) => m.sm.total === 12));
  });

  it('serves linearizable, lease and eventual reads', async () => {
    cluster = new LocalCluster();
    const c = cluster;
    await c.start([1, 2, 3]);
    const leader = await c.electedLeader();
    await leader.node.propose(enc.encode('3'));
    for (const m of c.members.values()) {
      const ticking = c.tickUntil(() => false, 30).catch(() => undefined);
      expect(await m.node.read('linearizable', () => m.sm.total)).toBe(3);
      expect(await m.node.read('lease', () => m.sm.total)).toBe(3);
      await ticking;
    }
    expect(typeof (await leader.node.read('eventual', () => leader.sm.total))).toBe('number');
  });

  it('runs one ReadIndex round at a time: reads that arrive meanwhile share the next one', async () => {
    cluster = new LocalCluster();
    const c = cluster;
    await c.start([1, 2, 3]);
    const leader = await c.electedLeader();
    await leader.node.propose(enc.encode('3'));
    const follower = [...c.members.keys()].find((id) => id !== leader.node.id) ?? 0;
    let rounds = 0;
    c.onSend = (m) => {
      // A ReadIndex round is a heartbeat that carries the round's context.
      if (m.from === leader.node.id && m.to === follower && m.type === 'heartbeat' && (m.context?.byteLength ?? 0) > 0) rounds++;
    };
    const reads: Promise<number>[] = [];
    for (let i = 0; i < 30; i++) {
      reads.push(leader.node.read('linearizable', () => leader.sm.total));
      await new Promise((r) => setImmediate(r));
    }
    expect(await Promise.all(reads)).toEqual(Array.from({ length: 30 }, () => 3));
    // A round takes several turns of the event loop (there and back), so without batching
    // every read would have had its own.
    expect(rounds).toBeGreaterThan(0);
    expect(rounds).toBeLessThanOrEqual(20);
  });

  it('waitForLeader resolves once a leader is known, and times out without one', async () => {
    cluster = new LocalCluster();
    const c = cluster;
    await c.start([1, 2, 3]);
    const waiting = c.member(1).node.waitForLeader();
    await c.tickUntil(() => c.leader() !== undefined);
    expect([1, 2, 3]).toContain(await waiting);
    const lonely = new LocalCluster();
    await lonely.start([1, 2]);
    lonely.down.add(2);
    const never = lonely.member(1).node.waitForLeader(20).catch((e: unknown) => e);
    await lonely.tickUntil(() => false, 25).catch(() => undefined);
    expect(isNodeError(await never, 'TIMEOUT')).toBe(true);
    lonely.stop();
  });

  it('reports a failed state machine once through onFatal, and then refuses reads and writes', async () => {
    cluster = new LocalCluster();
    const c = cluster;
    await c.start([1, 2, 3]);
    const leader = await c.electedLeader();
    const failures: Error[] = [];
    leader.node.onFatal((err) => failures.push(err));
    leader.sm.apply = () => {
      throw new Error('disk on fire');
    };
    const doomed = leader.node.propose(enc.encode('1')).catch((e: unknown) => e);
    await c.tickUntil(() => failures.length > 0, 50);
    expect((await doomed as Error).message).toBe('disk on fire');
    expect(failures.map((e) => e.message)).toEqual(['disk on fire']);
    expect(leader.node.fatalError?.message).toBe('disk on fire');
    // Before, a read queued on a failed node waited forever; a failed node answers at once.
    await expect(leader.node.read('linearizable', () => 0)).rejects.toThrow('disk on fire');
    await expect(leader.node.read('eventual', () => 0)).rejects.toThrow('disk on fire');
    await expect(leader.node.propose(enc.encode('1'))).rejects.toThrow('disk on fire');
  });

  it('does not report the late storage error of a node already stopped as a failure', async () => {
    cluster = new LocalCluster();
    const c = cluster;
    await c.start([1, 2, 3]);
    const leader = await c.electedLeader();
    const failures: Error[] = [];
    leader.node.onFatal((err) => failures.push(err));
    // The next write hangs until rejected, as a write does when its log is closed under it.
    let rejectSave: (err: Error) => void = () => undefined;
    let saving = false;
    leader.storage.save = () => {
      saving = true;
      return new Promise<void>((_resolve, reject) => (rejectSave = reject));
    };
    const pending = leader.node.propose(enc.encode('1')).catch((e: unknown) => e);
    await c.tickUntil(() => saving, 50);
    leader.node.stop();
    rejectSave(new Error('write-ahead log is closed'));
    expect(isNodeError(await pending, 'STOPPED')).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(failures).toEqual([]);
    expect(leader.node.fatalError).toBeUndefined();
  });

  it('answers a write its followers committed while its own write of it is still under way', async () => {
    cluster = new LocalCluster();
    const c = cluster;
    await c.start([1, 2, 3]);
    const leader = await c.electedLeader();
    await c.tickUntil(() => [...c.members.values()].every((m) => m.node.applied === leader.node.raw.raft.log.lastIndex()));
    // The leader's writes of entries hang until released: a slow disk on the leader only.
    const held: (() => void)[] = [];
    const save = leader.storage.save.bind(leader.storage);
    leader.storage.save = (w) => (w.entries.length === 0 ? save(w) : new Promise<void>((resolve, reject) => held.push(() => void save(w).then(resolve, reject))));
    let answered = false;
    const result = leader.node.propose(enc.encode('4')).then((v) => {
      answered = true;
      return v;
    });
    await c.tickUntil(() => answered, 50);
    expect(held.length).toBeGreaterThan(0); // its own copy is not durable yet
    expect(await result).toBe(4);
    expect(leader.sm.total).toBe(4);
    leader.storage.save = save;
    for (const release of held.splice(0)) release();
    expect(await leader.node.propose(enc.encode('1'))).toBe(5);
  });

  it('a follower acknowledges new entries before it applies the ones their append committed', async () => {
    cluster = new LocalCluster();
    const c = cluster;
    await c.start([1, 2, 3]);
    const leader = await c.electedLeader();
    const follower = [...c.members.values()].find((m) => m !== leader);
    if (follower === undefined) throw new Error('no follower');
    const id = follower.node.id;
    await leader.node.propose(enc.encode('1'));
    await c.tickUntil(() => follower.sm.total === 1);
    // The follower learns that the next entry committed only from the append after it.
    c.drop = (m) => m.to === id && m.type === 'app' && m.commitOnly === true;
    const events: string[] = [];
    c.onSend = (m) => {
      if (m.from === id && m.type === 'appResp') events.push(`ack ${m.index}`);
    };
    const apply = follower.sm.apply.bind(follower.sm);
    follower.sm.apply = (commands) => {
      events.push(...commands.map((cmd) => `apply ${cmd.index}`));
      return apply(commands);
    };
    await leader.node.propose(enc.encode('10'));
    const second = leader.node.applied;
    await leader.node.propose(enc.encode('100'));
    await c.tickUntil(() => follower.sm.total === 111);
    const ack = events.indexOf(`ack ${second + 1}`);
    expect(ack).toBeGreaterThanOrEqual(0);
    expect(events.indexOf(`apply ${second}`)).toBeGreaterThan(ack);
  });

  it('on a loaded leader, holds a partial batch until most of the load is back or its window ends', async () => {
    cluster = new LocalCluster();
    const c = cluster;
    c.batchWaitMs = 5;
    await c.start([1, 2, 3]);
    const leader = await c.electedLeader();
    const follower = [...c.members.keys()].find((id) => id !== leader.node.id) ?? 0;
    /** The number of entries in each append the leader sends that follower. */
    const appends: number[] = [];
    c.onSend = (m) => {
      if (m.from === leader.node.id && m.to === follower && m.type === 'app' && m.entries.length > 0) appends.push(m.entries.length);
    };
    const turns = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
    };
    const proposeMany = (n: number): Promise<number[]> => Promise.all(Array.from({ length: n }, () => leader.node.propose(enc.encode('1'))));

    // 16 clients at once: a whole herd, appended at once. The leader now expects about 16.
    await proposeMany(16);
    expect(appends).toEqual([16]);

    // Four come back: they wait for the rest (an append of 4 would cost as much as one of 14).
    let settled = 0;
    const early = proposeMany(4).then((r) => ((settled += r.length), r));
    await turns(20);
    expect(settled).toBe(0);
    expect(appends).toEqual([16]);
    // Ten more make 14 of 16, not yet 90%; the fifteenth releases them all in one append.
    const late = proposeMany(10).then((r) => ((settled += r.length), r));
    await turns(20);
    expect(settled).toBe(0);
    const last = proposeMany(1).then((r) => ((settled += r.length), r));
    await Promise.all([early, late, last]);
    expect(settled).toBe(15);
    expect(appends).toEqual([16, 15]);

    // Two alone wait out the window, no longer.
    const pair = proposeMany(2);
    await turns(20);
    expect(appends).toEqual([16, 15]);
    c.timer.advance(4);
    await turns(20);
    expect(appends).toEqual([16, 15]);
    c.timer.advance(1);
    expect(await pair).toEqual([32, 33]);
    expect(appends).toEqual([16, 15, 2]);

    // A follower's proposals are forwarded at once; only the leader batches.
    expect(await c.member(follower).node.propose(enc.encode('1'))).toBe(34);
  });

  it('reports leadership changes to subscribers', async () => {
    cluster = new LocalCluster();
    const c = cluster;
    await c.start([1, 2, 3]);
    const changes: LeaderChange[] = [];
    for (const m of c.members.values()) m.node.onLeaderChange((ch) => changes.push(ch));
    await c.tickUntil(() => c.leader() !== undefined);
    expect(changes.some((ch) => ch.role === 'leader')).toBe(true);
  });

  it('fails a proposal with NO leader as DROPPED, and one that cannot commit with TIMEOUT', async () => {
    cluster = new LocalCluster();
    const c = cluster;
    await c.start([1, 2, 3]);
    const early = c.member(1).node.propose(enc.encode('1'));
    await expect(early).rejects.toSatisfy((e: unknown) => isNodeError(e, 'DROPPED'));
    const leader = await c.electedLeader();
    for (const id of c.members.keys()) if (id !== leader.node.id) c.down.add(id);
    const stuck = leader.node.propose(enc.encode('1'));
    const settled = stuck.catch((e: unknown) => e);
    await c.tickUntil(() => false, 60).catch(() => undefined);
    expect(isNodeError(await settled, 'TIMEOUT') || isNodeError(await settled, 'STOPPED')).toBe(true);
  });

  // The election after the leader dies is deterministic here (seeded timeouts): one run has the
  // proposer win it, the other the third node, so both paths of reproposePending run.
  it.each([['the proposer itself', 0], ['another node', 1]])('proposes again, once, what a follower forwarded to a leader that died with it (new leader: %s)', async (_name, which) => {
    cluster = new LocalCluster();
    const c = cluster;
    await c.start([1, 2, 3]);
    const leader = await c.electedLeader();
    const followers = [...c.members.values()].filter((m) => m !== leader);
    const follower = followers[which];
    if (follower === undefined) throw new Error('no follower');
    // The leader dies: the forwarded proposal is lost with it.
    c.down.add(leader.node.id);
    const result = follower.node.propose(enc.encode('4'));
    await c.tickUntil(() => c.leader() !== undefined);
    expect(c.leader() === follower).toBe(which === 0);
    // Resolved well before the proposal timeout (5 election timeouts), and applied once.
    let settled: number | undefined;
    void result.then((r) => (settled = r));
    await c.tickUntil(() => settled !== undefined, 30);
    expect(settled).toBe(4);
    const live = [...c.members.values()].filter((m) => m !== leader);
    await c.tickUntil(() => live.every((m) => m.sm.total === 4));
    // Heal the old leader: it catches up without the command applying a second time.
    c.down.delete(leader.node.id);
    await c.tickUntil(() => leader.sm.total === 4);
    await c.member(follower.node.id).node.propose(enc.encode('1'));
    await c.tickUntil(() => [...c.members.values()].every((m) => m.sm.total === 5));
  });

  it('snapshots, compacts, and catches a lagging node up through a snapshot', async () => {
    cluster = new LocalCluster();
    const c = cluster;
    await c.start([1, 2, 3], 5);
    const leader = await c.electedLeader();
    const lagging = [...c.members.keys()].find((id) => id !== leader.node.id) ?? 0;
    c.down.add(lagging);
    for (let i = 0; i < 20; i++) await leader.node.propose(enc.encode('1'));
    expect(leader.storage.firstIndex()).toBeGreaterThan(2);
    c.down.delete(lagging);
    await c.tickUntil(() => c.member(lagging).sm.total === 20);
    expect(c.member(lagging).storage.snapshot().index).toBeGreaterThan(0);
  });

  it('writes a captured snapshot in the background while it goes on applying, then compacts to it', async () => {
    cluster = new LocalCluster();
    const c = cluster;
    c.capturing = true;
    const store = new GatedSnapshotStore();
    store.close();
    await c.start([1], 5, () => store);
    const m = await c.electedLeader();
    for (let i = 0; i < 5; i++) await m.node.propose(enc.encode('3'));
    await c.tickUntil(() => store.writes > 0);
    const firstIndex = m.storage.firstIndex();
    // The snapshot's write hangs; proposals are still applied and answered.
    for (let i = 0; i < 5; i++) expect(await m.node.propose(enc.encode('1'))).toBe(15 + i + 1);
    const captured = (m.sm as CapturingCounter).captured;
    expect(captured).toHaveLength(1);
    expect(store.latest()).toBeUndefined();
    expect(m.storage.firstIndex()).toBe(firstIndex);
    store.open();
    await c.tickUntil(() => store.latest() !== undefined && m.storage.snapshot().index > 0);
    const snap = store.latest() ?? fail();
    // It holds the state as captured, not as it was when the write finished.
    expect(captured[0]).toBeLessThan(20);
    expect(dec.decode(decodeNodeSnapshot(await readSnapshotBytes(snap)).stateMachine)).toBe(String(captured[0]));
    expect(m.storage.snapshot().index).toBe(snap.meta.index);
    expect(m.node.fatalError).toBeUndefined();
    // A restart restores the snapshot and replays the log after it (the log alone no longer
    // holds the first entries).
    expect(m.storage.firstIndex()).toBeGreaterThan(firstIndex);
    m.node.stop();
    const restarted = await c.boot(1, m.storage, store);
    await c.tickUntil(() => restarted.sm.total === 20);
  });

  it('abandons a background snapshot when it stops, leaving nothing in the store', async () => {
    cluster = new LocalCluster();
    const c = cluster;
    c.capturing = true;
    const store = new GatedSnapshotStore();
    store.close();
    await c.start([1], 3, () => store);
    const m = await c.electedLeader();
    for (let i = 0; i < 3; i++) await m.node.propose(enc.encode('1'));
    await c.tickUntil(() => store.writes > 0);
    m.node.stop();
    store.open();
    await c.tickUntil(() => true);
    await new Promise((r) => setImmediate(r));
    expect(store.latest()).toBeUndefined();
    expect(m.node.fatalError).toBeUndefined();
  });

  it('discards a staged snapshot raft does not accept, and drops a snap message without one', async () => {
    cluster = new LocalCluster();
    const c = cluster;
    await c.start([1, 2, 3], 4);
    const leader = await c.electedLeader();
    for (let i = 0; i < 10; i++) await leader.node.propose(enc.encode('1'));
    const id = [...c.members.keys()].find((x) => x !== leader.node.id) ?? 0;
    await c.tickUntil(() => c.member(id).sm.total === 10);
    const f = c.member(id);
    const before = f.snapshots.latest()?.meta;
    // A snapshot at an index the follower has already committed: stale.
    const stale = { index: 3, term: leader.node.raw.raft.term, confState: f.node.configuration };
    const bytes = new MemorySnapshotStore();
    await saveSnapshot(bytes, stale, encodeNodeSnapshot(new ProposalDedup(), enc.encode('999')));
    const staged = await stageSnapshotCopy(f.snapshots, bytes.latest() ?? fail());
    let discarded = 0;
    let committed = 0;
    const spy = { ...staged, commit: () => ((committed++), staged.commit()), discard: () => ((discarded++), staged.discard()) };
    const snap = message({ type: 'snap', from: leader.node.id, to: id, term: leader.node.raw.raft.term, snapshot: stale });
    f.node.receive(snap, spy);
    expect(discarded).toBe(1);
    f.node.receive(snap); // no bytes: never reaches the core
    await c.tickUntil(() => true);
    expect(committed).toBe(0);
    expect(f.snapshots.latest()?.meta).toEqual(before);
    expect(f.sm.total).toBe(10);
    expect(f.node.fatalError).toBeUndefined();
  });

  it('restarts from its snapshot and log with the state it had', async () => {
    cluster = new LocalCluster();
    const c = cluster;
    await c.start([1, 2, 3], 4);
    const leader = await c.electedLeader();
    for (let i = 0; i < 10; i++) await leader.node.propose(enc.encode('2'));
    const id = [...c.members.keys()].find((x) => x !== leader.node.id) ?? 0;
    await c.tickUntil(() => c.member(id).sm.total === 20);
    const old = c.member(id);
    expect(old.snapshots.latest()?.meta.index).toBeGreaterThan(0);
    old.node.stop();
    const restarted = await c.boot(id, old.storage, old.snapshots);
    // The snapshot restores part of the state at once; the log replays the rest once the
    // commit index is known again.
    expect(restarted.sm.total).toBeGreaterThan(0);
    await c.tickUntil(() => restarted.sm.total === 20);
  });

  it('after a crash lost the log record of its newest snapshot, restarts with the snapshot configuration', async () => {
    cluster = new LocalCluster();
    const c = cluster;
    await c.start([1, 2, 3], 4);
    const leader = await c.electedLeader();
    for (let i = 0; i < 10; i++) await leader.node.propose(enc.encode('1'));
    const id = [...c.members.keys()].find((x) => x !== leader.node.id) ?? 0;
    await c.tickUntil(() => c.member(id).sm.total === 10);
    const old = c.member(id);
    const snap = old.snapshots.latest();
    if (snap === undefined) throw new Error('no snapshot taken');
    old.node.stop();
    // The log as a crash may leave it: the entries and the hard state, but the record of the
    // newest snapshot lost, so the log still names an older point with another configuration.
    const storage = new MemoryLogStorage();
    const first = old.storage.firstIndex();
    expect(first - 1).toBeLessThan(snap.meta.index);
    await storage.save({
      snapshot: { index: first - 1, term: old.storage.term(first - 1), confState: EMPTY_CONF_STATE },
      entries: old.storage.entries(first, old.storage.lastIndex() + 1, Infinity),
      hardState: old.storage.initialState().hardState,
    });
    const restarted = await c.boot(id, storage, old.snapshots);
    expect(restarted.node.raw.raft.tracker.confState()).toEqual(snap.meta.confState);
    expect(storage.snapshot().index).toBe(snap.meta.index);
    await c.tickUntil(() => restarted.sm.total === 10);
  });

  it('after a crash interrupted installing a snapshot over a diverged log, finishes the install', async () => {
    // The log holds entries 2..5 of term 1 (a deposed leader's), but the snapshot from the new
    // leader says index 3 has term 2: its bytes were saved, the install in the log was lost.
    const storage = new MemoryLogStorage();
    await bootstrapStorage(storage, { voters: [1, 2, 3] });
    await storage.save({ entries: [2, 3, 4, 5].map((index) => ({ index, term: 1, type: 'normal' as const, data: enc.encode('9') })), hardState: { term: 1, vote: 0, commit: 1 } });
    const snapshots = new MemorySnapshotStore();
    const cs = { voters: [1, 2, 3], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };
    await saveSnapshot(snapshots, { index: 3, term: 2, confState: cs }, encodeNodeSnapshot(new ProposalDedup(), enc.encode('42')));
    cluster = new LocalCluster();
    const m = await cluster.boot(1, storage, snapshots);
    expect(m.sm.total).toBe(42);
    expect(storage.snapshot()).toEqual({ index: 3, term: 2, confState: cs });
    expect(storage.lastIndex()).toBe(3);
    expect(m.node.raw.raft.tracker.confState()).toEqual(cs);
  });

  it('refuses to start when the log was compacted past every snapshot it has', async () => {
    const storage = new MemoryLogStorage();
    await bootstrapStorage(storage, { voters: [1] });
    await storage.save({ entries: [2, 3, 4].map((index) => ({ index, term: 1, type: 'normal' as const, data: enc.encode('1') })), hardState: { term: 1, vote: 1, commit: 4 } });
    await storage.compact({ index: 3, term: 1, confState: { voters: [1], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false } }, 3);
    cluster = new LocalCluster();
    await expect(cluster.boot(1, storage, new MemorySnapshotStore())).rejects.toSatisfy((e: unknown) => isNodeError(e, 'SNAPSHOT_MISSING'));
  });

  it('changes membership and tells a removed node', async () => {
    cluster = new LocalCluster();
    const c = cluster;
    await c.start([1, 2, 3]);
    const leader = await c.electedLeader();
    const victim = [...c.members.keys()].find((id) => id !== leader.node.id) ?? 0;
    let removed = false;
    c.member(victim).node.onRemoved(() => (removed = true));
    const cs = await leader.node.changeMembership({ transition: 'auto', changes: [{ type: 'removeNode', nodeId: victim }], context: new Uint8Array() });
    expect(cs.voters).not.toContain(victim);
    await c.tickUntil(() => removed);
  });
});

function fail(): never {
  throw new Error('expected a value');
}
