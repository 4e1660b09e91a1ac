import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, freePorts, tempDir } from '../support/keel-process.js';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { killLiveChildren, liveChildren } from '../support/child-lines.js';

/**
 * examples/embedded-http: three instances of an application that embeds Keel (its own state
 * machine, RaftNode, the peer transport on its HTTP port). Writes on any instance, reads with
 * each consistency on every instance, leadership for the health checks, failover.
 */
let dir = '';
let ports: number[] = [];
const apps = new Map<number, ChildProcess>();

function startApp(id: number): ChildProcess {
  const peers = ports.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(',');
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/embedded-http/app.ts', '--id', String(id), '--port', String(ports[id - 1] ?? 0), '--peers', peers, '--data-dir', path.join(dir, `n${id}`)], { stdio: ['ignore', 'pipe', 'pipe'] });
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  apps.set(id, child);
  return child;
}

const url = (id: number, p: string): string => `http://127.0.0.1:${ports[id - 1] ?? 0}${p}`;
const code = async (u: string): Promise<number> => (await fetch(u).catch(() => undefined))?.status ?? 0;

beforeAll(async () => {
  dir = await tempDir('keel-embedded-');
  ports = await freePorts(3);
  for (const id of [1, 2, 3]) startApp(id);
  await eventually('a leader', async () => ((await Promise.all([1, 2, 3].map((i) => code(url(i, '/primary'))))).filter((c) => c === 200).length === 1 ? true : undefined), 30_000);
}, 60_000);

afterAll(async () => {
  for (const c of apps.values()) c.kill('SIGTERM');
  await Promise.race([Promise.all([...apps.values()].map((c) => new Promise((r) => (c.exitCode === null ? c.once('exit', r) : r(undefined))))), new Promise((r) => setTimeout(r, 5_000))]);
  killLiveChildren();
  await fs.rm(dir, { recursive: true, force: true });
});

it('runs three embedded instances: writes anywhere, reads at each consistency, failover', async () => {
  const statuses = await Promise.all([1, 2, 3].map((i) => code(url(i, '/primary'))));
  const leader = statuses.indexOf(200) + 1;
  const follower = leader === 1 ? 2 : 1;
  const post = await fetch(url(follower, '/kv'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: 'username', value: 'alice' }) });
  expect(post.status).toBe(200);
  for (const id of [1, 2, 3]) {
    expect(await (await fetch(url(id, '/kv/username?consistency=linearizable'))).json()).toEqual({ value: 'alice' });
    expect(await (await fetch(url(id, '/kv/username?consistency=lease'))).json()).toEqual({ value: 'alice' });
    await eventually(`eventual read on ${id}`, async () => ((await (await fetch(url(id, '/kv/username?consistency=eventual'))).json()) as { value: string | null }).value === 'alice' ? true : undefined);
  }
  expect((await fetch(url(1, '/kv'), { method: 'POST', body: '{nope' })).status).toBe(400);

  apps.get(leader)?.kill('SIGKILL');
  const rest = [1, 2, 3].filter((i) => i !== leader);
  await eventually('a new leader', async () => ((await Promise.all(rest.map((i) => code(url(i, '/primary'))))).includes(200) ? true : undefined), 30_000);
  const post2 = await fetch(url(rest[0] ?? 1, '/kv'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: 'after', value: 'failover' }) });
  expect(post2.status).toBe(200);
  expect(await (await fetch(url(rest[1] ?? 2, '/kv/after'))).json()).toEqual({ value: 'failover' });
}, 90_000);
