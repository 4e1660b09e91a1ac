import type { KvCommand, KvResult } from '../../src/kv/commands.js';
import { encodeKvCommand } from '../../src/kv/commands.js';
import type { KvStateMachine } from '../../src/kv/kv-state-machine.js';

/** Applies commands one per log index, continuing after the machine's applied index. */
export function applyAll(sm: KvStateMachine, ...commands: KvCommand[]): KvResult[] {
  return sm.apply(commands.map((c, i) => ({ index: sm.appliedIndex + 1 + i, term: 1, data: encodeKvCommand(c) })));
}

export function apply1(sm: KvStateMachine, command: KvCommand): KvResult {
  const [r] = applyAll(sm, command);
  if (r === undefined) throw new Error('no result');
  return r;
}

export const session = (clientId: string, seq: number, ackedBelow?: number) => (ackedBelow === undefined ? { clientId, seq } : { clientId, seq, ackedBelow });
