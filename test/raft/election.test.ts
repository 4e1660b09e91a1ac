import { describe, expect, it } from 'vitest';
import { message } from '../../src/raft/message.js';
import { TestCluster } from './harness.js';

describe('leader election', () => {
  it('elects exactly one leader with randomized timeouts', () => {
    const c = new TestCluster([1, 2, 3]);
    for (let i = 0; i < 40 && c.leaders().length === 0; i++) c.tickAll();
    expect(c.leaders()).toHaveLength(1);
    const leader = c.leaders()[0] ?? 0;
    const term = c.node(leader).raw.raft.term;
    for (const n of c.nodes.values()) {
      expect(n.raw.raft.term).toBe(term);
      expect(n.raw.raft.lead).toBe(leader);
    }
  });

  it('randomizes election timeouts in [electionTimeout, 2 * electionTimeout)', () => {
    const c = new TestCluster([1, 2, 3], {}, [], 7);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const r = c.node(1).raw.raft;
      r.becomeFollower(r.term + 1, 0);
      seen.add(r.randomizedElectionTimeoutTicks);
    }
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...seen)).toBeLessThan(20);
    expect(seen.size).toBeGreaterThan(5);
  });

  it('is reproducible from the seed', () => {
    const run = (seed: number): string => {
      const c = new TestCluster([1, 2, 3, 4, 5], {}, [], seed);
      for (let i = 0; i < 40 && c.leaders().length === 0; i++) c.tickAll();
      return `${c.leaders().join()}@${c.node(1).raw.raft.term}`;
    };
    expect(run(11)).toBe(run(11));
  });

  it('grants at most one vote per term', () => {
    const c = new TestCluster([1, 2, 3], { preVote: false, checkQuorum: false });
    const r3 = c.node(3).raw.raft;
    r3.step(message({ type: 'vote', from: 1, to: 3, term: 5, index: 1, logTerm: 1 }));
    r3.step(message({ type: 'vote', from: 2, to: 3, term: 5, index: 1, logTerm: 1 }));
    const votes = r3.msgsAfterPersist.filter((m) => m.type === 'voteResp');
    expect(votes.map((m) => [m.to, m.reject])).toEqual([
      [1, false],
      [2, true],
    ]);
    expect(r3.vote).toBe(1);
  });

  it('refuses a candidate whose log is behind', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.propose(1, 'x');
    const r2 = c.node(2).raw.raft;
    const term = r2.term + 1;
    r2.electionElapsedTicks = 100; // outside any lease
    r2.lead = 0;
    r2.step(message({ type: 'vote', from: 3, to: 2, term, index: 1, logTerm: 1 }));
    const resp = r2.msgsAfterPersist.filter((m) => m.type === 'voteResp').pop();
    expect(resp?.reject).toBe(true);
  });

  it('with PreVote, a partitioned node does not raise its term and cannot disrupt the leader on rejoin', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    const term = c.node(1).raw.raft.term;
    c.isolate(3);
    c.tickAll(100);
    expect(c.node(3).raw.raft.term).toBe(term);
    c.heal();
    c.tickAll(5);
    expect(c.leaders()).toEqual([1]);
    expect(c.node(1).raw.raft.term).toBe(term);
  });

  it('without PreVote but with CheckQuorum, followers ignore a disruptive candidate while the leader is live', () => {
    const c = new TestCluster([1, 2, 3], { preVote: false, checkQuorum: true });
    c.elect(1);
    c.isolate(3);
    c.propose(1, 'while-3-is-away'); // node 3's log falls behind
    c.tickAll(50); // node 3 campaigns repeatedly, raising its term
    expect(c.node(3).raw.raft.term).toBeGreaterThan(c.node(1).raw.raft.term);
    c.heal();
    // Node 3's vote requests are ignored by 1 and 2 (in lease); the leader learns of the
    // higher term from 3's replies and a new election follows, but 3 (behind) cannot win.
    c.tickAll(60);
    expect(c.leaders()).toHaveLength(1);
    expect(c.leaders()[0]).not.toBe(3);
  });

  it('a removed node cannot disrupt the cluster', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.node(1).raw.proposeConfChange({ transition: 'auto', changes: [{ type: 'removeNode', nodeId: 3 }], context: new Uint8Array() });
    c.deliverAll();
    c.tickAll(3);
    expect(c.node(1).confState.voters).toEqual([1, 2]);
    const term = c.node(1).raw.raft.term;
    c.tickAll(100);
    expect(c.leaders()).toContain(1);
    expect(c.node(1).raw.raft.term).toBe(term);
  });

  it('CheckQuorum: a leader that cannot reach a quorum steps down', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.isolate(1);
    c.tick(1, 25);
    expect(c.node(1).raw.raft.role).toBe('follower');
  });

  it('learners never campaign and their votes never count', () => {
    const c = new TestCluster([1, 2], {}, [3]);
    c.isolate(1);
    c.isolate(2);
    const term = c.node(3).raw.raft.term;
    c.tick(3, 100);
    expect(c.node(3).raw.raft.role).toBe('follower');
    expect(c.node(3).raw.raft.term).toBe(term);
    // A candidate in a 2-voter cluster with the learner's vote still lacks a quorum.
    const r1 = c.node(1).raw.raft;
    r1.campaign('vote', false);
    r1.step(message({ type: 'voteResp', from: 3, to: 1, term: r1.term }));
    expect(r1.role).toBe('candidate');
    r1.step(message({ type: 'voteResp', from: 2, to: 1, term: r1.term }));
    expect(r1.role).toBe('leader');
  });

  it('a single-node cluster elects itself at once', () => {
    const c = new TestCluster([1]);
    c.tickAll(25);
    expect(c.leaders()).toEqual([1]);
  });
});
