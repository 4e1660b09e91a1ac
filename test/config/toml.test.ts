import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { resolveServeConfig } from '../../src/config/serve-config.js';
import { D_ENGINE_TOML } from './d-engine-toml.js';
import { expectConfigError } from './expect-config-error.js';

const fromToml = (toml: string, flags: Parameters<typeof resolveServeConfig>[0] = {}): ReturnType<typeof resolveServeConfig> =>
  resolveServeConfig(flags, parse(toml), 'node1.toml');

describe('TOML file', () => {
  it("reads d-engine's full config", () => {
    expect(fromToml(D_ENGINE_TOML)).toEqual({
      nodeId: 1,
      httpAddr: { host: '127.0.0.1', port: 8081 },
      raftAddr: { host: '127.0.0.1', port: 9081 },
      healthPort: 10001,
      dataDir: './db',
      initialCluster: [
        { id: 1, address: { host: '127.0.0.1', port: 9081 }, role: 'voter' },
        { id: 2, address: { host: '127.0.0.1', port: 9082 }, role: 'voter' },
        { id: 3, address: { host: '127.0.0.1', port: 9083 }, role: 'learner' },
      ],
      join: undefined,
      initialGroup: 1,
      clusterId: 'keel',
      bootstrapSingleNode: false,
      readConsistency: { defaultPolicy: 'lease', leaseDurationMs: 500 },
      persistence: { strategy: 'memFirst', flushThreshold: 100, flushIntervalMs: 10 },
      entryCacheBytes: 4 * 1024 * 1024,
      raft: { tickMs: 100, electionTimeoutTicks: 10, heartbeatTicks: 1, snapshotEveryEntries: 10_000, logEntriesKeptAfterSnapshot: 1_000, batchWaitMs: 2 },
      limits: { maxKeyBytes: 4096, maxValueBytes: 1_048_576, maxBodyBytes: 2_097_152 },
      logLevel: 'info',
    });
  });

  it('an empty file is all defaults', () => {
    expect(fromToml('')).toEqual(resolveServeConfig({}, undefined));
  });

  it('accepts role names and TOML array-of-tables syntax', () => {
    const c = fromToml(`
[[cluster.initial_cluster]]
id = 1
address = "127.0.0.1:9081"
role = "Follower"
[[cluster.initial_cluster]]
id = 2
address = "127.0.0.1:9082"
role = "learner"
`);
    expect(c.initialCluster?.map((m) => m.role)).toEqual(['voter', 'learner']);
  });

  it('MemFirst without a flush policy gets the batch defaults', () => {
    expect(fromToml('[raft.persistence]\nstrategy = "MemFirst"').persistence).toEqual({ strategy: 'memFirst', flushThreshold: 100, flushIntervalMs: 10 });
    expect(fromToml('[raft.persistence]\nstrategy = "DiskFirst"').persistence).toEqual({ strategy: 'diskFirst' });
  });

  it('flags override the file key by key', () => {
    const c = fromToml(D_ENGINE_TOML, {
      id: '2',
      port: '8082',
      raftAddr: '127.0.0.1:9082',
      healthPort: '10002',
      dataDir: './db2',
      clusterId: 'other',
      readConsistency: 'eventual',
      persistence: 'disk-first',
      tickMs: '60',
      logLevel: 'warn',
    });
    expect(c.nodeId).toBe(2);
    expect(c.httpAddr).toEqual({ host: '127.0.0.1', port: 8082 });
    expect(c.raftAddr).toEqual({ host: '127.0.0.1', port: 9082 });
    expect(c.healthPort).toBe(10002);
    expect(c.dataDir).toBe('./db2');
    expect(c.clusterId).toBe('other');
    // The flag replaces the policy; the file's lease duration stays, and must still fit the (shorter) election timeout.
    expect(c.readConsistency).toEqual({ defaultPolicy: 'eventual', leaseDurationMs: 500 });
    expect(c.persistence).toEqual({ strategy: 'diskFirst' });
    // Only tick_ms came from a flag; the other [raft] keys stay the file's.
    expect(c.raft).toEqual({ tickMs: 60, electionTimeoutTicks: 10, heartbeatTicks: 1, snapshotEveryEntries: 10_000, logEntriesKeptAfterSnapshot: 1_000, batchWaitMs: 2 });
    expect(c.logLevel).toBe('warn');
    expect(c.initialCluster?.length).toBe(3);
  });

  it('--persistence mem-first keeps the flush policy of the file', () => {
    const toml = '[raft.persistence]\nstrategy = "DiskFirst"\nflush_policy = { Batch = { threshold = 7, interval_ms = 3 } }';
    expect(fromToml(toml, { persistence: 'mem-first' }).persistence).toEqual({ strategy: 'memFirst', flushThreshold: 7, flushIntervalMs: 3 });
  });

  it('takes the WAL entry cache size from [raft.persistence] entry_cache_bytes', () => {
    expect(fromToml('[raft.persistence]\nentry_cache_bytes = 1048576', {}).entryCacheBytes).toBe(1024 * 1024);
  });

  it('--initial-cluster replaces the whole list from the file', () => {
    const c = fromToml(D_ENGINE_TOML, { initialCluster: '1=127.0.0.1:9081,5=127.0.0.1:9085' });
    expect(c.initialCluster?.map((m) => m.id)).toEqual([1, 5]);
  });

  it.each([
    ['[cluster]\nnodeid = 1', 'node1.toml: [cluster] nodeid: unknown key (known keys: node_id,'],
    ['[network]\nport = 1', 'node1.toml: network: unknown key (known keys: cluster, api, raft, log)'],
    ['[raft.election]\nx = 1', 'node1.toml: [raft] election: unknown key'],
    ['[raft.persistence]\nflush_policy = { Batch = { threshold = 1, intervalms = 1 } }', 'node1.toml: [raft.persistence.flush_policy.Batch] intervalms: unknown key'],
    ['[raft.persistence]\nflush_policy = { Immediate = {} }', '[raft.persistence.flush_policy] Immediate: unknown key (known keys: Batch)'],
    ['[cluster]\ninitial_cluster = [{ id = 1, address = "127.0.0.1:1", weight = 2 }]', '[cluster] initial_cluster[0].weight: unknown key'],
    ['[cluster]\nnode_id = "1"', '[cluster] node_id: expected an integer from 1 to 2147483647, got "1"'],
    ['[cluster]\nnode_id = 1.5', '[cluster] node_id: expected an integer from 1 to 2147483647, got 1.5'],
    ['[cluster]\nnode_id = 0', '[cluster] node_id: expected an integer'],
    ['cluster = 3', 'cluster: expected a table, got 3'],
    ['[cluster]\nlisten_address = 9081', '[cluster] listen_address: expected a string, got 9081'],
    ['[cluster]\nlisten_address = "127.0.0.1"', '[cluster] listen_address: "127.0.0.1" has no port'],
    ['[cluster]\ndb_root_dir = ""', '[cluster] db_root_dir: expected a non-empty string'],
    ['[cluster]\ninitial_cluster = { id = 1 }', '[cluster] initial_cluster: expected an array of tables, got a table'],
    ['[cluster]\ninitial_cluster = [1]', '[cluster] initial_cluster[0]: expected a table, got 1'],
    ['[cluster]\ninitial_cluster = [{ address = "127.0.0.1:1" }]', '[cluster] initial_cluster[0].id: missing'],
    ['[cluster]\ninitial_cluster = [{ id = 1 }]', '[cluster] initial_cluster[0].address: missing'],
    ['[cluster]\ninitial_cluster = [{ id = 1, address = "a:1", role = 4 }]', '[cluster] initial_cluster[0].role: expected 0, 1 or 2 (a voter), 3 (a learner)'],
    ['[cluster]\ninitial_cluster = [{ id = 1, address = "a:1", role = "Leader" }]', '[cluster] initial_cluster[0].role:'],
    ['[cluster]\ninitial_cluster = [{ id = 1, address = "a:1", status = true }]', '[cluster] initial_cluster[0].status: expected an integer or a string, got true'],
    ['[cluster]\ninitial_cluster = [{ id = 1, address = "a:1" }, { id = 1, address = "a:2" }]', '[cluster] initial_cluster: node 1 is listed twice'],
    ['[cluster]\ninitial_cluster = [{ id = 1, address = "a:1", role = 3 }]', '[cluster] initial_cluster: no member is a voter'],
    ['[cluster]\ninitial_cluster = []', '[cluster] initial_cluster: the list is empty'],
    ['[api]\nhealth_port = 0', '[api] health_port: expected an integer from 1 to 65535, got 0'],
    ['[api]\nmax_value_bytes = -1', '[api] max_value_bytes: expected an integer'],
    ['[raft]\ntick_ms = 0', '[raft] tick_ms: expected an integer from 1 to 10000, got 0'],
    ['[raft]\nsnapshot_every_entries = true', '[raft] snapshot_every_entries: expected an integer from 1 to 1000000000, got true'],
    ['[raft]\nbatch_wait_ms = 1001', '[raft] batch_wait_ms: expected an integer from 0 to 1000, got 1001'],
    ['[raft]\nbatch_wait_ms = -1', '[raft] batch_wait_ms: expected an integer from 0 to 1000, got -1'],
    ['[raft.read_consistency]\ndefault_policy = "Linearizable"', '[raft.read_consistency] default_policy: expected "LinearizableRead", "LeaseRead" or "EventualConsistency", got "Linearizable"'],
    ['[raft.persistence]\nstrategy = "Fast"', '[raft.persistence] strategy: expected "DiskFirst" or "MemFirst", got "Fast"'],
    ['[raft.persistence]\nstrategy = "MemFirst"\nflush_policy = { Batch = { threshold = 0 } }', '[raft.persistence.flush_policy.Batch] threshold: expected an integer from 1 to 1000000'],
    ['[raft.persistence]\nflush_policy = { Batch = { interval_ms = 1.5 } }', '[raft.persistence.flush_policy.Batch] interval_ms: expected an integer'],
    ['[raft.persistence]\nentry_cache_bytes = -1', '[raft.persistence] entry_cache_bytes: expected an integer from 0 to 68719476736, got -1'],
    ['[log]\nlevel = "verbose"', '[log] level: expected "fatal", "error", "warn", "info", "debug", "trace" or "silent", got "verbose"'],
    ['[log]\nlevel = 1979-05-27', '[log] level: expected "fatal", "error", "warn", "info", "debug", "trace" or "silent", got a date'],
  ])('rejects %j naming the key', (toml, message) => {
    expectConfigError(() => fromToml(toml), message);
  });

  it('rejects a document that is not a table', () => {
    expectConfigError(() => resolveServeConfig({}, [1, 2], 'x.toml'), 'x.toml: expected a TOML document (a table), got an array');
  });

  it('accepts a plain object document without a source name', () => {
    expectConfigError(() => resolveServeConfig({}, { raft: { tick_ms: 0 } }), '[raft] tick_ms:');
    expect(resolveServeConfig({}, { raft: { tick_ms: 20n } }).raft.tickMs).toBe(20);
  });
});
