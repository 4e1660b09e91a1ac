import type { FastifyInstance } from 'fastify';
import type { ApiContext } from './context.js';
import { requireKey, requireObject, requireValue } from './validate.js';

/**
 * d-engine's three-node example (seed 001): `POST /kv` and `GET /kv/:key`. A write on a
 * follower is forwarded to the leader through raft (their README promises this; their example
 * answered 503). Reads use the node's default read policy ([raft.read_consistency]).
 */
export function registerDengineRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post('/kv', async (req) => {
    const body = requireObject(req.body);
    const key = requireKey(body.key, ctx.limits);
    const value = requireValue(body.value, ctx.limits);
    await ctx.host.propose(ctx.defaultGroup, { op: 'put', key, value });
    return {};
  });

  app.get('/kv/*', async (req) => {
    const key = requireKey((req.params as { '*'?: unknown })['*'], ctx.limits);
    const entry = await ctx.host.read(ctx.defaultGroup, ctx.defaultConsistency, (sm) => sm.kv.get(key));
    return { value: entry?.value ?? null };
  });
}
