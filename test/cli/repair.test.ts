import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { resolveServeConfig } from '../../src/config/serve-config.js';
import { createLogger } from '../../src/server/logger.js';
import { startServer } from '../../src/server/server.js';
import { killLiveChildren } from '../support/child-lines.js';
import { freePorts, runKeel, tempDir } from '../support/keel-process.js';

let dir: string | undefined;
afterEach(async () => {
  killLiveChildren();
  if (dir !== undefined) await fs.rm(dir, { recursive: true, force: true });
  dir = undefined;
});

/**
 * A WAL damaged in the middle: `keel serve` refuses to start and names the file and offset;
 * `keel repair` truncates at the damage; the node then starts with the intact prefix.
 */
it('keel serve refuses a WAL damaged in the middle; keel repair truncates it explicitly', async () => {
  dir = await tempDir('keel-repair-');
  const dataDir = dir;
  const [port] = await freePorts(1);
  const config = resolveServeConfig({ httpAddr: `127.0.0.1:${port ?? 0}`, dataDir, tickMs: '20' }, undefined);
  let server = await startServer(config, createLogger(1, 'silent'));
  await server.host.requireGroup(1).node.waitForLeader();
  for (let i = 0; i < 50; i++) await server.host.propose(1, { op: 'put', key: `k${i}`, value: `v${i}` });
  await server.stop();

  const walDir = path.join(dataDir, 'wal');
  const [segment] = (await fs.readdir(walDir)).sort();
  const file = path.join(walDir, segment ?? '');
  const bytes = await fs.readFile(file);
  // The segment runs ahead of its records in zeros (WalZeroFill): damage a record.
  let records = bytes.length;
  while (records > 0 && bytes[records - 1] === 0) records--;
  const at = Math.floor(records * 0.6);
  bytes[at] = (bytes[at] ?? 0) ^ 0xff;
  await fs.writeFile(file, bytes);

  const refused = await runKeel(['serve', '--http-addr', `127.0.0.1:${port ?? 0}`, '--data-dir', dataDir]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/WAL_CORRUPT/);
  expect(refused.stderr).toContain(segment ?? '?');
  expect(refused.stderr).toMatch(/at byte \d+: checksum mismatch; run `keel repair --data-dir DIR`/);

  const repaired = await runKeel(['repair', '--data-dir', dataDir]);
  expect(repaired.code).toBe(0);
  expect(repaired.stdout).toMatch(/^truncated .* at offset \d+, dropping \d+ bytes$/);
  expect((await runKeel(['repair', '--data-dir', dataDir])).stdout).toBe('the WAL is intact; nothing to repair');

  server = await startServer(config, createLogger(1, 'silent'));
  try {
    await server.host.requireGroup(1).node.waitForLeader();
    const kv = server.host.requireGroup(1).sm.kv;
    // A prefix survived: the first key is there, and every key present is intact.
    expect(kv.get('k0')?.value).toBe('v0');
    for (let i = 0; i < 50; i++) {
      const e = kv.get(`k${i}`);
      if (e !== undefined) expect(e.value).toBe(`v${i}`);
    }
    expect(kv.size).toBeLessThan(50);
  } finally {
    await server.stop();
  }
}, 60_000);
