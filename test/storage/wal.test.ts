import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Wal, WalCorruptError, WalGroupDeletedError, repairWal } from '../../src/storage/wal.js';
import { crc32c } from '../../src/util/crc32c.js';
import type { Entry } from '../../src/raft/types.js';
import { entryRange, runLogStorageConformance } from './log-storage-conformance.js';

runLogStorageConformance('Wal (one group)', async (dir) => (await Wal.open(dir, { segmentBytes: 4096 })).storage(7), { reopenable: true });
runLogStorageConformance(
  'Wal (memFirst)',
  async (dir) => (await Wal.open(dir, { segmentBytes: 4096, persistence: { strategy: 'memFirst', flushThreshold: 8, flushIntervalMs: 5 } })).storage(3),
  { reopenable: true },
);

// Writes on the calling thread, as a server node that leads no group does.
runLogStorageConformance('Wal (synchronous writes)', async (dir) => (await Wal.open(dir, { segmentBytes: 4096, writeSynchronously: () => true })).storage(5), { reopenable: true });

// With no entry cache every read goes to the segment files.
runLogStorageConformance('Wal (no entry cache)', async (dir) => (await Wal.open(dir, { segmentBytes: 4096, entryCacheBytes: 0 })).storage(9), { reopenable: true });
runLogStorageConformance(
  'Wal (memFirst, no entry cache)',
  async (dir) =>
    (await Wal.open(dir, { segmentBytes: 4096, entryCacheBytes: 0, persistence: { strategy: 'memFirst', flushThreshold: 8, flushIntervalMs: 5 } })).storage(4),
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

  it('fails the writes of a batch whose write fails, and every write after it', async () => {
    const dir = await tempDir();
    const wal = await Wal.open(dir);
    // The segment's descriptor closed under the log: the next durable write fails (EBADF).
    await (wal as unknown as { handle: { close(): Promise<void> } }).handle.close();
    const first = wal.storage(1).save({ entries: entryRange(1, 1, 1) });
    await expect(first).rejects.toThrow(/EBADF|closed/);
    await expect(wal.storage(2).save({ entries: entryRange(1, 1, 1) })).rejects.toThrow(/EBADF|closed/);
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
    const end = wal.stats.bytesWritten;
    await wal.close();
    const [file] = (await fs.readdir(dir)).map((f) => path.join(dir, f));
    if (file === undefined) throw new Error('no segment');
    // A write cut short: the start of a record header and a few bytes, in the zeroed space.
    const h = await fs.open(file, 'r+');
    await h.write(new Uint8Array([0, 0, 1, 0, 9, 9, 9]), 0, 7, end);
    await h.close();
    const warnings: string[] = [];
    const again = await Wal.open(dir, { onWarning: (m) => warnings.push(m) });
    expect(again.storage(1).lastIndex()).toBe(10);
    expect(warnings.join()).toMatch(/torn tail of 7 bytes/);
    expect((await fs.stat(file)).size).toBe(end);
    await again.storage(1).save({ entries: entryRange(11, 11, 1) });
    await again.close();
    const third = await Wal.open(dir);
    expect(third.storage(1).lastIndex()).toBe(11);
    await third.close();
  });

  it('writes records into zeroed space ahead of them, which recovery reads as their end in every segment', async () => {
    const dir = await tempDir();
    const wal = await Wal.open(dir, { segmentBytes: 64 * 1024 });
    const s = wal.storage(1);
    await s.save({ entries: entryRange(1, 1, 1, 100) });
    await wal.close();
    const [file] = wal.segmentFiles();
    if (file === undefined) throw new Error('no segment');
    // The first write left the segment zeroed up to its size, so later writes do not grow it.
    const zeroed = (await fs.stat(file)).size;
    expect(zeroed).toBe(64 * 1024);
    const warnings: string[] = [];
    const again = await Wal.open(dir, { segmentBytes: 64 * 1024, onWarning: (m) => warnings.push(m) });
    const s2 = again.storage(1);
    for (let i = 2; i <= 20; i++) await s2.save({ entries: entryRange(i, i, 1, 100) });
    expect((await fs.stat(file)).size).toBe(zeroed);
    // Enough to fill several segments, each left with zeros after its last record.
    for (let i = 21; i <= 2000; i += 10) await s2.save({ entries: entryRange(i, i + 9, 1, 100) });
    await again.close();
    expect(again.segmentFiles().length).toBeGreaterThan(3);
    const third = await Wal.open(dir, { segmentBytes: 64 * 1024, maxSegments: 64, onWarning: (m) => warnings.push(m) });
    sameEntries(third.storage(1).entries(1, 2001, Infinity), entryRange(1, 2000, 1, 100));
    await third.close();
    expect(warnings).toEqual([]);
    expect(await repairWal(dir)).toBeUndefined();
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
    const end = wal.stats.bytesWritten;
    await wal.close();
    const [name] = await fs.readdir(dir);
    const file = path.join(dir, name ?? '');
    const original = await fs.readFile(file);
    const expected = entryRange(1, 40, 3, 16);
    let refused = 0;
    let recovered = 0;
    for (let trial = 0; trial < 60; trial++) {
      const damaged = Buffer.from(original);
      // Damage among the records, or just after them in the zeroed space.
      const at = (trial * 7919) % (end + 64);
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

const CONF = { voters: [1], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };

function sameEntries(got: readonly Entry[], want: readonly Entry[]): void {
  expect(got.length).toBe(want.length);
  got.forEach((e, i) => {
    const w = want[i];
    expect(e.index).toBe(w?.index);
    expect(e.term).toBe(w?.term);
    expect(Buffer.from(e.data).equals(Buffer.from(w?.data ?? new Uint8Array(0))), `entry ${e.index} differs`).toBe(true);
  });
}

describe('Wal memory: an index in memory, payloads on disk', () => {
  it('keeps cached payloads under the limit while thousands of 4 KiB entries are written and read back from disk', async () => {
    const dir = await tempDir();
    const cacheBytes = 256 * 1024;
    const opts = { segmentBytes: 1024 * 1024, entryCacheBytes: cacheBytes, maxSegments: 64 };
    const wal = await Wal.open(dir, opts);
    const s = wal.storage(1);
    const want = entryRange(1, 3000, 2, 4096);
    for (let i = 0; i < want.length; i += 10) {
      await s.save({ entries: want.slice(i, i + 10) });
      expect(wal.cachedBytes).toBeLessThanOrEqual(cacheBytes);
    }
    expect(wal.indexedEntries).toBe(3000);
    // The tail just written is a cache hit: no disk read.
    const readsBefore = wal.stats.diskReads;
    sameEntries(s.entries(2991, 3001, Infinity), want.slice(2990));
    expect(wal.stats.diskReads).toBe(readsBefore);
    // The whole log: 12 MiB through a 256 KiB cache, in replication-sized pieces.
    const got: Entry[] = [];
    for (let lo = 1; lo <= 3000; lo = (got[got.length - 1]?.index ?? 0) + 1) got.push(...s.entries(lo, 3001, 1024 * 1024));
    sameEntries(got, want);
    expect(wal.stats.diskReads).toBeGreaterThan(readsBefore);
    expect(wal.cachedBytes).toBeLessThanOrEqual(cacheBytes);
    await wal.close();

    const again = await Wal.open(dir, opts);
    expect(again.cachedBytes).toBe(0); // recovery indexes, it does not load payloads
    expect(again.indexedEntries).toBe(3000);
    const r = again.storage(1);
    expect(r.term(3000)).toBe(2);
    sameEntries(r.entries(1, 3001, Infinity), want);
    expect(again.cachedBytes).toBeLessThanOrEqual(cacheBytes);
    await again.close();
  });

  it('never serves an overwritten suffix, from the cache or from its old place on disk', async () => {
    const dir = await tempDir();
    for (const entryCacheBytes of [0, 1024 * 1024]) {
      const sub = path.join(dir, String(entryCacheBytes));
      const wal = await Wal.open(sub, { entryCacheBytes });
      const s = wal.storage(1);
      await s.save({ entries: entryRange(1, 10, 1, 100) });
      expect(s.entries(1, 11, Infinity)).toHaveLength(10);
      const overwritten = [...entryRange(1, 4, 1, 100), ...entryRange(5, 7, 2, 50)];
      await s.save({ entries: overwritten.slice(4) });
      sameEntries(s.entries(1, 8, Infinity), overwritten);
      // A snapshot install discards everything; entries after it are new.
      await s.save({ snapshot: { index: 20, term: 3, confState: CONF }, entries: entryRange(21, 22, 3, 10) });
      sameEntries(s.entries(21, 23, Infinity), entryRange(21, 22, 3, 10));
      await wal.close();
      const again = await Wal.open(sub, { entryCacheBytes });
      sameEntries(again.storage(1).entries(21, 23, Infinity), entryRange(21, 22, 3, 10));
      await again.close();
    }
  });

  it('serves entries not yet written (memFirst) from memory, then from disk once flushed', async () => {
    const dir = await tempDir();
    const wal = await Wal.open(dir, { entryCacheBytes: 0, persistence: { strategy: 'memFirst', flushThreshold: 1000, flushIntervalMs: 20 } });
    const s = wal.storage(1);
    const want = entryRange(1, 50, 1, 300);
    await s.save({ entries: want });
    expect(wal.stats.fsyncs).toBe(0);
    sameEntries(s.entries(1, 51, Infinity), want);
    await eventually(() => wal.stats.fsyncs === 1);
    sameEntries(s.entries(1, 51, Infinity), want);
    expect(wal.stats.diskReads).toBeGreaterThan(0);
    await wal.close();
  });

  it('moves the index with a rewrite, and reads the rewritten entries from the new segment', async () => {
    const dir = await tempDir();
    const opts = { segmentBytes: 2048, maxSegments: 4, entryCacheBytes: 0 };
    const wal = await Wal.open(dir, opts);
    const busy = wal.storage(1);
    const idle = wal.storage(2);
    const idleEntries = entryRange(1, 5, 5, 100);
    await idle.save({ entries: idleEntries, hardState: { term: 5, vote: 2, commit: 2 } });
    const firstSegment = wal.segmentFiles()[0];
    for (let i = 1; i <= 400; i++) {
      await busy.save({ entries: entryRange(i, i, 1, 64) });
      if (i % 50 === 0) await busy.compact({ index: i, term: 1, confState: CONF }, i - 5);
    }
    expect(wal.stats.groupRewrites).toBeGreaterThan(0);
    expect(wal.segmentFiles()).not.toContain(firstSegment);
    sameEntries(idle.entries(1, 6, Infinity), idleEntries);
    sameEntries(busy.entries(396, 401, Infinity), entryRange(396, 400, 1, 64));
    await wal.close();
    const again = await Wal.open(dir, opts);
    sameEntries(again.storage(2).entries(1, 6, Infinity), idleEntries);
    await again.close();
  });
});

describe('Wal reads from disk', () => {
  it('reads a record larger than the verified-read limit over just the entries asked for', async () => {
    const dir = await tempDir();
    const wal = await Wal.open(dir, { entryCacheBytes: 0 });
    const s = wal.storage(1);
    const want = entryRange(1, 400, 1, 4096); // one record of 1.6 MiB
    await s.save({ entries: want });
    sameEntries(s.entries(200, 203, Infinity), want.slice(199, 202));
    sameEntries(s.entries(1, 401, 64 * 1024), want.slice(0, 16));
    sameEntries(s.entries(1, 401, Infinity), want);
    await wal.close();
  });

  it('reports bytes changed under an open log as corruption, naming file and offset', async () => {
    const dir = await tempDir();
    const wal = await Wal.open(dir, { entryCacheBytes: 0 });
    const s = wal.storage(1);
    for (let i = 1; i <= 5; i++) await s.save({ entries: entryRange(i, i, 1, 100) });
    const [file] = wal.segmentFiles();
    if (file === undefined) throw new Error('no segment');
    const h = await fs.open(file, 'r+');
    await h.write(new Uint8Array([0xee]), 0, 1, wal.stats.bytesWritten - 10); // inside the last entry's payload
    await h.close();
    sameEntries(s.entries(1, 5, Infinity), entryRange(1, 4, 1, 100));
    const err = (() => {
      try {
        s.entries(5, 6, Infinity);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(WalCorruptError);
    expect((err as WalCorruptError).file).toBe(file);
    await wal.close();
  });
});

describe('Wal group deletion', () => {
  it('forgets a deleted group, also after reopening, and refuses writes through its old storage', async () => {
    const dir = await tempDir();
    const wal = await Wal.open(dir);
    const a = wal.storage(1);
    const b = wal.storage(2);
    await a.save({ entries: entryRange(1, 20, 1), hardState: { term: 1, vote: 1, commit: 20 } });
    await b.save({ entries: entryRange(1, 5, 1) });
    await a.compact({ index: 10, term: 1, confState: CONF }, 5);
    await wal.deleteGroup(1);
    expect(wal.groupIds()).toEqual([2]);
    expect(() => a.save({ entries: entryRange(21, 21, 1) })).toThrow(WalGroupDeletedError);
    await wal.close();
    const again = await Wal.open(dir);
    expect(again.groupIds()).toEqual([2]);
    expect(again.storage(2).lastIndex()).toBe(5);
    await again.close();
  });

  it('lets a group id be created again: the new group starts empty and survives reopening', async () => {
    const dir = await tempDir();
    const wal = await Wal.open(dir, { segmentBytes: 2048 });
    const old = wal.storage(3);
    await old.save({ snapshot: { index: 40, term: 4, confState: CONF }, entries: entryRange(41, 60, 4, 64), hardState: { term: 4, vote: 2, commit: 50 } });
    await wal.deleteGroup(3);
    const fresh = wal.storage(3);
    expect(fresh.lastIndex()).toBe(0);
    expect(fresh.snapshot().index).toBe(0);
    expect(fresh.initialState().hardState).toEqual({ term: 0, vote: 0, commit: 0 });
    await fresh.save({ entries: entryRange(1, 3, 1, 16), hardState: { term: 1, vote: 1, commit: 1 } });
    // Enough writes of another group to rotate segments: the checkpoints must not bring the old group back.
    const other = wal.storage(9);
    for (let i = 1; i <= 100; i++) await other.save({ entries: entryRange(i, i, 1, 64) });
    expect(wal.segmentFiles().length).toBeGreaterThan(2);
    await wal.close();
    const again = await Wal.open(dir, { segmentBytes: 2048 });
    const r = again.storage(3);
    expect(r.firstIndex()).toBe(1);
    expect(r.lastIndex()).toBe(3);
    expect(r.snapshot().index).toBe(0);
    expect(r.initialState().hardState).toEqual({ term: 1, vote: 1, commit: 1 });
    sameEntries(r.entries(1, 4, Infinity), entryRange(1, 3, 1, 16));
    await again.close();
  });

  it('no longer counts a deleted group as pinning old segments, and a deletion with nothing after it stays deleted', async () => {
    const dir = await tempDir();
    const opts = { segmentBytes: 2048, maxSegments: 64 };
    const wal = await Wal.open(dir, opts);
    const gone = wal.storage(5);
    const busy = wal.storage(6);
    // Group 5 writes early and never compacts: it pins the first segment.
    await gone.save({ entries: entryRange(1, 3, 1, 32) });
    for (let i = 1; i <= 200; i++) {
      await busy.save({ entries: entryRange(i, i, 1, 64) });
      if (i % 20 === 0) await busy.compact({ index: i, term: 1, confState: CONF }, i);
    }
    const pinned = wal.segmentFiles().length;
    expect(pinned).toBeGreaterThan(4);
    expect(wal.stats.groupRewrites).toBe(0);
    await wal.deleteGroup(5);
    await busy.save({ entries: entryRange(201, 201, 1, 64) });
    await wal.barrier();
    expect(wal.segmentFiles().length).toBeLessThanOrEqual(2);
    await wal.close();
    const again = await Wal.open(dir, opts);
    expect(again.groupIds()).toEqual([6]);
    expect(again.storage(6).lastIndex()).toBe(201);
    await again.close();
  });
});
