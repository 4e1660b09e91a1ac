import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServeConfig } from '../../src/config/serve-config.js';
import { D_ENGINE_TOML } from './d-engine-toml.js';
import { expectConfigRejection } from './expect-config-error.js';

describe('loadServeConfig', () => {
  let dir = '';
  let node1 = '';
  let node2 = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-config-'));
    node1 = join(dir, 'node1.toml');
    node2 = join(dir, 'node2.toml');
    await writeFile(node1, D_ENGINE_TOML);
    await writeFile(node2, '[cluster]\nnode_id = 2\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('with no file, is the flags over the defaults', async () => {
    const c = await loadServeConfig({ port: '9000' }, {});
    expect(c.httpAddr).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(c.bootstrapSingleNode).toBe(true);
  });

  it('reads the file named by --config', async () => {
    const c = await loadServeConfig({ config: node1 }, {});
    expect(c.nodeId).toBe(1);
    expect(c.raftAddr).toEqual({ host: '127.0.0.1', port: 9081 });
    expect(c.persistence).toEqual({ strategy: 'memFirst', flushThreshold: 100, flushIntervalMs: 10 });
  });

  it('CONFIG_PATH wins over --config, as in d-engine', async () => {
    expect((await loadServeConfig({ config: node1 }, { CONFIG_PATH: node2 })).nodeId).toBe(2);
    expect((await loadServeConfig({}, { CONFIG_PATH: node2 })).nodeId).toBe(2);
    // An empty variable is an unset one.
    expect((await loadServeConfig({ config: node1 }, { CONFIG_PATH: '' })).nodeId).toBe(1);
  });

  it('a missing file is a ConfigError naming the file and how it was named', async () => {
    const missing = join(dir, 'missing.toml');
    await expectConfigRejection(loadServeConfig({ config: missing }, {}), '--config: cannot read config file', missing, 'ENOENT');
    await expectConfigRejection(loadServeConfig({}, { CONFIG_PATH: missing }), 'CONFIG_PATH: cannot read config file', missing);
    await expectConfigRejection(loadServeConfig({ config: dir }, {}), '--config: config file', 'is not a regular file');
    await expectConfigRejection(loadServeConfig({ config: '' }, {}), '--config: expected a file path');
  });

  it('a TOML syntax error names the file, line and column', async () => {
    const bad = join(dir, 'bad.toml');
    await writeFile(bad, '[cluster]\nnode_id = = 1\n');
    const message = await expectConfigRejection(loadServeConfig({ config: bad }, {}), `${bad}:2:`, 'invalid TOML (file from --config)');
    expect(message).toContain('node_id = = 1');
  });

  it('validation errors name the file and the key', async () => {
    const wrong = join(dir, 'wrong.toml');
    await writeFile(wrong, '[raft.persistence]\nstrategy = "Fast"\n');
    await expectConfigRejection(loadServeConfig({ config: wrong }, {}), `${wrong}: [raft.persistence] strategy: expected "DiskFirst" or "MemFirst", got "Fast"`);
  });
});
