import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { resolveServeConfig } from '../../src/config/serve-config.js';
import { expectConfigError } from './expect-config-error.js';

const THREE = '1=127.0.0.1:21001,2=127.0.0.1:21002,3=127.0.0.1:21003';

describe('cross-setting rules', () => {
  describe('bootstrapSingleNode', () => {
    it('is true only when nothing names an identity or a cluster', () => {
      expect(resolveServeConfig({ port: '9000', dataDir: 'd' }, undefined).bootstrapSingleNode).toBe(true);
      expect(resolveServeConfig({ id: '1' }, undefined).bootstrapSingleNode).toBe(false);
      expect(resolveServeConfig({}, parse('[cluster]\nnode_id = 1')).bootstrapSingleNode).toBe(false);
      expect(resolveServeConfig({ initialCluster: '1=127.0.0.1:21001' }, undefined).bootstrapSingleNode).toBe(false);
      expect(resolveServeConfig({ join: '127.0.0.1:21001' }, undefined).bootstrapSingleNode).toBe(false);
    });

    it('an initial cluster with no id anywhere is joined as node 1', () => {
      expect(resolveServeConfig({ initialCluster: THREE }, undefined).nodeId).toBe(1);
    });
  });

  it('the initial cluster must list this node', () => {
    expectConfigError(() => resolveServeConfig({ id: '4', initialCluster: THREE }, undefined), '--initial-cluster: does not list this node, 4 (from --id)');
    expectConfigError(() => resolveServeConfig({ initialCluster: '2=127.0.0.1:21002' }, undefined), '--initial-cluster: does not list this node, 1 (the default node id)');
    const toml = parse('[cluster]\nnode_id = 9\ninitial_cluster = [{ id = 1, address = "127.0.0.1:9081" }]');
    expectConfigError(() => resolveServeConfig({}, toml, 'n.toml'), 'n.toml: [cluster] initial_cluster: does not list this node, 9 (from n.toml: [cluster] node_id)');
  });

  it('a separate raft address must be where the initial cluster says peers reach this node', () => {
    expect(resolveServeConfig({ id: '2', raftAddr: '127.0.0.1:21002', port: '8002', initialCluster: THREE }, undefined).raftAddr).toEqual({ host: '127.0.0.1', port: 21002 });
    expect(resolveServeConfig({ id: '2', raftAddr: '0.0.0.0:21002', port: '8002', initialCluster: THREE }, undefined).raftAddr).toEqual({ host: '0.0.0.0', port: 21002 });
    expectConfigError(
      () => resolveServeConfig({ id: '2', raftAddr: '127.0.0.1:9999', port: '8002', initialCluster: THREE }, undefined),
      '--initial-cluster: lists node 2 at 127.0.0.1:21002 but --raft-addr is 127.0.0.1:9999',
    );
    const toml = parse('[cluster]\nnode_id = 1\nlisten_address = "127.0.0.1:9091"\ninitial_cluster = [{ id = 1, address = "127.0.0.1:9081" }]');
    expectConfigError(() => resolveServeConfig({}, toml, 'n.toml'), 'n.toml: [cluster] initial_cluster: lists node 1 at 127.0.0.1:9081 but n.toml: [cluster] listen_address is 127.0.0.1:9091');
  });

  it('without a raft address, the listed address is not checked against the HTTP address', () => {
    expect(resolveServeConfig({ id: '2', httpAddr: '0.0.0.0:21002', initialCluster: THREE }, undefined).raftAddr).toBeUndefined();
  });

  it('--join and an initial cluster exclude each other', () => {
    expectConfigError(() => resolveServeConfig({ id: '1', join: '127.0.0.1:21002', initialCluster: THREE }, undefined), '--join: cannot be combined with --initial-cluster');
    const toml = parse('[cluster]\ninitial_cluster = [{ id = 1, address = "127.0.0.1:9081" }]');
    expectConfigError(() => resolveServeConfig({ join: '127.0.0.1:21002' }, toml, 'n.toml'), '--join: cannot be combined with n.toml: [cluster] initial_cluster');
  });

  it('a lease must end before a new leader can be elected', () => {
    const lease = (ms: number, raft = ''): string => `[raft]\n${raft}\n[raft.read_consistency]\ndefault_policy = "LeaseRead"\nlease_duration_ms = ${ms}`;
    expect(resolveServeConfig({}, parse(lease(999))).readConsistency).toEqual({ defaultPolicy: 'lease', leaseDurationMs: 999 });
    expectConfigError(
      () => resolveServeConfig({}, parse(lease(1000)), 'n.toml'),
      'n.toml: [raft.read_consistency] lease_duration_ms: 1000 ms must be below the minimum election timeout, 1000 ms (election_timeout_ticks 10 × tick_ms 100)',
    );
    expectConfigError(() => resolveServeConfig({}, parse(lease(500, 'election_timeout_ticks = 5')), 'n.toml'), 'lease_duration_ms: 500 ms must be below', '500 ms');
    expectConfigError(() => resolveServeConfig({}, parse(lease(0))), '[raft.read_consistency] lease_duration_ms: expected an integer from 1');
  });

  it('heartbeats must come more often than election timeouts', () => {
    expectConfigError(() => resolveServeConfig({}, parse('[raft]\nheartbeat_ticks = 10'), 'n.toml'), 'n.toml: [raft] heartbeat_ticks: heartbeat_ticks (10) must be below election_timeout_ticks (10)');
    expectConfigError(() => resolveServeConfig({}, parse('[raft]\nelection_timeout_ticks = 2\nheartbeat_ticks = 3')), '[raft] heartbeat_ticks:');
  });
});
