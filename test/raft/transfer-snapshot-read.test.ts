import { describe, expect, it } from 'vitest';
import { TestCluster } from './harness.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const ctx = (n: number): Uint8Array => new Uint8Array([n]);

describe('leadership transfer', () => {
  it('hands leadership to an up-to-date follower with TimeoutNow', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.propose(1, 'x');
    c.node(1).raw.transferLeadership(2);
    c.deliverAll();
    expect(c.leaders()).toEqual([2]);
    expect(c.sent.some((m) => m.type === 'timeoutNow' && m.to === 2)).toBe(true);
  });

  it('catches a lagging transferee up first', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.isolate(3);
    for (let i = 0; i < 5; i++) c.propose(1, `v${i}`);
    c.heal();
    c.node(1).raw.transferLeadership(3);
    c.deliverAll();
    expect(c.leaders()).toEqual([3]);
    // TimeoutNow went out only once node 3 had caught up.
    const timeoutNow = c.sent.findIndex((m) => m.type === 'timeoutNow');
    const catchUp = c.sent.findIndex((m) => m.type === 'app' && m.to === 3 && m.entries.length >= 1);
    expect(catchUp).toBeGreaterThanOrEqual(0);
    expect(timeoutNow).toBeGreaterThan(catchUp);
    c.tickAll(2);
    expect(c.appliedTexts(3)).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
  });

  it('drops proposals while a transfer is in progress, and aborts it after an election timeout', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.isolate(2);
    c.node(1).raw.transferLeadership(2);
    c.deliverAll();
    expect(c.node(1).raw.raft.leadTransferee).toBe(2);
    expect(() => c.node(1).raw.propose(text('x'))).toThrow(/transfer/);
    c.tick(1, 10);
    expect(c.node(1).raw.raft.leadTransferee).toBe(0);
    expect(c.leaders()).toEqual([1]);
    c.node(1).raw.propose(text('after'));
  });

  it('ignores a transfer to a learner', () => {
    const c = new TestCluster([1, 2], {}, [3]);
    c.elect(1);
    c.node(1).raw.transferLeadership(3);
    expect(c.node(1).raw.raft.leadTransferee).toBe(0);
  });
});

describe('snapshots', () => {
  it('sends a snapshot to a follower whose next entry was compacted away', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.isolate(3);
    for (let i = 0; i < 10; i++) c.propose(1, `v${i}`);
    const leader = c.node(1);
    const applied = leader.raw.raft.log.applied;
    void leader.storage.compact({ index: applied, term: leader.storage.term(applied), confState: leader.confState }, applied);
    c.heal();
    c.tickAll(3);
    expect(c.sent.some((m) => m.type === 'snap' && m.to === 3)).toBe(true);
    const r3 = c.node(3).raw.raft;
    expect(r3.log.committed).toBeGreaterThanOrEqual(applied);
    expect(c.node(3).storage.snapshot().index).toBe(applied);
    // After the snapshot, replication continues from the log.
    c.propose(1, 'after');
    c.tickAll(2);
    expect(c.appliedTexts(3)).toEqual(['after']);
  });

  it('ignores a stale snapshot at or below the commit index', () => {
    const c = new TestCluster([1, 2]);
    c.elect(1);
    c.propose(1, 'x');
    const r2 = c.node(2).raw.raft;
    expect(r2.restore({ index: 1, term: 1, confState: c.node(2).confState })).toBe(false);
  });
});

describe('reads', () => {
  it('ReadIndex: one heartbeat round confirms every queued read', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.propose(1, 'x');
    c.filters.push((m) => m.type !== 'heartbeatResp');
    const before = c.sent.filter((m) => m.type === 'heartbeat').length;
    for (let i = 1; i <= 5; i++) c.node(1).raw.readIndex(ctx(i));
    c.deliverAll();
    const rounds = c.sent.filter((m) => m.type === 'heartbeat').length - before;
    expect(rounds).toBe(2 * 5); // one heartbeat per follower per request, but none answered yet
    expect(c.node(1).readStates).toHaveLength(0);
    c.heal();
    c.node(1).raw.readIndex(ctx(6));
    c.deliverAll();
    // The acknowledgement of the last round releases all six.
    expect(c.node(1).readStates.map((r) => r.requestCtx[0])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(c.node(1).readStates.every((r) => r.index === c.node(1).raw.raft.log.committed)).toBe(true);
  });

  it('ReadIndex waits until the new leader commits an entry of its term', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.filters.push((m) => m.type !== 'appResp');
    for (const id of [1, 3]) c.node(id).raw.raft.electionElapsedTicks = 100; // out of 1's lease
    c.elect(2);
    // Leader 2 has not committed its no-op yet.
    c.node(2).raw.readIndex(ctx(9));
    c.deliverAll();
    expect(c.node(2).readStates).toHaveLength(0);
    c.heal();
    c.tickAll(2);
    expect(c.node(2).readStates.map((r) => r.requestCtx[0])).toEqual([9]);
  });

  it('a deposed leader cannot confirm a ReadIndex', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.propose(1, 'x');
    c.isolate(1);
    c.node(1).raw.readIndex(ctx(1));
    c.deliverAll();
    expect(c.node(1).readStates).toHaveLength(0);
  });

  it('follower reads go through the leader read index', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.propose(1, 'x');
    c.node(3).raw.readIndex(ctx(4));
    c.deliverAll();
    const rs = c.node(3).readStates;
    expect(rs.map((r) => r.requestCtx[0])).toEqual([4]);
    expect(rs[0]?.index).toBe(c.node(1).raw.raft.log.committed);
  });

  it('lease reads are answered without a round while the lease holds, and not after it lapses', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.propose(1, 'x');
    c.tickAll(2); // heartbeat round acknowledged: lease established
    expect(c.node(1).raw.status().leaseValid).toBe(true);
    const before = c.sent.filter((m) => m.type === 'heartbeat').length;
    c.node(1).raw.readIndex(ctx(1), { lease: true });
    c.processReadies();
    expect(c.node(1).readStates.map((r) => r.requestCtx[0])).toEqual([1]);
    expect(c.sent.filter((m) => m.type === 'heartbeat').length).toBe(before);
    // Cut the leader off: the lease lapses before any follower could elect another leader.
    c.isolate(1);
    c.tick(1, 9);
    expect(c.node(1).raw.status().leaseValid).toBe(false);
    c.node(1).raw.readIndex(ctx(2), { lease: true });
    c.processReadies();
    expect(c.node(1).readStates.map((r) => r.requestCtx[0])).toEqual([1]);
  });

  it('the lease ends before a follower that acknowledged it may vote again', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.tickAll(2);
    c.isolate(1);
    const lease = c.node(1).raw.raft;
    // Count leader ticks until the lease lapses, and follower ticks until it would vote.
    let leaderTicks = 0;
    while (lease.leaseValid()) {
      lease.tick();
      leaderTicks++;
    }
    const f = c.node(2).raw.raft;
    expect(leaderTicks).toBeLessThan(f.opts.electionTimeoutTicks);
  });

  it('no lease without CheckQuorum, and none after TimeoutNow was sent in the term', () => {
    const a = new TestCluster([1, 2, 3], { checkQuorum: false });
    a.elect(1);
    a.tickAll(2);
    expect(a.node(1).raw.status().leaseValid).toBe(false);
    const b = new TestCluster([1, 2, 3]);
    b.elect(1);
    b.tickAll(2);
    b.filters.push((m) => m.type !== 'timeoutNow');
    b.node(1).raw.transferLeadership(2);
    b.deliverAll();
    b.tick(1, 10); // transfer aborted
    b.heal();
    b.tickAll(2);
    expect(b.leaders()).toEqual([1]);
    expect(b.node(1).raw.status().leaseValid).toBe(false);
  });
});
