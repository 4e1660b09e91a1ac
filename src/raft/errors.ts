import { CodedError } from '../util/coded-error.js';

/**
 * Typed errors with a stable `code`. Callers branch on `code`, never on the message text.
 */
export type RaftErrorCode =
  | 'COMPACTED'
  | 'UNAVAILABLE'
  | 'SNAPSHOT_TEMPORARILY_UNAVAILABLE'
  | 'SNAPSHOT_OUT_OF_DATE'
  | 'PROPOSAL_DROPPED'
  | 'NOT_LEADER'
  | 'CONF_CHANGE_IN_PROGRESS'
  | 'INVALID_CONF_CHANGE'
  | 'STEP_LOCAL_MESSAGE'
  | 'STEP_PEER_NOT_FOUND'
  | 'INVALID_CONFIG';

export class RaftError extends CodedError<RaftErrorCode> {}

export function isRaftError(err: unknown, code?: RaftErrorCode): err is RaftError {
  return err instanceof RaftError && (code === undefined || err.code === code);
}

/** Always-on invariant check. A failed assertion is a bug in Keel, never a user error. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}
