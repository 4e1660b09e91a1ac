import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { ReadConsistency } from '../../node/raft-node.js';
import type { Host } from '../host.js';
import { ApiError, errorBody, toApiError } from './api-error.js';
import type { ApiContext } from './context.js';
import { registerDengineRoutes } from './dengine-routes.js';
import { registerHealthRoutes } from './health-routes.js';
import { NodeMetrics } from './metrics.js';
import { registerMultiraftRoutes } from './multiraft-routes.js';
import { registerNativeRoutes } from './native-routes.js';
import { openApiDocument } from './openapi.js';
import { registerOpenraftRoutes } from './openraft-routes.js';
import type { ApiLimits } from './validate.js';

export interface AppOptions {
  readonly host: Host;
  readonly limits: ApiLimits;
  readonly defaultGroup: number;
  readonly defaultConsistency: ReadConsistency;
  readonly log: { warn(m: string): void; error(m: string): void };
}

/**
 * The API server: native /v1 routes, the three seed families, health and metrics. One error
 * handler turns every failure into `{"error":{"code","message"}}` with a 4xx for bad input.
 */
export function buildApiApp(opts: AppOptions): { app: FastifyInstance; metrics: NodeMetrics } {
  const app = Fastify({ logger: false, bodyLimit: opts.limits.maxBodyBytes, return503OnClosing: true, forceCloseConnections: true });
  const metrics = new NodeMetrics(opts.host);
  const ctx: ApiContext = {
    host: opts.host,
    limits: opts.limits,
    defaultGroup: opts.defaultGroup,
    defaultConsistency: opts.defaultConsistency,
    countRequest: () => undefined,
  };
  installCommon(app, metrics, opts.log);
  refuseDeclaredOversizeBodies(app, opts.limits.maxBodyBytes);
  // curl -d sends form encoding by default; the seeds' walkthroughs send JSON either way.
  app.addContentTypeParser(['application/x-www-form-urlencoded', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, body === '' ? undefined : JSON.parse(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  registerNativeRoutes(app, ctx);
  registerOpenraftRoutes(app, ctx);
  registerDengineRoutes(app, ctx);
  registerMultiraftRoutes(app, ctx);
  registerHealthRoutes(app, ctx);
  app.get('/v1/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  app.get('/v1/openapi.json', () => openApiDocument());
  return { app, metrics };
}

/** The --health-port listener: health checks and Prometheus metrics only. */
export function buildHealthApp(opts: AppOptions, metrics: NodeMetrics): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 1024, forceCloseConnections: true });
  const ctx: ApiContext = { host: opts.host, limits: opts.limits, defaultGroup: opts.defaultGroup, defaultConsistency: opts.defaultConsistency, countRequest: () => undefined };
  installCommon(app, undefined, opts.log);
  registerHealthRoutes(app, ctx);
  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  return app;
}

/**
 * Past this many declared bytes an oversize request's connection is closed instead of drained:
 * reading that much only to discard it would cost more than the client's retry.
 */
const MAX_DRAINED_BODY_BYTES = 64 * 1024 * 1024;

/**
 * A request whose Content-Length is over the limit gets its 413 before any of the body is read,
 * and the connection stays open: Node discards the rest of the body once the reply is sent, so
 * a client still writing it reads the reply instead of failing with EPIPE (fastify's own check
 * closes the connection, which races the client's write).
 */
function refuseDeclaredOversizeBodies(app: FastifyInstance, maxBodyBytes: number): void {
  app.addHook('onRequest', (req, reply, done) => {
    const declared = Number(req.headers['content-length']);
    if (!(declared > maxBodyBytes)) {
      done();
      return;
    }
    if (declared > MAX_DRAINED_BODY_BYTES) void reply.header('connection', 'close');
    void reply.code(413).send(errorBody(new ApiError(413, 'BODY_TOO_LARGE', `request body is ${declared} bytes; the limit is ${maxBodyBytes} ([api] max_body_bytes)`)));
  });
}

function installCommon(app: FastifyInstance, metrics: NodeMetrics | undefined, log: AppOptions['log']): void {
  app.setErrorHandler((err, req, reply) => {
    const e = toApiError(err);
    if (e.status >= 500 && e.code === 'INTERNAL') log.error(`${req.method} ${req.url}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    void reply.code(e.status).send(errorBody(e));
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0] ?? ''}` } });
  });
  if (metrics !== undefined) {
    app.addHook('onResponse', (req, reply, done) => {
      metrics.observe(req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
  }
}
