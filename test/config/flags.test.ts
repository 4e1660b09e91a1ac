import { describe, expect, it } from 'vitest';
import { resolveServeConfig } from '../../src/config/serve-config.js';
import type { ServeConfig } from '../../src/config/serve-config.js';
import { expectConfigError } from './expect-config-error.js';

const DEFAULTS: ServeConfig = {
  nodeId: 1,
  httpAddr: { host: '127.0.0.1', port: 21001 },
  raftAddr: undefined,
  healthPort: undefined,
  dataDir: './keel-data/node1',
  initialCluster: undefined,
  join: undefined,
  initialGroup: 1,
  clusterId: 'keel',
  bootstrapSingleNode: true,
  readConsistency: { defaultPolicy: 'linearizable', leaseDurationMs: undefined },
  persistence: { strategy: 'diskFirst' },
  entryCacheBytes: 4 * 1024 * 1024,
  raft: { tickMs: 100, electionTimeoutTicks: 10, heartbeatTicks: 1, snapshotEveryEntries: 100_000, logEntriesKeptAfterSnapshot: 1_000, batchWaitMs: 5 },
  limits: { maxKeyBytes: 4096, maxValueBytes: 1024 * 1024, maxBodyBytes: 2 * 1024 * 1024 },
  logLevel: 'info',
};

describe('flags', () => {
  it('no flags and no file: every default, and a one-node cluster bootstraps itself', () => {
    expect(resolveServeConfig({}, undefined)).toEqual(DEFAULTS);
  });

  it.each<[string, Parameters<typeof resolveServeConfig>[0], Partial<ServeConfig>]>([
    ['--id', { id: '3' }, { nodeId: 3, dataDir: './keel-data/node3', bootstrapSingleNode: false }],
    ['--http-addr', { httpAddr: '0.0.0.0:8081' }, { httpAddr: { host: '0.0.0.0', port: 8081 } }],
    ['--port', { port: '9001' }, { httpAddr: { host: '127.0.0.1', port: 9001 } }],
    ['--raft-addr', { raftAddr: '127.0.0.1:9081' }, { raftAddr: { host: '127.0.0.1', port: 9081 } }],
    ['--health-port', { healthPort: '10001' }, { healthPort: 10001 }],
    ['--data-dir', { dataDir: 'data/n1' }, { dataDir: 'data/n1' }],
    ['--join', { id: '4', join: '127.0.0.1:21001' }, { nodeId: 4, dataDir: './keel-data/node4', join: { host: '127.0.0.1', port: 21001 }, bootstrapSingleNode: false }],
    ['--initial-group', { initialGroup: '7' }, { initialGroup: 7 }],
    ['--cluster-id', { clusterId: 'prod-eu' }, { clusterId: 'prod-eu' }],
    ['--read-consistency', { readConsistency: 'lease' }, { readConsistency: { defaultPolicy: 'lease', leaseDurationMs: undefined } }],
    ['--persistence', { persistence: 'mem-first' }, { persistence: { strategy: 'memFirst', flushThreshold: 100, flushIntervalMs: 10 } }],
    ['--tick-ms', { tickMs: '50' }, { raft: { ...DEFAULTS.raft, tickMs: 50 } }],
    ['--log-level', { logLevel: 'debug' }, { logLevel: 'debug' }],
  ])('%s', (_flag, flags, changed) => {
    expect(resolveServeConfig(flags, undefined)).toEqual({ ...DEFAULTS, ...changed });
  });

  it('--initial-cluster bootstraps a cluster that lists this node', () => {
    const c = resolveServeConfig({ id: '2', initialCluster: '1=127.0.0.1:21001,2=127.0.0.1:21002' }, undefined);
    expect(c.initialCluster?.map((m) => m.id)).toEqual([1, 2]);
    expect(c.bootstrapSingleNode).toBe(false);
  });

  it('a raft address equal to the HTTP address means peers ride the HTTP port', () => {
    expect(resolveServeConfig({ port: '21005', raftAddr: '127.0.0.1:21005' }, undefined).raftAddr).toBeUndefined();
  });

  it.each([
    [{ id: '12abc' }, '--id: expected an integer from 1 to 2147483647, got "12abc"'],
    [{ id: '' }, '--id: expected an integer from 1 to 2147483647, got ""'],
    [{ id: '0' }, '--id:'],
    [{ id: '-1' }, '--id:'],
    [{ id: '1.5' }, '--id:'],
    [{ id: '2147483648' }, '--id:'],
    [{ id: ' 1' }, '--id:'],
    [{ id: '0x10' }, '--id:'],
    [{ port: '65536' }, '--port: expected an integer from 0 to 65535'],
    [{ healthPort: '0' }, '--health-port: expected an integer from 1 to 65535'],
    [{ tickMs: '1e3' }, '--tick-ms: expected an integer from 1 to 10000, got "1e3"'],
    [{ tickMs: '10001' }, '--tick-ms:'],
    [{ initialGroup: '0' }, '--initial-group:'],
    [{ httpAddr: 'localhost' }, '--http-addr: "localhost" has no port'],
    [{ raftAddr: '127.0.0.1:99999' }, '--raft-addr: "127.0.0.1:99999" has a bad port'],
    [{ join: 'x' }, '--join: "x" has no port'],
    [{ dataDir: '' }, '--data-dir: expected a non-empty value'],
    [{ clusterId: '' }, '--cluster-id: expected a non-empty value'],
    [{ readConsistency: 'strong' }, '--read-consistency: expected "linearizable", "lease" or "eventual", got "strong"'],
    [{ persistence: 'fast' }, '--persistence: expected "disk-first" or "mem-first", got "fast"'],
    [{ logLevel: 'INFO' }, '--log-level: expected "fatal", "error", "warn", "info", "debug", "trace" or "silent", got "INFO"'],
    [{ port: '8080', httpAddr: '127.0.0.1:8081' }, '--port: cannot be combined with --http-addr'],
    [{ healthPort: '21001' }, '--health-port: 21001 is also the HTTP API port'],
  ])('rejects %j', (flags, message) => {
    expectConfigError(() => resolveServeConfig(flags, undefined), message);
  });
});
