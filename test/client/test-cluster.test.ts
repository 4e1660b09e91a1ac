import * as fs from 'node:fs/promises';
import { afterAll, expect, it } from 'vitest';
import { KeelClient } from '../../src/client/keel-client.js';
import { resolveServeConfig } from '../../src/config/serve-config.js';
import { createLogger } from '../../src/server/logger.js';
import { startServer } from '../../src/server/server.js';
import type { RunningServer } from '../../src/server/server.js';
import { eventually, freePorts, tempDir } from '../support/keel-process.js';

/**
 * openraft's test_cluster.rs, through Keel's typed client: three uninitialized nodes; init the
 * first alone; add the others as learners (waiting until they caught up); make all three
 * voters; write through the client (it finds the leader), read on every node; then shrink the
 * membership and write again.
 */
const servers: RunningServer[] = [];
const clients: KeelClient[] = [];
let dir = '';

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(servers.map((s) => s.stop()));
  if (dir !== '') await fs.rm(dir, { recursive: true, force: true });
});

it('init, add learners, change membership, write and read on every node, through the typed client', async () => {
  dir = await tempDir('keel-client-cluster-');
  const ports = await freePorts(3);
  for (const [i, port] of ports.entries()) {
    // Only --id and --http-addr: an uninitialized node, like openraft's.
    const config = resolveServeConfig({ id: String(i + 1), httpAddr: `127.0.0.1:${port}`, dataDir: `${dir}/n${i + 1}`, tickMs: '20' }, undefined);
    servers.push(await startServer(config, createLogger(i + 1, 'silent')));
  }
  const addr = (id: number): string => servers[id - 1]?.apiAddress ?? '';
  const client = new KeelClient({ endpoints: [addr(1), addr(2), addr(3)], timeoutMs: 20_000 });
  clients.push(client);

  const status = await client.status({ endpoint: addr(2) });
  expect(status.groups).toEqual([]); // uninitialized

  await client.init([{ id: 1 }], { endpoint: addr(1) });
  await eventually('node 1 to lead', async () => ((await client.status({ endpoint: addr(1) })).groups[0]?.role === 'leader' ? true : undefined));
  await expect(client.init([{ id: 1 }], { endpoint: addr(1) })).rejects.toMatchObject({ code: 'ALREADY_INITIALIZED', status: 409 });

  await client.addLearner(2, addr(2), { wait: true });
  const learners = await client.addLearner(3, addr(3), { wait: true });
  expect(learners.members.map((m) => [m.id, m.role])).toEqual([[1, 'voter'], [2, 'learner'], [3, 'learner']]);

  const voters = await client.changeMembership([1, 2, 3]);
  expect(voters.members.map((m) => [m.id, m.role])).toEqual([[1, 'voter'], [2, 'voter'], [3, 'voter']]);

  await client.put('foo', 'bar');
  for (const id of [1, 2, 3]) {
    const one = new KeelClient({ endpoints: [addr(id)] });
    clients.push(one);
    expect((await one.get('foo'))?.value).toBe('bar'); // linearizable, served on that node
    expect((await one.get('foo', { consistency: 'lease' }))?.value).toBe('bar');
  }
  expect(client.knownLeader).toBe(addr(1));

  // Shrink to node 3 alone, then write through the client, which follows the new leader.
  await client.changeMembership([3]);
  await eventually('node 3 to lead', async () => ((await client.status({ endpoint: addr(3) })).groups[0]?.role === 'leader' ? true : undefined));
  const only3 = new KeelClient({ endpoints: [addr(3)] });
  clients.push(only3);
  await only3.put('foo', 'zoo');
  expect((await only3.get('foo'))?.value).toBe('zoo');
  expect(await only3.metrics()).toMatch(/keel_raft_is_leader\{group="1"\} 1/);
}, 120_000);
