/** The behaviour every SnapshotStore must show; each implementation runs this suite. */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SnapshotStore } from '../../src/node/interfaces.js';
import type { SnapshotMeta } from '../../src/raft/types.js';

const meta = (index: number): SnapshotMeta => ({ index, term: 2, confState: { voters: [1, 2, 3], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false } });
const bytes = (n: number): Uint8Array => Uint8Array.from({ length: 64 }, (_, i) => (n * 7 + i) & 0xff);

export function runSnapshotStoreConformance(name: string, open: (dir: string) => Promise<SnapshotStore>, opts: { reopenable?: boolean } = {}): void {
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

    it('returns the newest snapshot and ignores older ones saved later', async () => {
      const s = await open(dir);
      await s.save(meta(10), bytes(10));
      await s.save(meta(20), bytes(20));
      await s.save(meta(15), bytes(15));
      expect(s.latest()?.meta).toEqual(meta(20));
      expect([...(s.latest()?.data ?? [])]).toEqual([...bytes(20)]);
    });

    if (opts.reopenable === true) {
      it('gives back the newest snapshot after reopening', async () => {
        const s = await open(dir);
        await s.save(meta(5), bytes(5));
        await s.save(meta(9), bytes(9));
        const again = await open(dir);
        expect(again.latest()?.meta).toEqual(meta(9));
        expect([...(again.latest()?.data ?? [])]).toEqual([...bytes(9)]);
      });
    }
  });
}
