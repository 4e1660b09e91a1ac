import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ReadConsistency } from '../../node/raft-node.js';
import type { Host } from '../host.js';
import { ApiError, badRequest } from './api-error.js';
import type { ApiLimits } from './validate.js';

/** What every route module needs: the host, the limits and the node's defaults. */
export interface ApiContext {
  readonly host: Host;
  readonly limits: ApiLimits;
  readonly defaultGroup: number;
  readonly defaultConsistency: ReadConsistency;
  /** Registered by the metrics module: counts a served request. */
  readonly countRequest: (route: string, status: number) => void;
}

export function parseConsistency(v: unknown, fallback: ReadConsistency): ReadConsistency {
  if (v === undefined) return fallback;
  if (v === 'linearizable' || v === 'lease' || v === 'eventual') return v;
  throw badRequest('consistency must be one of linearizable, lease, eventual', 'BAD_CONSISTENCY');
}

/** Sets the headers through which clients learn the leader, on every data and admin reply. */
export function leaderHeaders(ctx: ApiContext, group: number, reply: FastifyReply): void {
  const leader = ctx.host.leaderOf(group);
  if (leader === undefined) return;
  void reply.header('keel-leader', String(leader.id));
  if (leader.address !== undefined) void reply.header('keel-leader-addr', leader.address.api);
}

/**
 * Sends an admin request on to the group's leader (membership changes need the leader's view
 * of follower progress), and relays its reply. Data writes need no proxy: raft forwards them.
 */
export async function proxyToLeader(ctx: ApiContext, group: number, req: FastifyRequest, reply: FastifyReply): Promise<boolean> {
  const g = ctx.host.requireGroup(group);
  if (g.node.currentRole === 'leader') return false;
  const leader = ctx.host.leaderOf(group);
  if (leader?.address === undefined) throw new ApiError(503, 'NO_LEADER', `group ${group} has no known leader`);
  if (req.headers['keel-forwarded'] !== undefined) throw new ApiError(503, 'NO_LEADER', `node ${ctx.host.nodeId} was named leader but is not; retry`);
  const hasBody = req.body !== undefined && req.body !== null && req.method !== 'GET';
  const res = await fetch(`http://${leader.address.api}${req.url}`, {
    method: req.method,
    headers: { 'keel-forwarded': String(ctx.host.nodeId), ...(hasBody ? { 'content-type': 'application/json' } : {}) },
    ...(hasBody ? { body: JSON.stringify(req.body) } : {}),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  void reply.code(res.status).header('content-type', res.headers.get('content-type') ?? 'application/json');
  await reply.send(text);
  return true;
}
