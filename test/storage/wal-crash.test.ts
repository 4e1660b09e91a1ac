import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { Wal } from '../../src/storage/wal.js';
import { SeededRng } from '../../src/util/rng.js';
import { killLiveChildren, runChildUntil } from '../support/child-lines.js';
import { crashEntry } from './wal-crash-data.js';

const GROUPS = 16;
const ROUNDS = 12;
let dir: string | undefined;

afterEach(async () => {
  killLiveChildren();
  if (dir !== undefined) await fs.rm(dir, { recursive: true, force: true });
  dir = undefined;
});

it('loses no acknowledged append across repeated kill -9, and never returns damaged entries', async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'keel-wal-crash-'));
  const walDir = dir;
  const rng = new SeededRng(20261122);
  const everAcked = new Map<number, number>();
  for (let round = 0; round < ROUNDS; round++) {
    // Kill the child after a random number of acknowledged appends.
    const target = 100 + rng.int(900);
    const lines = await runChildUntil('test/storage/wal-crash-child.ts', [walDir, String(GROUPS)], (ls) => ls.length > target);
    for (const line of lines) {
      const m = /^ack (\d+) (\d+)$/.exec(line);
      if (m === null) continue;
      const g = Number(m[1]);
      everAcked.set(g, Math.max(everAcked.get(g) ?? 0, Number(m[2])));
    }
    const wal = await Wal.open(walDir, { segmentBytes: 64 * 1024, maxSegments: 3 });
    try {
      for (let g = 1; g <= GROUPS; g++) {
        const s = wal.storage(g);
        const want = everAcked.get(g) ?? 0;
        // Every acknowledged entry is there; anything beyond is an intact unacknowledged one.
        expect(s.lastIndex(), `round ${round} group ${g}`).toBeGreaterThanOrEqual(want);
        for (const e of s.entries(s.firstIndex(), s.lastIndex() + 1, Number.POSITIVE_INFINITY)) {
          const expected = crashEntry(g, e.index);
          expect(e.term).toBe(1);
          expect(Buffer.from(e.data).equals(Buffer.from(expected.data)), `round ${round} group ${g} entry ${e.index} damaged`).toBe(true);
        }
      }
    } finally {
      await wal.close();
    }
  }
  expect(everAcked.size).toBe(GROUPS);
}, 300_000);
