/**
 * A proposal id lets the node that proposed a command recognise it when it is applied, even if
 * a follower forwarded it to the leader. `bootId` must grow on every start of a node, so an
 * entry proposed before a crash can never resolve a request made after it.
 */
export interface ProposalId {
  readonly nodeId: number;
  readonly bootId: number;
  readonly seq: number;
}

/** nodeId, bootId, seq, then the proposer's watermark (see ProposalDedup). */
export const PROPOSAL_HEADER_BYTES = 16;

/** Prefixes a command with its proposal id and the proposer's watermark. */
export function wrapCommand(id: ProposalId, watermark: number, command: Uint8Array): Uint8Array {
  const out = new Uint8Array(PROPOSAL_HEADER_BYTES + command.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, id.nodeId);
  view.setUint32(4, id.bootId);
  view.setUint32(8, id.seq);
  view.setUint32(12, watermark);
  out.set(command, PROPOSAL_HEADER_BYTES);
  return out;
}

export function unwrapCommand(data: Uint8Array): { id: ProposalId; watermark: number; command: Uint8Array } | undefined {
  if (data.byteLength < PROPOSAL_HEADER_BYTES) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, PROPOSAL_HEADER_BYTES);
  return {
    id: { nodeId: view.getUint32(0), bootId: view.getUint32(4), seq: view.getUint32(8) },
    watermark: view.getUint32(12),
    command: data.subarray(PROPOSAL_HEADER_BYTES),
  };
}
