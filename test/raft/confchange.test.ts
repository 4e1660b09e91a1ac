import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ConfChanger,
  applyConfChangeToTracker,
  decodeConfChange,
  encodeConfChange,
  oneNodeChange,
  restoreConfState,
} from '../../src/raft/confchange.js';
import type { ChangeResult } from '../../src/raft/confchange.js';
import { RaftError } from '../../src/raft/errors.js';
import { ProgressTracker, configToConfState } from '../../src/raft/tracker.js';
import type { ConfChange, ConfChangeSingle, ConfChangeTransition, ConfState, NodeId } from '../../src/raft/types.js';

const LAST = 10;

const confState = (p: Partial<ConfState>): ConfState => ({
  voters: [],
  votersOutgoing: [],
  learners: [],
  learnersNext: [],
  autoLeave: false,
  ...p,
});

function install(t: ProgressTracker, r: ChangeResult): ProgressTracker {
  t.config = r.config;
  t.progress = r.progress;
  return t;
}

function trackerOf(cs: Partial<ConfState>): ProgressTracker {
  const t = new ProgressTracker(4, 1000);
  return install(t, restoreConfState(t, confState(cs), LAST));
}

const add = (nodeId: NodeId): ConfChangeSingle => ({ type: 'addVoter', nodeId });
const learner = (nodeId: NodeId): ConfChangeSingle => ({ type: 'addLearner', nodeId });
const remove = (nodeId: NodeId): ConfChangeSingle => ({ type: 'removeNode', nodeId });
const cc = (transition: ConfChangeTransition, ...changes: ConfChangeSingle[]): ConfChange => ({ transition, changes, context: new Uint8Array() });

/** A snapshot of everything observable in a tracker, to prove a change did not mutate it. */
function fingerprint(t: ProgressTracker): string {
  const prs = t.ids().map((id) => `${id}:${String(t.progress.get(id))}:${String(t.progress.get(id)?.recentActive)}`);
  return JSON.stringify({ cs: t.confState(), prs });
}

function expectInvalid(fn: () => unknown, message: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(RaftError);
  expect((caught as RaftError).code).toBe('INVALID_CONF_CHANGE');
  expect((caught as RaftError).message).toMatch(message);
}

describe('simple changes', () => {
  // [start, changes, expected ConfState]
  const table: [string, Partial<ConfState>, ConfChangeSingle[], Partial<ConfState>][] = [
    ['add a voter', { voters: [1, 2, 3] }, [add(4)], { voters: [1, 2, 3, 4] }],
    ['add a learner', { voters: [1] }, [learner(2)], { voters: [1], learners: [2] }],
    ['add several learners', { voters: [1] }, [learner(3), learner(2)], { voters: [1], learners: [2, 3] }],
    ['remove a voter', { voters: [1, 2, 3] }, [remove(2)], { voters: [1, 3] }],
    ['remove a learner', { voters: [1], learners: [2] }, [remove(2)], { voters: [1] }],
    ['remove an unknown id is a no-op', { voters: [1] }, [remove(9)], { voters: [1] }],
    ['add an existing voter is a no-op', { voters: [1, 2] }, [add(2)], { voters: [1, 2] }],
    ['add an existing learner is a no-op', { voters: [1], learners: [2] }, [learner(2)], { voters: [1], learners: [2] }],
    ['promote a learner', { voters: [1], learners: [2] }, [add(2)], { voters: [1, 2] }],
    ['demote a voter', { voters: [1, 2] }, [learner(2)], { voters: [1], learners: [2] }],
    ['one voter plus learners', { voters: [1, 2] }, [add(3), learner(4), learner(5)], { voters: [1, 2, 3], learners: [4, 5] }],
    ['add and remove the same voter', { voters: [1] }, [add(2), remove(2)], { voters: [1] }],
    ['remove then re-add a voter', { voters: [1, 2] }, [remove(2), add(2)], { voters: [1, 2] }],
    ['no changes', { voters: [1, 2] }, [], { voters: [1, 2] }],
  ];
  it.each(table)('%s', (_name, start, changes, want) => {
    const t = trackerOf(start);
    const before = fingerprint(t);
    const r = new ConfChanger(t, LAST).simple(changes);
    expect(configToConfState(r.config)).toEqual(confState(want));
    expect([...r.progress.keys()]).toEqual([...want.voters ?? [], ...want.learners ?? []].sort((a, b) => a - b));
    expect(fingerprint(t)).toBe(before);
  });

  it('new members probe from lastIndex, count as active, and get the tracker limits', () => {
    const t = trackerOf({ voters: [1] });
    const r = new ConfChanger(t, 42).simple([add(2), learner(3)]);
    const v = r.progress.get(2);
    const l = r.progress.get(3);
    expect([v?.match, v?.next, v?.state, v?.recentActive, v?.isLearner]).toEqual([0, 42, 'probe', true, false]);
    expect([l?.isLearner, v?.inflights.maxCount, v?.inflights.maxBytes]).toEqual([true, 4, 1000]);
    // next is at least 1 even on an empty log (match < next).
    expect(new ConfChanger(t, 0).simple([add(2)]).progress.get(2)?.next).toBe(1);
  });

  it('promotion and demotion keep the progress', () => {
    const t = trackerOf({ voters: [1, 2], learners: [3] });
    const pr3 = t.progress.get(3);
    const pr2 = t.progress.get(2);
    if (pr3 === undefined || pr2 === undefined) throw new Error('missing progress');
    pr3.maybeUpdate(7);
    pr2.maybeUpdate(8);
    const promoted = new ConfChanger(t, LAST).simple([add(3)]).progress.get(3);
    expect([promoted?.match, promoted?.isLearner]).toEqual([7, false]);
    const demoted = new ConfChanger(t, LAST).simple([learner(2)]).progress.get(2);
    expect([demoted?.match, demoted?.isLearner]).toEqual([8, true]);
    // The copies are not the tracker's objects.
    expect(promoted).not.toBe(pr3);
    expect(pr3.isLearner).toBe(true);
  });

  it('errors: more than one voter, the last voter, a joint config, bad ids and types', () => {
    const t = trackerOf({ voters: [1, 2, 3], learners: [4] });
    const before = fingerprint(t);
    const c = new ConfChanger(t, LAST);
    expectInvalid(() => c.simple([add(5), add(6)]), /more than one voter/);
    expectInvalid(() => c.simple([remove(1), remove(2)]), /more than one voter/);
    expectInvalid(() => c.simple([add(5), remove(1)]), /more than one voter/);
    expectInvalid(() => c.simple([add(4), learner(3)]), /more than one voter/); // swap roles
    expectInvalid(() => c.simple([remove(1), remove(2), remove(3)]), /removes all voters/);
    expectInvalid(() => c.simple([add(0)]), /invalid node id 0/);
    expectInvalid(() => c.simple([add(-3)]), /invalid node id -3/);
    expectInvalid(() => c.simple([learner(1.5)]), /invalid node id 1.5/);
    expectInvalid(() => c.simple([{ type: 'updateNode' as 'addVoter', nodeId: 2 }]), /unknown change type updateNode/);
    expect(fingerprint(t)).toBe(before);

    const single = trackerOf({ voters: [1], learners: [2] });
    expectInvalid(() => new ConfChanger(single, LAST).simple([remove(1)]), /removes all voters/);
    expectInvalid(() => new ConfChanger(single, LAST).simple([learner(1)]), /removes all voters/);

    const joint = trackerOf({ voters: [1, 2], votersOutgoing: [1, 2, 3] });
    expectInvalid(() => new ConfChanger(joint, LAST).simple([learner(9)]), /simple change in a joint/);

    // A first change into an empty config needs a voter.
    expectInvalid(() => new ConfChanger(new ProgressTracker(1, 0), LAST).simple([learner(1)]), /removes all voters/);
  });
});

describe('joint changes', () => {
  it('enter: the old voters become the outgoing half', () => {
    const t = trackerOf({ voters: [1, 2, 3], learners: [7] });
    const before = fingerprint(t);
    const r = new ConfChanger(t, LAST).enterJoint(true, [add(4), add(5), remove(1), remove(2)]);
    expect(configToConfState(r.config)).toEqual(confState({ voters: [3, 4, 5], votersOutgoing: [1, 2, 3], learners: [7], autoLeave: true }));
    // Removed voters keep their progress: they still count for the outgoing majority.
    expect([...r.progress.keys()]).toEqual([1, 2, 3, 4, 5, 7]);
    expect(fingerprint(t)).toBe(before);
  });

  it('enter with no changes is allowed (incoming = outgoing)', () => {
    const t = trackerOf({ voters: [1, 2] });
    const r = new ConfChanger(t, LAST).enterJoint(false, []);
    expect(configToConfState(r.config)).toEqual(confState({ voters: [1, 2], votersOutgoing: [1, 2] }));
  });

  it('demoting an outgoing voter stages it in learnersNext; leaving makes it a learner', () => {
    const t = trackerOf({ voters: [1, 2, 3] });
    install(t, new ConfChanger(t, LAST).enterJoint(false, [learner(3)]));
    expect(t.confState()).toEqual(confState({ voters: [1, 2], votersOutgoing: [1, 2, 3], learnersNext: [3] }));
    expect(t.progress.get(3)?.isLearner).toBe(false); // still votes in the outgoing half
    install(t, new ConfChanger(t, LAST).leaveJoint());
    expect(t.confState()).toEqual(confState({ voters: [1, 2], learners: [3] }));
    expect(t.progress.get(3)?.isLearner).toBe(true);
  });

  it('a node added as a learner during joint (not an outgoing voter) is a learner at once', () => {
    const t = trackerOf({ voters: [1, 2] });
    const r = new ConfChanger(t, LAST).enterJoint(true, [learner(5), add(3)]);
    expect(configToConfState(r.config)).toEqual(confState({ voters: [1, 2, 3], votersOutgoing: [1, 2], learners: [5], autoLeave: true }));
    expect(r.progress.get(5)?.isLearner).toBe(true);
  });

  it('promoting a learner during joint, and demote-then-promote undoes the staging', () => {
    const t = trackerOf({ voters: [1, 2], learners: [3] });
    const r = new ConfChanger(t, LAST).enterJoint(false, [add(3), remove(2)]);
    expect(configToConfState(r.config)).toEqual(confState({ voters: [1, 3], votersOutgoing: [1, 2] }));
    const u = new ConfChanger(t, LAST).enterJoint(false, [learner(2), add(2)]);
    expect(configToConfState(u.config)).toEqual(confState({ voters: [1, 2], votersOutgoing: [1, 2], learners: [3] }));
  });

  it('removing a staged learner drops it from learnersNext but keeps the outgoing voter', () => {
    const t = trackerOf({ voters: [1, 2, 3] });
    const r = new ConfChanger(t, LAST).enterJoint(false, [learner(3), remove(3)]);
    expect(configToConfState(r.config)).toEqual(confState({ voters: [1, 2], votersOutgoing: [1, 2, 3] }));
    expect(r.progress.has(3)).toBe(true);
  });

  it('leave: progress of ids in no set anymore is dropped, autoLeave is cleared', () => {
    const t = trackerOf({ voters: [1, 2, 3] });
    install(t, new ConfChanger(t, LAST).enterJoint(true, [remove(3), add(4)]));
    expect(t.progress.has(3)).toBe(true);
    const before = fingerprint(t);
    const r = new ConfChanger(t, LAST).leaveJoint();
    expect(configToConfState(r.config)).toEqual(confState({ voters: [1, 2, 4] }));
    expect([...r.progress.keys()]).toEqual([1, 2, 4]);
    expect(fingerprint(t)).toBe(before);
  });

  it('errors: already joint, not joint, zero voters', () => {
    const joint = trackerOf({ voters: [1, 2], votersOutgoing: [1, 2, 3] });
    const before = fingerprint(joint);
    expectInvalid(() => new ConfChanger(joint, LAST).enterJoint(false, []), /already joint/);
    expectInvalid(() => new ConfChanger(joint, LAST).enterJoint(true, [add(4)]), /already joint/);
    expect(fingerprint(joint)).toBe(before);
    expectInvalid(() => new ConfChanger(trackerOf({ voters: [1] }), LAST).leaveJoint(), /not joint/);
    expectInvalid(() => new ConfChanger(new ProgressTracker(1, 0), LAST).leaveJoint(), /not joint/);
    expectInvalid(() => new ConfChanger(new ProgressTracker(1, 0), LAST).enterJoint(false, [add(1)]), /zero-voter/);
    const t = trackerOf({ voters: [1, 2], learners: [3] });
    expectInvalid(() => new ConfChanger(t, LAST).enterJoint(false, [remove(1), remove(2)]), /removes all voters/);
    expectInvalid(() => new ConfChanger(t, LAST).enterJoint(false, [learner(1), learner(2)]), /removes all voters/);
    expectInvalid(() => new ConfChanger(t, LAST).enterJoint(false, [add(0)]), /invalid node id/);
  });
});

describe('bootstrap', () => {
  it('adds any number of members to an empty config', () => {
    const t = new ProgressTracker(2, 0);
    const r = new ConfChanger(t, 1).bootstrap([add(3), add(1), add(2), learner(4)]);
    expect(configToConfState(r.config)).toEqual(confState({ voters: [1, 2, 3], learners: [4] }));
    expect([...r.progress.keys()]).toEqual([1, 2, 3, 4]);
  });

  it('errors: non-empty config, removals, no voter', () => {
    expectInvalid(() => new ConfChanger(trackerOf({ voters: [1] }), 1).bootstrap([add(2)]), /empty configuration/);
    expectInvalid(() => new ConfChanger(new ProgressTracker(2, 0), 1).bootstrap([add(1), remove(1)]), /only add/);
    expectInvalid(() => new ConfChanger(new ProgressTracker(2, 0), 1).bootstrap([learner(1)]), /removes all voters/);
  });
});

describe('applyConfChangeToTracker', () => {
  const t = trackerOf({ voters: [1, 2, 3], learners: [4] });

  it('a single auto change is simple', () => {
    const r = applyConfChangeToTracker(t, cc('auto', add(4)), LAST);
    expect(configToConfState(r.config)).toEqual(confState({ voters: [1, 2, 3, 4] }));
    expect(configToConfState(applyConfChangeToTracker(t, oneNodeChange('removeNode', 2), LAST).config)).toEqual(
      confState({ voters: [1, 3], learners: [4] }),
    );
  });

  it('several auto changes enter a joint config that leaves automatically', () => {
    const r = applyConfChangeToTracker(t, cc('auto', add(4), remove(1)), LAST);
    expect(configToConfState(r.config)).toEqual(confState({ voters: [2, 3, 4], votersOutgoing: [1, 2, 3], autoLeave: true }));
  });

  it('implicitJoint enters joint with autoLeave even for one change; explicitJoint without', () => {
    const i = applyConfChangeToTracker(t, cc('implicitJoint', add(4)), LAST);
    expect([i.config.voters.outgoing.size, i.config.autoLeave]).toEqual([3, true]);
    const e = applyConfChangeToTracker(t, cc('explicitJoint', add(4)), LAST);
    expect([e.config.voters.outgoing.size, e.config.autoLeave]).toEqual([3, false]);
  });

  it('an empty change list leaves the joint config', () => {
    const j = trackerOf({ voters: [2, 3, 4], votersOutgoing: [1, 2, 3], autoLeave: true });
    const r = applyConfChangeToTracker(j, cc('auto'), LAST);
    expect(configToConfState(r.config)).toEqual(confState({ voters: [2, 3, 4] }));
    expectInvalid(() => applyConfChangeToTracker(t, cc('auto'), LAST), /not joint/);
  });

  it('the first change of an empty config is a bootstrap', () => {
    const r = applyConfChangeToTracker(new ProgressTracker(2, 0), cc('auto', add(1), add(2), add(3)), 1);
    expect(configToConfState(r.config)).toEqual(confState({ voters: [1, 2, 3] }));
  });

  it('refuses a second change while joint', () => {
    const j = trackerOf({ voters: [2, 3, 4], votersOutgoing: [1, 2, 3] });
    expectInvalid(() => applyConfChangeToTracker(j, cc('auto', add(5)), LAST), /joint/);
    expectInvalid(() => applyConfChangeToTracker(j, cc('explicitJoint', add(5)), LAST), /already joint/);
  });
});

/** A random but consistent ConfState: every id gets one role. */
const arbConfState: fc.Arbitrary<ConfState> = fc
  .uniqueArray(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 10 })
  .chain((ids) =>
    fc.tuple(fc.constant(ids), fc.array(fc.constantFrom('in', 'out', 'both', 'learner', 'next'), { minLength: ids.length, maxLength: ids.length }), fc.boolean()),
  )
  .filter(([ids, roles]) => ids.some((_, i) => roles[i] === 'in' || roles[i] === 'both'))
  .map(([ids, roles, autoLeave]) => {
    const pick = (...rs: string[]) => ids.filter((_, i) => rs.includes(roles[i] ?? '')).sort((a, b) => a - b);
    const outgoing = pick('out', 'both', 'next');
    return {
      voters: pick('in', 'both'),
      votersOutgoing: outgoing,
      learners: pick('learner'),
      learnersNext: pick('next'),
      autoLeave: outgoing.length > 0 && autoLeave,
    };
  });

const shuffled = (xs: readonly number[]): number[] => [...xs].reverse();

describe('restoreConfState', () => {
  it('restores any consistent configuration exactly (property)', () => {
    fc.assert(
      fc.property(arbConfState, fc.integer({ min: 0, max: 100 }), (cs, last) => {
        const t = new ProgressTracker(3, 0);
        const r = restoreConfState(t, cs, last);
        expect(configToConfState(r.config)).toEqual(cs);
        // Unsorted input restores to the same (sorted) configuration.
        const unsorted: ConfState = {
          voters: shuffled(cs.voters),
          votersOutgoing: shuffled(cs.votersOutgoing),
          learners: shuffled(cs.learners),
          learnersNext: shuffled(cs.learnersNext),
          autoLeave: cs.autoLeave,
        };
        expect(configToConfState(restoreConfState(t, unsorted, last).config)).toEqual(cs);
        // Every member has fresh progress, learners flagged (staged learners still vote).
        const members = [...new Set([...cs.voters, ...cs.votersOutgoing, ...cs.learners])].sort((a, b) => a - b);
        expect([...r.progress.keys()]).toEqual(members);
        for (const [id, pr] of r.progress) {
          expect(pr.isLearner).toBe(cs.learners.includes(id));
          expect([pr.match, pr.next, pr.recentActive]).toEqual([0, Math.max(last, 1), true]);
        }
        // The tracker passed in is untouched.
        expect(t.progress.size).toBe(0);
      }),
    );
  });

  it('starts from an empty configuration whatever the tracker holds', () => {
    const t = trackerOf({ voters: [1, 2, 3], learners: [4] });
    const r = restoreConfState(t, confState({ voters: [7] }), LAST);
    expect(configToConfState(r.config)).toEqual(confState({ voters: [7] }));
    expect([...r.progress.keys()]).toEqual([7]);
    expect(t.confState()).toEqual(confState({ voters: [1, 2, 3], learners: [4] }));
  });

  it('an empty ConfState gives an empty configuration with a fresh progress map', () => {
    const t = new ProgressTracker(1, 0);
    const r = restoreConfState(t, confState({}), LAST);
    expect(configToConfState(r.config)).toEqual(confState({}));
    expect(r.progress.size).toBe(0);
    expect(r.progress).not.toBe(t.progress);
  });

  it('refuses inconsistent ConfStates', () => {
    const t = new ProgressTracker(1, 0);
    const bad: [string, Partial<ConfState>, RegExp][] = [
      ['learner that is a voter', { voters: [1, 2], learners: [2] }, /inconsistent/],
      ['learner that is an outgoing voter', { voters: [1], votersOutgoing: [1, 2], learners: [2] }, /inconsistent/],
      ['learnersNext outside joint', { voters: [1], learnersNext: [2] }, /inconsistent/],
      ['learnersNext not an outgoing voter', { voters: [1], votersOutgoing: [1, 3], learnersNext: [2] }, /inconsistent/],
      ['learnersNext that is an incoming voter', { voters: [1, 2], votersOutgoing: [1, 2], learnersNext: [2] }, /inconsistent/],
      ['autoLeave outside joint', { voters: [1], autoLeave: true }, /inconsistent/],
      ['learners without voters', { learners: [1] }, /removes all voters/],
      ['joint without incoming voters', { votersOutgoing: [1, 2] }, /removes all voters/],
      ['invalid id', { voters: [0] }, /invalid node id/],
    ];
    for (const [name, cs, re] of bad) {
      expect(() => restoreConfState(t, confState(cs), LAST), name).toThrow(re);
      expectInvalid(() => restoreConfState(t, confState(cs), LAST), re);
    }
  });
});

describe('random change sequences (property)', () => {
  const arbSingle: fc.Arbitrary<ConfChangeSingle> = fc.record({
    type: fc.constantFrom('addVoter' as const, 'addLearner' as const, 'removeNode' as const),
    nodeId: fc.integer({ min: 1, max: 6 }),
  });
  const arbChange: fc.Arbitrary<ConfChange> = fc.record({
    transition: fc.constantFrom('auto' as const, 'implicitJoint' as const, 'explicitJoint' as const),
    changes: fc.array(arbSingle, { maxLength: 4 }),
    context: fc.constant(new Uint8Array()),
  });

  it('only ever fails with INVALID_CONF_CHANGE, never mutates the input, and keeps the config restorable', () => {
    fc.assert(
      fc.property(fc.array(arbChange, { maxLength: 25 }), (changes) => {
        const t = new ProgressTracker(2, 0);
        install(t, applyConfChangeToTracker(t, cc('auto', add(1), add(2), add(3)), 1));
        for (const change of changes) {
          const before = fingerprint(t);
          let r: ChangeResult;
          try {
            r = applyConfChangeToTracker(t, change, LAST);
          } catch (err) {
            expect(err).toBeInstanceOf(RaftError);
            expect((err as RaftError).code).toBe('INVALID_CONF_CHANGE');
            expect(fingerprint(t)).toBe(before);
            continue;
          }
          expect(fingerprint(t)).toBe(before);
          install(t, r);
          const cs = t.confState();
          expect(cs.voters.length).toBeGreaterThan(0);
          const voters = new Set([...cs.voters, ...cs.votersOutgoing]);
          expect(cs.learners.filter((id) => voters.has(id))).toEqual([]);
          expect(cs.learnersNext.filter((id) => !cs.votersOutgoing.includes(id) || cs.voters.includes(id))).toEqual([]);
          expect(t.ids()).toEqual([...new Set([...voters, ...cs.learners])].sort((a, b) => a - b));
          // Whatever we reached, a restart (restore from the ConfState) reproduces it.
          expect(configToConfState(restoreConfState(t, cs, LAST).config)).toEqual(cs);
        }
      }),
    );
  });
});

describe('encodeConfChange / decodeConfChange', () => {
  it('round-trips (property)', () => {
    const arb: fc.Arbitrary<ConfChange> = fc.record({
      transition: fc.constantFrom('auto' as const, 'implicitJoint' as const, 'explicitJoint' as const),
      changes: fc.array(
        fc.record({ type: fc.constantFrom('addVoter' as const, 'addLearner' as const, 'removeNode' as const), nodeId: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }) }),
        { maxLength: 6 },
      ),
      context: fc.uint8Array({ maxLength: 40 }),
    });
    fc.assert(
      fc.property(arb, (change) => {
        const back = decodeConfChange(encodeConfChange(change));
        expect(back.transition).toBe(change.transition);
        expect(back.changes).toEqual(change.changes);
        expect([...back.context]).toEqual([...change.context]);
      }),
    );
  });

  it('encodes a context that is a view into a larger buffer', () => {
    const big = new Uint8Array([9, 9, 1, 2, 3, 9]);
    const back = decodeConfChange(encodeConfChange({ ...cc('auto', add(1)), context: big.subarray(2, 5) }));
    expect([...back.context]).toEqual([1, 2, 3]);
  });

  it('refuses to encode malformed changes', () => {
    expectInvalid(() => encodeConfChange(cc('sideways' as 'auto', add(1))), /unknown transition/);
    expectInvalid(() => encodeConfChange(cc('auto', add(0))), /invalid node id/);
    expectInvalid(() => encodeConfChange(cc('auto', { type: 'promote' as 'addVoter', nodeId: 1 })), /unknown change type/);
    expectInvalid(() => encodeConfChange({ transition: 'auto', changes: [], context: 'x' as unknown as Uint8Array }), /context/);
  });

  it('refuses garbage with a typed error', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    const garbage: [Uint8Array, RegExp][] = [
      [enc('nope'), /not valid JSON/],
      [new Uint8Array([0xff, 0xfe, 0x7b, 0x7d]), /not valid JSON/],
      [new Uint8Array(), /not valid JSON/],
      [enc('42'), /not an object/],
      [enc('null'), /not an object/],
      [enc('[]'), /not an object/],
      [enc('{"t":"maybe","c":[],"x":""}'), /unknown transition/],
      [enc('{"t":"auto","x":""}'), /no change list/],
      [enc('{"t":"auto","c":{},"x":""}'), /no change list/],
      [enc('{"t":"auto","c":[]}'), /not base64/],
      [enc('{"t":"auto","c":[],"x":"!!!"}'), /not base64/],
      [enc('{"t":"auto","c":[],"x":"abc"}'), /not base64/],
      [enc('{"t":"auto","c":[["addVoter"]],"x":""}'), /malformed single change/],
      [enc('{"t":"auto","c":[7],"x":""}'), /malformed single change/],
      [enc('{"t":"auto","c":[["joinNode",1]],"x":""}'), /unknown change type/],
      [enc('{"t":"auto","c":[["addVoter",-1]],"x":""}'), /invalid node id/],
      [enc('{"t":"auto","c":[["addVoter",0]],"x":""}'), /invalid node id/],
      [enc('{"t":"auto","c":[["addVoter",1.5]],"x":""}'), /invalid node id/],
      [enc('{"t":"auto","c":[["addVoter","1"]],"x":""}'), /invalid node id/],
    ];
    for (const [data, re] of garbage) expectInvalid(() => decodeConfChange(data), re);
  });
});
