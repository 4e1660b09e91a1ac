/**
 * `npm run bench -- wal [seconds]`: appends/s and fsyncs/s of the write-ahead log for 1, 16
 * and 256 concurrent writers (each its own raft group) with 100-byte and 1-KiB entries, next
 * to the raw fdatasync rate of the same disk measured in the same run.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Wal } from '../src/storage/wal.js';

async function rawFdatasyncPerSecond(dir: string, seconds: number): Promise<number> {
  const h = await fs.open(path.join(dir, 'raw'), 'a');
  const buf = new Uint8Array(100);
  let n = 0;
  const end = performance.now() + seconds * 1000;
  try {
    while (performance.now() < end) {
      await h.write(buf);
      await h.datasync();
      n++;
    }
  } finally {
    await h.close();
  }
  return n / seconds;
}

async function walRun(dir: string, writers: number, entryBytes: number, seconds: number): Promise<{ appends: number; fsyncs: number }> {
  const wal = await Wal.open(dir);
  const data = new Uint8Array(entryBytes);
  let appends = 0;
  const end = performance.now() + seconds * 1000;
  const fsyncsBefore = wal.stats.fsyncs;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const s = wal.storage(w + 1);
      let index = s.lastIndex() + 1;
      while (performance.now() < end) {
        await s.save({ entries: [{ index: index++, term: 1, type: 'normal', data }] });
        appends++;
      }
    }),
  );
  const fsyncs = wal.stats.fsyncs - fsyncsBefore;
  await wal.close();
  return { appends: appends / seconds, fsyncs: fsyncs / seconds };
}

export async function benchWal(args: readonly string[]): Promise<void> {
  const seconds = Number(args[0] ?? 2);
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'keel-bench-wal-'));
  try {
    const raw = await rawFdatasyncPerSecond(root, seconds);
    console.log(`wal: ${seconds}s per run, temp dir on the same disk (${root})`);
    console.log(`raw fdatasync: ${Math.round(raw).toLocaleString('en-US')}/s`);
    console.log('writers  entry   appends/s   fsyncs/s   appends / raw fdatasync');
    let run = 0;
    for (const writers of [1, 16, 256]) {
      for (const bytes of [100, 1024]) {
        const r = await walRun(path.join(root, `run-${run++}`), writers, bytes, seconds);
        console.log(
          `${String(writers).padStart(7)}  ${String(bytes).padStart(5)}  ${Math.round(r.appends).toLocaleString('en-US').padStart(10)}  ${Math.round(r.fsyncs).toLocaleString('en-US').padStart(9)}   ${(r.appends / raw).toFixed(1)}x`,
        );
      }
    }
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}
