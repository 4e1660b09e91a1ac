import type { KvChange } from '../kv/kv-state-machine.js';

/** A watcher asked for changes older than the hub still holds: it must read again, then watch. */
export class WatchCompactedError extends Error {
  constructor(readonly oldestVersion: number) {
    super(`changes before version ${oldestVersion} are no longer held; read the current state, then watch from its version`);
  }
}

interface Waiter {
  readonly prefix: string;
  readonly after: number;
  readonly resolve: (changes: KvChange[]) => void;
}

/**
 * The recent changes of one group on this node, for `watch`: a bounded ring of applied
 * changes, and long-poll waiters woken when a change matching their prefix arrives. It is
 * local to the node (a watcher on a follower sees changes as that follower applies them), and
 * a snapshot install, which skips changes, starts the history afresh.
 */
export class WatchHub {
  private changes: KvChange[] = [];
  /** Versions at or below this may have changes the ring no longer holds. */
  private floor = 0;
  private readonly waiters = new Set<Waiter>();

  /** Holds at least the newest `maxChanges` changes (up to a quarter more between trims). */
  constructor(private readonly maxChanges = 10_000) {}

  push(change: KvChange): void {
    this.changes.push(change);
    // Trimmed a quarter at a time: trimming one change per push shifted the whole array on
    // every write once it was full.
    if (this.changes.length > this.maxChanges + (this.maxChanges >> 2)) {
      const dropped = this.changes.splice(0, this.changes.length - this.maxChanges);
      this.floor = dropped[dropped.length - 1]?.version ?? this.floor;
    }
    for (const w of this.waiters) {
      if (change.version > w.after && change.key.startsWith(w.prefix)) {
        this.waiters.delete(w);
        w.resolve(this.since(w.prefix, w.after));
      }
    }
  }

  /** After a snapshot install at `version`: earlier changes are unknown here. */
  reset(version: number): void {
    this.changes = [];
    this.floor = version;
  }

  /** Changes with a version above `after` and a key starting with `prefix`, oldest first. */
  since(prefix: string, after: number): KvChange[] {
    if (after < this.floor) throw new WatchCompactedError(this.floor);
    return this.changes.filter((c) => c.version > after && c.key.startsWith(prefix));
  }

  /** Resolves with the matching changes after `after`, at once if there are some, else when one arrives or at the timeout (empty). */
  wait(prefix: string, after: number, timeoutMs: number): Promise<KvChange[]> {
    const now = this.since(prefix, after);
    if (now.length > 0 || timeoutMs <= 0) return Promise.resolve(now);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        prefix,
        after,
        resolve: (changes) => {
          clearTimeout(timer);
          resolve(changes);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        resolve([]);
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Ends every wait (the node is stopping). */
  close(): void {
    for (const w of this.waiters) w.resolve([]);
    this.waiters.clear();
  }
}
