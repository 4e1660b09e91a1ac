import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ClientSession, KvCommand, KvEntry } from '../../kv/commands.js';
import type { ConfState } from '../../raft/types.js';
import { ApiError, badRequest } from './api-error.js';
import { leaderHeaders, parseConsistency, proxyToLeader } from './context.js';
import type { ApiContext } from './context.js';
import { optionalCount, optionalString, requireAddress, requireId, requireKey, requireObject, requireValue } from './validate.js';

const MAX_SCAN_LIMIT = 10_000;

/**
 * Keel's own API under /v1: data per group with a chosen read consistency, and cluster admin.
 * Documented in openapi.ts (served at /v1/openapi.json) and the README.
 */
export function registerNativeRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const group = (params: unknown): number => requireId((params as { group?: unknown }).group, 'group');
  const keyOf = (params: unknown): string => requireKey((params as { '*'?: unknown })['*'], ctx.limits);

  // ---- data
  app.get('/v1/groups/:group/kv/*', async (req, reply) => {
    const g = group(req.params);
    const key = keyOf(req.params);
    const consistency = parseConsistency((req.query as Record<string, unknown>).consistency, ctx.defaultConsistency);
    const entry = await ctx.host.read(g, consistency, (sm) => sm.kv.get(key));
    leaderHeaders(ctx, g, reply);
    if (entry === undefined) throw new ApiError(404, 'KEY_NOT_FOUND', `key "${key}" not found in group ${g}`);
    return { key, ...entryJson(entry) };
  });

  app.put('/v1/groups/:group/kv/*', async (req, reply) => {
    const g = group(req.params);
    const key = keyOf(req.params);
    const body = requireObject(req.body);
    const value = requireValue(body.value, ctx.limits);
    const r = await write(ctx, g, { op: 'put', key, value, ...sessionOf(body) }, reply);
    if (r.type !== 'put') throw unexpected(r);
    return { key, version: r.version, previous: r.previous === null ? null : entryJson(r.previous) };
  });

  app.delete('/v1/groups/:group/kv/*', async (req, reply) => {
    const g = group(req.params);
    const key = keyOf(req.params);
    const body = req.body === undefined || req.body === null ? {} : requireObject(req.body);
    const r = await write(ctx, g, { op: 'delete', key, ...sessionOf(body) }, reply);
    if (r.type !== 'delete') throw unexpected(r);
    return { key, deleted: r.deleted, version: r.version, previous: r.previous === null ? null : entryJson(r.previous) };
  });

  app.post('/v1/groups/:group/cas', async (req, reply) => {
    const g = group(req.params);
    const body = requireObject(req.body);
    const key = requireKey(body.key, ctx.limits);
    const value = body.value === null ? null : requireValue(body.value, ctx.limits);
    const hasValue = 'expectedValue' in body;
    const hasVersion = 'expectedVersion' in body;
    if (!hasValue && !hasVersion) throw badRequest('give expectedValue (a string, or null for "absent") or expectedVersion (0 for "absent"), or both');
    const expectedValue = hasValue ? (body.expectedValue === null ? null : requireValue(body.expectedValue, ctx.limits, 'expectedValue')) : undefined;
    const expectedVersion = hasVersion ? optionalCount(body.expectedVersion, 'expectedVersion', Number.MAX_SAFE_INTEGER) : undefined;
    const command: KvCommand = {
      op: 'cas',
      key,
      value,
      ...(expectedValue === undefined ? {} : { expectedValue }),
      ...(expectedVersion === undefined ? {} : { expectedVersion }),
      ...sessionOf(body),
    };
    const r = await write(ctx, g, command, reply);
    if (r.type !== 'cas') throw unexpected(r);
    return { key, succeeded: r.succeeded, version: r.version, current: r.current === null ? null : entryJson(r.current) };
  });

  app.get('/v1/groups/:group/scan', async (req, reply) => {
    const g = group(req.params);
    const q = req.query as Record<string, unknown>;
    const prefix = optionalString(q.prefix, 'prefix') ?? '';
    const startAfter = optionalString(q.startAfter, 'startAfter');
    const limit = optionalCount(q.limit, 'limit', MAX_SCAN_LIMIT) ?? 100;
    const consistency = parseConsistency(q.consistency, ctx.defaultConsistency);
    const page = await ctx.host.read(g, consistency, (sm) => sm.kv.scan({ prefix, limit, ...(startAfter === undefined ? {} : { startAfter }) }));
    leaderHeaders(ctx, g, reply);
    return { entries: page.entries.map((e) => ({ key: e.key, ...entryJson(e) })), more: page.more };
  });

  app.get('/v1/groups/:group/watch', async (req, reply) => {
    const g = group(req.params);
    const q = req.query as Record<string, unknown>;
    const prefix = optionalString(q.prefix, 'prefix') ?? '';
    const runtime = ctx.host.requireGroup(g);
    const after = optionalCount(q.after, 'after', Number.MAX_SAFE_INTEGER) ?? runtime.node.applied;
    const timeoutMs = optionalCount(q.timeoutMs, 'timeoutMs', 60_000) ?? 30_000;
    const events = await runtime.sm.watch.wait(prefix, after, timeoutMs);
    leaderHeaders(ctx, g, reply);
    const last = events[events.length - 1];
    return { revision: Math.max(last?.version ?? 0, after), events };
  });

  // ---- cluster admin
  app.get('/v1/status', () => ({
    id: ctx.host.nodeId,
    clusterId: ctx.host.clusterId,
    address: ctx.host.isOpen ? ctx.host.selfAddress : null,
    groups: ctx.host.groupIds().map((g) => ctx.host.status(g)),
  }));

  app.post('/v1/init', async (req) => {
    const members = parseMembers(requireObject(req.body).members, ctx);
    if (ctx.host.initialized) throw new ApiError(409, 'ALREADY_INITIALIZED', `node ${ctx.host.nodeId} is already initialized`);
    await ctx.host.bootstrapGroup(ctx.defaultGroup, members, { campaign: true });
    return { group: ctx.defaultGroup, members: members.map((m) => m.id) };
  });

  app.post('/v1/groups', async (req) => {
    const body = requireObject(req.body);
    const g = requireId(body.group, 'group');
    const members = parseMembers(body.members, ctx);
    await ctx.host.bootstrapGroup(g, members);
    return { group: g, members: members.map((m) => m.id) };
  });

  app.get('/v1/groups/:group/members', (req, reply) => {
    const g = group(req.params);
    leaderHeaders(ctx, g, reply);
    return membersJson(ctx, g);
  });

  app.post('/v1/groups/:group/members', async (req, reply) => {
    const g = group(req.params);
    const body = requireObject(req.body);
    const id = requireId(body.id, 'id');
    const raft = requireAddress(body.addr, 'addr');
    const api = body.apiAddr === undefined ? raft : requireAddress(body.apiAddr, 'apiAddr');
    const role = body.role ?? 'learner';
    if (role !== 'learner' && role !== 'voter') throw badRequest('role must be "learner" or "voter"');
    const timeoutMs = optionalCount(body.timeoutMs, 'timeoutMs', 600_000) ?? 30_000;
    if (await proxyToLeader(ctx, g, req, reply)) return reply;
    let cs = await ctx.host.addLearner(g, id, { raft, api });
    if (role === 'voter' || body.wait === true) await ctx.host.waitCaughtUp(g, id, timeoutMs);
    if (role === 'voter') cs = await ctx.host.changeVoters(g, [...new Set([...ctx.host.requireGroup(g).node.configuration.voters, id])]);
    return membersOf(ctx, g, cs);
  });

  app.put('/v1/groups/:group/voters', async (req, reply) => {
    const g = group(req.params);
    const voters = requireObject(req.body).voters;
    if (!Array.isArray(voters)) throw badRequest('voters must be an array of node ids');
    const ids = voters.map((v, i) => requireId(v, `voters[${i}]`));
    if (await proxyToLeader(ctx, g, req, reply)) return reply;
    // From the configuration the change produced: this node may have just left the group.
    return membersOf(ctx, g, await ctx.host.changeVoters(g, ids));
  });

  app.delete('/v1/groups/:group/members/:id', async (req, reply) => {
    const g = group(req.params);
    const id = requireId((req.params as { id?: unknown }).id, 'id');
    if (await proxyToLeader(ctx, g, req, reply)) return reply;
    return membersOf(ctx, g, await ctx.host.removeMember(g, id));
  });

  app.post('/v1/groups/:group/transfer-leader', async (req, reply) => {
    const g = group(req.params);
    const to = requireId(requireObject(req.body).to, 'to');
    if (await proxyToLeader(ctx, g, req, reply)) return reply;
    ctx.host.transferLeadership(g, to);
    return { group: g, transferringTo: to };
  });
}

export function sessionOf(body: Record<string, unknown>): { session?: ClientSession } {
  if (body.clientId === undefined) return {};
  if (typeof body.clientId !== 'string' || body.clientId.length === 0 || body.clientId.length > 128) throw badRequest('clientId must be a string of 1 to 128 characters');
  const seq = requireId(body.seq, 'seq');
  const ackedBelow = optionalCount(body.ackedBelow, 'ackedBelow', Number.MAX_SAFE_INTEGER);
  return { session: { clientId: body.clientId, seq, ...(ackedBelow === undefined ? {} : { ackedBelow }) } };
}

export async function write(ctx: ApiContext, group: number, command: KvCommand, reply: FastifyReply) {
  const r = await ctx.host.propose(group, command);
  leaderHeaders(ctx, group, reply);
  if (r.type === 'error') throw new ApiError(r.code === 'SESSION_EXPIRED' ? 409 : 400, r.code, r.message);
  return r;
}

export function entryJson(e: KvEntry): { value: string; version: number; createVersion: number } {
  return { value: e.value, version: e.version, createVersion: e.createVersion };
}

function unexpected(r: { type: string }): ApiError {
  return new ApiError(500, 'INTERNAL', `unexpected result type ${r.type}`);
}

function parseMembers(raw: unknown, ctx: ApiContext): { id: number; address: { raft: string; api: string }; role: 'voter' | 'learner' }[] {
  if (!Array.isArray(raw) || raw.length === 0) throw badRequest('members must be a non-empty array of {id, addr, apiAddr?, role?}');
  const seen = new Set<number>();
  return raw.map((m: unknown, i) => {
    const o = requireObject(m, `members[${i}]`);
    const id = requireId(o.id, `members[${i}].id`);
    if (seen.has(id)) throw badRequest(`members[${i}].id ${id} is listed twice`);
    seen.add(id);
    const self = id === ctx.host.nodeId && ctx.host.isOpen ? ctx.host.selfAddress : undefined;
    const raft = o.addr === undefined && self !== undefined ? self.raft : requireAddress(o.addr, `members[${i}].addr`);
    const api = o.apiAddr === undefined ? (self?.api ?? raft) : requireAddress(o.apiAddr, `members[${i}].apiAddr`);
    const role = o.role ?? 'voter';
    if (role !== 'voter' && role !== 'learner') throw badRequest(`members[${i}].role must be "voter" or "learner"`);
    return { id, address: { raft, api }, role };
  });
}

type MembersJson = { group: number; leader: number | null; members: { id: number; role: string; addr: string | null; apiAddr: string | null }[] };

/** The members of a configuration a change just produced (the group may be gone from this node). */
function membersOf(ctx: ApiContext, g: number, cs: ConfState): MembersJson {
  const ids = [...new Set([...cs.voters, ...cs.learners, ...cs.votersOutgoing])].sort((a, b) => a - b);
  const role = (id: number): string => (cs.voters.includes(id) ? 'voter' : cs.learners.includes(id) ? 'learner' : 'outgoing');
  return {
    group: g,
    leader: ctx.host.leaderOf(g)?.id ?? null,
    members: ids.map((id) => {
      const a = ctx.host.addressOf(id, ctx.host.group(g));
      return { id, role: role(id), addr: a?.raft ?? null, apiAddr: a?.api ?? null };
    }),
  };
}

export function membersJson(ctx: ApiContext, g: number): MembersJson {
  const status = ctx.host.status(g);
  const role = (id: number): string => (status.voters.includes(id) ? 'voter' : status.learners.includes(id) ? 'learner' : 'outgoing');
  const ids = [...new Set([...status.voters, ...status.learners, ...status.votersOutgoing])].sort((a, b) => a - b);
  return {
    group: g,
    leader: status.leader === 0 ? null : status.leader,
    members: ids.map((id) => ({ id, role: role(id), addr: status.members[String(id)]?.raft ?? null, apiAddr: status.members[String(id)]?.api ?? null })),
  };
}
