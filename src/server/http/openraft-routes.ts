import type { FastifyInstance } from 'fastify';
import type { ConfState } from '../../raft/types.js';
import { isNodeError } from '../../node/errors.js';
import { HostError } from '../host-error.js';
import { toApiError } from './api-error.js';
import type { ApiContext } from './context.js';
import { requireAddress, requireId, requireKey, requireValue } from './validate.js';

/**
 * openraft's KV example (seed 000): every reply is HTTP 200 carrying `{"Ok":...}` or
 * `{"Err":...}`, with openraft's error shapes. As in openraft, writes and consistent reads on a
 * follower answer ForwardToLeader (naming the leader and its address) and the client retries
 * there; Keel's native API forwards instead.
 */
export function registerOpenraftRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const g = ctx.defaultGroup;

  app.post('/init', async (req) => {
    const body = req.body;
    if (!Array.isArray(body)) return err({ APIError: { InitializeError: { BadRequest: 'body must be [] or [[id,"addr"],...]' } } });
    const self = ctx.host.selfAddress;
    const members = body.length === 0
      ? [{ id: ctx.host.nodeId, address: self, role: 'voter' as const }]
      : body.map((item: unknown, i) => {
          if (!Array.isArray(item) || item.length !== 2) throw new HostError('BAD_REQUEST', `[${i}] must be [id, "addr"]`);
          const id = requireId(item[0], `[${i}][0]`);
          const addr = requireAddress(item[1], `[${i}][1]`);
          return { id, address: id === ctx.host.nodeId ? self : { raft: addr, api: addr }, role: 'voter' as const };
        });
    if (!members.some((m) => m.id === ctx.host.nodeId)) return err({ APIError: { NotInMembers: { node_id: ctx.host.nodeId, membership: membershipJson(ctx, members.map((m) => m.id), []) } } });
    if (ctx.host.initialized) {
      const s = ctx.host.group(g)?.node.raw.status();
      return err({ APIError: { NotAllowed: { last_log_id: s === undefined ? null : logId(s.term, s.leader, s.lastIndex), vote: s === undefined ? null : { leader_id: { term: s.term, node_id: s.vote }, committed: s.leader === s.vote } } } });
    }
    await ctx.host.bootstrapGroup(g, members, { campaign: true });
    return { Ok: null };
  });

  app.post('/add-learner', async (req) => {
    const body = req.body;
    let id: number;
    let raft: string;
    let api: string;
    if (Array.isArray(body) && body.length === 2) {
      id = requireId(body[0], '[0]');
      raft = api = requireAddress(body[1], '[1]');
    } else if (typeof body === 'object' && body !== null && 'node_id' in body) {
      const o = body as Record<string, unknown>;
      id = requireId(o.node_id, 'node_id');
      api = requireAddress(o.api_addr, 'api_addr');
      raft = o.raft_addr === undefined ? api : requireAddress(o.raft_addr, 'raft_addr');
    } else {
      throw new HostError('BAD_REQUEST', 'body must be [id, "addr"] or {"node_id", "api_addr", "raft_addr"}');
    }
    const forward = forwardToLeader(ctx);
    if (forward !== undefined) return forward;
    return clientWrite(ctx, async () => {
      const cs = await ctx.host.addLearner(g, id, { raft, api });
      // openraft's add_learner blocks until the learner has caught up.
      await ctx.host.waitCaughtUp(g, id, 30_000);
      return cs;
    });
  });

  app.post('/change-membership', async (req) => {
    const body = req.body;
    if (!Array.isArray(body)) throw new HostError('BAD_REQUEST', 'body must be an array of node ids');
    const ids = body.map((v: unknown, i) => requireId(v, `[${i}]`));
    const forward = forwardToLeader(ctx);
    if (forward !== undefined) return forward;
    if (ids.length === 0) return err({ APIError: { ChangeMembershipError: { EmptyMembership: {} } } });
    return clientWrite(ctx, () => ctx.host.changeVoters(g, ids));
  });

  app.post('/write', async (req) => {
    const set = (req.body as { Set?: { key?: unknown; value?: unknown } } | null)?.Set;
    if (typeof set !== 'object' || set === null) throw new HostError('BAD_REQUEST', 'body must be {"Set":{"key":"...","value":"..."}}');
    const key = requireKey(set.key, ctx.limits);
    const value = requireValue(set.value, ctx.limits);
    const forward = forwardToLeader(ctx);
    if (forward !== undefined) return forward;
    const r = await ctx.host.propose(g, { op: 'put', key, value });
    if (r.type !== 'put') return err({ APIError: { Internal: r.type } });
    const s = ctx.host.requireGroup(g).node.raw.status();
    return { Ok: { log_id: logId(s.term, ctx.host.nodeId, r.version), data: { value }, membership: null } };
  });

  app.post('/read', async (req) => {
    const key = requireKey(req.body, ctx.limits, 'body');
    const entry = await ctx.host.read(g, 'eventual', (sm) => sm.kv.get(key));
    return { Ok: entry?.value ?? '' };
  });

  app.post('/consistent_read', async (req) => {
    const key = requireKey(req.body, ctx.limits, 'body');
    const forward = forwardToLeader(ctx);
    if (forward !== undefined) return forward;
    try {
      const entry = await ctx.host.read(g, 'linearizable', (sm) => sm.kv.get(key));
      return { Ok: entry?.value ?? '' };
    } catch (e) {
      if (isNodeError(e, 'TIMEOUT')) {
        const s = ctx.host.status(g);
        return err({ APIError: { QuorumNotEnough: { cluster: JSON.stringify(s.voters), got: [ctx.host.nodeId] } } });
      }
      throw e;
    }
  });

  app.get('/metrics', () => ({ Ok: metricsJson(ctx) }));
}

/** openraft's RaftMetrics, from this node's view of the default group. */
export function metricsJson(ctx: ApiContext): Record<string, unknown> {
  const grp = ctx.host.group(ctx.defaultGroup);
  if (grp === undefined) {
    return { running_state: { Ok: null }, id: ctx.host.nodeId, current_term: 0, vote: null, last_log_index: null, last_applied: null, snapshot: null, purged: null, state: 'Learner', current_leader: null, millis_since_quorum_ack: null, membership_config: { log_id: null, membership: { configs: [], nodes: {} } }, replication: null };
  }
  const s = ctx.host.status(ctx.defaultGroup);
  const raw = grp.node.raw.status();
  const state = s.role === 'leader' ? 'Leader' : s.role === 'candidate' || s.role === 'preCandidate' ? 'Candidate' : s.learners.includes(ctx.host.nodeId) ? 'Learner' : 'Follower';
  const first = s.firstIndex - 1;
  return {
    running_state: { Ok: null },
    id: ctx.host.nodeId,
    current_term: s.term,
    vote: { leader_id: { term: s.term, node_id: raw.vote }, committed: s.leader !== 0 && s.leader === raw.vote },
    last_log_index: s.lastIndex,
    last_applied: logId(s.term, s.leader, s.applied),
    snapshot: first > 0 ? logId(0, 0, first) : null,
    purged: first > 0 ? logId(0, 0, first) : null,
    state,
    current_leader: s.leader === 0 ? null : s.leader,
    millis_since_quorum_ack: s.role === 'leader' ? 0 : null,
    membership_config: { log_id: null, membership: membershipJson(ctx, s.voters, s.learners) },
    replication: s.role === 'leader' ? Object.fromEntries(Object.entries(s.matchIndex).map(([id, m]) => [id, logId(s.term, ctx.host.nodeId, m)])) : null,
  };
}

function membershipJson(ctx: ApiContext, voters: readonly number[], learners: readonly number[]): Record<string, unknown> {
  const nodes: Record<string, { addr: string }> = {};
  for (const id of [...voters, ...learners]) nodes[String(id)] = { addr: ctx.host.addressOf(id, ctx.host.group(ctx.defaultGroup))?.api ?? '' };
  return { configs: [[...voters]], nodes };
}

function logId(term: number, nodeId: number, index: number): Record<string, unknown> {
  return { leader_id: { term, node_id: nodeId }, index };
}

function err(e: unknown): { Err: unknown } {
  return { Err: e };
}

/** ForwardToLeader when this node is not the leader (leader fields null when unknown). */
function forwardToLeader(ctx: ApiContext): { Err: unknown } | undefined {
  const grp = ctx.host.requireGroup(ctx.defaultGroup);
  if (grp.node.currentRole === 'leader') return undefined;
  const leader = ctx.host.leaderOf(ctx.defaultGroup);
  return err({ APIError: { ForwardToLeader: { leader_id: leader?.id ?? null, leader_node: leader?.address === undefined ? null : { addr: leader.address.api } } } });
}

async function clientWrite(ctx: ApiContext, change: () => Promise<ConfState>): Promise<unknown> {
  try {
    const cs = await change();
    // The group may be gone from this node already: it can have removed itself.
    const grp = ctx.host.group(ctx.defaultGroup);
    return { Ok: { log_id: logId(grp?.node.raw.status().term ?? 0, ctx.host.nodeId, grp?.node.applied ?? 0), data: null, membership: membershipJson(ctx, cs.voters, cs.learners) } };
  } catch (e) {
    if (e instanceof HostError) {
      if (e.code === 'LEARNER_NOT_FOUND') return err({ APIError: { ChangeMembershipError: { LearnerNotFound: { node_id: e.details.nodeId } } } });
      if (e.code === 'CONF_CHANGE_IN_PROGRESS') return err({ APIError: { ChangeMembershipError: { InProgress: { message: e.message } } } });
      if (e.code === 'EMPTY_MEMBERSHIP') return err({ APIError: { ChangeMembershipError: { EmptyMembership: {} } } });
    }
    if (isNodeError(e, 'CONF_CHANGE_IN_PROGRESS')) return err({ APIError: { ChangeMembershipError: { InProgress: { message: e.message } } } });
    const api = toApiError(e);
    if (api.status >= 500) throw e;
    return err({ APIError: { [api.code]: api.message } });
  }
}
