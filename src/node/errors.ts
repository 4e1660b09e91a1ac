import { CodedError } from '../util/coded-error.js';

/** Errors the driver reports to callers; `code` is stable, the message is for humans. */
export type NodeErrorCode =
  /** No outcome within the deadline: the command may or may not have been applied. */
  | 'TIMEOUT'
  /** The request was refused before it entered the log: it was certainly not applied. */
  | 'DROPPED'
  | 'STOPPED'
  /** The log was compacted past every snapshot this node has: it cannot rebuild its state. */
  | 'SNAPSHOT_MISSING'
  | 'INVALID_CONF_CHANGE'
  | 'CONF_CHANGE_IN_PROGRESS';

export class NodeError extends CodedError<NodeErrorCode> {}

export function isNodeError(err: unknown, code?: NodeErrorCode): err is NodeError {
  return err instanceof NodeError && (code === undefined || err.code === code);
}
