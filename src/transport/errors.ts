import { CodedError } from '../util/coded-error.js';

export type TransportErrorCode = 'BAD_FRAME' | 'FRAME_TOO_LARGE' | 'HANDSHAKE_REFUSED' | 'INVALID_LIMITS';

/**
 * A peer sent something this node cannot accept (the connection carrying it is closed), or the
 * transport was given limits it cannot keep (INVALID_LIMITS).
 */
export class TransportError extends CodedError<TransportErrorCode> {}
