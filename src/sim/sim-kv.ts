import type { AppliedCommand, StateMachine } from '../node/interfaces.js';
import type { KvInput, KvOutput } from './kv-model.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeKvCommand(input: KvInput): Uint8Array {
  return encoder.encode(JSON.stringify(input));
}

/** The simulator's key-value state machine: small and obviously correct. */
export class SimKv implements StateMachine<KvOutput> {
  readonly data = new Map<string, string>();
  readonly captureSnapshot?: () => Iterable<Uint8Array>;

  /** `capturesSnapshots`: offer StateMachine.captureSnapshot, so the node writes snapshots in the background. */
  constructor(opts: { capturesSnapshots?: boolean } = {}) {
    if (opts.capturesSnapshots === true) this.captureSnapshot = () => this.captureInTwoChunks();
  }

  apply(commands: readonly AppliedCommand[]): KvOutput[] {
    return commands.map((c) => this.applyOne(JSON.parse(decoder.decode(c.data)) as KvInput));
  }

  private applyOne(input: KvInput): KvOutput {
    switch (input.kind) {
      case 'put':
        this.data.set(input.key, input.value);
        return { kind: 'put' };
      case 'delete':
        return { kind: 'delete', existed: this.data.delete(input.key) };
      case 'cas': {
        const current = this.data.get(input.key) ?? null;
        if (current !== input.expected) return { kind: 'cas', succeeded: false };
        this.data.set(input.key, input.value);
        return { kind: 'cas', succeeded: true };
      }
      case 'get':
        return { kind: 'get', value: this.data.get(input.key) ?? null };
    }
  }

  get(key: string): string | null {
    return this.data.get(key) ?? null;
  }

  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify([...this.data.entries()].sort()));
  }

  /** A copy taken now, handed out in two chunks so the node's chunked write is exercised. */
  private captureInTwoChunks(): Iterable<Uint8Array> {
    const bytes = this.snapshot();
    const half = bytes.byteLength >> 1;
    return [bytes.subarray(0, half), bytes.subarray(half)];
  }

  restore(bytes: Uint8Array): void {
    this.data.clear();
    for (const [k, v] of JSON.parse(decoder.decode(bytes)) as [string, string][]) this.data.set(k, v);
  }

  /** A canonical digest of the state, to compare nodes. */
  digest(): string {
    return JSON.stringify([...this.data.entries()].sort());
  }
}
