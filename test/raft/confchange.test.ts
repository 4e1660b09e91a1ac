import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfChanger, applyConfChangeToTracker, decodeConfChange, encodeConfChange, restoreConfState } from '../../src/raft/confchange.js';
import { ProgressTracker } from '../../src/raft/tracker.js';
import type { ConfState } from '../../src/raft/types.js';

function trackerOf(cs: ConfState): ProgressTracker {
  const t = new ProgressTracker(4, 0);
  const r = restoreConfState(t, cs, 10);
  t.config = r.config;
  t.progress = r.progress;
  return t;
}

const cs = (voters: number[], learners: number[] = []): ConfState => ({ voters, votersOutgoing: [], learners, learnersNext: [], autoLeave: false });

describe('configuration changes', () => {
  it('a simple change moves at most one voter', () => {
    const t = trackerOf(cs([1, 2, 3]));
    const c = new ConfChanger(t, 10);
    expect(c.simple([{ type: 'addVoter', nodeId: 4 }]).config.voters.incoming).toEqual(new Set([1, 2, 3, 4]));
    expect(() => c.simple([{ type: 'addVoter', nodeId: 4 }, { type: 'addVoter', nodeId: 5 }])).toThrow(/more than one voter/);
    // Learners may change freely alongside.
    expect(() => c.simple([{ type: 'addLearner', nodeId: 4 }, { type: 'addLearner', nodeId: 5 }])).not.toThrow();
  });

  it('never removes the last voter, and never mutates the tracker it was given', () => {
    const t = trackerOf(cs([1]));
    expect(() => new ConfChanger(t, 10).simple([{ type: 'removeNode', nodeId: 1 }])).toThrow(/all voters/);
    expect(t.confState()).toEqual(cs([1]));
  });

  it('joint: demoting an outgoing voter goes through learnersNext, and leaving makes it a learner', () => {
    const t = trackerOf(cs([1, 2, 3]));
    const joint = new ConfChanger(t, 10).enterJoint(false, [{ type: 'addLearner', nodeId: 3 }]);
    t.config = joint.config;
    t.progress = joint.progress;
    expect(t.confState()).toEqual({ voters: [1, 2], votersOutgoing: [1, 2, 3], learners: [], learnersNext: [3], autoLeave: false });
    expect(() => new ConfChanger(t, 10).enterJoint(false, [])).toThrow(/already joint/);
    expect(() => new ConfChanger(t, 10).simple([{ type: 'addVoter', nodeId: 9 }])).toThrow(/joint/);
    const left = new ConfChanger(t, 10).leaveJoint();
    t.config = left.config;
    t.progress = left.progress;
    expect(t.confState()).toEqual(cs([1, 2], [3]));
    expect(() => new ConfChanger(t, 10).leaveJoint()).toThrow(/not joint/);
  });

  it('removing a node drops its progress once no configuration holds it', () => {
    const t = trackerOf(cs([1, 2, 3]));
    const r = new ConfChanger(t, 10).enterJoint(true, [{ type: 'removeNode', nodeId: 3 }]);
    expect(r.progress.has(3)).toBe(true); // still an outgoing voter
    t.config = r.config;
    t.progress = r.progress;
    expect(new ConfChanger(t, 10).leaveJoint().progress.has(3)).toBe(false);
  });

  it('chooses the transition from the ConfChange', () => {
    const t = trackerOf(cs([1, 2, 3], [4]));
    const auto = applyConfChangeToTracker(t, { transition: 'auto', changes: [{ type: 'addVoter', nodeId: 4 }], context: new Uint8Array() }, 10);
    expect(auto.config.voters.outgoing.size).toBe(0);
    const explicit = applyConfChangeToTracker(t, { transition: 'explicitJoint', changes: [{ type: 'addVoter', nodeId: 4 }], context: new Uint8Array() }, 10);
    expect(explicit.config.voters.outgoing.size).toBe(3);
    expect(explicit.config.autoLeave).toBe(false);
    const multi = applyConfChangeToTracker(t, { transition: 'auto', changes: [{ type: 'addVoter', nodeId: 4 }, { type: 'removeNode', nodeId: 1 }], context: new Uint8Array() }, 10);
    expect(multi.config.autoLeave).toBe(true);
  });

  it('restores any valid configuration exactly (property)', () => {
    const idSet = fc.uniqueArray(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(idSet, fc.boolean(), fc.boolean(), (all, joint, autoLeave) => {
        // Split the ids into voters / outgoing / learners / learnersNext consistently.
        const voters = all.filter((_, i) => i % 3 !== 2);
        if (voters.length === 0) return;
        const learners = all.filter((_, i) => i % 3 === 2);
        const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
        let state: ConfState;
        if (!joint) {
          state = { voters: sorted(voters), votersOutgoing: [], learners: sorted(learners), learnersNext: [], autoLeave: false };
        } else {
          const outgoing = sorted(voters.slice(0, Math.max(1, voters.length - 1)).concat(learners.slice(0, 1)));
          const next = learners.slice(0, 1);
          state = { voters: sorted(voters), votersOutgoing: outgoing, learners: sorted(learners.slice(1)), learnersNext: sorted(next), autoLeave };
        }
        expect(trackerOf(state).confState()).toEqual(state);
      }),
    );
  });

  it('encodes and decodes changes, and refuses garbage with a typed error', () => {
    const cc = { transition: 'implicitJoint' as const, changes: [{ type: 'addLearner' as const, nodeId: 7 }], context: new Uint8Array([1, 2, 3]) };
    const back = decodeConfChange(encodeConfChange(cc));
    expect(back.transition).toBe('implicitJoint');
    expect(back.changes).toEqual(cc.changes);
    expect([...back.context]).toEqual([1, 2, 3]);
    expect(() => decodeConfChange(new TextEncoder().encode('nope'))).toThrow(expect.objectContaining({ code: 'INVALID_CONF_CHANGE' }) as Error);
    expect(() => decodeConfChange(new TextEncoder().encode('{"t":"auto","c":[["addVoter",-1]],"x":""}'))).toThrow(/invalid node id/);
  });
});
