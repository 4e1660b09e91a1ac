/**
 * `npm run bench -- core`: committed entries per second for a 3-node cluster in one process,
 * with no I/O (in-memory storage, synchronous message delivery), at several batch sizes.
 * Measures the pure core: replication, flow control, commit and the Ready handshake.
 */
import type { Message } from '../src/raft/message.js';
import { RawNode } from '../src/raft/raw-node.js';
import { bootstrapLog } from '../src/raft/bootstrap.js';
import { decodeConfChange } from '../src/raft/confchange.js';
import { MemoryLogStorage } from '../src/storage/memory-log-storage.js';
import { SeededRng } from '../src/util/rng.js';

interface BenchNode {
  raw: RawNode;
  storage: MemoryLogStorage;
  applied: number;
}

function makeCluster(): BenchNode[] {
  const rng = new SeededRng(42);
  return [1, 2, 3].map((id) => {
    const storage = new MemoryLogStorage();
    void storage.save(bootstrapLog({ voters: [1, 2, 3] }));
    const raw = new RawNode({ id, storage, rng: rng.fork(), maxInflightMessages: 64, maxBytesPerMessage: 1 << 20 });
    return { raw, storage, applied: 0 };
  });
}

/** Runs every Ready and delivers every message until the cluster is quiet. */
function pump(nodes: BenchNode[]): void {
  let busy = true;
  while (busy) {
    busy = false;
    const outbox: Message[] = [];
    for (const n of nodes) {
      while (n.raw.hasReady()) {
        busy = true;
        const rd = n.raw.ready();
        for (const m of rd.messages) outbox.push(m);
        if (rd.entries.length > 0 || rd.hardState !== undefined) {
          void n.storage.save({ entries: rd.entries, ...(rd.hardState === undefined ? {} : { hardState: rd.hardState }) });
        }
        for (const m of rd.messagesAfterPersist) outbox.push(m);
        for (const e of rd.committedEntries) {
          if (e.type === 'confChange') n.raw.applyConfChange(decodeConfChange(e.data));
        }
        n.applied += rd.committedEntries.length;
        n.raw.advance();
      }
    }
    for (const m of outbox) nodes[m.to - 1]?.raw.step(m);
  }
}

export function benchCore(args: readonly string[]): void {
  const seconds = Number(args[0] ?? 2);
  const payload = new Uint8Array(100);
  console.log(`core: 3 nodes in one process, no I/O, 100-byte entries, ${seconds}s per batch size`);
  console.log('batch  entries/s   (committed on the leader)');
  for (const batch of [1, 16, 256]) {
    const nodes = makeCluster();
    const first = nodes[0];
    if (first === undefined) throw new Error('no node');
    pump(nodes); // applies the bootstrap configuration
    // Nodes refuse votes for one election timeout after they start (leader-lease safety).
    for (let t = 0; t < 10; t++) for (const n of nodes) n.raw.tick();
    first.raw.campaign();
    pump(nodes);
    const leader = nodes.find((n) => n.raw.raft.role === 'leader');
    if (leader === undefined) throw new Error('no leader elected');
    const start = process.hrtime.bigint();
    const startCommit = leader.raw.raft.log.committed;
    const deadline = start + BigInt(Math.round(seconds * 1e9));
    let rounds = 0;
    while (process.hrtime.bigint() < deadline) {
      for (let i = 0; i < 64; i++) {
        const data: Uint8Array[] = [];
        for (let j = 0; j < batch; j++) data.push(payload);
        leader.raw.propose(...data);
        pump(nodes);
        rounds++;
      }
      // Release the log every so often so memory stays flat, as snapshots would.
      for (const n of nodes) {
        const applied = n.raw.raft.log.applied;
        if (applied - n.storage.firstIndex() > 100_000) {
          const term = n.storage.term(applied);
          void n.storage.compact({ index: applied, term, confState: n.storage.initialState().confState }, applied - 1000);
        }
      }
    }
    const elapsedS = Number(process.hrtime.bigint() - start) / 1e9;
    const committed = leader.raw.raft.log.committed - startCommit;
    console.log(`${String(batch).padStart(5)}  ${Math.round(committed / elapsedS).toLocaleString('en-US').padStart(10)}   (${rounds} rounds)`);
  }
}
