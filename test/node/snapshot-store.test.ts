import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemorySnapshotStore } from '../../src/node/memory-snapshot-store.js';
import { readSnapshotBytes, saveSnapshot } from '../../src/node/snapshot-io.js';
import { FileSnapshotStore, SnapshotCorruptError } from '../../src/storage/file-snapshot-store.js';
import { crc32c } from '../../src/util/crc32c.js';
import { runSnapshotStoreConformance } from './snapshot-store-conformance.js';

runSnapshotStoreConformance('MemorySnapshotStore', () => Promise.resolve(new MemorySnapshotStore()), {
  damageLatest: (store, _dir, byteOffset) => Promise.resolve(store.damageLatest(byteOffset)),
});
runSnapshotStoreConformance('FileSnapshotStore', (dir) => FileSnapshotStore.open(dir), {
  reopenable: true,
  damageLatest: async (store, _dir, byteOffset) => {
    const latest = store.latest();
    if (latest === undefined) throw new Error('nothing to damage');
    const file = newestFile(store.dir, await fs.readdir(store.dir));
    const raw = await fs.readFile(file);
    // The data is the end of the file.
    const at = raw.byteLength - latest.totalBytes + byteOffset;
    raw[at] = (raw[at] ?? 0) ^ 0xff;
    await fs.writeFile(file, raw);
  },
});

function newestFile(dir: string, names: string[]): string {
  const snaps = names.filter((n) => n.endsWith('.snap')).sort();
  const last = snaps[snaps.length - 1];
  if (last === undefined) throw new Error('no snapshot file');
  return path.join(dir, last);
}

describe('FileSnapshotStore', () => {
  let dir = '';
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });
  const meta = (index: number) => ({ index, term: 1, confState: { voters: [1], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false } });

  it('keeps only the newest few and removes leftovers of an interrupted write', async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'keel-fsnap-'));
    const s = await FileSnapshotStore.open(dir, { keep: 2 });
    for (const i of [1, 2, 3, 4]) await saveSnapshot(s, meta(i), new Uint8Array([i]));
    expect((await fs.readdir(dir)).sort()).toEqual(['0000000000000003-1.snap', '0000000000000004-1.snap']);
    await fs.writeFile(path.join(dir, '0000000000000005-1.snap.1.tmp'), 'half');
    await FileSnapshotStore.open(dir, { keep: 2 });
    expect((await fs.readdir(dir)).sort()).toEqual(['0000000000000003-1.snap', '0000000000000004-1.snap']);
  });

  it('reads a snapshot file of the first format (a JSON header), as earlier builds wrote it', async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'keel-fsnap-'));
    const data = Uint8Array.from({ length: 300 }, (_, i) => i & 255);
    const header = new TextEncoder().encode(JSON.stringify({ meta: meta(12), bytes: data.byteLength, crc32c: crc32c(data) }));
    const length = Buffer.alloc(4);
    length.writeUInt32BE(header.byteLength);
    await fs.writeFile(path.join(dir, '0000000000000012-1.snap'), Buffer.concat([length, header, data]));
    const s = await FileSnapshotStore.open(dir);
    expect(s.latest()?.meta).toEqual(meta(12));
    expect([...(await readSnapshotBytes(s.latest() ?? fail()))]).toEqual([...data]);
    await saveSnapshot(s, meta(13), new Uint8Array([1]));
    expect((await FileSnapshotStore.open(dir)).latest()?.meta).toEqual(meta(13));
  });

  it('refuses a newest snapshot with a damaged header at open, naming the file', async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'keel-fsnap-'));
    const s = await FileSnapshotStore.open(dir);
    await saveSnapshot(s, meta(7), new Uint8Array(100).fill(3));
    const file = path.join(dir, '0000000000000007-1.snap');
    const data = await fs.readFile(file);
    data[40] = (data[40] ?? 0) ^ 1; // inside the metadata
    await fs.writeFile(file, data);
    const err = await FileSnapshotStore.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SnapshotCorruptError);
    expect(String(err)).toContain(file);
    expect(String(err)).toMatch(/header checksum/);
  });

  it('refuses a truncated snapshot at open, and damaged data when it is read, naming the file', async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'keel-fsnap-'));
    const s = await FileSnapshotStore.open(dir);
    await saveSnapshot(s, meta(7), new Uint8Array(100).fill(3));
    const file = path.join(dir, '0000000000000007-1.snap');
    const data = await fs.readFile(file);
    await fs.writeFile(file, data.subarray(0, data.byteLength - 1));
    await expect(FileSnapshotStore.open(dir)).rejects.toThrow(/expected 100 bytes of data, found 99/);
    data[data.byteLength - 1] = 9;
    await fs.writeFile(file, data);
    const reopened = await FileSnapshotStore.open(dir);
    const err = await readSnapshotBytes(reopened.latest() ?? fail()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SnapshotCorruptError);
    expect(String(err)).toContain(file);
    expect(String(err)).toMatch(/checksum mismatch/);
  });
});

function fail(): never {
  throw new Error('expected a snapshot');
}
