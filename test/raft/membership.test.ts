import { describe, expect, it } from 'vitest';
import { ConfChanger, oneNodeChange } from '../../src/raft/confchange.js';
import type { ConfChange, ConfChangeSingle } from '../../src/raft/types.js';
import { TestCluster } from './harness.js';

const change = (changes: ConfChangeSingle[], transition: ConfChange['transition'] = 'auto'): ConfChange => ({
  transition,
  changes,
  context: new Uint8Array(),
});

describe('membership changes', () => {
  it('adds a learner that replicates but does not count toward commit', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.addNode(4, undefined);
    c.node(1).raw.proposeConfChange(change([{ type: 'addLearner', nodeId: 4 }]));
    c.deliverAll();
    c.propose(1, 'x');
    c.tickAll(3);
    expect(c.node(1).confState.learners).toEqual([4]);
    expect(c.appliedTexts(4)).toEqual(['x']);
    // With both voters 2 and 3 cut off, the learner's acknowledgement commits nothing.
    c.isolate(2);
    c.isolate(3);
    const committed = c.node(1).raw.raft.log.committed;
    c.node(1).raw.propose(new TextEncoder().encode('y'));
    c.deliverAll();
    expect(c.node(1).raw.raft.log.committed).toBe(committed);
    expect(c.node(4).raw.raft.log.lastIndex()).toBeGreaterThan(committed);
  });

  it('promotes a learner to voter with a single-step change', () => {
    const c = new TestCluster([1, 2, 3], {}, [4]);
    c.elect(1);
    c.node(1).raw.proposeConfChange(oneNodeChange('addVoter', 4));
    c.deliverAll();
    expect(c.node(1).confState.voters).toEqual([1, 2, 3, 4]);
    expect(c.node(4).raw.raft.isLearner).toBe(false);
  });

  it('enters a joint configuration and leaves it automatically', () => {
    const c = new TestCluster([1, 2, 3], {}, [4, 5]);
    c.elect(1);
    c.node(1).raw.proposeConfChange(
      change([
        { type: 'addVoter', nodeId: 4 },
        { type: 'addVoter', nodeId: 5 },
        { type: 'removeNode', nodeId: 2 },
      ]),
    );
    c.deliverAll();
    c.tickAll(3);
    const cs = c.node(1).confState;
    expect(cs.votersOutgoing).toEqual([]);
    expect(cs.voters).toEqual([1, 3, 4, 5]);
    // Every node applied the enter-joint entry and then the automatic leave.
    const ccs = c.node(3).applied.filter((e) => e.type === 'confChange' && e.index > 1); // after bootstrap
    expect(ccs).toHaveLength(2);
  });

  it('with an explicit joint transition, stays joint until told to leave', () => {
    const c = new TestCluster([1, 2, 3], {}, [4]);
    c.elect(1);
    c.node(1).raw.proposeConfChange(change([{ type: 'addVoter', nodeId: 4 }], 'explicitJoint'));
    c.deliverAll();
    c.tickAll(3);
    expect(c.node(1).confState.votersOutgoing).toEqual([1, 2, 3]);
    // In joint consensus both majorities are needed: {1,2} of old, {1,2,4} of new.
    c.node(1).raw.proposeConfChange(change([]));
    c.deliverAll();
    expect(c.node(1).confState.votersOutgoing).toEqual([]);
    expect(c.node(1).confState.voters).toEqual([1, 2, 3, 4]);
  });

  it('in a joint configuration, commit needs a majority of both the old and the new voters', () => {
    const c = new TestCluster([1, 2, 3], {}, [4, 5, 6]);
    c.elect(1);
    c.node(1).raw.proposeConfChange(
      change(
        [
          { type: 'addVoter', nodeId: 4 },
          { type: 'addVoter', nodeId: 5 },
          { type: 'addVoter', nodeId: 6 },
          { type: 'removeNode', nodeId: 2 },
          { type: 'removeNode', nodeId: 3 },
        ],
        'explicitJoint',
      ),
    );
    c.deliverAll();
    // Old voters {1,2,3}, new voters {1,4,5,6}. Cut off 2 and 3: the old majority is lost.
    c.isolate(2);
    c.isolate(3);
    const committed = c.node(1).raw.raft.log.committed;
    c.node(1).raw.propose(new TextEncoder().encode('z'));
    c.deliverAll();
    expect(c.node(1).raw.raft.log.committed).toBe(committed);
    c.heal();
    c.tickAll(2);
    expect(c.node(1).raw.raft.log.committed).toBeGreaterThan(committed);
  });

  it('refuses a second change before the first is applied', () => {
    const c = new TestCluster([1, 2, 3], {}, [4, 5]);
    c.elect(1);
    c.isolate(2);
    c.isolate(3); // the first change cannot commit
    c.node(1).raw.proposeConfChange(change([{ type: 'addVoter', nodeId: 4 }]));
    expect(() => c.node(1).raw.proposeConfChange(change([{ type: 'addVoter', nodeId: 5 }]))).toThrow(/not yet applied/);
  });

  it('refuses a single-step change of two voters', () => {
    const c = new TestCluster([1, 2, 3], {}, [4, 5]);
    c.elect(1);
    expect(() =>
      c.node(1).raw.proposeConfChange({
        transition: 'auto',
        changes: [{ type: 'addVoter', nodeId: 4 }],
        context: new Uint8Array(),
      }),
    ).not.toThrow();
    c.deliverAll();
    // Two voters at once in a simple change is refused by the changer itself.
    const r = c.node(1).raw.raft;
    expect(() => new ConfChanger(r.tracker, r.log.lastIndex()).simple([{ type: 'addVoter', nodeId: 5 }, { type: 'removeNode', nodeId: 2 }])).toThrow(/more than one voter/);
  });

  it('refuses an invalid change at proposal time', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    expect(() => c.node(1).raw.proposeConfChange(change([{ type: 'removeNode', nodeId: 1 }, { type: 'removeNode', nodeId: 2 }, { type: 'removeNode', nodeId: 3 }]))).toThrow();
    expect(() => c.node(1).raw.proposeConfChange(change([]))).toThrow(/not in a joint/);
  });

  it('a removed leader steps down and the rest elect a new leader', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.node(1).raw.proposeConfChange(change([{ type: 'removeNode', nodeId: 1 }]));
    c.deliverAll();
    expect(c.node(1).raw.raft.role).toBe('follower');
    c.isolate(1);
    c.tickAll(40);
    const leaders = c.leaders().filter((id) => id !== 1);
    expect(leaders).toHaveLength(1);
    expect(c.node(leaders[0] ?? 0).confState.voters).toEqual([2, 3]);
  });
});
