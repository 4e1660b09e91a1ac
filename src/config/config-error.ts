import { CodedError } from '../util/coded-error.js';

/**
 * A configuration that cannot be used. The message always starts with the flag (`--join`) or
 * the file key (`keel.toml: [raft.persistence] strategy`) at fault, because the person reading
 * it has to find and fix exactly that spot; callers branch on `code`, never on the text.
 */
export class ConfigError extends CodedError<'CONFIG_INVALID'> {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
  }
}
