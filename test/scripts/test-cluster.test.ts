import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { freePorts } from '../support/keel-process.js';

/**
 * openraft's walkthrough (seed 000) as scripts/test-cluster.sh runs it with curl: five
 * uninitialized nodes, init, add-learner, change-membership, write and read on every node,
 * change-membership down to node 3, write and read there. Checks each reply.
 */
it('scripts/test-cluster.sh walks through the openraft example against Keel', async () => {
  // Five consecutive ports from a random base.
  const [probe] = await freePorts(1);
  // Below the ephemeral range (32768+), where the other tests pick their ports.
  const base = 20_000 + ((probe ?? 0) % 10_000);
  const env = { ...process.env, KEEL_BIN: path.resolve('test/support/keel-from-source.sh'), KEEL_BASE_PORT: String(base) };
  const child = spawn('bash', ['scripts/test-cluster.sh'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGTERM'), 150_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  expect({ code, err: code === 0 ? '' : err + out.slice(-3000) }).toEqual({ code: 0, err: '' });

  // Each rpc line is followed by its reply.
  const replies = new Map<string, string[]>();
  const lines = out.split('\n');
  lines.forEach((l, i) => {
    const m = /^--- rpc\(http:\/\/127\.0\.0\.1:(\d+)(\/[\w-]+), /.exec(l);
    if (m === null) return;
    const key = `${Number(m[1]) - base + 1}${m[2] ?? ''}`;
    replies.set(key, [...(replies.get(key) ?? []), lines[i + 1] ?? '']);
  });
  expect(replies.get('1/init')).toEqual(['{"Ok":null}']);
  expect(replies.get('1/add-learner')?.every((r) => r.startsWith('{"Ok":{"log_id"'))).toBe(true);
  expect(replies.get('1/change-membership')?.[0]).toContain('"configs":[[1,2,3,4,5]]');
  expect(replies.get('1/change-membership')?.[1]).toContain('"configs":[[3]]');
  expect(replies.get('1/write')?.[0]).toContain('"data":{"value":"bar"}');
  for (const id of [1, 2, 3]) expect(replies.get(`${id}/read`)?.[0]).toBe('{"Ok":"bar"}');
  expect(replies.get('3/metrics')?.[0]).toContain('"state":"Leader"');
  expect(replies.get('3/write')?.[0]).toContain('"data":{"value":"zoo"}');
  expect(replies.get('3/read')?.at(-1)).toBe('{"Ok":"zoo"}');
}, 180_000);
