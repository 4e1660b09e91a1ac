import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, freePorts, tempDir } from '../support/keel-process.js';

/**
 * d-engine's three-node example (seed 001) with the example's own config files, ports shifted
 * by an offset the test picks: POST /kv on any node, GET /kv/:key everywhere, /primary and
 * /replica on the health ports, automatic failover when the leader dies, and Debian's HAProxy
 * in front when it is installed.
 */
let dir = '';
let offset = 0;
let cluster: ChildProcess | undefined;
const pids = new Map<number, number>();
const output: string[] = [];

const api = (i: number): string => `http://127.0.0.1:${8080 + i + offset}`;
const health = (i: number): string => `http://127.0.0.1:${10000 + i + offset}`;

async function status(url: string): Promise<number> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2000) })).status;
  } catch {
    return 0;
  }
}

async function leader(alive: readonly number[]): Promise<number> {
  return eventually('exactly one /primary', async () => {
    const codes = await Promise.all(alive.map((i) => status(`${health(i)}/primary`)));
    const leaders = alive.filter((_, k) => codes[k] === 200);
    return leaders.length === 1 ? leaders[0] : undefined;
  }, 20_000);
}

beforeAll(async () => {
  dir = await tempDir('keel-three-nodes-');
  // An offset below the ephemeral range that leaves the example's ports (8081-10003) free.
  const [probe] = await freePorts(1);
  offset = 11_000 + ((probe ?? 0) % 9_000);
  const configDir = path.join(dir, 'config');
  await fs.mkdir(configDir);
  for (const i of [1, 2, 3]) {
    const text = await fs.readFile(`examples/three-nodes/config/n${i}.toml`, 'utf8');
    const shifted = text
      .replace(/127\.0\.0\.1:(\d+)/g, (_, p: string) => `127.0.0.1:${Number(p) + offset}`)
      .replace(/db_root_dir = ".*"/, `db_root_dir = "${path.join(dir, `n${i}`)}"`);
    await fs.writeFile(path.join(configDir, `n${i}.toml`), shifted);
  }
  cluster = spawn('bash', ['examples/three-nodes/start.sh'], {
    env: { ...process.env, KEEL_BIN: path.resolve('test/support/keel-from-source.sh'), CONFIG_DIR: configDir, PORT_OFFSET: String(offset) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  cluster.stdout?.on('data', (c: Buffer) => output.push(c.toString('utf8')));
  cluster.stderr?.on('data', (c: Buffer) => output.push(c.toString('utf8')));
  await eventually('three ready lines', () => (output.join('').match(/^ready node=/gm)?.length === 3 ? true : undefined), 60_000);
  for (const m of output.join('').matchAll(/^ready node=(\d+)/gm)) pids.set(Number(m[1]), 0);
}, 90_000);

// What the nodes said is the only account of a failure in CI: print it with the failed test.
afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') console.error(`--- output of the three nodes ---\n${output.join('').slice(-30_000)}`);
});

afterAll(async () => {
  if (cluster?.pid !== undefined) {
    try {
      process.kill(-cluster.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await Promise.race([new Promise((r) => cluster?.once('exit', r)), new Promise((r) => setTimeout(r, 10_000))]);
    try {
      process.kill(-cluster.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await fs.rm(dir, { recursive: true, force: true });
});

const hasHaproxy = spawnSync('haproxy', ['-v']).error === undefined;

describe('examples/three-nodes', () => {
  it.skipIf(!hasHaproxy)('serves writes and reads through the example HAProxy config (writes to /primary, reads round-robin)', async () => {
    const cfg = (await fs.readFile('examples/three-nodes/haproxy.cfg', 'utf8')).replace(/127\.0\.0\.1:(\d+)/g, (_, p: string) => `127.0.0.1:${Number(p) + offset}`).replace(/check port (\d+)/g, (_, p: string) => `check port ${Number(p) + offset}`);
    const cfgFile = path.join(dir, 'haproxy.cfg');
    await fs.writeFile(cfgFile, cfg);
    const haproxy = spawn('haproxy', ['-db', '-f', cfgFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let haproxyErr = '';
    haproxy.stderr.on('data', (c: Buffer) => (haproxyErr += c.toString('utf8')));
    try {
      const writes = `http://127.0.0.1:${8080 + offset}`;
      const reads = `http://127.0.0.1:${8090 + offset}`;
      await eventually(`a write through HAProxy (${haproxyErr})`, async () => {
        const res = await fetch(`${writes}/kv`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: 'via', value: 'haproxy' }), signal: AbortSignal.timeout(3000) });
        return res.status === 200 ? true : undefined;
      }, 30_000);
      // The write backend sends only to the leader: its /primary check is the only 200.
      for (let i = 0; i < 6; i++) {
        const res = await fetch(`${reads}/kv/via`);
        expect(((await res.json()) as { value: string | null }).value).toBe('haproxy');
      }
    } finally {
      haproxy.kill('SIGKILL');
      await new Promise((r) => (haproxy.exitCode === null ? haproxy.once('exit', r) : r(undefined)));
    }
  }, 60_000);

  it('writes on any node, reads everywhere, and tells the load balancer who leads', async () => {
    const first = await leader([1, 2, 3]);
    const follower = [1, 2, 3].find((i) => i !== first) ?? 2;
    const res = await fetch(`${api(follower)}/kv`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: 'username', value: 'alice' }) });
    expect([res.status, await res.json()]).toEqual([200, {}]);
    for (const i of [1, 2, 3]) {
      await eventually(`the value on node ${i}`, async () => {
        const body = (await (await fetch(`${api(i)}/kv/username`)).json()) as { value: string | null };
        return body.value === 'alice' ? true : undefined;
      });
    }
    expect(await (await fetch(`${api(1)}/kv/nobody`)).json()).toEqual({ value: null });
    for (const i of [1, 2, 3]) {
      expect(await status(`${health(i)}/primary`)).toBe(i === first ? 200 : 503);
      expect(await status(`${health(i)}/replica`)).toBe(i === first ? 503 : 200);
    }
    // Leader hints name the API port, not the raft listener the config lists.
    await eventually('a leader hint with the API address', async () => {
      const hinted = (await fetch(`${api(follower)}/v1/groups/1/kv/username`)).headers.get('keel-leader-addr');
      return hinted === api(first).replace('http://', '') ? true : undefined;
    });
  }, 60_000);

  it('fails over when the leader dies', async () => {
    const first = await leader([1, 2, 3]);
    const pid = Number(/(\d+)/.exec(spawnSync('pgrep', ['-f', `config/n${first}\\.toml --port`]).stdout.toString())?.[1] ?? 0);
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 'SIGKILL');
    const rest = [1, 2, 3].filter((i) => i !== first);
    const next = await leader(rest);
    expect(rest).toContain(next);
    const res = await fetch(`${api(next)}/kv`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: 'after', value: 'failover' }) });
    expect(res.status).toBe(200);
    for (const i of rest) await eventually(`the write on node ${i}`, async () => (((await (await fetch(`${api(i)}/kv/after`)).json()) as { value: string | null }).value === 'failover' ? true : undefined));
  }, 60_000);
});
