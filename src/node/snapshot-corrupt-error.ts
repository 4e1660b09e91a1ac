import { CodedError } from '../util/coded-error.js';

/**
 * Stored snapshot bytes that do not verify (length or checksum): neither a node starting from
 * them nor a follower receiving them may use them.
 */
export class SnapshotCorruptError extends CodedError<'SNAPSHOT_CORRUPT'> {
  constructor(
    /** Where the snapshot lives: a file path, or a description for an in-memory store. */
    readonly file: string,
    why: string,
  ) {
    super('SNAPSHOT_CORRUPT', `snapshot ${file} is damaged: ${why}`);
  }
}
