import { assert } from '../raft/errors.js';
import type { ProposalId } from './proposal-id.js';

interface ProposerState {
  bootId: number;
  /** Every seq below this was applied, skipped, or given up by its proposer. */
  watermark: number;
  /** Seqs at or above the watermark that were applied. */
  applied: Set<number>;
}

/**
 * Exactly-once application of proposals, as replicated state. A proposal can reach the log
 * twice (a forwarded proposal duplicated or retried by the network); every node decides the
 * same way, from the log alone, which copy to apply:
 *
 * - each proposal carries its proposer's watermark: the oldest seq that proposer still waits
 *   for. Anything below it has been answered or timed out, so it may be skipped safely (a
 *   timed-out proposal's outcome was reported as unknown);
 * - a seq at or above the watermark is applied once; later copies are skipped;
 * - a proposal from an older boot of its proposer is skipped: nobody waits for it any more.
 *
 * Memory is bounded by the number of proposals each proposer has outstanding.
 */
export class ProposalDedup {
  private readonly proposers = new Map<number, ProposerState>();

  /** Returns true if this proposal must be applied, false if it is a duplicate or expired. */
  admit(id: ProposalId, watermark: number): boolean {
    let p = this.proposers.get(id.nodeId);
    if (p === undefined || id.bootId > p.bootId) {
      p = { bootId: id.bootId, watermark: 0, applied: new Set() };
      this.proposers.set(id.nodeId, p);
    } else if (id.bootId < p.bootId) {
      return false;
    }
    if (watermark > p.watermark) {
      p.watermark = watermark;
      for (const s of p.applied) if (s < watermark) p.applied.delete(s);
    }
    if (id.seq < p.watermark || p.applied.has(id.seq)) return false;
    p.applied.add(id.seq);
    return true;
  }

  encode(): Uint8Array {
    const doc = [...this.proposers].map(([nodeId, p]) => [nodeId, p.bootId, p.watermark, [...p.applied]]);
    return new TextEncoder().encode(JSON.stringify(doc));
  }

  static decode(data: Uint8Array): ProposalDedup {
    const d = new ProposalDedup();
    if (data.byteLength === 0) return d;
    const doc = JSON.parse(new TextDecoder().decode(data)) as [number, number, number, number[]][];
    assert(Array.isArray(doc), 'proposal table must be a list');
    for (const [nodeId, bootId, watermark, applied] of doc) {
      d.proposers.set(nodeId, { bootId, watermark, applied: new Set(applied) });
    }
    return d;
  }
}

/**
 * A node snapshot: the proposal table followed by the state machine's own bytes, so that
 * exactly-once application survives log compaction.
 */
export function encodeNodeSnapshot(dedup: ProposalDedup, stateMachine: Uint8Array): Uint8Array {
  const head = encodeNodeSnapshotHead(dedup);
  const out = new Uint8Array(head.byteLength + stateMachine.byteLength);
  out.set(head, 0);
  out.set(stateMachine, head.byteLength);
  return out;
}

/** What precedes the state machine's bytes in a node snapshot: the table's length, then the table. */
export function encodeNodeSnapshotHead(dedup: ProposalDedup): Uint8Array {
  const table = dedup.encode();
  const out = new Uint8Array(4 + table.byteLength);
  new DataView(out.buffer).setUint32(0, table.byteLength);
  out.set(table, 4);
  return out;
}

export function decodeNodeSnapshot(data: Uint8Array): { dedup: ProposalDedup; stateMachine: Uint8Array } {
  assert(data.byteLength >= 4, 'node snapshot too short');
  const len = new DataView(data.buffer, data.byteOffset, 4).getUint32(0);
  assert(4 + len <= data.byteLength, 'node snapshot table length out of range');
  return {
    dedup: ProposalDedup.decode(data.subarray(4, 4 + len)),
    stateMachine: data.subarray(4 + len),
  };
}
