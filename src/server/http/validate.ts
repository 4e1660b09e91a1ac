import { badRequest } from './api-error.js';

/** Limits on what a request may carry; configurable (`[api]` in the TOML). */
export interface ApiLimits {
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
  readonly maxBodyBytes: number;
}

export function requireObject(body: unknown, what = 'request body'): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest(`${what} must be a JSON object`);
  return body as Record<string, unknown>;
}

export function requireKey(v: unknown, limits: ApiLimits, field = 'key'): string {
  if (typeof v !== 'string') throw badRequest(`${field} must be a string`);
  if (v.length === 0) throw badRequest(`${field} must not be empty`);
  const bytes = Buffer.byteLength(v);
  if (bytes > limits.maxKeyBytes) throw badRequest(`${field} is ${bytes} bytes; the limit is ${limits.maxKeyBytes}`, 'KEY_TOO_LONG');
  return v;
}

export function requireValue(v: unknown, limits: ApiLimits, field = 'value'): string {
  if (typeof v !== 'string') throw badRequest(`${field} must be a string`);
  const bytes = Buffer.byteLength(v);
  if (bytes > limits.maxValueBytes) throw badRequest(`${field} is ${bytes} bytes; the limit is ${limits.maxValueBytes}`, 'VALUE_TOO_LARGE');
  return v;
}

export function optionalString(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw badRequest(`${field} must be a string`);
  return v;
}

export function requireId(v: unknown, field: string): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0 || n > 2 ** 31 - 1) throw badRequest(`${field} must be a positive integer`);
  return n;
}

export function optionalCount(v: unknown, field: string, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > max) throw badRequest(`${field} must be an integer from 0 to ${max}`);
  return n;
}

/** "host:port" with a port in range: where a node listens. */
export function requireAddress(v: unknown, field: string): string {
  if (typeof v !== 'string' || !/^[\w.[\]:-]{1,300}:\d{1,5}$/.test(v) || Number(v.slice(v.lastIndexOf(':') + 1)) > 65535) {
    throw badRequest(`${field} must be an address "host:port"`);
  }
  return v;
}
