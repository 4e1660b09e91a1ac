import { concatBytes } from '../util/bytes.js';
import { prependChunk } from '../util/chunks.js';
import { packValue, unpackValue } from '../util/msgpack.js';
import { decodeConfChange } from '../raft/confchange.js';
import type { Entry } from '../raft/types.js';
import type { AppliedCommand, StateMachine } from '../node/interfaces.js';
import type { KvResult } from '../kv/commands.js';
import { KvStateMachine } from '../kv/kv-state-machine.js';
import { MemberDirectory } from './member-directory.js';
import { WatchHub } from './watch-hub.js';

/**
 * Opens a group snapshot: the member directory's length (4 bytes, big-endian) and MessagePack
 * follow, then the KV store's bytes to the end, so the KV bytes can be written as they are
 * serialized. Snapshots written before it are one MessagePack array `[directory, kvBytes]`,
 * which begins with 0x92 and is still read.
 */
const SNAPSHOT_MAGIC = Uint8Array.from([0x4b, 0x47, 0x53, 0x01]); // "KGS" 1

/**
 * A server group's replicated state: the KV store plus the member directory. Both are saved in
 * one snapshot so that a node restored from a snapshot knows the addresses of members whose
 * membership changes were compacted away.
 */
export class GroupStateMachine implements StateMachine<KvResult> {
  readonly watch = new WatchHub();
  kv = new KvStateMachine({ onChange: (c) => this.watch.push(c) });
  directory = new MemberDirectory();

  apply(commands: readonly AppliedCommand[]): KvResult[] {
    return this.kv.apply(commands);
  }

  /** Hooked to RaftNode's onApply: sees membership changes in log order, before the next snapshot. */
  observe(entry: Entry): void {
    if (entry.type !== 'confChange') return;
    try {
      this.directory.applyConfChange(decodeConfChange(entry.data));
    } catch {
      // an undecodable change is skipped by every node alike
    }
  }

  snapshot(): Uint8Array {
    return concatBytes(this.captureSnapshot());
  }

  /** See StateMachine.captureSnapshot: the directory is small and encoded at once, the KV store in slices. */
  captureSnapshot(): Iterable<Uint8Array> {
    const directory = packValue(this.directory.toJSON());
    const head = new Uint8Array(SNAPSHOT_MAGIC.byteLength + 4 + directory.byteLength);
    head.set(SNAPSHOT_MAGIC, 0);
    new DataView(head.buffer).setUint32(SNAPSHOT_MAGIC.byteLength, directory.byteLength);
    head.set(directory, SNAPSHOT_MAGIC.byteLength + 4);
    return prependChunk(head, this.kv.captureSnapshot());
  }

  restore(data: Uint8Array): void {
    const { directory, kvBytes } = splitSnapshot(data);
    const kv = new KvStateMachine({ onChange: (c) => this.watch.push(c) });
    kv.restore(kvBytes);
    this.directory = MemberDirectory.fromJSON(directory);
    this.kv = kv;
    // The changes the snapshot covers were never seen here one by one.
    this.watch.reset(kv.appliedIndex);
  }
}

function splitSnapshot(data: Uint8Array): { directory: unknown; kvBytes: Uint8Array } {
  const magic = SNAPSHOT_MAGIC.byteLength;
  if (data.byteLength >= magic + 4 && SNAPSHOT_MAGIC.every((b, i) => data[i] === b)) {
    const directoryBytes = new DataView(data.buffer, data.byteOffset + magic, 4).getUint32(0);
    if (magic + 4 + directoryBytes > data.byteLength) throw new Error('malformed group snapshot: directory runs past the end');
    return { directory: unpackValue(data.subarray(magic + 4, magic + 4 + directoryBytes)), kvBytes: data.subarray(magic + 4 + directoryBytes) };
  }
  const raw = unpackValue(data);
  if (!Array.isArray(raw) || raw.length !== 2 || !(raw[1] instanceof Uint8Array)) throw new Error('malformed group snapshot');
  return { directory: raw[0], kvBytes: raw[1] };
}
