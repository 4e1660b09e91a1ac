import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeelClient } from '../../src/client/keel-client.js';
import { Wal } from '../../src/storage/wal.js';
import { killLiveChildren } from '../support/child-lines.js';
import { KeelProcess, eventually, freePorts, runKeel, tempDir } from '../support/keel-process.js';

/**
 * A real three-node cluster of `keel serve` processes: writes and reads on every node at every
 * consistency level, kill -9 of the leader under load, a restart that catches up by snapshot,
 * and a node of another cluster that is refused.
 */
let dir = '';
let ports: number[] = [];
const nodes = new Map<number, KeelProcess>();
let clients: KeelClient[] = [];
let config = '';

const endpoint = (id: number): string => `127.0.0.1:${ports[id - 1] ?? 0}`;
const initialCluster = (): string => [1, 2, 3].map((id) => `${id}=${endpoint(id)}`).join(',');

function startNode(id: number): KeelProcess {
  const p = new KeelProcess(['serve', '--id', String(id), '--http-addr', endpoint(id), '--initial-cluster', initialCluster(), '--data-dir', path.join(dir, `n${id}`), '--config', config, '--tick-ms', '50', '--log-level', 'info']);
  nodes.set(id, p);
  return p;
}

function client(id: number): KeelClient {
  const c = new KeelClient({ endpoints: [endpoint(id)], timeoutMs: 15_000 });
  clients.push(c);
  return c;
}

async function leaderId(via: KeelClient): Promise<number> {
  return eventually('a leader', async () => {
    const s = await via.status();
    const g = s.groups[0];
    return g !== undefined && g.leader !== 0 ? g.leader : undefined;
  });
}

beforeAll(async () => {
  dir = await tempDir('keel-cluster-');
  ports = await freePorts(4);
  config = path.join(dir, 'keel.toml');
  // Snapshots every 200 entries, keeping 50 below each, so a node that was down for a few
  // hundred writes must catch up through a snapshot.
  await fs.writeFile(config, '[raft]\nsnapshot_every_entries = 200\nlog_entries_kept_after_snapshot = 50\n');
  for (const id of [1, 2, 3]) startNode(id);
  await Promise.all([...nodes.values()].map((n) => n.waitForLine(/^ready /)));
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  clients = [];
  for (const n of nodes.values()) n.kill('SIGTERM');
  await Promise.race([Promise.all([...nodes.values()].map((n) => n.exited)), new Promise((r) => setTimeout(r, 10_000))]);
  killLiveChildren();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('a three-node cluster of real processes', () => {
  it('takes writes on every node and serves reads at every consistency level from every node', async () => {
    for (const id of [1, 2, 3]) {
      const r = await client(id).put(`k${id}`, `v${id}`);
      expect(r.version).toBeGreaterThan(1);
    }
    for (const id of [1, 2, 3]) {
      const c = client(id);
      for (const k of [1, 2, 3]) {
        expect((await c.get(`k${k}`, { consistency: 'linearizable' }))?.value).toBe(`v${k}`);
        expect((await c.get(`k${k}`, { consistency: 'lease' }))?.value).toBe(`v${k}`);
        // An eventual read is local: it may trail the leader for a moment.
        await eventually(`k${k} on node ${id}`, async () => ((await c.get(`k${k}`, { consistency: 'eventual' }))?.value === `v${k}` ? true : undefined));
      }
    }
    const scan = await client(2).scan({ prefix: 'k' });
    expect(scan.entries.map((e) => e.key)).toEqual(['k1', 'k2', 'k3']);
  }, 60_000);

  it('survives kill -9 of the leader under a steady write load, and a new leader serves writes', async () => {
    const c = new KeelClient({ endpoints: [1, 2, 3].map(endpoint), timeoutMs: 20_000 });
    clients.push(c);
    const leader = await leaderId(c);
    const acked: string[] = [];
    let lastAckAt = Date.now();
    let maxGapMs = 0;
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        await c.put(`load-${i}`, `v${i}`);
        const now = Date.now();
        maxGapMs = Math.max(maxGapMs, now - lastAckAt);
        lastAckAt = now;
        acked.push(`load-${i}`);
      }
    })();
    await eventually('some writes', () => (acked.length >= 100 ? true : undefined));
    const before = acked.length;
    nodes.get(leader)?.kill('SIGKILL');
    await nodes.get(leader)?.exited;
    await eventually('writes after the kill', () => (acked.length >= before + 300 ? true : undefined), 30_000);
    writing = false;
    await writer;
    const survivor = [1, 2, 3].find((id) => id !== leader) ?? 1;
    const newLeader = await leaderId(client(survivor));
    expect(newLeader).not.toBe(leader);
    process.stdout.write(`leader ${leader} killed; node ${newLeader} took over; longest gap between acknowledged writes: ${maxGapMs} ms\n`);
    // Every acknowledged write is there.
    const check = client(survivor);
    for (const k of acked.filter((_, i) => i % 25 === 0)) expect((await check.get(k))?.value).toBe(`v${k.slice(5)}`);

    // The killed node comes back from its data directory and catches up through a snapshot:
    // the others compacted their logs past what it has.
    const status = await check.status();
    expect(status.groups[0]?.firstIndex ?? 0).toBeGreaterThan(1);
    startNode(leader);
    await nodes.get(leader)?.waitForLine(/^ready /);
    const back = client(leader);
    const last = acked[acked.length - 1] ?? '';
    await eventually('the restarted node to catch up', async () => ((await back.get(last, { consistency: 'eventual' }))?.value === `v${last.slice(5)}` ? true : undefined), 30_000);
    const s = await back.status();
    expect(s.id).toBe(leader);
    expect(s.groups[0]?.firstIndex ?? 0).toBeGreaterThan(1);
    expect((await back.get('k1', { consistency: 'eventual' }))?.value).toBe('v1');
    expect(nodes.get(leader)?.stderr.join('\n')).toMatch(/snapshot/i);
  }, 120_000);

  it('refuses a node of another cluster', async () => {
    const foreign = new KeelProcess([
      'serve', '--id', '9', '--cluster-id', 'other', '--http-addr', `127.0.0.1:${ports[3] ?? 0}`,
      '--initial-cluster', `9=127.0.0.1:${ports[3] ?? 0},1=${endpoint(1)}`, '--data-dir', path.join(dir, 'foreign'), '--tick-ms', '50',
    ]);
    try {
      await foreign.waitForLine(/^ready /);
      await eventually('the refusal in node 1 log', () => (nodes.get(1)?.stderr.some((l) => /refused a peer connection.*cluster id "other"/.test(l)) === true ? true : undefined));
      await eventually('the refusal in the foreign node log', () => (foreign.stderr.some((l) => /node 1 refused the connection \(HTTP 403\)/.test(l)) ? true : undefined));
      const s = await client(1).status();
      expect(s.groups[0]?.voters).toEqual([1, 2, 3]);
    } finally {
      foreign.kill('SIGKILL');
      await foreign.exited;
    }
  }, 60_000);

  it('prints a status table and answers bad requests with 4xx JSON errors', async () => {
    const r = await runKeel(['status', '--endpoints', [1, 2, 3].map(endpoint).join(',')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ENDPOINT\s+NODE\s+GROUP\s+ROLE\s+LEADER\s+TERM\s+COMMIT\s+APPLIED/);
    expect(r.stdout.match(/leader/g)?.length).toBe(1);

    // The data commands, through the typed client, against any node.
    const eps = ['--endpoints', `${endpoint(3)},${endpoint(1)}`];
    expect((await runKeel(['put', 'cli-key', 'cli value', ...eps])).code).toBe(0);
    const got = await runKeel(['get', 'cli-key', '--consistency', 'lease', ...eps]);
    expect([got.code, (JSON.parse(got.stdout) as { value: string }).value]).toEqual([0, 'cli value']);
    const scan = await runKeel(['scan', 'cli-', ...eps]);
    expect((JSON.parse(scan.stdout) as { entries: { key: string }[] }).entries.map((e) => e.key)).toEqual(['cli-key']);
    expect(JSON.parse((await runKeel(['members', ...eps])).stdout)).toMatchObject({ group: 1, members: [{ id: 1 }, { id: 2 }, { id: 3 }] });
    expect((await runKeel(['del', 'cli-key', ...eps])).code).toBe(0);
    const missing = await runKeel(['get', 'cli-key', ...eps]);
    expect([missing.code, missing.stderr]).toEqual([1, 'keel: KEY_NOT_FOUND: key "cli-key" not found']);
    const badFlag = await runKeel(['get', 'x', '--consistency', 'strong', ...eps]);
    expect([badFlag.code, badFlag.stderr]).toEqual([2, 'keel: --consistency must be linearizable, lease or eventual, got "strong"']);
    const badServe = await runKeel(['serve', '--id', '12abc']);
    expect(badServe.code).toBe(1);
    expect(badServe.stderr).toMatch(/CONFIG_INVALID: --id: expected an integer/);

    const base = `http://${endpoint(2)}`;
    const bad = async (init: RequestInit & { url: string }): Promise<{ status: number; body: { error: { code: string; message: string } } }> => {
      const res = await fetch(base + init.url, init);
      return { status: res.status, body: (await res.json()) as { error: { code: string; message: string } } };
    };
    const json = { 'content-type': 'application/json' };
    let r2 = await bad({ url: '/v1/groups/1/kv/a', method: 'PUT', headers: json, body: '{"value":' });
    expect(r2.status).toBe(400);
    expect(r2.body.error.message).toMatch(/JSON/i);
    r2 = await bad({ url: '/v1/groups/1/kv/a', method: 'PUT', headers: json, body: '{"value":5}' });
    expect([r2.status, r2.body.error.message]).toEqual([400, 'value must be a string']);
    r2 = await bad({ url: '/v1/groups/7/kv/a', method: 'GET' });
    expect([r2.status, r2.body.error.code]).toEqual([404, 'UNKNOWN_GROUP']);
    r2 = await bad({ url: `/v1/groups/1/kv/${'x'.repeat(5000)}`, method: 'GET' });
    expect([r2.status, r2.body.error.code]).toEqual([400, 'KEY_TOO_LONG']);
    r2 = await bad({ url: '/v1/groups/1/kv/a', method: 'PUT', headers: json, body: JSON.stringify({ value: 'x'.repeat(3 * 1024 * 1024) }) });
    expect([r2.status, r2.body.error.code]).toEqual([413, 'BODY_TOO_LARGE']);
    r2 = await bad({ url: '/v1/groups/1/kv/a?consistency=strong', method: 'GET' });
    expect([r2.status, r2.body.error.code]).toEqual([400, 'BAD_CONSISTENCY']);
    // The node is fine afterwards.
    expect((await client(2).get('k1'))?.value).toBe('v1');
  }, 60_000);

  it('adds a node through --join as a voter, and creates a second raft group through /mgmt/groups', async () => {
    const joiner = new KeelProcess(['serve', '--id', '4', '--http-addr', endpoint(4), '--join', endpoint(2), '--data-dir', path.join(dir, 'n4'), '--tick-ms', '50']);
    nodes.set(4, joiner);
    await joiner.waitForLine(/^ready /);
    const c = client(2);
    await eventually('node 4 to become a voter', async () => ((await c.members()).members.find((m) => m.id === 4)?.role === 'voter' ? true : undefined), 30_000);
    const four = client(4);
    await eventually('node 4 to serve the data', async () => ((await four.get('k1', { consistency: 'eventual' }))?.value === 'v1' ? true : undefined));
    expect((await four.get('k2'))?.value).toBe('v2');

    // A second group on nodes 1, 2 and 4, as the multiraft example creates one.
    const res = await fetch(`http://${endpoint(1)}/mgmt/groups`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ GroupID: 2, IDs: [1, 2, 4] }) });
    expect(res.status).toBe(201);
    await eventually('a leader in group 2', async () => ((await client(4).status()).groups.find((g) => g.group === 2 && g.leader !== 0) ? true : undefined));
    expect((await fetch(`http://${endpoint(4)}/2`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Key: 'hello', Value: 'world' }) })).status).toBe(204);
    expect(await (await fetch(`http://${endpoint(1)}/2/hello`)).text()).toBe('world\n');
    const members = (await (await fetch(`http://${endpoint(2)}/2/mgmt/nodes`)).json()) as { id: number; type: string }[];
    expect(members.map((m) => [m.id, m.type])).toEqual([[1, 'voter'], [2, 'voter'], [4, 'voter']]);
    // Groups are separate: group 1 does not have the key.
    expect((await fetch(`http://${endpoint(1)}/1/hello`)).status).toBe(404);

    // The typed client's admin calls: node 4 leaves group 2, then group 1.
    const admin = new KeelClient({ endpoints: [endpoint(1), endpoint(2)], timeoutMs: 20_000 });
    clients.push(admin);
    const g2 = await admin.changeMembership([1, 2], { group: 2 });
    expect(g2.members.map((m) => m.id)).toEqual([1, 2]);
    await expect(admin.changeMembership([1, 2, 9])).rejects.toMatchObject({ code: 'LEARNER_NOT_FOUND', status: 400 });
    const g1 = await admin.removeMember(4);
    expect(g1.members.map((m) => m.id)).toEqual([1, 2, 3]);
    expect(await admin.metrics()).toMatch(/keel_raft_term\{group="1"\}/);
    // Removed from its last group, node 4 shuts itself down (the multiraft example's behaviour).
    expect(await Promise.race([joiner.exited, new Promise((r) => setTimeout(() => r('still running'), 15_000))])).toBe(0);
    nodes.delete(4);
    // Both groups were deleted from its write-ahead log and its snapshot store, not only stopped.
    const wal4 = await Wal.open(path.join(dir, 'n4', 'wal'));
    expect(wal4.groupIds()).toEqual([]);
    await wal4.close();
    expect(await fs.readdir(path.join(dir, 'n4', 'snapshots')).catch(() => [])).toEqual([]);
  }, 90_000);

  it('stops every node cleanly on SIGTERM, all at once, right after load', async () => {
    const c = client(1);
    await Promise.all(Array.from({ length: 200 }, (_, i) => c.put(`bye-${i}`, 'x')));
    const live = [...nodes.values()];
    for (const n of live) n.kill('SIGTERM');
    const deadline = new Promise<'late'>((r) => setTimeout(() => r('late'), 10_000));
    expect(await Promise.race([Promise.all(live.map((n) => n.exited)), deadline])).toEqual(live.map(() => 0));
    for (const n of live) expect(n.stderr.join('\n')).toMatch(/SIGTERM: stopping[\s\S]*stopped/);
  }, 60_000);
});
