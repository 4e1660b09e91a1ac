import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { Wal } from '../../src/storage/wal.js';
import { SeededRng } from '../../src/util/rng.js';
import { crashEntry } from './wal-crash-data.js';

const GROUPS = 16;
const ROUNDS = 12;
const children: ChildProcess[] = [];
let dir: string | undefined;

afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  if (dir !== undefined) await fs.rm(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Runs the child until it has acknowledged `target` appends (or a deadline), then SIGKILLs it. */
async function runAndKill(walDir: string, target: number): Promise<Map<number, number>> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/storage/wal-crash-child.ts', walDir, String(GROUPS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const acked = new Map<number, number>();
  let count = 0;
  let buffer = '';
  await new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`child acknowledged only ${count} of ${target} appends in time`)), 60_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^ack (\d+) (\d+)$/.exec(line);
        if (m === null) continue;
        const g = Number(m[1]);
        acked.set(g, Math.max(acked.get(g) ?? 0, Number(m[2])));
        count++;
      }
      if (count >= target) {
        clearTimeout(deadline);
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(deadline);
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`child exited early: code ${code}`));
    });
  });
  await new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
  return acked;
}

it('loses no acknowledged append across repeated kill -9, and never returns damaged entries', async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'keel-wal-crash-'));
  const walDir = dir;
  const rng = new SeededRng(20261122);
  const everAcked = new Map<number, number>();
  for (let round = 0; round < ROUNDS; round++) {
    const target = 100 + rng.int(900);
    const acked = await runAndKill(walDir, target);
    for (const [g, i] of acked) everAcked.set(g, Math.max(everAcked.get(g) ?? 0, i));
    const wal = await Wal.open(walDir, { segmentBytes: 64 * 1024 });
    try {
      for (let g = 1; g <= GROUPS; g++) {
        const s = wal.storage(g);
        const want = everAcked.get(g) ?? 0;
        // Every acknowledged entry is there; anything beyond is an intact unacknowledged one.
        expect(s.lastIndex(), `round ${round} group ${g}`).toBeGreaterThanOrEqual(want);
        const from = s.firstIndex();
        for (const e of s.entries(from, s.lastIndex() + 1, Number.POSITIVE_INFINITY)) {
          const expected = crashEntry(g, e.index);
          expect(e.term).toBe(1);
          expect(Buffer.from(e.data).equals(Buffer.from(expected.data)), `round ${round} group ${g} entry ${e.index} damaged`).toBe(true);
        }
      }
    } finally {
      await wal.close();
    }
  }
}, 300_000);
