import { packValue, unpackValue } from '../util/msgpack.js';
import { decodeConfChange } from '../raft/confchange.js';
import type { Entry } from '../raft/types.js';
import type { AppliedCommand, StateMachine } from '../node/interfaces.js';
import type { KvResult } from '../kv/commands.js';
import { KvStateMachine } from '../kv/kv-state-machine.js';
import { MemberDirectory } from './member-directory.js';
import { WatchHub } from './watch-hub.js';

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
    const kv = this.kv.snapshot();
    return packValue([this.directory.toJSON(), kv]);
  }

  restore(data: Uint8Array): void {
    const raw = unpackValue(data);
    if (!Array.isArray(raw) || raw.length !== 2 || !(raw[1] instanceof Uint8Array)) throw new Error('malformed group snapshot');
    const kv = new KvStateMachine({ onChange: (c) => this.watch.push(c) });
    kv.restore(raw[1]);
    this.directory = MemberDirectory.fromJSON(raw[0]);
    this.kv = kv;
    // The changes the snapshot covers were never seen here one by one.
    this.watch.reset(kv.appliedIndex);
  }
}
