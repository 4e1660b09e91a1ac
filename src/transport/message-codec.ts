import { packValue, unpackValue } from '../util/msgpack.js';
import type { Message, MessageType } from '../raft/message.js';
import type { ConfState, Entry, SnapshotMeta } from '../raft/types.js';
import { TransportError } from './errors.js';

/**
 * The wire form of raft messages: positional arrays in MessagePack. No field names travel, so
 * an append of many small entries costs little more than the entries' bytes. Decoding checks
 * every field's type, because a peer is another process and may run another build.
 */

const TYPES: readonly MessageType[] = [
  'prop', 'app', 'appResp', 'vote', 'voteResp', 'preVote', 'preVoteResp', 'snap', 'heartbeat',
  'heartbeatResp', 'transferLeader', 'timeoutNow', 'readIndex', 'readIndexResp',
];
const TYPE_CODES = new Map(TYPES.map((t, i) => [t, i]));

/** One message addressed to a raft group. */
export interface GroupMessage {
  readonly group: number;
  readonly message: Message;
}

type WireEntry = [number, number, 0 | 1, Uint8Array];
type WireConfState = [number[], number[], number[], number[], boolean];
type WireSnapshot = [number, number, WireConfState];

/** Frame payload codec (MessagePack). */
export const packr = { pack: packValue, unpack: unpackValue };

export function encodeMessage(group: number, m: Message): unknown[] {
  const code = TYPE_CODES.get(m.type);
  if (code === undefined) throw new TransportError('BAD_FRAME', `message type ${m.type} never crosses the network`);
  const entries: WireEntry[] = m.entries.map((e) => [e.index, e.term, e.type === 'confChange' ? 1 : 0, e.data]);
  return [
    group, code, m.from, m.to, m.term, m.logTerm, m.index, m.commit, m.reject, m.rejectHint, entries,
    m.snapshot === undefined ? null : encodeSnapshotMeta(m.snapshot),
    m.context ?? null, m.leaseTick ?? null, m.force ?? null, m.lease ?? null, m.commitOnly ?? null,
  ];
}

export function encodeSnapshotMeta(s: SnapshotMeta): WireSnapshot {
  const c = s.confState;
  return [s.index, s.term, [[...c.voters], [...c.votersOutgoing], [...c.learners], [...c.learnersNext], c.autoLeave]];
}

export function decodeMessage(raw: unknown): GroupMessage {
  // 16 fields from a peer of a build before commitOnly: it never sets the flag.
  if (!Array.isArray(raw) || (raw.length !== 17 && raw.length !== 16)) throw bad('a message must be a 17-field array');
  const [group, code, from, to, term, logTerm, index, commit, reject, rejectHint, entries, snapshot, context, leaseTick, force, lease, commitOnly = null] = raw as unknown[];
  const type = typeof code === 'number' ? TYPES[code] : undefined;
  if (type === undefined) throw bad(`unknown message type code ${String(code)}`);
  const m: Message = {
    type,
    from: uint(from, 'from'),
    to: uint(to, 'to'),
    term: uint(term, 'term'),
    logTerm: uint(logTerm, 'logTerm'),
    index: uint(index, 'index'),
    entries: decodeEntries(entries),
    commit: uint(commit, 'commit'),
    reject: bool(reject, 'reject'),
    rejectHint: uint(rejectHint, 'rejectHint'),
    ...(snapshot === null ? {} : { snapshot: decodeSnapshotMeta(snapshot) }),
    ...(context === null ? {} : { context: bytes(context, 'context') }),
    ...(leaseTick === null ? {} : { leaseTick: uint(leaseTick, 'leaseTick') }),
    ...(force === null ? {} : { force: bool(force, 'force') }),
    ...(lease === null ? {} : { lease: bool(lease, 'lease') }),
    ...(commitOnly === null ? {} : { commitOnly: bool(commitOnly, 'commitOnly') }),
  };
  return { group: uint(group, 'group'), message: m };
}

export function decodeSnapshotMeta(raw: unknown): SnapshotMeta {
  if (!Array.isArray(raw) || raw.length !== 3) throw bad('snapshot metadata must be a 3-field array');
  const [index, term, cs] = raw as unknown[];
  if (!Array.isArray(cs) || cs.length !== 5) throw bad('conf state must be a 5-field array');
  const [voters, votersOutgoing, learners, learnersNext, autoLeave] = cs as unknown[];
  const confState: ConfState = {
    voters: ids(voters, 'voters'),
    votersOutgoing: ids(votersOutgoing, 'votersOutgoing'),
    learners: ids(learners, 'learners'),
    learnersNext: ids(learnersNext, 'learnersNext'),
    autoLeave: bool(autoLeave, 'autoLeave'),
  };
  return { index: uint(index, 'snapshot index'), term: uint(term, 'snapshot term'), confState };
}

function decodeEntries(raw: unknown): Entry[] {
  if (!Array.isArray(raw)) throw bad('entries must be an array');
  return raw.map((e: unknown) => {
    if (!Array.isArray(e) || e.length !== 4) throw bad('an entry must be a 4-field array');
    const [index, term, type, data] = e as unknown[];
    if (type !== 0 && type !== 1) throw bad(`unknown entry type ${String(type)}`);
    return { index: uint(index, 'entry index'), term: uint(term, 'entry term'), type: type === 1 ? 'confChange' : 'normal', data: bytes(data, 'entry data') };
  });
}

function uint(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(`${what} must be a non-negative integer`);
  return v;
}

function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') throw bad(`${what} must be a boolean`);
  return v;
}

function bytes(v: unknown, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw bad(`${what} must be bytes`);
  return v;
}

function ids(v: unknown, what: string): number[] {
  if (!Array.isArray(v)) throw bad(`${what} must be an array`);
  return v.map((x) => uint(x, what));
}

function bad(message: string): TransportError {
  return new TransportError('BAD_FRAME', message);
}
