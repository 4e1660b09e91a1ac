import { CodedError } from '../util/coded-error.js';

/** A command's bytes or fields are not a valid KV command. */
export class KvCommandError extends CodedError<'BAD_COMMAND'> {}

/**
 * A snapshot's bytes are not a valid KV state. Distinct from KvCommandError because a bad
 * command is a client's mistake, answered per command, while a bad snapshot is local damage.
 */
export class KvSnapshotError extends CodedError<'BAD_SNAPSHOT'> {}
