import * as fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveServeConfig } from '../../src/config/serve-config.js';
import type { ServeFlags } from '../../src/config/serve-config.js';
import { KeelClient } from '../../src/client/keel-client.js';
import { createLogger } from '../../src/server/logger.js';
import { startServer } from '../../src/server/server.js';
import type { RunningServer } from '../../src/server/server.js';
import { NATIVE_ROUTES } from '../../src/server/http/openapi.js';
import { eventually, freePorts, tempDir } from '../support/keel-process.js';

/** The HTTP API of one in-process node: native routes, each seed family, health and metrics. */
let dir = '';
let server: RunningServer;
let base = '';
let healthBase = '';
let client: KeelClient;

beforeAll(async () => {
  dir = await tempDir('keel-api-');
  const [port, healthPort] = await freePorts(2);
  // No identity given: a one-node cluster that bootstraps itself.
  const flags: ServeFlags = { httpAddr: `127.0.0.1:${port ?? 0}`, healthPort: String(healthPort ?? 0), dataDir: dir, tickMs: '20' };
  server = await startServer(resolveServeConfig(flags, undefined), createLogger(1, 'silent'));
  base = `http://${server.apiAddress}`;
  healthBase = `http://${server.healthAddress ?? ''}`;
  client = new KeelClient({ endpoints: [server.apiAddress] });
  await eventually('leadership', async () => ((await fetch(`${base}/primary`)).status === 200 ? true : undefined));
});

afterAll(async () => {
  await client.close();
  await server.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

async function call(method: string, path: string, body?: unknown, raw?: string): Promise<{ status: number; json: unknown; text: string; headers: Headers }> {
  const res = await fetch(base + path, {
    method,
    ...(body === undefined && raw === undefined ? {} : { body: raw ?? JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

describe('native API', () => {
  it('puts, gets, versions, deletes, compare-and-sets and scans', async () => {
    const put = await client.put('a/b', 'one');
    expect(put.previous).toBeNull();
    const got = await client.get('a/b');
    expect(got).toMatchObject({ key: 'a/b', value: 'one', version: put.version, createVersion: put.version });
    const put2 = await client.put('a/b', 'two');
    expect(put2.previous?.value).toBe('one');
    expect(put2.version).toBeGreaterThan(put.version);

    expect((await client.cas({ key: 'a/b', value: 'three', expectedValue: 'nope' })).succeeded).toBe(false);
    const cas = await client.cas({ key: 'a/b', value: 'three', expectedVersion: put2.version });
    expect(cas.succeeded).toBe(true);
    expect(cas.current?.value).toBe('three');
    expect((await client.cas({ key: 'fresh', value: 'x', expectedValue: null })).succeeded).toBe(true);

    for (const k of ['p1', 'p2', 'p3', 'q1']) await client.put(k, k);
    const page = await client.scan({ prefix: 'p', limit: 2 });
    expect(page.entries.map((e) => e.key)).toEqual(['p1', 'p2']);
    expect(page.more).toBe(true);
    const rest = await client.scan({ prefix: 'p', startAfter: 'p2' });
    expect(rest.entries.map((e) => e.key)).toEqual(['p3']);

    const del = await client.delete('a/b');
    expect(del.deleted).toBe(true);
    expect(await client.get('a/b')).toBeUndefined();
    const r = await call('GET', '/v1/groups/1/kv/a/b');
    expect(r.status).toBe(404);
    expect(r.json).toMatchObject({ error: { code: 'KEY_NOT_FOUND' } });
    expect(r.headers.get('keel-leader')).toBe('1');
  });

  it('watches changes under a prefix (long poll), from a version', async () => {
    const start = await client.watch({ prefix: 'w/', timeoutMs: 0 });
    const pending = client.watch({ prefix: 'w/', after: start.revision, timeoutMs: 10_000 });
    await client.put('other', 'ignored');
    const put = await client.put('w/a', '1');
    const first = await pending;
    expect(first.events).toEqual([{ type: 'put', key: 'w/a', value: '1', version: put.version }]);
    await client.delete('w/a');
    const next = await client.watch({ prefix: 'w/', after: first.revision, timeoutMs: 10_000 });
    expect(next.events.map((e) => [e.type, e.key])).toEqual([['delete', 'w/a']]);
    expect((await client.watch({ prefix: 'w/', after: next.revision, timeoutMs: 50 })).events).toEqual([]);
  });

  it('applies a retried write once (client id and sequence number)', async () => {
    const body = { value: 'v1', clientId: 'c-1', seq: 1 };
    const first = await call('PUT', '/v1/groups/1/kv/retried', body);
    await client.put('retried', 'other-writer');
    const retry = await call('PUT', '/v1/groups/1/kv/retried', body);
    expect(retry.json).toEqual(first.json);
    expect((await client.get('retried'))?.value).toBe('other-writer');
  });

  it('names the problem in every 4xx', async () => {
    const cases: [string, string, unknown, string | undefined, number, RegExp][] = [
      ['PUT', '/v1/groups/1/kv/x', undefined, '{bad', 400, /JSON/i],
      ['PUT', '/v1/groups/1/kv/x', [], undefined, 400, /must be a JSON object/],
      ['PUT', '/v1/groups/1/kv/x', { value: 1 }, undefined, 400, /value must be a string/],
      ['GET', '/v1/groups/0/kv/x', undefined, undefined, 400, /group must be a positive integer/],
      ['GET', '/v1/groups/abc/kv/x', undefined, undefined, 400, /group must be a positive integer/],
      ['GET', '/v1/groups/9/kv/x', undefined, undefined, 404, /group 9 does not exist/],
      ['POST', '/v1/groups/1/cas', { key: 'k', value: 'v' }, undefined, 400, /expectedValue/],
      ['GET', '/v1/groups/1/scan?limit=-1', undefined, undefined, 400, /limit must be an integer/],
      ['GET', '/v1/groups/1/scan?limit=99999999', undefined, undefined, 400, /limit must be an integer from 0 to 10000/],
      ['POST', '/v1/groups/1/members', { id: 2, addr: 'nowhere' }, undefined, 400, /addr must be an address/],
      ['PUT', '/v1/groups/1/voters', { voters: [] }, undefined, 400, /cannot be empty/],
      ['PUT', '/v1/groups/1/voters', { voters: [1, 5] }, undefined, 400, /node 5 is neither a voter nor a learner/],
      ['POST', '/v1/init', { members: [{ id: 1 }] }, undefined, 409, /already initialized/],
      ['GET', '/nope/at/all/here', undefined, undefined, 404, /no route/],
      ['PUT', '/v1/groups/1/kv/x', undefined, '{"value":"\\ud800"}', 400, /surrogate|well-formed|UTF/i],
    ];
    for (const [method, path, body, raw, status, message] of cases) {
      const r = await call(method, path, body, raw);
      expect({ path, status: r.status }).toEqual({ path, status });
      const err = (r.json as { error?: { code?: string; message?: string } }).error;
      expect(typeof err?.code).toBe('string');
      expect(err?.message ?? '').toMatch(message);
    }
  });

  it('serves an OpenAPI document listing every native route', async () => {
    const r = await call('GET', '/v1/openapi.json');
    const doc = r.json as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    const listed = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    expect(listed.sort()).toEqual([...NATIVE_ROUTES].sort());
  });
});

describe('seed routes on one node', () => {
  it('openraft: write, read, consistent_read, metrics in the Ok/Err envelope', async () => {
    const w = await call('POST', '/write', { Set: { key: 'foo', value: 'bar' } });
    expect(w.json).toMatchObject({ Ok: { log_id: { leader_id: { node_id: 1 } }, data: { value: 'bar' }, membership: null } });
    expect((await call('POST', '/read', 'foo')).json).toEqual({ Ok: 'bar' });
    expect((await call('POST', '/read', 'missing')).json).toEqual({ Ok: '' });
    expect((await call('POST', '/consistent_read', 'foo')).json).toEqual({ Ok: 'bar' });
    const m = (await call('GET', '/metrics')).json as { Ok: Record<string, unknown> };
    expect(m.Ok).toMatchObject({ id: 1, state: 'Leader', current_leader: 1, membership_config: { membership: { configs: [[1]] } } });
    for (const f of ['running_state', 'current_term', 'vote', 'last_log_index', 'last_applied', 'snapshot', 'purged', 'millis_since_quorum_ack', 'replication']) expect(m.Ok).toHaveProperty(f);
    expect((await call('POST', '/init', [])).json).toMatchObject({ Err: { APIError: { NotAllowed: {} } } });
  });

  it('d-engine: POST /kv and GET /kv/:key, /primary and /replica', async () => {
    expect(await call('POST', '/kv', { key: 'username', value: 'alice' })).toMatchObject({ status: 200, json: {} });
    expect((await call('GET', '/kv/username')).json).toEqual({ value: 'alice' });
    expect((await call('GET', '/kv/nobody')).json).toEqual({ value: null });
    expect((await fetch(`${healthBase}/primary`)).status).toBe(200);
    expect((await fetch(`${healthBase}/replica`)).status).toBe(503);
    expect((await fetch(`${base}/primary`)).status).toBe(200);
  });

  it('multiraft: PUT /{group}, GET /{group}/{key} as text, members', async () => {
    const put = await call('PUT', '/1', { Key: 'hello', Value: 'world' });
    expect(put.status).toBe(204);
    const get = await call('GET', '/1/hello');
    expect([get.status, get.text]).toEqual([200, 'world\n']);
    expect((await call('GET', '/1/mgmt/nodes')).json).toEqual([{ id: 1, addr: server.apiAddress, type: 'voter' }]);
    expect((await call('POST', '/1', { Key: 5 })).status).toBe(400);
    expect((await call('GET', '/x/hello')).status).toBe(400);
  });

  it('health port: healthz, readyz and Prometheus metrics', async () => {
    expect((await fetch(`${healthBase}/healthz`)).status).toBe(200);
    expect((await fetch(`${healthBase}/readyz`)).status).toBe(200);
    const text = await (await fetch(`${healthBase}/metrics`)).text();
    expect(text).toMatch(/keel_raft_is_leader\{group="1"\} 1/);
    expect(text).toMatch(/keel_http_requests_total\{route="\/v1\/groups\/:group\/kv\/\*",status="200"\} \d+/);
    // Every write of the log so far: timed, counted, and its records and bytes added up.
    const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('keel_wal_fsync_duration_seconds_count')).toBeGreaterThan(0);
    expect(value('keel_wal_fsync_duration_seconds_sum')).toBeGreaterThan(0);
    expect(value('keel_wal_records_total')).toBeGreaterThanOrEqual(value('keel_wal_fsync_duration_seconds_count'));
    expect(value('keel_wal_bytes_written_total')).toBeGreaterThan(0);
    expect((await fetch(`${healthBase}/v1/status`)).status).toBe(404);
  });
});
