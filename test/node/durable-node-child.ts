/**
 * Child process for the node durability test: one RaftNode on the write-ahead log and file
 * snapshots, driven by a real clock. Mode `load`: proposes unique commands from many
 * concurrent callers and prints `ack ID` once each is applied. Mode `dump`: waits for a
 * linearizable read and prints `state ID,ID,...`.
 * argv: DIR MODE
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { AppliedCommand, StateMachine } from '../../src/node/interfaces.js';
import { RaftNode } from '../../src/node/raft-node.js';
import { bootstrapStorage } from '../../src/raft/bootstrap.js';
import { FileSnapshotStore } from '../../src/storage/file-snapshot-store.js';
import { Wal } from '../../src/storage/wal.js';
import { SeededRng } from '../../src/util/rng.js';

const [dir, mode] = process.argv.slice(2);
if (dir === undefined || (mode !== 'load' && mode !== 'dump')) throw new Error('usage: durable-node-child DIR load|dump');

/** A set of command ids: enough to see whether any acknowledged command went missing. */
class IdSet implements StateMachine<number> {
  readonly ids = new Set<string>();
  apply(commands: readonly AppliedCommand[]): number[] {
    return commands.map((c) => {
      this.ids.add(new TextDecoder().decode(c.data));
      return this.ids.size;
    });
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify([...this.ids]));
  }
  restore(data: Uint8Array): void {
    this.ids.clear();
    for (const id of JSON.parse(new TextDecoder().decode(data)) as string[]) this.ids.add(id);
  }
}

const wal = await Wal.open(path.join(dir, 'wal'), { segmentBytes: 256 * 1024 });
const storage = wal.storage(1);
await bootstrapStorage(storage, { voters: [1] });
const sm = new IdSet();
// A persisted boot counter, as the server keeps one: it must grow with every start (seconds
// plus the pid did not, once pids wrapped on a busy machine).
const bootFile = path.join(dir, 'boot-count');
const bootId = Number(await fs.readFile(bootFile, 'utf8').catch(() => '0')) + 1;
await fs.writeFile(bootFile, String(bootId));
const node = await RaftNode.start<number>({
  raft: { id: 1, rng: new SeededRng(bootId), electionTimeoutTicks: 10, heartbeatTicks: 1 },
  storage,
  stateMachine: sm,
  transport: { send: () => undefined },
  snapshots: await FileSnapshotStore.open(path.join(dir, 'snapshots')),
  bootId,
  snapshotEveryEntries: 200,
  logEntriesKeptAfterSnapshot: 50,
});
const ticker = setInterval(() => node.tick(), 5);

if (mode === 'dump') {
  for (;;) {
    try {
      await node.readBarrier('linearizable');
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  process.stdout.write(`state ${[...sm.ids].join(',')}\n`);
  clearInterval(ticker);
  node.stop();
  await wal.close();
} else {
  let seq = 0;
  const caller = async (c: number): Promise<void> => {
    for (;;) {
      const id = `${process.pid}-${c}-${seq++}`;
      try {
        await node.propose(new TextEncoder().encode(id));
        process.stdout.write(`ack ${id}\n`);
      } catch {
        // not leader yet, or a timeout: try another command
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  };
  await Promise.all(Array.from({ length: 32 }, (_, c) => caller(c)));
}
