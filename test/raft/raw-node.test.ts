import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/raft/message.js';
import type { Ready } from '../../src/raft/raw-node.js';
import type { Entry } from '../../src/raft/types.js';
import { TestCluster } from './harness.js';

const enc = new TextEncoder();
const text = (entries: readonly Entry[]): string[] => entries.filter((e) => e.type === 'normal' && e.data.byteLength > 0).map((e) => new TextDecoder().decode(e.data));

/** Steps each message into its addressee, ignoring the harness's network. */
function stepAll(c: TestCluster, msgs: readonly Message[]): void {
  for (const m of msgs) c.node(m.to).raw.step(m);
}

/** Persists a Ready taken by hand, as the harness does for the Readies it processes. */
function save(c: TestCluster, id: number, rd: Ready): void {
  void c.node(id).storage.save({ entries: rd.entries, ...(rd.hardState === undefined ? {} : { hardState: rd.hardState }) });
}

/** Delivers what is in flight to `to` only, leaving the rest queued. */
function deliverTo(c: TestCluster, to: number): void {
  const mine = c.inflight.filter((m) => m.to === to);
  c.inflight = c.inflight.filter((m) => m.to !== to);
  stepAll(c, mine);
}

describe('RawNode.takeCommittedEntries (applying while a Ready is being saved)', () => {
  it('hands the leader entries the followers committed while its own write is under way, once', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    const leader = c.node(1).raw;
    leader.propose(enc.encode('a'));
    const rd = leader.ready(); // its write of 'a' starts; not advanced yet
    expect(text(rd.entries)).toEqual(['a']);
    stepAll(c, rd.messages);
    c.processReadies(); // the followers persist 'a' and acknowledge it
    deliverTo(c, 1);
    expect(leader.raft.log.committed).toBe(rd.entries[0]?.index);

    const taken = leader.takeCommittedEntries();
    expect(text(taken)).toEqual(['a']);
    expect(leader.takeCommittedEntries()).toEqual([]);
    leader.appliedTo(taken[taken.length - 1]?.index ?? 0);
    save(c, 1, rd);
    leader.advance();
    // The next Ready does not hand 'a' out again.
    c.processReadies();
    expect(c.appliedTexts(1)).toEqual([]);
    expect(leader.raft.log.applied).toBe(taken[0]?.index);
  });

  it('takes only entries already handed out to be saved, and stops before a configuration change', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    const leader = c.node(1).raw;
    const follower = c.node(2).raw;
    // The follower takes 'a' into a Ready and is still saving it when 'b' arrives, committed.
    leader.propose(enc.encode('a'));
    c.processReadies();
    deliverTo(c, 2);
    const rd2 = follower.ready();
    expect(text(rd2.entries)).toEqual(['a']);
    leader.propose(enc.encode('b'));
    c.deliverAll(); // node 3 acknowledges both; the leader commits 'b' and tells node 2
    expect(follower.raft.log.committed).toBe((rd2.entries[0]?.index ?? 0) + 1);
    expect(text(follower.takeCommittedEntries())).toEqual(['a']);

    // A configuration change waits for the Ready loop, and so does what follows it.
    const c2 = new TestCluster([1, 2, 3]);
    c2.elect(1);
    const l2 = c2.node(1).raw;
    l2.propose(enc.encode('c'));
    l2.proposeConfChange({ transition: 'auto', changes: [{ type: 'addLearner', nodeId: 4 }], context: new Uint8Array() });
    l2.propose(enc.encode('d'));
    const rd = l2.ready();
    expect(rd.entries.map((e) => e.type)).toEqual(['normal', 'confChange', 'normal']);
    stepAll(c2, rd.messages);
    c2.processReadies();
    deliverTo(c2, 1);
    expect(l2.raft.log.committed).toBe(rd.entries[2]?.index);
    expect(text(l2.takeCommittedEntries())).toEqual(['c']);
    expect(l2.takeCommittedEntries()).toEqual([]);
  });
});
