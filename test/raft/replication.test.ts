import { describe, expect, it } from 'vitest';
import { TestCluster } from './harness.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('log replication', () => {
  it('replicates and applies proposals on every node in order', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    for (const v of ['a', 'b', 'c']) c.propose(1, v);
    c.tickAll(2);
    for (const id of [1, 2, 3]) expect(c.appliedTexts(id)).toEqual(['a', 'b', 'c']);
  });

  it('forwards a follower proposal to the leader', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.propose(3, 'from-follower');
    c.tickAll(2);
    for (const id of [1, 2, 3]) expect(c.appliedTexts(id)).toEqual(['from-follower']);
  });

  it('drops a proposal when there is no leader', () => {
    const c = new TestCluster([1, 2, 3]);
    expect(() => c.node(2).raw.propose(text('x'))).toThrow(/no leader/);
  });

  it('the leader counts its own entries only once they are durable', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    const leader = c.node(1);
    const before = leader.raw.raft.log.committed;
    leader.raw.propose(text('x'));
    const rd = leader.raw.ready();
    for (const m of rd.messages) c.node(m.to).raw.step(m);
    const follower = c.node(2);
    const frd = follower.raw.ready();
    void follower.storage.save({ entries: frd.entries });
    follower.raw.advance();
    const ack = frd.messagesAfterPersist.find((m) => m.type === 'appResp');
    if (ack === undefined) throw new Error('no ack');
    // One durable follower plus a leader copy that is not yet durable: not a quorum of 3.
    leader.raw.step(ack);
    expect(leader.raw.raft.log.committed).toBe(before);
    // The leader's write completes: leader + one follower now form a quorum.
    void leader.storage.save({ entries: rd.entries });
    leader.raw.advance();
    expect(leader.raw.raft.log.committed).toBe(before + 1);
  });

  it('tells followers the commit index with commitOnly appends, which an accepting follower does not answer', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    const from = c.sent.length;
    c.propose(1, 'a');
    const sent = c.sent.slice(from);
    const told = sent.filter((m) => m.type === 'app' && m.commitOnly === true);
    expect(told.map((m) => m.to).sort()).toEqual([2, 3]);
    for (const m of told) expect(m.entries).toEqual([]);
    // Each follower answered the append that carried the entry, and nothing after the commit.
    for (const id of [2, 3]) expect(sent.filter((m) => m.type === 'appResp' && m.from === id)).toHaveLength(1);
    for (const id of [1, 2, 3]) expect(c.appliedTexts(id)).toEqual(['a']);
  });

  it('an acknowledgement lost in replicate state is recovered through the append a heartbeat answer brings', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.isolate(3);
    // Node 2 gets the entry, but its acknowledgement is lost.
    let dropped = 0;
    c.filters.push((m) => !(m.type === 'appResp' && m.from === 2 && dropped++ === 0));
    c.propose(1, 'a');
    expect(dropped).toBe(1);
    expect(c.appliedTexts(1)).toEqual([]);
    // The heartbeat's answer shows node 2 behind; the empty append it brings must be answered
    // (not marked commitOnly), or the leader would never learn that node 2 holds the entry.
    c.tick(1);
    c.deliverAll();
    expect(c.appliedTexts(1)).toEqual(['a']);
    expect(c.appliedTexts(2)).toEqual(['a']);
  });

  it('commits only entries of the current term by counting (Raft §5.4.2)', () => {
    const c = new TestCluster([1, 2, 3, 4, 5]);
    c.elect(1);
    // Leader 1 appends an entry that reaches only node 2, then is cut off.
    c.filters.push((m) => !(m.type === 'app' && m.to !== 2));
    c.propose(1, 'old');
    const oldIndex = c.node(2).raw.raft.log.lastIndex();
    const oldTerm = c.node(2).raw.raft.log.term(oldIndex);
    c.heal();
    c.isolate(1);
    // Node 2 wins the next term; its appends are held back so nothing new commits.
    for (const id of [2, 3, 4, 5]) c.node(id).raw.raft.electionElapsedTicks = 100;
    c.filters.push((m) => !(m.type === 'app' && m.from === 2));
    c.node(2).raw.campaign();
    c.deliverAll();
    const r2 = c.node(2).raw.raft;
    expect(r2.role).toBe('leader');
    expect(r2.term).toBeGreaterThan(oldTerm);
    // Suppose a quorum (2, 3, 4) holds the old-term entry: counting must not commit it, since
    // a node holding a later-term entry at that index could still win an election (Figure 8).
    const pr = (id: number) => r2.tracker.progress.get(id) ?? expect.fail(`no progress for ${id}`);
    pr(3).match = oldIndex;
    pr(4).match = oldIndex;
    expect(r2.maybeCommit()).toBe(false);
    expect(r2.log.committed).toBeLessThan(oldIndex);
    // Once the current-term no-op is on a quorum, it commits, and the old entry with it.
    const noop = r2.log.lastIndex();
    pr(3).match = noop;
    pr(4).match = noop;
    expect(r2.maybeCommit()).toBe(true);
    expect(r2.log.committed).toBe(noop);
  });

  it('finds the match point of a divergent follower in few round trips (fast backtracking)', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.propose(1, 'base');
    // Node 1 writes 50 entries that reach nobody, then loses leadership.
    c.isolate(1);
    for (let i = 0; i < 50; i++) c.node(1).raw.propose(text(`lost${i}`));
    c.processReadies();
    c.heal();
    c.isolate(1);
    c.node(2).raw.raft.electionElapsedTicks = 100;
    c.node(3).raw.raft.electionElapsedTicks = 100;
    c.elect(2);
    for (let i = 0; i < 5; i++) c.propose(2, `new${i}`);
    c.heal();
    const before = c.sent.length;
    c.tickAll(3);
    const rejects = c.sent.slice(before).filter((m) => m.type === 'appResp' && m.reject && m.from === 1);
    expect(rejects.length).toBeLessThanOrEqual(3);
    expect(c.appliedTexts(1)).toEqual(['base', 'new0', 'new1', 'new2', 'new3', 'new4']);
  });

  it('bounds in-flight appends per follower (flow control) and bytes per message', () => {
    const c = new TestCluster([1, 2], { maxInflightMessages: 3, maxBytesPerMessage: 10 });
    c.elect(1);
    c.filters.push((m) => m.type !== 'appResp'); // follower acks are lost: the window fills
    for (let i = 0; i < 20; i++) c.node(1).raw.propose(text(`0123456789-${i}`));
    c.deliverAll();
    const apps = c.sent.filter((m) => m.type === 'app' && m.from === 1 && m.entries.length > 0);
    // After the probe succeeded the window allows at most 3 messages in flight.
    expect(apps.length).toBeLessThanOrEqual(4);
    for (const m of apps) {
      const bytes = m.entries.reduce((s, e) => s + e.data.byteLength, 0);
      expect(m.entries.length === 1 || bytes <= 10).toBe(true);
    }
    c.heal();
    c.tickAll(10);
    expect(c.appliedTexts(2)).toHaveLength(20);
  });

  it('pipelines several appends before the first acknowledgement', () => {
    const c = new TestCluster([1, 2, 3], { maxInflightMessages: 8, maxBytesPerMessage: 4 });
    c.elect(1);
    c.tickAll(2);
    const before = c.sent.length;
    for (let i = 0; i < 6; i++) c.node(1).raw.propose(text(`abcd${i}`));
    c.processReadies(); // leader sends without any acknowledgement yet
    const toTwo = c.sent.slice(before).filter((m) => m.type === 'app' && m.to === 2);
    expect(toTwo.length).toBeGreaterThan(1);
  });

  it('limits uncommitted bytes on the leader', () => {
    const c = new TestCluster([1, 2, 3], { maxUncommittedBytes: 20 });
    c.elect(1);
    c.isolate(2);
    c.isolate(3);
    c.node(1).raw.propose(text('0123456789'));
    c.node(1).raw.propose(text('0123456789'));
    expect(() => c.node(1).raw.propose(text('0123456789'))).toThrow(/uncommitted/);
  });
});
