/**
 * The sequential specification of Keel's key-value store, as a model for the linearizability
 * checker. Keys are independent, so the model partitions the history per key and a
 * partition's state is just the value of its one key (null when absent).
 */
import type { HistoryOp, Model } from './linearizability.js';

export type KvInput =
  | { readonly kind: 'put'; readonly key: string; readonly value: string }
  | { readonly kind: 'get'; readonly key: string }
  | { readonly kind: 'delete'; readonly key: string }
  /** expected null = "key absent". */
  | { readonly kind: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string };

export type KvOutput =
  | { readonly kind: 'put' }
  | { readonly kind: 'get'; readonly value: string | null }
  | { readonly kind: 'delete'; readonly existed: boolean }
  | { readonly kind: 'cas'; readonly succeeded: boolean };

/** The value of the partition's single key; null when the key is absent. */
export type KvKeyState = string | null;

type KvOp = HistoryOp<KvInput, KvOutput>;

function step(state: KvKeyState, input: KvInput, output: KvOutput | undefined): { ok: boolean; state: KvKeyState } {
  switch (input.kind) {
    case 'put':
      return { ok: output === undefined || output.kind === 'put', state: input.value };
    case 'get':
      return { ok: output === undefined || (output.kind === 'get' && output.value === state), state };
    case 'delete':
      return { ok: output === undefined || (output.kind === 'delete' && output.existed === (state !== null)), state: null };
    case 'cas': {
      const succeeded = state === input.expected;
      return {
        ok: output === undefined || (output.kind === 'cas' && output.succeeded === succeeded),
        state: succeeded ? input.value : state,
      };
    }
  }
}

/**
 * One partition per key, in order of first appearance (deterministic for a given history).
 * Reads with an unknown outcome are dropped: they change nothing and constrain nothing, and
 * every op left in a partition makes the search wider.
 */
/** Ops that never change the state when their reported outcome fits it (see Model.isReadOnly). */
function isReadOnly(_input: KvInput, output: KvOutput): boolean {
  switch (output.kind) {
    case 'get':
      return true;
    case 'delete':
      return !output.existed; // fits only an absent key, which it leaves absent
    case 'cas':
      return !output.succeeded; // a failed swap writes nothing
    case 'put':
      return false;
  }
}

function partition(ops: readonly KvOp[]): KvOp[][] {
  const byKey = new Map<string, KvOp[]>();
  for (const op of ops) {
    if (op.input.kind === 'get' && op.output === undefined) continue;
    let part = byKey.get(op.input.key);
    if (part === undefined) byKey.set(op.input.key, (part = []));
    part.push(op);
  }
  return [...byKey.values()];
}

function show(value: string | null): string {
  return value === null ? 'absent' : JSON.stringify(value);
}

function describeInput(input: KvInput): string {
  switch (input.kind) {
    case 'put':
      return `put(${input.key}, ${show(input.value)})`;
    case 'get':
      return `get(${input.key})`;
    case 'delete':
      return `delete(${input.key})`;
    case 'cas':
      return `cas(${input.key}, ${show(input.expected)} => ${show(input.value)})`;
  }
}

function describeOutput(output: KvOutput | undefined): string {
  if (output === undefined) return '? (outcome unknown)';
  switch (output.kind) {
    case 'put':
      return 'ok';
    case 'get':
      return show(output.value);
    case 'delete':
      return output.existed ? 'existed' : 'was absent';
    case 'cas':
      return output.succeeded ? 'succeeded' : 'failed';
  }
}

function describeOp(op: KvOp): string {
  const window = `[${op.callTime}, ${op.output === undefined ? 'inf' : op.returnTime}]`;
  return `client ${op.clientId} ${describeInput(op.input)} -> ${describeOutput(op.output)} ${window}`;
}

export const kvModel: Model<KvKeyState, KvInput, KvOutput> = {
  init: () => null,
  step,
  partition,
  // JSON keeps null and the string "null" apart and reads well in reports.
  stateKey: (state) => JSON.stringify(state),
  isReadOnly,
  describeOp,
};
