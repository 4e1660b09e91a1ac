import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { SeededRng } from '../../src/util/rng.js';
import { killLiveChildren, runChildUntil } from '../support/child-lines.js';

const CHILD = 'test/node/durable-node-child.ts';
let dir: string | undefined;

afterEach(async () => {
  killLiveChildren();
  if (dir !== undefined) await fs.rm(dir, { recursive: true, force: true });
  dir = undefined;
});

it('a node on disk loses no acknowledged command across repeated kill -9', async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'keel-durable-node-'));
  const dataDir = dir;
  const rng = new SeededRng(7);
  const acked = new Set<string>();
  for (let round = 0; round < 6; round++) {
    const target = 200 + rng.int(800);
    const lines = await runChildUntil(CHILD, [dataDir, 'load'], (ls) => ls.length >= target);
    for (const l of lines) if (l.startsWith('ack ')) acked.add(l.slice(4));
  }
  expect(acked.size).toBeGreaterThan(1000);
  const out = await runChildUntil(CHILD, [dataDir, 'dump'], (ls) => ls.some((l) => l.startsWith('state ')));
  const stateLine = out.find((l) => l.startsWith('state '));
  if (stateLine === undefined) throw new Error('no state printed');
  const state = new Set(stateLine.slice(6).split(','));
  const missing = [...acked].filter((id) => !state.has(id));
  expect(missing).toEqual([]);
}, 300_000);
