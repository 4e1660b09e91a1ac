import { packValue, unpackLoose } from '../util/msgpack.js';

/**
 * The one MessagePack codec for KV commands and snapshots. Records are off so that every
 * encoding stands alone (a shared record table would make bytes depend on history), and maps
 * decode as plain objects so garbage can never yield a Map where an array is expected.
 */
export function pack(value: unknown): Uint8Array {
  return packValue(value);
}

/**
 * Decodes exactly one value; any failure (including trailing bytes) returns `undefined`. Every
 * caller checks each field it reads (see `tuple`, `str`, ...), so the loose decoder serves.
 */
export function unpack(bytes: Uint8Array): { value: unknown } | undefined {
  try {
    return { value: unpackLoose(bytes) };
  } catch {
    return undefined;
  }
}

/**
 * True if `s` has no lone surrogate. UTF-8 cannot carry one, so such a string would come back
 * changed (as U+FFFD) and a client's key would silently differ from the stored one.
 */
export function isWellFormed(s: string): boolean {
  // Native since Node 20 (ES2024, beyond this project's lib setting), five times faster than
  // the pattern, and every key and value of every command passes here on every node.
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}

/**
 * Field checks shared by every decoder here. Each takes the error factory of its caller, so a
 * bad command and a bad snapshot report their own typed error.
 */
export type Fail = (message: string) => Error;

export function tuple(v: unknown, min: number, max: number, what: string, fail: Fail): unknown[] {
  if (!Array.isArray(v) || v.length < min || v.length > max) {
    throw fail(min === max ? `${what} must be a ${min}-field array` : `${what} must be an array of ${min} to ${max} fields`);
  }
  return v as unknown[];
}

export function list(v: unknown, what: string, fail: Fail): unknown[] {
  if (!Array.isArray(v)) throw fail(`${what} must be an array`);
  return v as unknown[];
}

export function str(v: unknown, what: string, fail: Fail): string {
  if (typeof v !== 'string' || !isWellFormed(v)) throw fail(`${what} must be a well-formed string`);
  return v;
}

export function uint(v: unknown, what: string, fail: Fail): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw fail(`${what} must be a non-negative integer`);
  return v;
}

export function posInt(v: unknown, what: string, fail: Fail): number {
  const n = uint(v, what, fail);
  if (n === 0) throw fail(`${what} must be a positive integer`);
  return n;
}

export function bool(v: unknown, what: string, fail: Fail): boolean {
  if (typeof v !== 'boolean') throw fail(`${what} must be a boolean`);
  return v;
}
