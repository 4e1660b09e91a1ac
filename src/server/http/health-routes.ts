import type { FastifyInstance } from 'fastify';
import type { ApiContext } from './context.js';

/**
 * Load-balancer health checks (d-engine's /primary and /replica, meant for HAProxy's
 * `option httpchk`), liveness and readiness. Served on the API port and on --health-port.
 */
export function registerHealthRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const role = (): string | undefined => ctx.host.group(ctx.defaultGroup)?.node.currentRole;

  app.get('/primary', async (_req, reply) => {
    const r = role();
    return reply.code(r === 'leader' ? 200 : 503).send({ role: r ?? 'uninitialized', primary: r === 'leader' });
  });
  app.get('/replica', async (_req, reply) => {
    const r = role();
    const ok = r === 'follower' && ctx.host.leaderOf(ctx.defaultGroup) !== undefined;
    return reply.code(ok ? 200 : 503).send({ role: r ?? 'uninitialized', replica: ok });
  });
  app.get('/healthz', async (_req, reply) => reply.code(ctx.host.isOpen ? 200 : 503).send({ ok: ctx.host.isOpen }));
  app.get('/readyz', async (_req, reply) => {
    const groups = ctx.host.groupIds();
    const withoutLeader = groups.filter((g) => ctx.host.leaderOf(g) === undefined);
    const ready = ctx.host.isOpen && groups.length > 0 && withoutLeader.length === 0;
    return reply.code(ready ? 200 : 503).send({ ready, groups, groupsWithoutLeader: withoutLeader });
  });
}
