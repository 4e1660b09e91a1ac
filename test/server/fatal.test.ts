import * as fs from 'node:fs/promises';
import { afterEach, expect, it } from 'vitest';
import { resolveServeConfig } from '../../src/config/serve-config.js';
import { createLogger } from '../../src/server/logger.js';
import { startServer } from '../../src/server/server.js';
import type { RunningServer } from '../../src/server/server.js';
import { eventually, freePorts, tempDir } from '../support/keel-process.js';

let dir = '';
let server: RunningServer | undefined;

afterEach(async () => {
  await server?.stop();
  server = undefined;
  await fs.rm(dir, { recursive: true, force: true });
});

// A group that fails keeps its role in its peers' eyes; before, its node stayed up as a leader
// that answered nothing (reads waited forever). Now the whole server stops with the error.
it('stops the whole server, with the error, when a group fails', async () => {
  dir = await tempDir('keel-fatal-');
  const [port] = await freePorts(1);
  server = await startServer(resolveServeConfig({ httpAddr: `127.0.0.1:${port ?? 0}`, dataDir: dir, tickMs: '20' }, undefined), createLogger(1, 'silent'));
  const base = `http://${server.apiAddress}`;
  await eventually('leadership', async () => ((await fetch(`${base}/primary`)).status === 200 ? true : undefined));
  const g = server.host.group(1);
  if (g === undefined) throw new Error('no group 1');
  g.sm.apply = () => {
    throw new Error('state machine on fire');
  };
  const res = await fetch(`${base}/v1/groups/1/kv/k`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"value":"v"}' });
  expect(res.status).toBeGreaterThanOrEqual(500);
  const failure = await server.stopped;
  expect(failure?.message).toBe('group 1 failed: state machine on fire');
  await expect(fetch(`${base}/primary`)).rejects.toThrow();
});
