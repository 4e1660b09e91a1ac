import { readTomlFile } from './config-file.js';
import type { ConfigLayer, Sourced } from './config-layer.js';
import { ConfigError } from './config-error.js';
import { flagLayer } from './flag-layer.js';
import { formatHostPort, sameHostPort } from './host-port.js';
import { tomlLayer } from './toml-layer.js';
import type { HostPort, InitialMember, PersistenceConfig, ServeConfig, ServeFlags } from './types.js';
import { DEFAULT_ENTRY_CACHE_BYTES } from '../storage/wal.js';

export { ConfigError } from './config-error.js';
export { parseHostPort } from './host-port.js';
export { parseInitialCluster } from './initial-cluster.js';
export type {
  ApiLimitsConfig,
  HostPort,
  InitialMember,
  LogLevel,
  MemberRole,
  PersistenceConfig,
  RaftTimingConfig,
  ReadConsistencyConfig,
  ReadPolicy,
  ServeConfig,
  ServeFlags,
} from './types.js';

/** The defaults of every setting nothing names; `keel serve` with no flags is a one-node cluster on them. */
export const SERVE_DEFAULTS = {
  nodeId: 1,
  httpAddr: { host: '127.0.0.1', port: 21001 },
  dataDir: './keel-data',
  initialGroup: 1,
  clusterId: 'keel',
  readPolicy: 'linearizable',
  tickMs: 100,
  electionTimeoutTicks: 10,
  heartbeatTicks: 1,
  snapshotEveryEntries: 100_000,
  logEntriesKeptAfterSnapshot: 1_000,
  batchWaitMs: 5,
  entryCacheBytes: DEFAULT_ENTRY_CACHE_BYTES,
  maxKeyBytes: 4096,
  maxValueBytes: 1024 * 1024,
  maxBodyBytes: 2 * 1024 * 1024,
  logLevel: 'info',
  /** d-engine's batch defaults, used for MemFirst when no flush_policy is given. */
  flushThreshold: 100,
  flushIntervalMs: 10,
} as const;

/** Hosts that mean "every interface": a listener bound there is reachable at any of this node's addresses. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::']);

/**
 * Builds the configuration of `keel serve` from its flags and the TOML config file. The file is
 * named by `CONFIG_PATH` in `env` or else by `--config`; the environment wins, as in d-engine,
 * so a deployment can redirect a node without editing its command line.
 */
export async function loadServeConfig(flags: ServeFlags, env: Record<string, string | undefined> = process.env): Promise<ServeConfig> {
  if (flags.config === '') throw new ConfigError('--config: expected a file path');
  const envPath = env['CONFIG_PATH'];
  // An empty variable (`CONFIG_PATH= keel serve`) is how shells unset things; treat it as unset.
  const file = envPath !== undefined && envPath !== '' ? { path: envPath, origin: 'CONFIG_PATH' } : flags.config !== undefined ? { path: flags.config, origin: '--config' } : undefined;
  const doc = file === undefined ? undefined : await readTomlFile(file.path, file.origin);
  return resolveServeConfig(flags, doc, file?.path);
}

/**
 * Validates and merges, with no I/O: flags over the parsed TOML document (`toml`, undefined
 * when there is no file) over the defaults, key by key. `source` names the file in messages.
 */
export function resolveServeConfig(flags: ServeFlags, toml: unknown, source?: string): ServeConfig {
  const file = toml === undefined ? {} : tomlLayer(toml, source);
  const cli = flagLayer(flags);
  const pick = <K extends keyof ConfigLayer>(key: K): ConfigLayer[K] => cli[key] ?? file[key];

  const nodeIdSetting = pick('nodeId');
  const nodeId = nodeIdSetting?.value ?? SERVE_DEFAULTS.nodeId;
  const httpAddr = pick('httpAddr')?.value ?? SERVE_DEFAULTS.httpAddr;
  const initialCluster = pick('initialCluster');
  const join = pick('join');
  const raftAddr = peerAddress(pick('raftAddr')?.value, httpAddr);

  if (initialCluster !== undefined && join !== undefined) {
    throw new ConfigError(`${join.name}: cannot be combined with ${initialCluster.name} (a node either bootstraps a new cluster or joins a running one)`);
  }
  if (initialCluster !== undefined) checkSelfListed(initialCluster, nodeId, nodeIdSetting, pick('raftAddr'));

  const healthPort = pick('healthPort');
  if (healthPort !== undefined && healthPort.value === httpAddr.port) {
    throw new ConfigError(`${healthPort.name}: ${healthPort.value} is also the HTTP API port; the health listener needs a port of its own`);
  }

  const raft = {
    tickMs: pick('tickMs')?.value ?? SERVE_DEFAULTS.tickMs,
    electionTimeoutTicks: pick('electionTimeoutTicks')?.value ?? SERVE_DEFAULTS.electionTimeoutTicks,
    heartbeatTicks: pick('heartbeatTicks')?.value ?? SERVE_DEFAULTS.heartbeatTicks,
    snapshotEveryEntries: pick('snapshotEveryEntries')?.value ?? SERVE_DEFAULTS.snapshotEveryEntries,
    logEntriesKeptAfterSnapshot: pick('logEntriesKeptAfterSnapshot')?.value ?? SERVE_DEFAULTS.logEntriesKeptAfterSnapshot,
    batchWaitMs: pick('batchWaitMs')?.value ?? SERVE_DEFAULTS.batchWaitMs,
  };
  if (raft.heartbeatTicks >= raft.electionTimeoutTicks) {
    // Followers would start elections between two heartbeats of a healthy leader.
    const name = pick('heartbeatTicks')?.name ?? pick('electionTimeoutTicks')?.name ?? 'heartbeat_ticks';
    throw new ConfigError(`${name}: heartbeat_ticks (${raft.heartbeatTicks}) must be below election_timeout_ticks (${raft.electionTimeoutTicks})`);
  }

  const lease = pick('leaseDurationMs');
  const minElectionTimeoutMs = raft.electionTimeoutTicks * raft.tickMs;
  if (lease !== undefined && lease.value >= minElectionTimeoutMs) {
    // d-engine's rule: a deposed leader must stop serving lease reads before a successor can
    // be elected, or it could answer from a stale state machine.
    throw new ConfigError(
      `${lease.name}: ${lease.value} ms must be below the minimum election timeout, ${minElectionTimeoutMs} ms (election_timeout_ticks ${raft.electionTimeoutTicks} × tick_ms ${raft.tickMs})`,
    );
  }

  return {
    nodeId,
    httpAddr,
    raftAddr,
    healthPort: healthPort?.value,
    // One directory per node id under ./keel-data, so nodes started side by side with only --id
    // (openraft's walkthrough) never share one.
    dataDir: pick('dataDir')?.value ?? `${SERVE_DEFAULTS.dataDir}/node${nodeId}`,
    initialCluster: initialCluster?.value,
    join: join?.value,
    initialGroup: pick('initialGroup')?.value ?? SERVE_DEFAULTS.initialGroup,
    clusterId: pick('clusterId')?.value ?? SERVE_DEFAULTS.clusterId,
    bootstrapSingleNode: nodeIdSetting === undefined && initialCluster === undefined && join === undefined,
    readConsistency: { defaultPolicy: pick('readPolicy')?.value ?? SERVE_DEFAULTS.readPolicy, leaseDurationMs: lease?.value },
    persistence: persistence(pick),
    entryCacheBytes: pick('entryCacheBytes')?.value ?? SERVE_DEFAULTS.entryCacheBytes,
    raft,
    limits: {
      maxKeyBytes: pick('maxKeyBytes')?.value ?? SERVE_DEFAULTS.maxKeyBytes,
      maxValueBytes: pick('maxValueBytes')?.value ?? SERVE_DEFAULTS.maxValueBytes,
      maxBodyBytes: pick('maxBodyBytes')?.value ?? SERVE_DEFAULTS.maxBodyBytes,
    },
    logLevel: pick('logLevel')?.value ?? SERVE_DEFAULTS.logLevel,
  };
}

/**
 * A raft address equal to the HTTP address means "peers use the API port", which is what an
 * undefined raftAddr says; keeping it would make the server bind the same port twice.
 */
function peerAddress(raftAddr: HostPort | undefined, httpAddr: HostPort): HostPort | undefined {
  return raftAddr !== undefined && sameHostPort(raftAddr, httpAddr) ? undefined : raftAddr;
}

/**
 * The initial cluster must list this node (else it bootstraps a group it is not in), and when a
 * separate raft listener is named, at that listener's address: the listed address is where
 * peers will dial it. A wildcard listener (0.0.0.0, ::) matches any host on its port.
 */
function checkSelfListed(
  initialCluster: Sourced<readonly InitialMember[]>,
  nodeId: number,
  nodeIdSetting: Sourced<number> | undefined,
  raftAddr: Sourced<HostPort> | undefined,
): void {
  const self = initialCluster.value.find((m) => m.id === nodeId);
  if (self === undefined) {
    const why = nodeIdSetting === undefined ? 'the default node id' : `from ${nodeIdSetting.name}`;
    throw new ConfigError(`${initialCluster.name}: does not list this node, ${nodeId} (${why})`);
  }
  if (raftAddr === undefined) return;
  const listen = raftAddr.value;
  const matches = listen.port === self.address.port && (WILDCARD_HOSTS.has(listen.host) || listen.host === self.address.host);
  if (!matches) {
    throw new ConfigError(
      `${initialCluster.name}: lists node ${nodeId} at ${formatHostPort(self.address)} but ${raftAddr.name} is ${formatHostPort(listen)} (peers dial the listed address)`,
    );
  }
}

function persistence(pick: <K extends keyof ConfigLayer>(key: K) => ConfigLayer[K]): PersistenceConfig {
  if ((pick('persistenceStrategy')?.value ?? 'diskFirst') === 'diskFirst') return { strategy: 'diskFirst' };
  return {
    strategy: 'memFirst',
    flushThreshold: pick('flushThreshold')?.value ?? SERVE_DEFAULTS.flushThreshold,
    flushIntervalMs: pick('flushIntervalMs')?.value ?? SERVE_DEFAULTS.flushIntervalMs,
  };
}
