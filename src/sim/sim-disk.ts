import type { LogReader, LogStorage, LogWrite } from '../raft/storage.js';
import { MemoryBackedLogStorage } from '../storage/memory-backed-log-storage.js';
import type { Entry, SnapshotMeta } from '../raft/types.js';
import { MemoryLogStorage } from '../storage/memory-log-storage.js';
import type { SeededRng } from '../util/rng.js';
import type { EventQueue } from './event-queue.js';

type DiskOp = { readonly kind: 'save'; readonly write: LogWrite } | { readonly kind: 'compact'; readonly meta: SnapshotMeta; readonly compactIndex: number };

/**
 * One node's disk. Writes are visible at once and become durable after a random fsync
 * latency, in order. A crash keeps every durable write plus a random prefix of the rest (the
 * OS may have flushed some of them), exactly the guarantee a real disk gives.
 */
export class SimDisk {
  /** Operations that survive a crash, in order. */
  private readonly durable: DiskOp[] = [];
  /** Operations written but not yet synced. */
  private pending: DiskOp[] = [];
  private lastSyncAtMs = 0;
  private generation = 0;
  /** Called for every entry write, to check log matching as entries land. */
  onEntriesSaved: ((entries: readonly Entry[], storage: LogReader) => void) | undefined;

  constructor(
    private readonly queue: EventQueue,
    private readonly rng: SeededRng,
    private readonly fsyncLatencyMs: { min: number; max: number },
  ) {}

  /** Opens the disk after a (re)start: the storage holds what survived. */
  open(): LogStorage {
    const storage = new MemoryLogStorage();
    for (const op of this.durable) applyOp(storage, op);
    return new SimLogStorage(this, storage);
  }

  /** Crash: unsynced writes are lost, except a random prefix that happened to reach the platter. */
  crash(): void {
    const kept = this.pending.length === 0 ? 0 : this.rng.int(this.pending.length + 1);
    for (const op of this.pending.slice(0, kept)) this.durable.push(op);
    this.pending = [];
    this.generation++;
  }

  /** Queues an op; resolves when it is durable (never, if a crash comes first). */
  write(op: DiskOp): Promise<void> {
    this.pending.push(op);
    const gen = this.generation;
    const latency = this.fsyncLatencyMs.min + this.rng.int(this.fsyncLatencyMs.max - this.fsyncLatencyMs.min + 1);
    const doneAt = Math.max(this.lastSyncAtMs, this.queue.nowMs) + latency;
    this.lastSyncAtMs = doneAt;
    return new Promise<void>((resolve) => {
      this.queue.at(doneAt, () => {
        if (gen !== this.generation) return;
        const i = this.pending.indexOf(op);
        if (i < 0) return;
        // fsync makes everything written before it durable too.
        for (const o of this.pending.slice(0, i + 1)) this.durable.push(o);
        this.pending = this.pending.slice(i + 1);
        resolve();
      });
    });
  }
}

function applyOp(storage: MemoryLogStorage, op: DiskOp): void {
  if (op.kind === 'save') void storage.save(op.write);
  else void storage.compact(op.meta, op.compactIndex);
}

/** The LogStorage a simulated node sees: memory for reads, the SimDisk for durability. */
class SimLogStorage extends MemoryBackedLogStorage {
  constructor(
    private readonly disk: SimDisk,
    protected readonly mem: MemoryLogStorage,
  ) {
    super();
  }

  save(write: LogWrite): Promise<void> {
    void this.mem.save(write);
    if (write.entries.length > 0) this.disk.onEntriesSaved?.(write.entries, this.mem);
    return this.disk.write({ kind: 'save', write });
  }

  compact(meta: SnapshotMeta, compactIndex: number): Promise<void> {
    void this.mem.compact(meta, compactIndex);
    return this.disk.write({ kind: 'compact', meta, compactIndex });
  }
}
