import { CodedError } from '../util/coded-error.js';

export type TransportErrorCode = 'BAD_FRAME' | 'FRAME_TOO_LARGE' | 'HANDSHAKE_REFUSED';

/** A peer sent something this node cannot accept; the connection carrying it is closed. */
export class TransportError extends CodedError<TransportErrorCode> {}
