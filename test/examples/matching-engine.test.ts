import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { SeededRng } from '../../src/util/rng.js';
import { killLiveChildren, liveChildren } from '../support/child-lines.js';
import { eventually, freePorts, tempDir } from '../support/keel-process.js';

/**
 * The replicated matching engine: three instances, a stream of orders sent round-robin, the
 * leader killed mid-stream and restarted later; at the end every node has the same book and
 * the same trade list.
 */
let dir = '';
let ports: number[] = [];
const apps = new Map<number, ChildProcess>();

function startApp(id: number): void {
  const peers = ports.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(',');
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/matching-engine/app.ts', '--id', String(id), '--port', String(ports[id - 1] ?? 0), '--peers', peers, '--data-dir', path.join(dir, `n${id}`)], { stdio: ['ignore', 'ignore', 'ignore'] });
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  apps.set(id, child);
}

const url = (id: number, p: string): string => `http://127.0.0.1:${ports[id - 1] ?? 0}${p}`;

afterAll(async () => {
  for (const c of apps.values()) c.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  killLiveChildren();
  if (dir !== '') await fs.rm(dir, { recursive: true, force: true });
});

it('every node ends with the same book and trades after the leader is killed mid-stream', async () => {
  dir = await tempDir('keel-matching-');
  ports = await freePorts(3);
  for (const id of [1, 2, 3]) startApp(id);
  const primary = async (): Promise<number | undefined> => {
    for (const id of apps.keys()) {
      const s = await fetch(url(id, '/primary')).then((r) => r.status, () => 0);
      if (s === 200) return id;
    }
    return undefined;
  };
  const leader = await eventually('a leader', primary, 30_000);

  const rng = new SeededRng(11);
  let accepted = 0;
  const send = async (n: number, alive: number[]): Promise<void> => {
    const side = rng.chance(0.5) ? 'buy' : 'sell';
    const order = rng.chance(0.1)
      ? { type: 'market', id: `o${n}`, side, quantity: 1 + rng.int(5) }
      : { type: 'limit', id: `o${n}`, side, price: 95 + rng.int(11), quantity: 1 + rng.int(9) };
    // Retry on another node until an answer: a retried order that did apply is refused as a reused id.
    await eventually(`order ${n}`, async () => {
      const to = alive[(n + rng.int(3)) % alive.length] ?? 1;
      const res = await fetch(url(to, '/orders'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(order), signal: AbortSignal.timeout(5000) });
      if (res.status === 200 || res.status === 409) return true;
      return undefined;
    }, 30_000);
    accepted++;
  };
  for (let n = 0; n < 150; n++) await send(n, [1, 2, 3]);
  apps.get(leader)?.kill('SIGKILL');
  const rest = [1, 2, 3].filter((i) => i !== leader);
  for (let n = 150; n < 300; n++) await send(n, rest);
  expect(accepted).toBe(300);

  startApp(leader);
  const snapshot = async (id: number, consistency: string): Promise<string> => {
    const book = await fetch(url(id, `/book?consistency=${consistency}`));
    const trades = await fetch(url(id, `/trades?consistency=${consistency}`));
    if (!book.ok || !trades.ok) throw new Error(`node ${id} answered ${book.status}/${trades.status}`);
    return `${await book.text()}\n${await trades.text()}`;
  };
  // Linearizable: the reference holds every acknowledged order.
  const reference = await eventually('the reference state', () => snapshot(rest[0] ?? 1, 'linearizable'));
  await eventually('every node to hold the same book and trades', async () => {
    const states = await Promise.all([1, 2, 3].map((id) => snapshot(id, 'eventual').catch(() => '')));
    return states.every((s) => s === reference) ? true : undefined;
  }, 30_000);
  const trades = JSON.parse(reference.split('\n')[1] ?? '[]') as unknown[];
  expect(trades.length).toBeGreaterThan(50);
}, 180_000);
