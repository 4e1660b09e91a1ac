/**
 * A proposal id lets the node that proposed a command recognise it when it is applied, even if
 * a follower forwarded it to the leader. `bootId` differs on every start, so an entry proposed
 * before a crash can never resolve a request made after it.
 */
export interface ProposalId {
  readonly nodeId: number;
  readonly bootId: number;
  readonly seq: number;
}

export const PROPOSAL_ID_BYTES = 12;

export function writeProposalId(out: Uint8Array, id: ProposalId): void {
  const view = new DataView(out.buffer, out.byteOffset, PROPOSAL_ID_BYTES);
  view.setUint32(0, id.nodeId);
  view.setUint32(4, id.bootId);
  view.setUint32(8, id.seq);
}

export function readProposalId(data: Uint8Array): ProposalId | undefined {
  if (data.byteLength < PROPOSAL_ID_BYTES) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, PROPOSAL_ID_BYTES);
  return { nodeId: view.getUint32(0), bootId: view.getUint32(4), seq: view.getUint32(8) };
}

/** Prefixes a command with its proposal id. */
export function wrapCommand(id: ProposalId, command: Uint8Array): Uint8Array {
  const out = new Uint8Array(PROPOSAL_ID_BYTES + command.byteLength);
  writeProposalId(out, id);
  out.set(command, PROPOSAL_ID_BYTES);
  return out;
}

export function unwrapCommand(data: Uint8Array): { id: ProposalId; command: Uint8Array } | undefined {
  const id = readProposalId(data);
  if (id === undefined) return undefined;
  return { id, command: data.subarray(PROPOSAL_ID_BYTES) };
}
