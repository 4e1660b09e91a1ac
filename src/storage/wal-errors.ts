import { CodedError } from '../util/coded-error.js';

/** The log is damaged somewhere other than its tail: the node must not start on it. */
export class WalCorruptError extends CodedError<'WAL_CORRUPT'> {
  constructor(
    readonly file: string,
    readonly offset: number,
    why: string,
  ) {
    super('WAL_CORRUPT', `write-ahead log corrupt in ${file} at byte ${offset}: ${why}; run \`keel repair --data-dir DIR\` to truncate the log there (entries after it are lost)`);
  }
}

/** A write through the storage of a group deleted since (see Wal.deleteGroup). */
export class WalGroupDeletedError extends CodedError<'WAL_GROUP_DELETED'> {
  constructor(readonly group: number) {
    super('WAL_GROUP_DELETED', `group ${group} was deleted from the write-ahead log; its old storage no longer accepts writes`);
  }
}
