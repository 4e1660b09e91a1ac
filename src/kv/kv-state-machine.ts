import type { AppliedCommand, StateMachine } from '../node/interfaces.js';
import type { KvCommand, KvEntry, KvResult } from './commands.js';
import { decodeKvCommand } from './commands.js';
import { KvCommandError, KvSnapshotError } from './errors.js';
import { entryFromWire, entryToWire } from './result-wire.js';
import type { SessionTableOptions } from './session-table.js';
import { SessionTable } from './session-table.js';
import { SortedKeys, searchKeys } from './sorted-keys.js';
import { concatBytes } from '../util/bytes.js';
import { releasingChunks } from '../util/chunks.js';
import { arrayHeader, packSequence, packValue } from '../util/msgpack.js';
import { list, str, tuple, uint, unpack } from './wire.js';

/** A key changed by an applied command (what watchers see); `version` is the command's log index. */
export type KvChange = { readonly type: 'put'; readonly key: string; readonly value: string; readonly version: number } | { readonly type: 'delete'; readonly key: string; readonly version: number };

export type KvStateMachineOptions = SessionTableOptions & {
  /** Told of every change as it is applied, in log order (local: not part of replicated state). */
  readonly onChange?: (change: KvChange) => void;
};

export interface ScanOptions {
  /** Only keys starting with this. */
  readonly prefix?: string;
  /** Only keys strictly after this (to resume a previous scan from its last key). */
  readonly startAfter?: string;
  /** At most this many entries. */
  readonly limit: number;
}

export interface ScanPage {
  readonly entries: Array<{ key: string } & KvEntry>;
  /** True if further matching keys follow the last returned one. */
  readonly more: boolean;
}

/** Bumped whenever the snapshot layout changes, so old bytes are refused, not misread. */
const SNAPSHOT_FORMAT = 1;

/** Keys per chunk of a captured snapshot: about 1.4 MB and a few milliseconds at 256-byte values. */
const SNAPSHOT_KEYS_PER_CHUNK = 5_000;

/** Before-images of the keys written since a snapshot was captured (undefined: it was absent). */
type CapturedBefore = Map<string, KvEntry | undefined>;

/**
 * The replicated key-value store. Every result and every byte of state depends only on the
 * applied commands and their log indexes, so all replicas agree; a key's version is the log
 * index of its last write, which clients use for optimistic concurrency (cas on version).
 */
export class KvStateMachine implements StateMachine<KvResult> {
  private readonly options: KvStateMachineOptions;
  private entries = new Map<string, KvEntry>();
  private readonly order = new SortedKeys();
  private sessions: SessionTable;
  private applied = 0;
  /** One per snapshot being serialized: the first write to a key records what it replaced. */
  private readonly captures = new Set<CapturedBefore>();

  constructor(options: KvStateMachineOptions = {}) {
    this.options = options;
    this.sessions = new SessionTable(options);
  }

  /** Log index of the last applied command (0 before any). */
  get appliedIndex(): number {
    return this.applied;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): KvEntry | undefined {
    return this.entries.get(key);
  }

  apply(commands: readonly AppliedCommand[]): KvResult[] {
    return commands.map((c) => this.applyOne(c));
  }

  /** Matching entries in ascending key order, resuming after `startAfter`. */
  scan(opts: ScanOptions): ScanPage {
    if (!Number.isSafeInteger(opts.limit) || opts.limit < 0) throw new RangeError('limit must be a non-negative integer');
    const keys = this.order.keys();
    const prefix = opts.prefix ?? '';
    let i = searchKeys(keys, prefix, false);
    if (opts.startAfter !== undefined) i = Math.max(i, searchKeys(keys, opts.startAfter, true));
    const entries: Array<{ key: string } & KvEntry> = [];
    for (; i < keys.length; i++) {
      const key = keys[i] as string;
      if (!key.startsWith(prefix)) return { entries, more: false };
      if (entries.length === opts.limit) return { entries, more: true };
      const e = this.entries.get(key);
      if (e !== undefined) entries.push({ key, value: e.value, version: e.version, createVersion: e.createVersion });
    }
    return { entries, more: false };
  }

  snapshot(): Uint8Array {
    return concatBytes(this.captureSnapshot());
  }

  /**
   * The state as of now, serialized chunk by chunk as it is pulled (see
   * StateMachine.captureSnapshot). Capturing costs no copy: entries are immutable and replaced
   * on write, so the view is the live map plus the before-image of every key written since.
   * The bytes are those of one MessagePack value, the layout `restore` reads.
   */
  captureSnapshot(): Iterable<Uint8Array> {
    const keys = this.order.keys();
    const live = this.entries;
    const before: CapturedBefore = new Map();
    this.captures.add(before);
    const head = [packValue(SNAPSHOT_FORMAT), packValue(this.applied)];
    const sessions = packValue(this.sessions.toWire());
    function* serialize(): Generator<Uint8Array> {
      // [format, applied, [[key, value, version, createVersion], ...], sessions]
      yield concatBytes([Uint8Array.of(0x94), ...head, arrayHeader(keys.length)]);
      for (let i = 0; i < keys.length; i += SNAPSHOT_KEYS_PER_CHUNK) {
        const slice = keys.slice(i, i + SNAPSHOT_KEYS_PER_CHUNK).map((k) => {
          const e = before.has(k) ? before.get(k) : live.get(k);
          return [k, ...entryToWire(e ?? missing(k))];
        });
        yield packSequence(slice);
      }
      yield sessions;
    }
    return releasingChunks(serialize(), () => this.captures.delete(before));
  }

  /** Replaces all state. A corrupt snapshot throws KvSnapshotError and leaves state untouched. */
  restore(data: Uint8Array): void {
    const decoded = unpack(data);
    if (decoded === undefined) throw badSnapshot('not a single MessagePack value');
    const [format, appliedRaw, entriesRaw, sessionsRaw] = tuple(decoded.value, 4, 4, 'snapshot', badSnapshot);
    if (format !== SNAPSHOT_FORMAT) throw badSnapshot(`unknown snapshot format ${String(format)}`);
    const applied = uint(appliedRaw, 'appliedIndex', badSnapshot);
    const entries = new Map<string, KvEntry>();
    const keys: string[] = [];
    for (const raw of list(entriesRaw, 'entries', badSnapshot)) {
      const [key, ...entry] = tuple(raw, 4, 4, 'keyed entry', badSnapshot);
      const k = str(key, 'key', badSnapshot);
      // Strictly ascending keys rule out duplicates and let the sorted index be taken as is.
      const prev = keys[keys.length - 1];
      if (prev !== undefined && !(prev < k)) throw badSnapshot('entries out of key order');
      const e = entryFromWire(entry, badSnapshot);
      if (e.version > applied) throw badSnapshot(`entry ${k} is newer than the snapshot`);
      keys.push(k);
      entries.set(k, e);
    }
    const sessions = SessionTable.fromWire(sessionsRaw, this.options, badSnapshot);
    this.entries = entries;
    this.order.reset(keys);
    this.sessions = sessions;
    this.applied = applied;
    // Snapshots captured before read the old map, which nothing writes to any more.
    this.captures.clear();
  }

  private applyOne(c: AppliedCommand): KvResult {
    if (c.index <= this.applied) throw new Error(`assertion failed: command ${c.index} applied after ${this.applied}`);
    this.applied = c.index;
    let cmd: KvCommand;
    try {
      cmd = decodeKvCommand(c.data);
    } catch (err) {
      // Every replica rejects the same bytes with the same message: still deterministic.
      if (err instanceof KvCommandError) return { type: 'error', code: 'BAD_COMMAND', message: err.message };
      throw err;
    }
    if (cmd.session === undefined) return this.execute(cmd, c.index);
    return this.sessions.run(cmd.session, c.index, () => this.execute(cmd, c.index));
  }

  private execute(cmd: KvCommand, index: number): KvResult {
    const current = this.entries.get(cmd.key);
    switch (cmd.op) {
      case 'put':
        this.write(cmd.key, cmd.value, index, current);
        return { type: 'put', version: index, previous: current ?? null };
      case 'delete':
        if (current !== undefined) this.remove(cmd.key, index, current);
        return { type: 'delete', deleted: current !== undefined, version: index, previous: current ?? null };
      case 'cas': {
        const valueHolds = cmd.expectedValue === undefined || cmd.expectedValue === (current?.value ?? null);
        const versionHolds = cmd.expectedVersion === undefined || cmd.expectedVersion === (current?.version ?? 0);
        if (!valueHolds || !versionHolds) return { type: 'cas', succeeded: false, version: index, current: current ?? null };
        if (cmd.value === null) {
          if (current !== undefined) this.remove(cmd.key, index, current);
          return { type: 'cas', succeeded: true, version: index, current: null };
        }
        return { type: 'cas', succeeded: true, version: index, current: this.write(cmd.key, cmd.value, index, current) };
      }
    }
  }

  private write(key: string, value: string, index: number, current: KvEntry | undefined): KvEntry {
    this.keepBefore(key, current);
    const entry: KvEntry = { value, version: index, createVersion: current?.createVersion ?? index };
    this.entries.set(key, entry);
    if (current === undefined) this.order.add(key);
    this.options.onChange?.({ type: 'put', key, value, version: index });
    return entry;
  }

  private remove(key: string, index: number, current: KvEntry): void {
    this.keepBefore(key, current);
    this.entries.delete(key);
    this.order.delete(key);
    this.options.onChange?.({ type: 'delete', key, version: index });
  }

  /** Copy on write for the snapshots being serialized: the first change to a key keeps what it was. */
  private keepBefore(key: string, current: KvEntry | undefined): void {
    for (const before of this.captures) if (!before.has(key)) before.set(key, current);
  }
}

function badSnapshot(message: string): KvSnapshotError {
  return new KvSnapshotError('BAD_SNAPSHOT', message);
}

function missing(key: string): never {
  throw new Error(`assertion failed: sorted key ${key} has no entry`);
}
