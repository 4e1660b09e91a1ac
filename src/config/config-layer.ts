import type { HostPort, InitialMember, LogLevel, ReadPolicy } from './types.js';

/** A setting's value with the name of the flag or file key it came from, for later cross-checks to cite. */
export interface Sourced<T> {
  readonly value: T;
  readonly name: string;
}

/**
 * What one source (the TOML file, or the flags) says, setting by setting; absent means "this
 * source is silent". Resolving merges the layers key by key (flags over file over defaults),
 * which is what "flags override the file" means, and keeps each value's origin for messages.
 */
export interface ConfigLayer {
  nodeId?: Sourced<number>;
  httpAddr?: Sourced<HostPort>;
  raftAddr?: Sourced<HostPort>;
  healthPort?: Sourced<number>;
  dataDir?: Sourced<string>;
  initialCluster?: Sourced<readonly InitialMember[]>;
  join?: Sourced<HostPort>;
  initialGroup?: Sourced<number>;
  clusterId?: Sourced<string>;
  readPolicy?: Sourced<ReadPolicy>;
  leaseDurationMs?: Sourced<number>;
  persistenceStrategy?: Sourced<'diskFirst' | 'memFirst'>;
  flushThreshold?: Sourced<number>;
  flushIntervalMs?: Sourced<number>;
  entryCacheBytes?: Sourced<number>;
  tickMs?: Sourced<number>;
  electionTimeoutTicks?: Sourced<number>;
  heartbeatTicks?: Sourced<number>;
  snapshotEveryEntries?: Sourced<number>;
  logEntriesKeptAfterSnapshot?: Sourced<number>;
  batchWaitMs?: Sourced<number>;
  maxKeyBytes?: Sourced<number>;
  maxValueBytes?: Sourced<number>;
  maxBodyBytes?: Sourced<number>;
  logLevel?: Sourced<LogLevel>;
}

type LayerValue<K extends keyof ConfigLayer> = NonNullable<ConfigLayer[K]>['value'];

/** Records `value` under `key` unless it is undefined (the source did not mention the setting). */
export function setLayer<K extends keyof ConfigLayer>(layer: ConfigLayer, key: K, value: LayerValue<K> | undefined, name: string): void {
  if (value !== undefined) layer[key] = { value, name } as ConfigLayer[K];
}

/** The log levels by their own names, as both the flag and `[log] level` spell them. */
export const LOG_LEVELS: Readonly<Record<string, LogLevel>> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  info: 'info',
  debug: 'debug',
  trace: 'trace',
  silent: 'silent',
};
