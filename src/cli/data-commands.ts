import { KeelClient } from '../client/keel-client.js';
import type { Consistency, NodeStatus } from '../client/keel-client.js';

export interface ClientFlags {
  readonly endpoints: string;
  readonly group: string;
  readonly timeout: string;
}

export function clientFrom(flags: ClientFlags): KeelClient {
  const endpoints = flags.endpoints.split(',').map((e) => e.trim()).filter((e) => e !== '');
  return new KeelClient({ endpoints, timeoutMs: positiveInt(flags.timeout, '--timeout') });
}

export function groupFrom(flags: ClientFlags): number {
  return positiveInt(flags.group, '--group');
}

export function positiveInt(v: string, what: string): number {
  if (!/^\d+$/.test(v) || Number(v) <= 0 || !Number.isSafeInteger(Number(v))) throw new UsageError(`${what} must be a positive integer, got "${v}"`);
  return Number(v);
}

export function consistencyFrom(v: string | undefined): Consistency | undefined {
  if (v === undefined) return undefined;
  if (v === 'linearizable' || v === 'lease' || v === 'eventual') return v;
  throw new UsageError(`--consistency must be linearizable, lease or eventual, got "${v}"`);
}

/** A mistake on the command line: printed without a stack, exit code 2. */
export class UsageError extends Error {}

/** The `keel status` table: one row per node and group. */
export async function statusTable(client: KeelClient, endpoints: readonly string[]): Promise<string> {
  const rows: string[][] = [['ENDPOINT', 'NODE', 'GROUP', 'ROLE', 'LEADER', 'TERM', 'COMMIT', 'APPLIED', 'VOTERS', 'LEARNERS']];
  for (const endpoint of endpoints) {
    let s: NodeStatus;
    try {
      s = await client.status({ endpoint });
    } catch (err) {
      rows.push([endpoint, '-', '-', `unreachable (${err instanceof Error ? err.message : String(err)})`, '', '', '', '', '', '']);
      continue;
    }
    if (s.groups.length === 0) rows.push([endpoint, String(s.id), '-', 'uninitialized', '', '', '', '', '', '']);
    for (const g of s.groups) {
      rows.push([endpoint, String(s.id), String(g.group), g.role, g.leader === 0 ? '-' : String(g.leader), String(g.term), String(g.commit), String(g.applied), g.voters.join(','), g.learners.join(',') || '-']);
    }
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}
