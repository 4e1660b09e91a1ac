import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, badRequest } from './api-error.js';
import { leaderHeaders, proxyToLeader } from './context.js';
import type { ApiContext } from './context.js';
import { requireId, requireKey, requireObject, requireValue } from './validate.js';

/**
 * The Go multiraft example (seed 002): `PUT|POST /{group}` `{"Key","Value"}` → 204,
 * `GET /{group}/{key}` → the value as text after a linearizable read, group creation through
 * `/mgmt/groups`, and per-group membership under `/{group}/mgmt/nodes`. Errors are Keel's JSON
 * errors rather than the seed's plain text, so every route fails the same way.
 */
export function registerMultiraftRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const groupOf = (params: unknown): number => requireId((params as { group?: unknown }).group, 'group');

  const put = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const g = groupOf(req.params);
    const body = requireObject(req.body);
    const key = requireKey(body.Key, ctx.limits, 'Key');
    const value = requireValue(body.Value, ctx.limits, 'Value');
    await ctx.host.propose(g, { op: 'put', key, value });
    leaderHeaders(ctx, g, reply);
    return reply.code(204).send();
  };
  app.put('/:group', put);
  app.post('/:group', put);

  app.get('/:group/:key', async (req, reply) => {
    const g = groupOf(req.params);
    const key = requireKey((req.params as { key?: unknown }).key, ctx.limits);
    const entry = await ctx.host.read(g, 'linearizable', (sm) => sm.kv.get(key));
    leaderHeaders(ctx, g, reply);
    if (entry === undefined) throw new ApiError(404, 'KEY_NOT_FOUND', `key "${key}" not found in group ${g}`);
    return reply.type('text/plain; charset=utf-8').send(`${entry.value}\n`);
  });

  const createGroup = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const body = requireObject(req.body);
    const g = requireId(body.GroupID, 'GroupID');
    if (!Array.isArray(body.IDs) || body.IDs.length === 0) throw badRequest('IDs must be a non-empty array of node ids');
    const ids = body.IDs.map((v: unknown, i) => requireId(v, `IDs[${i}]`));
    const members = ids.map((id) => {
      const address = ctx.host.addressOf(id);
      if (address === undefined) throw badRequest(`node ${id} has no known address; it must be a member of a group on node ${ctx.host.nodeId} first`);
      return { id, addr: address.raft, apiAddr: address.api, role: 'voter' };
    });
    // Every listed node writes the same bootstrap log, exactly as with --initial-cluster.
    await Promise.all(
      members.map(async (m) => {
        if (m.id === ctx.host.nodeId) {
          await ctx.host.bootstrapGroup(g, members.map((x) => ({ id: x.id, address: { raft: x.addr, api: x.apiAddr }, role: 'voter' as const })));
          return;
        }
        const res = await fetch(`http://${m.apiAddr}/v1/groups`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ group: g, members }),
          signal: AbortSignal.timeout(10_000),
        });
        if (!res.ok) throw new ApiError(502, 'GROUP_CREATE_FAILED', `node ${m.id} refused group ${g}: ${await res.text()}`);
      }),
    );
    return reply.code(201).send({ GroupID: g, IDs: ids });
  };
  app.put('/mgmt/groups', createGroup);
  app.post('/mgmt/groups', createGroup);

  app.get('/:group/mgmt/nodes', (req) => {
    const g = groupOf(req.params);
    const s = ctx.host.status(g);
    const ids = [...new Set([...s.voters, ...s.learners, ...s.votersOutgoing])].sort((a, b) => a - b);
    return ids.map((id) => ({
      id,
      addr: s.members[String(id)]?.raft ?? '',
      type: s.voters.includes(id) ? 'voter' : s.learners.includes(id) ? 'learner' : 'removed',
    }));
  });

  app.delete('/:group/mgmt/nodes/:id', async (req, reply) => {
    const g = groupOf(req.params);
    const id = requireId((req.params as { id?: unknown }).id, 'id');
    if (await proxyToLeader(ctx, g, req, reply)) return reply;
    await ctx.host.removeMember(g, id);
    return reply.code(204).send();
  });
}
