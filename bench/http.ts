/**
 * `npm run bench -- http [seconds-per-step] [nodes] [connection counts, e.g. 1,64]`: a local three-node cluster (DiskFirst, real
 * processes) driven over HTTP with 1, 16, 64 and 256 connections: puts of 256-byte values with
 * 8-byte keys, then linearizable gets. Reports ops/s and p50/p99 latency per step, and the
 * ratio to etcd 3.4 measured on this machine's class (2 cores) with wrk on its JSON gateway:
 * 1,000 puts/s on one connection (p50 0.9 ms), 6,400 puts/s on 64 connections (p99 24 ms).
 * Requests go to the leader, as etcd's clients do. The load comes from wrk when it is installed
 * (`apt-get install wrk`), the tool behind the etcd figures; otherwise from a Node driver
 * (undici), which itself takes CPU from the nodes on a 2-core machine.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Pool } from 'undici';
import { KeelProcess, freePorts, tempDir } from '../test/support/keel-process.js';

const ETCD = { putsPerSecond1: 1_000, p50Ms1: 0.9, putsPerSecond64: 6_400, p99Ms64: 24 };

interface StepResult {
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
}

async function drive(pool: Pool, connections: number, seconds: number, request: (i: number) => { method: 'GET' | 'PUT'; path: string; body?: string }): Promise<StepResult> {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  let counter = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        const r = request(counter++);
        const t0 = performance.now();
        try {
          const res = await pool.request({ method: r.method, path: r.path, ...(r.body === undefined ? {} : { body: r.body, headers: { 'content-type': 'application/json' } }) });
          await res.body.dump();
          if (res.statusCode >= 300) errors++;
          else latencies.push(performance.now() - t0);
        } catch {
          errors++;
        }
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const q = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { opsPerSecond: latencies.length / seconds, p50Ms: q(0.5), p99Ms: q(0.99), errors };
}

function hasWrk(): boolean {
  return spawnSync('wrk', ['--version']).error === undefined;
}

/** One step with wrk: a Lua script builds each request; wrk reports throughput and latency percentiles. */
async function driveWrk(dir: string, target: string, connections: number, seconds: number, op: 'put' | 'get', value: string): Promise<StepResult> {
  const script = path.join(dir, `${op}.lua`);
  const body = JSON.stringify({ value }).replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  await fs.writeFile(
    script,
    op === 'put'
      ? `local n = 0\nrequest = function()\n  n = n + 1\n  return wrk.format("PUT", string.format("/v1/groups/1/kv/k%07d", n % 100000), {["Content-Type"] = "application/json"}, '${body}')\nend\n`
      : `local n = 0\nrequest = function()\n  n = n + 1\n  return wrk.format("GET", string.format("/v1/groups/1/kv/k%07d?consistency=linearizable", n % 1000 + 1))\nend\n`,
  );
  const threads = Math.min(2, connections);
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('wrk', [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, `http://${target}`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (c: Buffer) => (text += c.toString('utf8')));
    child.once('error', reject);
    child.once('exit', () => resolve(text));
  });
  const num = (re: RegExp): number => Number(re.exec(out)?.[1] ?? NaN);
  const ms = (label: string): number => {
    const m = new RegExp(`^\\s*${label}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(out);
    if (m === null) return NaN;
    const v = Number(m[1]);
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
  };
  const non2xx = num(/Non-2xx or 3xx responses: (\d+)/);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = (Number.isNaN(non2xx) ? 0 : non2xx) + (socketErrors === null ? 0 : socketErrors.slice(1).reduce((s, x) => s + Number(x), 0));
  return { opsPerSecond: num(/Requests\/sec:\s+([\d.]+)/), p50Ms: ms('50'), p99Ms: ms('99'), errors };
}

export async function benchHttp(args: readonly string[]): Promise<void> {
  const seconds = Number(args[0] ?? 5);
  const nodeCount = Number(args[1] ?? 3);
  const steps = (args[2] ?? '1,16,64,256').split(',').map(Number);
  const ids = Array.from({ length: nodeCount }, (_, i) => i + 1);
  const dir = await tempDir('keel-bench-http-');
  const ports = await freePorts(nodeCount);
  const ep = (id: number): string => `127.0.0.1:${ports[id - 1] ?? 0}`;
  const cluster = ids.map((id) => `${id}=${ep(id)}`).join(',');
  const nodes = ids.map((id) => new KeelProcess(['serve', '--id', String(id), '--http-addr', ep(id), '--initial-cluster', cluster, '--data-dir', path.join(dir, `n${id}`), '--log-level', 'warn']));
  try {
    await Promise.all(nodes.map((n) => n.waitForLine(/^ready /)));
    let leader = '';
    for (const deadline = Date.now() + 20_000; leader === '' && Date.now() < deadline; ) {
      const res = await fetch(`http://${ep(1)}/v1/status`);
      const s = (await res.json()) as { groups: { leader: number }[] };
      const id = s.groups[0]?.leader ?? 0;
      if (id !== 0) leader = ep(id);
      else await new Promise((r) => setTimeout(r, 100));
    }
    if (leader === '') throw new Error('no leader elected');
    const value = JSON.stringify({ value: 'v'.repeat(256) });
    const key = (i: number): string => `k${String(i % 100_000).padStart(7, '0')}`;
    const useWrk = hasWrk();
    process.stdout.write(`keel http bench: ${nodeCount} nodes, DiskFirst, leader ${leader}, ${seconds} s per step, load from ${useWrk ? 'wrk' : 'a Node driver (install wrk for the etcd-comparable driver)'}\n`);
    process.stdout.write('op     conns   ops/s     p50 ms   p99 ms   errors\n');
    const results = new Map<string, StepResult>();
    for (const op of ['put', 'get'] as const) {
      for (const connections of steps) {
        let r: StepResult;
        if (useWrk) {
          r = await driveWrk(dir, leader, connections, seconds, op, 'v'.repeat(256));
        } else {
          const pool = new Pool(`http://${leader}`, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
          r = await drive(pool, connections, seconds, (i) => (op === 'put' ? { method: 'PUT', path: `/v1/groups/1/kv/${key(i)}`, body: value } : { method: 'GET', path: `/v1/groups/1/kv/${key(i % 1000)}?consistency=linearizable` }));
          await pool.close();
        }
        results.set(`${op}${connections}`, r);
        process.stdout.write(`${op.padEnd(6)} ${String(connections).padStart(5)}   ${r.opsPerSecond.toFixed(0).padStart(7)}   ${r.p50Ms.toFixed(2).padStart(6)}   ${r.p99Ms.toFixed(2).padStart(6)}   ${r.errors}\n`);
      }
    }
    const p1 = results.get('put1');
    const p64 = results.get('put64');
    if (p1 !== undefined && p64 !== undefined) {
      process.stdout.write(`\nvs etcd 3.4 (2 cores, wrk on its JSON gateway):\n`);
      process.stdout.write(`  puts/s at 64 connections: ${(p64.opsPerSecond / ETCD.putsPerSecond64).toFixed(2)}x etcd (target >= 2x)\n`);
      process.stdout.write(`  p50 at 1 connection: ${p1.p50Ms.toFixed(2)} ms vs ${ETCD.p50Ms1} ms (target: no higher)\n`);
      process.stdout.write(`  puts/s at 1 connection: ${(p1.opsPerSecond / ETCD.putsPerSecond1).toFixed(2)}x etcd\n`);
    }
  } finally {
    const stopAt = Date.now();
    for (const n of nodes) n.kill('SIGTERM');
    await Promise.race([Promise.all(nodes.map((n) => n.exited)), new Promise((r) => setTimeout(r, 20_000))]);
    for (const n of nodes) n.kill('SIGKILL');
    if (process.env.KEEL_NODE_ARGS !== undefined) process.stderr.write(`stopped in ${Date.now() - stopAt} ms; node exit codes: ${(await Promise.all(nodes.map((n) => n.exited))).join(',')}\n${nodes.map((n) => n.stderr.slice(-3).join('\n')).join('\n')}\n`);
    await fs.rm(dir, { recursive: true, force: true });
  }
}
