import { LOG_LEVELS, setLayer } from './config-layer.js';
import type { ConfigLayer } from './config-layer.js';
import { ConfigError } from './config-error.js';
import { tryParseHostPort } from './host-port.js';
import { MAX_INITIAL_MEMBERS, checkMembers } from './initial-cluster.js';
import { RANGES } from './integers.js';
import { describeValue } from './describe.js';
import { TomlTableReader } from './toml-reader.js';
import type { HostPort, InitialMember, MemberRole, ReadPolicy } from './types.js';

/** d-engine's read policy names. */
const READ_POLICIES: Readonly<Record<string, ReadPolicy>> = {
  LinearizableRead: 'linearizable',
  LeaseRead: 'lease',
  EventualConsistency: 'eventual',
};

const STRATEGIES = { DiskFirst: 'diskFirst', MemFirst: 'memFirst' } as const;

/**
 * d-engine writes roles as integers (0 follower, 1 candidate, 2 leader: all voters; 3 learner)
 * and its docs also use names; every node starts as a follower, so the three voter states
 * mean the same thing at bootstrap.
 */
const ROLE_NUMBERS: ReadonlyMap<number, MemberRole> = new Map([
  [0, 'voter'],
  [1, 'voter'],
  [2, 'voter'],
  [3, 'learner'],
]);
const ROLE_NAMES: Readonly<Record<string, MemberRole>> = { voter: 'voter', learner: 'learner', Follower: 'voter', Learner: 'learner' };

/**
 * Reads a parsed TOML document in d-engine's shape (`[cluster]`, `[raft]`,
 * `[raft.read_consistency]`, `[raft.persistence]`) plus Keel's `[api]` and `[log]` tables.
 * Every key is optional; unknown keys and wrong types are errors naming the key.
 */
export function tomlLayer(doc: unknown, source: string | undefined): ConfigLayer {
  const layer: ConfigLayer = {};
  const root = TomlTableReader.root(doc, source, ['cluster', 'api', 'raft', 'log']);

  const cluster = root.table('cluster', ['node_id', 'listen_address', 'initial_cluster', 'db_root_dir', 'cluster_id']);
  if (cluster !== undefined) {
    setLayer(layer, 'nodeId', cluster.int('node_id', RANGES.nodeId), cluster.name('node_id'));
    // d-engine's listen_address is its peer (raft) address; its HTTP API is a separate flag.
    setLayer(layer, 'raftAddr', hostPort(cluster, 'listen_address'), cluster.name('listen_address'));
    setLayer(layer, 'initialCluster', initialCluster(cluster), cluster.name('initial_cluster'));
    setLayer(layer, 'dataDir', cluster.string('db_root_dir'), cluster.name('db_root_dir'));
    setLayer(layer, 'clusterId', cluster.string('cluster_id', 255), cluster.name('cluster_id'));
  }

  const api = root.table('api', ['http_addr', 'health_port', 'max_key_bytes', 'max_value_bytes', 'max_body_bytes']);
  if (api !== undefined) {
    setLayer(layer, 'httpAddr', hostPort(api, 'http_addr'), api.name('http_addr'));
    setLayer(layer, 'healthPort', api.int('health_port', RANGES.healthPort), api.name('health_port'));
    setLayer(layer, 'maxKeyBytes', api.int('max_key_bytes', RANGES.maxKeyBytes), api.name('max_key_bytes'));
    setLayer(layer, 'maxValueBytes', api.int('max_value_bytes', RANGES.maxValueBytes), api.name('max_value_bytes'));
    setLayer(layer, 'maxBodyBytes', api.int('max_body_bytes', RANGES.maxBodyBytes), api.name('max_body_bytes'));
  }

  const raft = root.table('raft', ['tick_ms', 'election_timeout_ticks', 'heartbeat_ticks', 'snapshot_every_entries', 'log_entries_kept_after_snapshot', 'batch_wait_ms', 'read_consistency', 'persistence']);
  if (raft !== undefined) {
    setLayer(layer, 'tickMs', raft.int('tick_ms', RANGES.tickMs), raft.name('tick_ms'));
    setLayer(layer, 'electionTimeoutTicks', raft.int('election_timeout_ticks', RANGES.electionTimeoutTicks), raft.name('election_timeout_ticks'));
    setLayer(layer, 'heartbeatTicks', raft.int('heartbeat_ticks', RANGES.heartbeatTicks), raft.name('heartbeat_ticks'));
    setLayer(layer, 'snapshotEveryEntries', raft.int('snapshot_every_entries', RANGES.snapshotEveryEntries), raft.name('snapshot_every_entries'));
    setLayer(layer, 'logEntriesKeptAfterSnapshot', raft.int('log_entries_kept_after_snapshot', RANGES.logEntriesKeptAfterSnapshot), raft.name('log_entries_kept_after_snapshot'));
    setLayer(layer, 'batchWaitMs', raft.int('batch_wait_ms', RANGES.batchWaitMs), raft.name('batch_wait_ms'));

    const reads = raft.table('read_consistency', ['default_policy', 'lease_duration_ms']);
    if (reads !== undefined) {
      setLayer(layer, 'readPolicy', reads.oneOf('default_policy', READ_POLICIES), reads.name('default_policy'));
      setLayer(layer, 'leaseDurationMs', reads.int('lease_duration_ms', RANGES.leaseDurationMs), reads.name('lease_duration_ms'));
    }

    const persistence = raft.table('persistence', ['strategy', 'flush_policy', 'entry_cache_bytes']);
    if (persistence !== undefined) {
      setLayer(layer, 'entryCacheBytes', persistence.int('entry_cache_bytes', RANGES.entryCacheBytes), persistence.name('entry_cache_bytes'));
      setLayer(layer, 'persistenceStrategy', persistence.oneOf('strategy', STRATEGIES), persistence.name('strategy'));
      const batch = persistence.table('flush_policy', ['Batch'])?.table('Batch', ['threshold', 'interval_ms']);
      if (batch !== undefined) {
        setLayer(layer, 'flushThreshold', batch.int('threshold', RANGES.flushThreshold), batch.name('threshold'));
        setLayer(layer, 'flushIntervalMs', batch.int('interval_ms', RANGES.flushIntervalMs), batch.name('interval_ms'));
      }
    }
  }

  const log = root.table('log', ['level']);
  if (log !== undefined) setLayer(layer, 'logLevel', log.oneOf('level', LOG_LEVELS), log.name('level'));
  return layer;
}

function hostPort(table: TomlTableReader, key: string): HostPort | undefined {
  const s = table.string(key);
  if (s === undefined) return undefined;
  const r = tryParseHostPort(s);
  return typeof r === 'string' ? table.fail(key, `${JSON.stringify(s)} ${r}`) : r;
}

function initialCluster(cluster: TomlTableReader): InitialMember[] | undefined {
  const items = cluster.tables('initial_cluster', ['id', 'address', 'role', 'status'], MAX_INITIAL_MEMBERS);
  if (items === undefined) return undefined;
  const members = items.map((item): InitialMember => {
    const id = item.int('id', RANGES.nodeId) ?? item.fail('id', 'missing (every member needs an id)');
    const address = hostPort(item, 'address') ?? item.fail('address', 'missing (every member needs the address peers reach it at)');
    // status describes a member's voting state in d-engine; Keel derives that, but a
    // mistyped status still deserves an error rather than silence.
    const status = item.raw('status');
    if (status !== undefined && typeof status !== 'string' && !Number.isInteger(status) && typeof status !== 'bigint') {
      item.fail('status', `expected an integer or a string, got ${describeValue(status)}`);
    }
    return { id, address, role: role(item) };
  });
  checkMembers(members, cluster.name('initial_cluster'));
  return members;
}

function role(item: TomlTableReader): MemberRole {
  const v = item.raw('role');
  if (v === undefined) return 'voter';
  let r: MemberRole | undefined;
  if (typeof v === 'string') r = Object.hasOwn(ROLE_NAMES, v) ? ROLE_NAMES[v] : undefined;
  else if (typeof v === 'number' || typeof v === 'bigint') r = ROLE_NUMBERS.get(Number(v));
  if (r !== undefined) return r;
  throw new ConfigError(`${item.name('role')}: expected 0, 1 or 2 (a voter), 3 (a learner), "voter", "learner", "Follower" or "Learner", got ${describeValue(v)}`);
}
