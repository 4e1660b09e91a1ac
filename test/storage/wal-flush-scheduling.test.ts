import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { Wal } from '../../src/storage/wal.js';
import { killLiveChildren, runChildUntil } from '../support/child-lines.js';

let dir: string | undefined;

afterEach(async () => {
  killLiveChildren();
  if (dir !== undefined) await fs.rm(dir, { recursive: true, force: true });
  dir = undefined;
});

// A batch timer that fired during a flush which then took every pending write used to leave a
// "force" flag set with nothing to flush: the flush loop rescheduled itself on microtasks
// forever, and the process (a node under memFirst) stopped answering anything. The scenario
// runs in a child so that a spinning loop fails this test by the deadline instead of hanging it.
it('memFirst batch timers firing during a flush never leave the event loop starved', async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'keel-wal-flush-'));
  const lines = await runChildUntil('test/storage/wal-flush-child.ts', [dir], () => false, 30_000);
  const m = /^turns (\d+) entries (\d+)$/.exec(lines.join('\n').trim());
  expect(m, `child output: ${lines.join('\n')}`).not.toBeNull();
  // A 1 ms interval over 1.5 s: a loop that turns at all turns hundreds of times.
  expect(Number(m?.[1])).toBeGreaterThan(100);
  const wal = await Wal.open(dir);
  try {
    expect(wal.storage(1).lastIndex()).toBe(Number(m?.[2]));
  } finally {
    await wal.close();
  }
});
