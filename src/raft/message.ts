import type { Entry, NodeId, SnapshotMeta } from './types.js';

/**
 * Message types. `hup`, `beat`, `checkQuorum` are local (never sent over the wire); the rest
 * travel between nodes. `prop`, `readIndex` and `transferLeader` may also be stepped locally.
 */
export type MessageType =
  | 'hup'
  | 'beat'
  | 'checkQuorum'
  | 'prop'
  | 'app'
  | 'appResp'
  | 'vote'
  | 'voteResp'
  | 'preVote'
  | 'preVoteResp'
  | 'snap'
  | 'snapStatus'
  | 'unreachable'
  | 'heartbeat'
  | 'heartbeatResp'
  | 'transferLeader'
  | 'timeoutNow'
  | 'readIndex'
  | 'readIndexResp';

/**
 * One Raft message. A flat record (like etcd's raftpb.Message) so the transport can encode every
 * type with one codec. Fields not used by a type are left at their zero value.
 */
export interface Message {
  readonly type: MessageType;
  readonly from: NodeId;
  readonly to: NodeId;
  /** The sender's term; 0 for local messages and for `prop`/`readIndex` forwarding. */
  readonly term: number;
  /** app: term of the entry at `index`. vote/preVote: the candidate's last log term. appResp reject: term at `rejectHint`. */
  readonly logTerm: number;
  /** app: index before `entries`. appResp: the follower's last matching index. vote: candidate's last index. */
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly reject: boolean;
  /** appResp reject: the follower's hint of where its log may match (fast backtracking). */
  readonly rejectHint: number;
  /** snap: the snapshot to install (metadata; the bytes travel beside the message). */
  readonly snapshot?: SnapshotMeta;
  /** heartbeat/heartbeatResp/readIndex/readIndexResp: read-request context, echoed back. */
  readonly context?: Uint8Array;
  /**
   * heartbeat/heartbeatResp: the leader's tick counter when it sent the heartbeat, echoed by the
   * follower. The leader's lease is anchored at the send time of the newest heartbeat round that
   * a quorum acknowledged.
   */
  readonly leaseTick?: number;
  /** vote/preVote: set by a leadership transfer so the vote ignores the receiver's leader lease. */
  readonly force?: boolean;
  /** readIndex: serve with a leader lease instead of a heartbeat round. */
  readonly lease?: boolean;
  /**
   * app: sent only to tell the commit index, to a follower that has been sent every entry. A
   * follower that accepts it does not answer: the answer would repeat what the answers to the
   * appends carrying those entries tell, and at one request in flight it cost every node a
   * frame and a wake-up per write. A rejection is still answered.
   */
  readonly commitOnly?: boolean;
}

const EMPTY_ENTRIES: readonly Entry[] = Object.freeze([]);

/** Builds a message with zero values for every field not given. */
export function message(fields: Partial<Message> & Pick<Message, 'type'>): Message {
  return {
    from: 0,
    to: 0,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: EMPTY_ENTRIES,
    commit: 0,
    reject: false,
    rejectHint: 0,
    ...fields,
  };
}

/** Local messages never cross the network. */
export function isLocalMessage(type: MessageType): boolean {
  return type === 'hup' || type === 'beat' || type === 'checkQuorum' || type === 'unreachable' || type === 'snapStatus';
}

/** Responses are what a remote node sends back about its own state. */
export function isResponseMessage(type: MessageType): boolean {
  return (
    type === 'appResp' ||
    type === 'voteResp' ||
    type === 'preVoteResp' ||
    type === 'heartbeatResp' ||
    type === 'readIndexResp' ||
    type === 'unreachable'
  );
}

export function voteResponseType(type: MessageType): MessageType {
  if (type === 'vote') return 'voteResp';
  if (type === 'preVote') return 'preVoteResp';
  throw new Error(`not a vote message: ${type}`);
}

/** Size used for flow control: payload bytes of the entries. */
export function entryPayloadBytes(e: Entry): number {
  return e.data.byteLength;
}
