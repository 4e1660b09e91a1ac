import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { SeededRng } from '../../src/util/rng.js';

const children: ChildProcess[] = [];
let dir: string | undefined;

afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  if (dir !== undefined) await fs.rm(dir, { recursive: true, force: true });
  dir = undefined;
});

/**
 * Starts the child and collects its output lines; `until` decides when to stop reading (the
 * child is then killed with SIGKILL unless it exits by itself). Waits with a deadline.
 */
async function runChild(dataDir: string, mode: 'load' | 'dump', until: (lines: string[]) => boolean): Promise<string[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/node/durable-node-child.ts', dataDir, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const lines: string[] = [];
  let buffer = '';
  await new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`child (${mode}) did not get there in time; ${lines.length} lines`)), 60_000);
    const done = (): void => {
      clearTimeout(deadline);
      resolve();
    };
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      lines.push(...parts);
      if (until(lines)) {
        child.kill('SIGKILL');
        done();
      }
    });
    child.on('exit', done);
  });
  await new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
  return lines;
}

it('a node on disk loses no acknowledged command across repeated kill -9', async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'keel-durable-node-'));
  const dataDir = dir;
  const rng = new SeededRng(7);
  const acked = new Set<string>();
  for (let round = 0; round < 6; round++) {
    const target = 200 + rng.int(800);
    const lines = await runChild(dataDir, 'load', (ls) => ls.length >= target);
    for (const l of lines) if (l.startsWith('ack ')) acked.add(l.slice(4));
  }
  expect(acked.size).toBeGreaterThan(1000);
  const out = await runChild(dataDir, 'dump', (ls) => ls.some((l) => l.startsWith('state ')));
  const stateLine = out.find((l) => l.startsWith('state '));
  if (stateLine === undefined) throw new Error('no state printed');
  const state = new Set(stateLine.slice(6).split(','));
  const missing = [...acked].filter((id) => !state.has(id));
  expect(missing).toEqual([]);
}, 300_000);
