/** The behaviour every SnapshotStore must show; each implementation runs this suite. */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SnapshotSource, SnapshotStore } from '../../src/node/interfaces.js';
import { SnapshotCorruptError } from '../../src/node/snapshot-corrupt-error.js';
import { readSnapshotBytes, saveSnapshot } from '../../src/node/snapshot-io.js';
import type { SnapshotMeta } from '../../src/raft/types.js';

const meta = (index: number): SnapshotMeta => ({ index, term: 2, confState: { voters: [1, 2, 3], votersOutgoing: [], learners: [4], learnersNext: [], autoLeave: false } });
const bytes = (n: number, length = 64): Uint8Array => Uint8Array.from({ length }, (_, i) => (n * 7 + i * 13 + (i >> 8)) & 0xff);

export interface ConformanceOptions<S extends SnapshotStore> {
  /** The store keeps its snapshots across a reopen of `dir` (a crash and restart). */
  readonly reopenable?: boolean;
  /** Flips one byte of the latest snapshot's data where the store keeps it (a failing disk). */
  readonly damageLatest: (store: S, dir: string, byteOffset: number) => Promise<void>;
}

async function readAll(source: SnapshotSource, maxChunkBytes: number): Promise<{ data: Uint8Array; chunkSizes: number[] }> {
  const parts: Uint8Array[] = [];
  for await (const c of source.chunks(maxChunkBytes)) parts.push(c.slice());
  return { data: Buffer.concat(parts), chunkSizes: parts.map((p) => p.byteLength) };
}

export function runSnapshotStoreConformance<S extends SnapshotStore>(name: string, open: (dir: string) => Promise<S>, opts: ConformanceOptions<S>): void {
  describe(`SnapshotStore conformance: ${name}`, () => {
    let dir = '';
    beforeEach(async () => {
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'keel-snapshots-'));
    });
    afterEach(async () => {
      await fs.rm(dir, { recursive: true, force: true });
    });

    it('starts empty', async () => {
      expect((await open(dir)).latest()).toBeUndefined();
    });

    it('returns the newest snapshot and ignores older ones committed later', async () => {
      const s = await open(dir);
      await saveSnapshot(s, meta(10), bytes(10));
      await saveSnapshot(s, meta(20), bytes(20));
      await saveSnapshot(s, meta(15), bytes(15));
      expect(s.latest()?.meta).toEqual(meta(20));
      expect(s.latest()?.totalBytes).toBe(64);
      expect([...(await readSnapshotBytes(s.latest() as SnapshotSource))]).toEqual([...bytes(20)]);
    });

    it('gives back a snapshot written in chunks, in chunks no larger than asked for, with its metadata', async () => {
      const s = await open(dir);
      const data = bytes(3, 100_003);
      const w = await s.create(meta(30));
      for (let at = 0; at < data.byteLength; at += 7_919) await w.write(data.subarray(at, at + 7_919));
      await (await w.stage()).commit();
      const latest = s.latest();
      expect(latest?.meta).toEqual(meta(30));
      expect(latest?.totalBytes).toBe(data.byteLength);
      const { data: got, chunkSizes } = await readAll(latest as SnapshotSource, 4_096);
      expect(Buffer.from(got).equals(Buffer.from(data))).toBe(true);
      expect(Math.max(...chunkSizes)).toBe(4_096);
      expect(chunkSizes.length).toBe(Math.ceil(data.byteLength / 4_096));
    });

    it('stores an empty snapshot', async () => {
      const s = await open(dir);
      await saveSnapshot(s, meta(4), new Uint8Array());
      expect(s.latest()?.totalBytes).toBe(0);
      expect((await readSnapshotBytes(s.latest() as SnapshotSource)).byteLength).toBe(0);
    });

    it('leaves nothing behind when a write is aborted', async () => {
      const s = await open(dir);
      const w = await s.create(meta(8));
      await w.write(bytes(8));
      await w.abort();
      await w.abort(); // twice is harmless
      expect(s.latest()).toBeUndefined();
      expect(await fs.readdir(dir)).toEqual([]);
      if (opts.reopenable === true) expect((await open(dir)).latest()).toBeUndefined();
    });

    it('does not make a staged snapshot the latest until it is committed', async () => {
      const s = await open(dir);
      await saveSnapshot(s, meta(5), bytes(5));
      const w = await s.create(meta(9));
      await w.write(bytes(9));
      const staged = await w.stage();
      expect(s.latest()?.meta).toEqual(meta(5));
      // A staged snapshot reads back before it is current: the node restores from it.
      expect(staged.meta).toEqual(meta(9));
      expect([...(await readSnapshotBytes(staged))]).toEqual([...bytes(9)]);
      await staged.commit();
      expect(s.latest()?.meta).toEqual(meta(9));
      expect([...(await readSnapshotBytes(staged))]).toEqual([...bytes(9)]);
    });

    it('forgets a discarded staged snapshot', async () => {
      const s = await open(dir);
      await saveSnapshot(s, meta(5), bytes(5));
      const before = (await fs.readdir(dir)).sort();
      const w = await s.create(meta(9));
      await w.write(bytes(9));
      await (await w.stage()).discard();
      expect(s.latest()?.meta).toEqual(meta(5));
      expect((await fs.readdir(dir)).sort()).toEqual(before);
    });

    it('keeps two writers of the same snapshot apart', async () => {
      const s = await open(dir);
      const a = await s.create(meta(6));
      const b = await s.create(meta(6));
      await a.write(bytes(1));
      await b.write(bytes(2));
      await a.abort();
      await (await b.stage()).commit();
      expect([...(await readSnapshotBytes(s.latest() as SnapshotSource))]).toEqual([...bytes(2)]);
    });

    it('detects a flipped byte when the snapshot is read', async () => {
      const s = await open(dir);
      await saveSnapshot(s, meta(7), bytes(7, 10_000));
      await opts.damageLatest(s, dir, 5_000);
      const err = await readSnapshotBytes(s.latest() as SnapshotSource).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SnapshotCorruptError);
      expect((err as SnapshotCorruptError).code).toBe('SNAPSHOT_CORRUPT');
      // The damage is caught before the last chunk is handed out, whatever the chunk size.
      const seen: number[] = [];
      const more = await (async () => {
        for await (const c of (s.latest() as SnapshotSource).chunks(1_000)) seen.push(c.byteLength);
      })().catch((e: unknown) => e);
      expect(more).toBeInstanceOf(SnapshotCorruptError);
      expect(seen.reduce((a, b) => a + b, 0)).toBeLessThan(10_000);
    });

    if (opts.reopenable === true) {
      it('gives back the newest snapshot after reopening', async () => {
        const s = await open(dir);
        await saveSnapshot(s, meta(5), bytes(5));
        await saveSnapshot(s, meta(9), bytes(9));
        const again = await open(dir);
        expect(again.latest()?.meta).toEqual(meta(9));
        expect([...(await readSnapshotBytes(again.latest() as SnapshotSource))]).toEqual([...bytes(9)]);
      });

      it('boots on the previous snapshot after a crash between staging and commit, and cleans up', async () => {
        const s = await open(dir);
        await saveSnapshot(s, meta(5), bytes(5));
        const files = (await fs.readdir(dir)).sort();
        const staged = await (await s.create(meta(9))).stage();
        const unfinished = await s.create(meta(12));
        await unfinished.write(bytes(12));
        expect(staged.meta.index).toBe(9);
        // The process dies here: neither is committed.
        const again = await open(dir);
        expect(again.latest()?.meta).toEqual(meta(5));
        expect((await fs.readdir(dir)).sort()).toEqual(files);
        await unfinished.abort(); // the dead process's handle, closed
      });
    }
  });
}
