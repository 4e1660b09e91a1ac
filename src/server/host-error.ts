import { CodedError } from '../util/coded-error.js';

export type HostErrorCode =
  | 'NOT_READY'
  | 'UNKNOWN_GROUP'
  | 'GROUP_REMOVED'
  | 'NOT_IN_MEMBERS'
  | 'ALREADY_INITIALIZED'
  | 'EMPTY_MEMBERSHIP'
  | 'LEARNER_NOT_FOUND'
  | 'MEMBER_NOT_FOUND'
  | 'CONF_CHANGE_IN_PROGRESS'
  | 'NOT_LEADER'
  | 'CATCH_UP_TIMEOUT'
  | 'BAD_REQUEST';

/** An admin or data request the host refuses; `details` carries fields the seed APIs report. */
export class HostError extends CodedError<HostErrorCode> {
  constructor(
    code: HostErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(code, message);
  }
}
