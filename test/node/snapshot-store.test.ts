import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemorySnapshotStore } from '../../src/node/memory-snapshot-store.js';
import { FileSnapshotStore, SnapshotCorruptError } from '../../src/storage/file-snapshot-store.js';
import { runSnapshotStoreConformance } from './snapshot-store-conformance.js';

runSnapshotStoreConformance('MemorySnapshotStore', () => Promise.resolve(new MemorySnapshotStore()));
runSnapshotStoreConformance('FileSnapshotStore', (dir) => FileSnapshotStore.open(dir), { reopenable: true });

describe('FileSnapshotStore', () => {
  let dir = '';
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });
  const meta = (index: number) => ({ index, term: 1, confState: { voters: [1], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false } });

  it('keeps only the newest few and removes leftovers of an interrupted write', async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'keel-fsnap-'));
    const s = await FileSnapshotStore.open(dir, { keep: 2 });
    for (const i of [1, 2, 3, 4]) await s.save(meta(i), new Uint8Array([i]));
    expect((await fs.readdir(dir)).sort()).toEqual(['0000000000000003-1.snap', '0000000000000004-1.snap']);
    await fs.writeFile(path.join(dir, '0000000000000005-1.snap.tmp'), 'half');
    await FileSnapshotStore.open(dir, { keep: 2 });
    expect(await fs.readdir(dir)).not.toContain('0000000000000005-1.snap.tmp');
  });

  it('refuses a damaged newest snapshot with an error naming the file', async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'keel-fsnap-'));
    const s = await FileSnapshotStore.open(dir);
    await s.save(meta(7), new Uint8Array(100).fill(3));
    const file = path.join(dir, '0000000000000007-1.snap');
    const data = await fs.readFile(file);
    data[data.byteLength - 1] = 9;
    await fs.writeFile(file, data);
    const err = await FileSnapshotStore.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SnapshotCorruptError);
    expect(String(err)).toContain(file);
  });
});
