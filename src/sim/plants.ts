import type { Message } from '../raft/message.js';
import type { Raft } from '../raft/raft.js';
import type { VoteResult } from '../raft/quorum.js';
import type { ProgressTracker } from '../raft/tracker.js';

/**
 * Planted bugs: each breaks one safety rule of Raft by patching a node's core instance from
 * here, so the production code path carries no trace of them. `npm run sim -- --plant NAME`
 * must fail for every one of them, which shows the simulator can see that kind of bug.
 */
interface Plant {
  readonly description: string;
  readonly patch: (raft: Raft) => void;
}

function raftOf(raft: Raft): Raft {
  return raft;
}

export const PLANTS = {
  'vote-twice': {
    description: 'grant a vote to any up-to-date candidate even after voting for another in the same term',
    patch(node) {
      const r = raftOf(node);
      const original = r.handleVoteRequest.bind(r);
      r.handleVoteRequest = (m: Message): void => {
        if (m.type === 'vote' && r.log.isUpToDate(m.index, m.logTerm)) {
          r.send({ type: 'voteResp', to: m.from, term: m.term });
          r.electionElapsedTicks = 0;
          r.vote = m.from;
          return;
        }
        original(m);
      };
    },
  },
  'commit-old-term': {
    description: "commit an earlier term's entry by counting replicas (ignores Raft §5.4.2)",
    patch(node) {
      const r = raftOf(node);
      r.maybeCommit = (): boolean => {
        const mci = r.tracker.committed();
        if (mci <= r.log.committed) return false;
        r.log.commitTo(Math.min(mci, r.log.lastIndex()));
        return true;
      };
    },
  },
  'lease-without-quorum': {
    description: 'serve lease reads whenever this node believes it is leader, without a quorum-held lease',
    patch(node) {
      const r = raftOf(node);
      r.leaseValid = (): boolean => r.role === 'leader';
    },
  },
  'count-learner-vote': {
    description: "ask learners for votes and count their votes toward the voters' majority",
    patch(node) {
      const r = raftOf(node);
      const patchTracker = (): void => {
        const t = r.tracker as ProgressTracker & { planted?: boolean };
        if (t.planted === true) return;
        t.planted = true;
        const voterIds = t.voterIds.bind(t);
        t.voterIds = () => new Set([...voterIds(), ...t.learnerIds()]);
        t.tallyVotes = (): { granted: number; rejected: number; result: VoteResult } => {
          const voters = voterIds();
          const learners = t.learnerIds();
          const quorum = Math.floor(voters.size / 2) + 1;
          let granted = 0;
          let rejected = 0;
          for (const [id, v] of t.votes) {
            if (!voters.has(id) && !learners.has(id)) continue;
            if (v) granted++;
            else rejected++;
          }
          const result: VoteResult = granted >= quorum ? 'won' : voters.size + learners.size - rejected < quorum ? 'lost' : 'pending';
          return { granted, rejected, result };
        };
      };
      patchTracker();
      const campaign = r.campaign.bind(r);
      r.campaign = (kind, force): void => {
        // The tracker is replaced when a snapshot is restored: patch the current one.
        patchTracker();
        campaign(kind, force);
      };
    },
  },
  'ack-before-durable': {
    description: 'send acknowledgements and votes before the entries and vote they promise are fsynced',
    patch(node) {
      const r = raftOf(node);
      const send = r.send.bind(r);
      r.send = (fields): void => {
        const before = r.msgsAfterPersist.length;
        send(fields);
        for (const m of r.msgsAfterPersist.splice(before)) r.msgs.push(m);
      };
    },
  },
  'vote-for-stale-log': {
    description: 'grant votes without checking that the candidate log is at least as up to date',
    patch(node) {
      const r = raftOf(node);
      r.log.isUpToDate = (): boolean => true;
    },
  },
  'read-index-without-heartbeat': {
    description: 'answer ReadIndex from the leader commit index without confirming leadership with a quorum',
    patch(node) {
      const r = raftOf(node);
      const step = r.step.bind(r);
      r.step = (m: Message): void => {
        if (m.type === 'readIndex' && r.role === 'leader' && r.log.termOrZero(r.log.committed) === r.term) {
          r.respondToReadIndex(m, r.log.committed);
          return;
        }
        step(m);
      };
    },
  },
} satisfies Record<string, Plant>;

export type PlantName = keyof typeof PLANTS;

export function isPlantName(name: string): name is PlantName {
  return Object.prototype.hasOwnProperty.call(PLANTS, name);
}
