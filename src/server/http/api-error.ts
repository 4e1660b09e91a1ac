import { isNodeError } from '../../node/errors.js';
import { CodedError } from '../../util/coded-error.js';
import { KvCommandError } from '../../kv/errors.js';
import { HostError } from '../host-error.js';
import { WatchCompactedError } from '../watch-hub.js';

/** A request the API refuses, with the HTTP status it maps to. */
export class ApiError extends CodedError<string> {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(code, message);
  }
}

export function badRequest(message: string, code = 'BAD_REQUEST'): ApiError {
  return new ApiError(400, code, message);
}

const HOST_STATUS: Record<string, number> = {
  NOT_READY: 503,
  UNKNOWN_GROUP: 404,
  GROUP_REMOVED: 410,
  NOT_IN_MEMBERS: 400,
  ALREADY_INITIALIZED: 409,
  EMPTY_MEMBERSHIP: 400,
  LEARNER_NOT_FOUND: 400,
  MEMBER_NOT_FOUND: 404,
  CONF_CHANGE_IN_PROGRESS: 409,
  NOT_LEADER: 503,
  CATCH_UP_TIMEOUT: 504,
  BAD_REQUEST: 400,
};

/**
 * Maps any failure to a status and the JSON body every route uses:
 * `{"error":{"code":"...","message":"..."}}`. Errors that are not ours (a bug) become 500
 * without internals in the body; they are logged by the caller.
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof KvCommandError) return new ApiError(400, err.code, err.message);
  if (err instanceof WatchCompactedError) return new ApiError(410, 'WATCH_COMPACTED', err.message, { oldestVersion: err.oldestVersion });
  if (err instanceof HostError) return new ApiError(HOST_STATUS[err.code] ?? 400, err.code, err.message, err.details);
  if (isNodeError(err)) {
    switch (err.code) {
      case 'TIMEOUT':
        return new ApiError(504, 'TIMEOUT', err.message);
      case 'DROPPED':
        return new ApiError(503, 'NO_LEADER', `no leader is available: ${err.message}`);
      case 'STOPPED':
        return new ApiError(503, 'STOPPED', err.message);
      case 'CONF_CHANGE_IN_PROGRESS':
        return new ApiError(409, 'CONF_CHANGE_IN_PROGRESS', err.message);
      case 'INVALID_CONF_CHANGE':
        return new ApiError(400, 'INVALID_CONF_CHANGE', err.message);
      default:
        return new ApiError(500, err.code, err.message);
    }
  }
  const fastifyErr = err as { statusCode?: number; code?: string; message?: string };
  if (typeof fastifyErr.statusCode === 'number' && fastifyErr.statusCode >= 400 && fastifyErr.statusCode < 500) {
    const code = fastifyErr.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'BODY_TOO_LARGE' : fastifyErr.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'UNSUPPORTED_MEDIA_TYPE' : 'BAD_REQUEST';
    return new ApiError(fastifyErr.statusCode, code, fastifyErr.message ?? 'bad request');
  }
  if (err instanceof SyntaxError) return new ApiError(400, 'BAD_JSON', `request body is not valid JSON: ${err.message}`);
  return new ApiError(500, 'INTERNAL', 'internal error');
}

export function errorBody(e: ApiError): { error: Record<string, unknown> } {
  return { error: { code: e.code, message: e.message, ...e.details } };
}
