import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Wal, WalCorruptError, repairWal } from '../../src/storage/wal.js';
import { crc32c } from '../../src/util/crc32c.js';
import { entryRange, runLogStorageConformance } from './log-storage-conformance.js';

runLogStorageConformance('Wal (one group)', async (dir) => (await Wal.open(dir, { segmentBytes: 4096 })).storage(7), { reopenable: true });
runLogStorageConformance(
  'Wal (memFirst)',
  async (dir) => (await Wal.open(dir, { segmentBytes: 4096, persistence: { strategy: 'memFirst', flushThreshold: 8, flushIntervalMs: 5 } })).storage(3),
  { reopenable: true },
);

/** Polls a condition until it holds, with a deadline (no fixed sleeps). */
async function eventually(cond: () => boolean, deadlineMs = 5000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met before the deadline');
    await new Promise((r) => setTimeout(r, 2));
  }
}

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), 'keel-wal-'));
  dirs.push(d);
  return d;
}

describe('crc32c', () => {
  it('matches the published check value', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });
});

describe('Wal persistence strategies', () => {
  it('memFirst acknowledges from memory and flushes once the threshold is reached', async () => {
    const dir = await tempDir();
    const wal = await Wal.open(dir, { persistence: { strategy: 'memFirst', flushThreshold: 10, flushIntervalMs: 60_000 } });
    const s = wal.storage(1);
    for (let i = 1; i <= 9; i++) await s.save({ entries: entryRange(i, i, 1) });
    expect(wal.stats.fsyncs).toBe(0);
    await s.save({ entries: entryRange(10, 10, 1) });
    await eventually(() => wal.stats.fsyncs >= 1);
    expect(wal.stats.records).toBe(10);
    await wal.close();
  });

  it('memFirst flushes a lone write after the interval', async () => {
    const dir = await tempDir();
    const wal = await Wal.open(dir, { persistence: { strategy: 'memFirst', flushThreshold: 1000, flushIntervalMs: 20 } });
    await wal.storage(1).save({ entries: entryRange(1, 1, 1) });
    expect(wal.stats.fsyncs).toBe(0);
    await eventually(() => wal.stats.fsyncs === 1);
    await wal.close();
    const again = await Wal.open(dir);
    expect(again.storage(1).lastIndex()).toBe(1);
    await again.close();
  });

  it('diskFirst resolves a write only after its fsync', async () => {
    const dir = await tempDir();
    const wal = await Wal.open(dir);
    await wal.storage(1).save({ entries: entryRange(1, 1, 1) });
    expect(wal.stats.fsyncs).toBe(1);
    await wal.close();
  });

  it('diskFirst holds a lazy write (commit index only) for the next fsync, or flushes it after a while', async () => {
    const dir = await tempDir();
    const wal = await Wal.open(dir);
    const s = wal.storage(1);
    await s.save({ entries: entryRange(1, 3, 1), hardState: { term: 1, vote: 1, commit: 0 } });
    expect(wal.stats.fsyncs).toBe(1);
    await s.save({ entries: [], hardState: { term: 1, vote: 1, commit: 2 }, lazy: true });
    expect(wal.stats.fsyncs).toBe(1); // resolved at once, no fsync of its own
    expect(s.initialState().hardState.commit).toBe(2); // visible at once
    await s.save({ entries: entryRange(4, 4, 1) });
    expect(wal.stats.fsyncs).toBe(2); // rode along with the next durable write
    await s.save({ entries: [], hardState: { term: 1, vote: 1, commit: 4 }, lazy: true });
    await eventually(() => wal.stats.fsyncs === 3);
    await wal.close();
    const again = await Wal.open(dir);
    expect(again.storage(1).initialState().hardState.commit).toBe(4);
    await again.close();
  });

  it('refuses bad memFirst settings', async () => {
    const dir = await tempDir();
    await expect(Wal.open(dir, { persistence: { strategy: 'memFirst', flushThreshold: 0, flushIntervalMs: 5 } })).rejects.toThrow(/flushThreshold/);
    await expect(Wal.open(dir, { persistence: { strategy: 'memFirst', flushThreshold: 5, flushIntervalMs: 0 } })).rejects.toThrow(/flushIntervalMs/);
  });
});

describe('Wal', () => {
  it('keeps groups apart in one log, and group-commits concurrent writers', async () => {
    const dir = await tempDir();
    const wal = await Wal.open(dir);
    const a = wal.storage(1);
    const b = wal.storage(2);
    const writes: Promise<void>[] = [];
    for (let i = 1; i <= 50; i++) {
      writes.push(a.save({ entries: entryRange(i, i, 1) }));
      writes.push(b.save({ entries: entryRange(i, i, 2), hardState: { term: 2, vote: 1, commit: i - 1 } }));
    }
    await Promise.all(writes);
    await wal.close();
    const again = await Wal.open(dir);
    expect(again.groupIds()).toEqual([1, 2]);
    expect(again.storage(1).lastIndex()).toBe(50);
    expect(again.storage(2).term(50)).toBe(2);
    expect(again.storage(2).initialState().hardState).toEqual({ term: 2, vote: 1, commit: 49 });
    await again.close();
  });

  it('rotates segments and deletes those whose entries were all compacted', async () => {
    const dir = await tempDir();
    const wal = await Wal.open(dir, { segmentBytes: 2048 });
    const s = wal.storage(1);
    for (let i = 1; i <= 200; i++) await s.save({ entries: entryRange(i, i, 1, 64), hardState: { term: 1, vote: 1, commit: i } });
    expect(wal.segmentFiles().length).toBeGreaterThan(3);
    const conf = { voters: [1], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };
    await s.compact({ index: 190, term: 1, confState: conf }, 190);
    await s.save({ entries: entryRange(201, 201, 1, 64) });
    await wal.barrier();
    expect(wal.segmentFiles().length).toBeLessThanOrEqual(2);
    await wal.close();
    const again = await Wal.open(dir, { segmentBytes: 2048 });
    const r = again.storage(1);
    expect(r.firstIndex()).toBe(191);
    expect(r.lastIndex()).toBe(201);
    expect(r.snapshot().index).toBe(190);
    expect(r.initialState().hardState.commit).toBe(200);
    expect(r.initialState().confState).toEqual(conf);
    await again.close();
  });

  it('rewrites a lagging group so disk use stays bounded by live data', async () => {
    const dir = await tempDir();
    const conf = { voters: [1], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };
    const wal = await Wal.open(dir, { segmentBytes: 2048, maxSegments: 4 });
    const busy = wal.storage(1);
    const idle = wal.storage(2);
    // The idle group writes a little early on and never compacts: without rewriting, its
    // entries would pin the first segment, and with it every later one, forever.
    await idle.save({ entries: entryRange(1, 3, 5, 32), hardState: { term: 5, vote: 2, commit: 2 } });
    for (let i = 1; i <= 600; i++) {
      await busy.save({ entries: entryRange(i, i, 1, 64) });
      if (i % 50 === 0) await busy.compact({ index: i, term: 1, confState: conf }, i - 5);
      expect(wal.segmentFiles().length).toBeLessThanOrEqual(6);
    }
    await wal.close();
    const again = await Wal.open(dir, { segmentBytes: 2048, maxSegments: 4 });
    const idle2 = again.storage(2);
    expect(idle2.lastIndex()).toBe(3);
    expect(idle2.term(3)).toBe(5);
    expect(idle2.initialState().hardState).toEqual({ term: 5, vote: 2, commit: 2 });
    const busy2 = again.storage(1);
    expect(busy2.lastIndex()).toBe(600);
    expect(busy2.firstIndex()).toBe(596);
    expect(busy2.snapshot().index).toBe(600);
    await again.close();
  });

  it('truncates a torn tail and reports it', async () => {
    const dir = await tempDir();
    const wal = await Wal.open(dir);
    const s = wal.storage(1);
    await s.save({ entries: entryRange(1, 10, 1) });
    await wal.close();
    const [file] = (await fs.readdir(dir)).map((f) => path.join(dir, f));
    if (file === undefined) throw new Error('no segment');
    const size = (await fs.stat(file)).size;
    await fs.appendFile(file, new Uint8Array([0, 0, 1, 0, 9, 9, 9])); // half a record header and a few bytes
    const warnings: string[] = [];
    const again = await Wal.open(dir, { onWarning: (m) => warnings.push(m) });
    expect(again.storage(1).lastIndex()).toBe(10);
    expect(warnings.join()).toMatch(/torn tail/);
    expect((await fs.stat(file)).size).toBe(size);
    await again.close();
  });

  it('refuses to open on corruption in the middle of the log, naming file and offset', async () => {
    const dir = await tempDir();
    const wal = await Wal.open(dir);
    const s = wal.storage(1);
    for (let i = 1; i <= 10; i++) await s.save({ entries: entryRange(i, i, 1) });
    await wal.close();
    const [name] = await fs.readdir(dir);
    const file = path.join(dir, name ?? '');
    const data = await fs.readFile(file);
    data[20] = (data[20] ?? 0) ^ 0xff; // inside the first record
    await fs.writeFile(file, data);
    const err = await Wal.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WalCorruptError);
    expect((err as WalCorruptError).file).toBe(file);
    expect((err as WalCorruptError).offset).toBe(0);
    expect(String(err)).toMatch(/keel repair/);
    // The explicit repair cuts the log at the damage; the node then starts on what is left.
    const cut = await repairWal(dir);
    expect(cut).toMatchObject({ file, offset: 0 });
    expect(await repairWal(dir)).toBeUndefined();
    const repaired = await Wal.open(dir);
    expect(repaired.storage(1).lastIndex()).toBe(0);
    await repaired.close();
  });

  it('never returns wrong data after random truncation or byte flips: recovers a prefix or refuses', async () => {
    const dir = await tempDir();
    const wal = await Wal.open(dir);
    const s = wal.storage(1);
    for (let i = 1; i <= 40; i++) await s.save({ entries: entryRange(i, i, 3, 16) });
    await wal.close();
    const [name] = await fs.readdir(dir);
    const file = path.join(dir, name ?? '');
    const original = await fs.readFile(file);
    const expected = entryRange(1, 40, 3, 16);
    let refused = 0;
    let recovered = 0;
    for (let trial = 0; trial < 60; trial++) {
      const damaged = Buffer.from(original);
      const at = (trial * 7919) % damaged.byteLength;
      const bytes = trial % 2 === 0 ? damaged.subarray(0, at) : (damaged.writeUInt8((damaged[at] ?? 0) ^ (1 + (trial % 255)), at), damaged);
      await fs.writeFile(file, bytes);
      try {
        const w = await Wal.open(dir);
        const r = w.storage(1);
        const got = r.lastIndex() >= r.firstIndex() ? r.entries(r.firstIndex(), r.lastIndex() + 1, Infinity) : [];
        got.forEach((e, i) => {
          const want = expected[i];
          expect(e.index).toBe(want?.index);
          expect([...e.data]).toEqual([...(want?.data ?? [])]);
        });
        recovered++;
        await w.close();
      } catch (err) {
        expect(err).toBeInstanceOf(WalCorruptError);
        refused++;
      }
    }
    expect(recovered).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });
});
