import type { ConfChange } from '../raft/types.js';
import { unwrapCommand } from '../node/proposal-id.js';

/** Where a member listens: `raft` for peer streams, `api` for clients (the same when peers ride the API port). */
export interface MemberAddress {
  readonly raft: string;
  readonly api: string;
}

/**
 * The addresses of a group's members, kept in the replicated log: every membership change
 * carries, in its context, the addresses of the nodes it adds. Applying the log (or restoring a
 * snapshot, which carries the table) gives every node the same directory, so a node restarted
 * from its data directory, or one added later, can reach everyone. This is how openraft keeps
 * node addresses in its membership.
 */
export class MemberDirectory {
  private readonly members = new Map<number, MemberAddress>();

  get(id: number): MemberAddress | undefined {
    return this.members.get(id);
  }

  entries(): [number, MemberAddress][] {
    return [...this.members].sort((a, b) => a[0] - b[0]);
  }

  set(id: number, address: MemberAddress): void {
    this.members.set(id, address);
  }

  /** Records the addresses a committed membership change carries. */
  applyConfChange(cc: ConfChange): void {
    const context = decodeMemberContext(cc.context);
    for (const [id, address] of context) this.members.set(id, address);
  }

  toJSON(): [number, string, string][] {
    return this.entries().map(([id, a]) => [id, a.raft, a.api]);
  }

  static fromJSON(raw: unknown): MemberDirectory {
    const d = new MemberDirectory();
    if (!Array.isArray(raw)) throw new Error('member directory must be an array');
    for (const item of raw) {
      if (!Array.isArray(item) || typeof item[0] !== 'number' || typeof item[1] !== 'string' || typeof item[2] !== 'string') throw new Error('malformed member directory entry');
      d.set(item[0], { raft: item[1], api: item[2] });
    }
    return d;
  }
}

/** The context bytes of a change that adds members with these addresses. */
export function encodeMemberContext(members: ReadonlyMap<number, MemberAddress>): Uint8Array {
  const obj: Record<string, MemberAddress> = {};
  for (const [id, a] of members) obj[String(id)] = a;
  return new TextEncoder().encode(JSON.stringify({ members: obj }));
}

/**
 * Reads the member addresses from a change's context. Contexts of changes proposed through a
 * RaftNode carry a proposal header first; the bootstrap change is given one too (node 0), so
 * every context has the same shape. Anything unreadable yields no addresses.
 */
export function decodeMemberContext(context: Uint8Array): Map<number, MemberAddress> {
  const out = new Map<number, MemberAddress>();
  const unwrapped = unwrapCommand(context);
  if (unwrapped === undefined || unwrapped.command.byteLength === 0) return out;
  try {
    const parsed = JSON.parse(new TextDecoder().decode(unwrapped.command)) as { members?: Record<string, { raft?: unknown; api?: unknown }> };
    for (const [id, a] of Object.entries(parsed.members ?? {})) {
      const n = Number(id);
      if (Number.isSafeInteger(n) && n > 0 && typeof a.raft === 'string' && typeof a.api === 'string') out.set(n, { raft: a.raft, api: a.api });
    }
  } catch {
    // not a member context: a change proposed by a library user with their own context
  }
  return out;
}
