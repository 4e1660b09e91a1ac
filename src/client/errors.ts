import { CodedError } from '../util/coded-error.js';

/**
 * A request the cluster refused or could not complete. `status` is the HTTP status (0 when no
 * node could be reached); `code` is the server's error code, or NETWORK / DEADLINE_EXCEEDED.
 */
export class KeelClientError extends CodedError<string> {
  constructor(
    code: string,
    message: string,
    readonly status: number,
    readonly details: Record<string, unknown> = {},
  ) {
    super(code, message);
  }
}
