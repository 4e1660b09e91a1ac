/**
 * The OpenAPI 3.1 description of the native API, served at /v1/openapi.json. Kept by hand next
 * to native-routes.ts: every route there has an entry here (a test checks the list matches).
 */
const error = { $ref: '#/components/schemas/Error' };
const errors = {
  '400': { description: 'bad input (the error names the field)', content: { 'application/json': { schema: error } } },
  '404': { description: 'unknown group or key', content: { 'application/json': { schema: error } } },
  '503': { description: 'no leader, or the node is starting', content: { 'application/json': { schema: error } } },
  '504': { description: 'no outcome before the deadline (a write may still apply)', content: { 'application/json': { schema: error } } },
};
const groupParam = { name: 'group', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } };
const keyParam = { name: 'key', in: 'path', required: true, description: 'the rest of the path; may contain "/"', schema: { type: 'string' } };
const consistencyParam = { name: 'consistency', in: 'query', schema: { enum: ['linearizable', 'lease', 'eventual'], default: 'linearizable' } };
const session = {
  clientId: { type: 'string', maxLength: 128, description: 'with seq: a retried write is applied once' },
  seq: { type: 'integer', minimum: 1 },
  ackedBelow: { type: 'integer', minimum: 0, description: 'the client will not retry any seq below this' },
};
const json = (schema: unknown): unknown => ({ content: { 'application/json': { schema } } });
const ok = (schema: unknown): unknown => ({ '200': { description: 'ok', ...(json(schema) as object) }, ...errors });
const members = { $ref: '#/components/schemas/Members' };

export const NATIVE_ROUTES = [
  'GET /v1/groups/{group}/kv/{key}',
  'PUT /v1/groups/{group}/kv/{key}',
  'DELETE /v1/groups/{group}/kv/{key}',
  'POST /v1/groups/{group}/cas',
  'GET /v1/groups/{group}/scan',
  'GET /v1/groups/{group}/watch',
  'GET /v1/status',
  'POST /v1/init',
  'POST /v1/groups',
  'GET /v1/groups/{group}/members',
  'POST /v1/groups/{group}/members',
  'PUT /v1/groups/{group}/voters',
  'DELETE /v1/groups/{group}/members/{id}',
  'POST /v1/groups/{group}/transfer-leader',
  'GET /v1/metrics',
  'GET /v1/openapi.json',
] as const;

export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: 'Keel native API', version: '1', description: 'Replies carry keel-leader and keel-leader-addr headers when the leader is known. Writes on a follower are forwarded to the leader.' },
    paths: {
      '/v1/groups/{group}/kv/{key}': {
        get: { summary: 'Read a key', parameters: [groupParam, keyParam, consistencyParam], responses: ok({ $ref: '#/components/schemas/Entry' }) },
        put: {
          summary: 'Write a key',
          parameters: [groupParam, keyParam],
          requestBody: json({ type: 'object', required: ['value'], properties: { value: { type: 'string' }, ...session } }),
          responses: ok({ type: 'object', properties: { key: { type: 'string' }, version: { type: 'integer' }, previous: { $ref: '#/components/schemas/EntryOrNull' } } }),
        },
        delete: {
          summary: 'Delete a key',
          parameters: [groupParam, keyParam],
          responses: ok({ type: 'object', properties: { deleted: { type: 'boolean' }, version: { type: 'integer' }, previous: { $ref: '#/components/schemas/EntryOrNull' } } }),
        },
      },
      '/v1/groups/{group}/cas': {
        post: {
          summary: 'Compare-and-set on value and/or version (null value deletes; expectedValue null or expectedVersion 0 means absent)',
          parameters: [groupParam],
          requestBody: json({
            type: 'object',
            required: ['key', 'value'],
            properties: { key: { type: 'string' }, value: { type: ['string', 'null'] }, expectedValue: { type: ['string', 'null'] }, expectedVersion: { type: 'integer', minimum: 0 }, ...session },
          }),
          responses: ok({ type: 'object', properties: { succeeded: { type: 'boolean' }, version: { type: 'integer' }, current: { $ref: '#/components/schemas/EntryOrNull' } } }),
        },
      },
      '/v1/groups/{group}/scan': {
        get: {
          summary: 'Keys in ascending order',
          parameters: [
            groupParam,
            { name: 'prefix', in: 'query', schema: { type: 'string' } },
            { name: 'startAfter', in: 'query', schema: { type: 'string' } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 0, maximum: 10000, default: 100 } },
            consistencyParam,
          ],
          responses: ok({ type: 'object', properties: { entries: { type: 'array', items: { $ref: '#/components/schemas/Entry' } }, more: { type: 'boolean' } } }),
        },
      },
      '/v1/groups/{group}/watch': {
        get: {
          summary: 'Long-poll for changes to keys with a prefix, after a version (410 WATCH_COMPACTED when older changes are no longer held)',
          parameters: [
            groupParam,
            { name: 'prefix', in: 'query', schema: { type: 'string' } },
            { name: 'after', in: 'query', description: 'return changes with a version above this; default: now', schema: { type: 'integer', minimum: 0 } },
            { name: 'timeoutMs', in: 'query', schema: { type: 'integer', minimum: 0, maximum: 60000, default: 30000 } },
          ],
          responses: ok({
            type: 'object',
            properties: {
              revision: { type: 'integer', description: 'watch again with after=revision' },
              events: { type: 'array', items: { type: 'object', properties: { type: { enum: ['put', 'delete'] }, key: { type: 'string' }, value: { type: 'string' }, version: { type: 'integer' } } } },
            },
          }),
        },
      },
      '/v1/status': { get: { summary: 'This node and every group on it (role, term, commit, applied, members)', responses: ok({ type: 'object' }) } },
      '/v1/init': {
        post: { summary: 'Initialize an uninitialized node with a member list (like openraft /init)', requestBody: json({ type: 'object', properties: { members: { type: 'array', items: { $ref: '#/components/schemas/MemberSpec' } } } }), responses: ok({ type: 'object' }) },
      },
      '/v1/groups': {
        post: { summary: 'Create a group on this node (every listed member must be sent the same list)', requestBody: json({ type: 'object', properties: { group: { type: 'integer' }, members: { type: 'array', items: { $ref: '#/components/schemas/MemberSpec' } } } }), responses: ok({ type: 'object' }) },
      },
      '/v1/groups/{group}/members': {
        get: { summary: 'Members, roles and addresses', parameters: [groupParam], responses: ok(members) },
        post: {
          summary: 'Add a learner, or a voter (added as a learner, caught up, then promoted)',
          parameters: [groupParam],
          requestBody: json({ type: 'object', required: ['id', 'addr'], properties: { id: { type: 'integer' }, addr: { type: 'string' }, apiAddr: { type: 'string' }, role: { enum: ['learner', 'voter'] }, wait: { type: 'boolean' }, timeoutMs: { type: 'integer' } } }),
          responses: ok(members),
        },
      },
      '/v1/groups/{group}/voters': {
        put: { summary: 'Set the voter set (learners listed are promoted, members not listed are removed)', parameters: [groupParam], requestBody: json({ type: 'object', properties: { voters: { type: 'array', items: { type: 'integer' } } } }), responses: ok(members) },
      },
      '/v1/groups/{group}/members/{id}': {
        delete: { summary: 'Remove a member', parameters: [groupParam, { name: 'id', in: 'path', required: true, schema: { type: 'integer' } }], responses: ok(members) },
      },
      '/v1/groups/{group}/transfer-leader': {
        post: { summary: 'Hand leadership to another voter', parameters: [groupParam], requestBody: json({ type: 'object', properties: { to: { type: 'integer' } } }), responses: ok({ type: 'object' }) },
      },
      '/v1/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text exposition format' } } } },
      '/v1/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } } },
    },
    components: {
      schemas: {
        Error: { type: 'object', properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } } },
        Entry: { type: 'object', properties: { key: { type: 'string' }, value: { type: 'string' }, version: { type: 'integer', description: 'log index of the last write' }, createVersion: { type: 'integer' } } },
        EntryOrNull: { oneOf: [{ $ref: '#/components/schemas/Entry' }, { type: 'null' }] },
        MemberSpec: { type: 'object', required: ['id'], properties: { id: { type: 'integer' }, addr: { type: 'string' }, apiAddr: { type: 'string' }, role: { enum: ['voter', 'learner'] } } },
        Members: { type: 'object', properties: { group: { type: 'integer' }, leader: { type: ['integer', 'null'] }, members: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, role: { type: 'string' }, addr: { type: 'string' }, apiAddr: { type: 'string' } } } } } },
      },
    },
  };
}
