import { encodeConfChange } from './confchange.js';
import { RaftError } from './errors.js';
import type { LogStorage } from './storage.js';
import type { ConfChangeSingle, Entry, HardState, NodeId } from './types.js';

export interface InitialMembers {
  readonly voters: readonly NodeId[];
  readonly learners?: readonly NodeId[];
  /** Opaque bytes stored with the change (the server keeps member addresses here). */
  readonly context?: Uint8Array;
}

/**
 * The log every initial member of a new group starts with: entry 1 (term 1) is a committed
 * configuration change that adds all initial members. Because the configuration lives in the
 * log, a node added later learns the whole membership history by replicating it, exactly as
 * it learns every other change.
 */
export function bootstrapLog(members: InitialMembers): { entries: Entry[]; hardState: HardState } {
  const learners = members.learners ?? [];
  const all = [...members.voters, ...learners];
  if (members.voters.length === 0) throw new RaftError('INVALID_CONFIG', 'a group needs at least one voter');
  if (new Set(all).size !== all.length) throw new RaftError('INVALID_CONFIG', 'initial members must be distinct');
  for (const id of all) {
    if (!Number.isInteger(id) || id <= 0) throw new RaftError('INVALID_CONFIG', `invalid node id ${id}`);
  }
  const changes: ConfChangeSingle[] = [
    ...members.voters.map((nodeId) => ({ type: 'addVoter' as const, nodeId })),
    ...learners.map((nodeId) => ({ type: 'addLearner' as const, nodeId })),
  ];
  const data = encodeConfChange({ transition: 'auto', changes, context: members.context ?? new Uint8Array(0) });
  return {
    entries: [{ index: 1, term: 1, type: 'confChange', data }],
    hardState: { term: 1, vote: 0, commit: 1 },
  };
}

/** Writes the bootstrap log to an empty storage; a storage that already has a log is left alone. */
export async function bootstrapStorage(storage: LogStorage, members: InitialMembers): Promise<boolean> {
  if (storage.lastIndex() > 0 || storage.initialState().hardState.term > 0) return false;
  const { entries, hardState } = bootstrapLog(members);
  await storage.save({ entries, hardState });
  return true;
}
