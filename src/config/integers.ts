import { ConfigError } from './config-error.js';

/** An inclusive range; every integer setting has one, so no typo can ask for a 10-hour tick. */
export interface IntRange {
  readonly min: number;
  readonly max: number;
}

const INT31_MAX = 2 ** 31 - 1;

/** The accepted range of each integer setting, shared by the flags and the TOML file. */
export const RANGES = {
  nodeId: { min: 1, max: INT31_MAX },
  groupId: { min: 1, max: INT31_MAX },
  /** 0 lets the OS pick (tests bind to port 0). */
  port: { min: 0, max: 65535 },
  /** A health checker has to be told the port in advance, so 0 makes no sense there. */
  healthPort: { min: 1, max: 65535 },
  tickMs: { min: 1, max: 10_000 },
  electionTimeoutTicks: { min: 2, max: 10_000 },
  heartbeatTicks: { min: 1, max: 10_000 },
  snapshotEveryEntries: { min: 1, max: 1_000_000_000 },
  logEntriesKeptAfterSnapshot: { min: 0, max: 1_000_000_000 },
  /** Past a second a held batch would look like an outage to its clients. */
  batchWaitMs: { min: 0, max: 1_000 },
  maxKeyBytes: { min: 1, max: 1024 * 1024 },
  maxValueBytes: { min: 1, max: 64 * 1024 * 1024 },
  maxBodyBytes: { min: 1, max: 128 * 1024 * 1024 },
  /** The upper bound that matters (below the election timeout) is checked once timing is known. */
  leaseDurationMs: { min: 1, max: INT31_MAX },
  flushThreshold: { min: 1, max: 1_000_000 },
  flushIntervalMs: { min: 1, max: 60_000 },
  entryCacheBytes: { min: 0, max: 64 * 1024 * 1024 * 1024 },
} as const satisfies Record<string, IntRange>;

export function describeRange(range: IntRange): string {
  return `an integer from ${range.min} to ${range.max}`;
}

/** Whether `n` is a safe integer within `range`. */
export function inRange(n: number, range: IntRange): boolean {
  return Number.isSafeInteger(n) && n >= range.min && n <= range.max;
}

/**
 * Parses a command-line integer. Only plain decimal digits are accepted: `Number()` would take
 * "", " 7", "0x10" and "1e3", and parseInt would take "12abc", each silently meaning something
 * the user did not type.
 */
export function parseDecimalInt(text: string, range: IntRange, what: string): number {
  const n = /^[0-9]{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!inRange(n, range)) throw new ConfigError(`${what}: expected ${describeRange(range)}, got ${JSON.stringify(text)}`);
  return n;
}
