/**
 * `npm run bench -- http [seconds-per-step] [nodes] [connection counts, e.g. 1,64]`: a local three-node cluster (DiskFirst, real
 * processes) driven over HTTP with 1, 16, 64 and 256 connections: puts of 256-byte values with
 * 8-byte keys, then linearizable gets. Reports ops/s and p50/p99 latency per step, and the
 * ratio to etcd 3.4 measured on this machine's class (2 cores) with wrk on its JSON gateway:
 * 1,000 puts/s on one connection (p50 0.9 ms), 6,400 puts/s on 64 connections (p99 24 ms).
 * Requests go to the leader, as etcd's clients do. The two systems take turns at every step, the
 * one waiting frozen (SIGSTOP), each running the step twice in the order A B B A, so the
 * machine's drift weighs on both sides of each ratio alike. Both write the same keys.
 * Each cluster gets the same 10 s warm-up of puts first, not reported (see WARM_UP_SECONDS). The load comes from wrk when it is installed
 * (`apt-get install wrk`), the tool behind the etcd figures; otherwise from a Node driver
 * (undici), which itself takes CPU from the nodes on a 2-core machine.
 *
 * For profiling: KEEL_BENCH_OPS=put (or get) runs one kind of step, KEEL_BENCH_ETCD=0 skips etcd,
 * KEEL_BENCH_ROUNDS=N repeats the comparison N times (who goes first alternates) and summarizes the ratios,
 * KEEL_BENCH_WARMUP_S sets the warm-up, KEEL_BENCH_CPU_SPLIT=1 prints each node's CPU per operation, KEEL_BENCH_SPREAD=1 spreads the
 * connections over every node of both systems (one wrk per node; followers forward), and
 * KEEL_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" profiles every node.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
  /** CPU time (user + system) all server processes spent per 1,000 operations. */
  cpuMsPer1kOps?: number;
  /** The same, per server process, in the order the processes were given. */
  cpuMsPer1kOpsEach?: number[];
}

/**
 * User + system CPU time of processes, in ms, from /proc (Linux). Throughput on a shared 2-core
 * machine swings with whatever else runs; the CPU each system spends per operation does not,
 * so it is reported beside the ops/s.
 */
function cpuMs(pids: readonly (number | undefined)[]): number {
  const hz = 100; // USER_HZ, 100 on every Linux we run on
  let ticks = 0;
  for (const pid of pids) {
    if (pid === undefined) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      return NaN;
    }
  }
  return (ticks * 1000) / hz;
}

/** Runs one step and adds the servers' CPU per 1,000 operations to its result. */
async function measured(pids: readonly (number | undefined)[], seconds: number, step: () => Promise<StepResult>): Promise<StepResult> {
  const before = pids.map((pid) => cpuMs([pid]));
  const r = await step();
  const ops = r.opsPerSecond * seconds;
  const each = pids.map((pid, i) => (ops > 0 ? ((cpuMs([pid]) - (before[i] ?? NaN)) * 1000) / ops : NaN));
  return { ...r, cpuMsPer1kOps: each.reduce((a, b) => a + b, 0), cpuMsPer1kOpsEach: each };
}

/**
 * One result from slices of equal length: throughput and CPU per operation over all of them,
 * latency percentiles averaged (wrk reports percentiles per run, not the samples).
 */
function combineSlices(slices: readonly StepResult[]): StepResult {
  const n = slices.length;
  if (n === 0) throw new Error('no slices to combine');
  const sum = (f: (r: StepResult) => number): number => slices.reduce((acc, r) => acc + f(r), 0);
  const opsTotal = sum((r) => r.opsPerSecond);
  const perOp = (f: (r: StepResult) => number | undefined): number => (opsTotal > 0 ? sum((r) => (f(r) ?? NaN) * r.opsPerSecond) / opsTotal : NaN);
  const nodes = slices[0]?.cpuMsPer1kOpsEach?.length ?? 0;
  return {
    opsPerSecond: opsTotal / n,
    p50Ms: sum((r) => r.p50Ms) / n,
    p99Ms: sum((r) => r.p99Ms) / n,
    errors: sum((r) => r.errors),
    cpuMsPer1kOps: perOp((r) => r.cpuMsPer1kOps),
    cpuMsPer1kOpsEach: Array.from({ length: nodes }, (_, i) => perOp((r) => r.cpuMsPer1kOpsEach?.[i])),
  };
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

function hasEtcd(): boolean {
  return spawnSync('etcd', ['--version']).error === undefined;
}

/** wrk's report: throughput, p50/p99 and failures. */
function parseWrk(out: string): StepResult {
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

/**
 * wrk against each of `targets` at once, the connections split among them (KEEL_BENCH_SPREAD=1:
 * clients spread over every node, followers forwarding writes, as behind a load balancer).
 * Throughput adds up; the p50 and p99 reported are the worst of the targets'.
 */
async function runWrkOn(script: string, targets: readonly string[], connections: number, seconds: number): Promise<StepResult> {
  if (targets.length === 1 || connections < targets.length) return runWrk(script, targets[0] ?? '', connections, seconds);
  const share = (i: number): number => Math.floor(connections / targets.length) + (i < connections % targets.length ? 1 : 0);
  const parts = await Promise.all(targets.map((t, i) => runWrk(script, t, share(i), seconds)));
  return {
    opsPerSecond: parts.reduce((a, r) => a + r.opsPerSecond, 0),
    p50Ms: Math.max(...parts.map((r) => r.p50Ms)),
    p99Ms: Math.max(...parts.map((r) => r.p99Ms)),
    errors: parts.reduce((a, r) => a + r.errors, 0),
  };
}

const SPREAD = process.env.KEEL_BENCH_SPREAD === '1';

/**
 * Puts at 16 connections before anything is measured, the same for both systems. Keel's CPU per
 * operation keeps falling for about ten seconds of load while V8 optimizes its hot code and
 * grows its young heap (at one connection: about 3.4 ms of server CPU per put after 3 s, 2.1 ms
 * after 10 s); etcd is compiled ahead of time and only gains a warm first WAL segment and caches.
 * KEEL_BENCH_WARMUP_S overrides it.
 */
const WARM_UP_SECONDS = Number(process.env.KEEL_BENCH_WARMUP_S ?? 10);
/**
 * Both systems get the same keys: puts cycle through 100,000 (etcd's own benchmark writes
 * 100,000 sequential keys), gets through 1,000 written beforehand (see writeGetKeys).
 */
const PUT_KEYS = 100_000;
const GET_KEYS = 1_000;
const benchKey = (i: number): string => `k${String(i % PUT_KEYS).padStart(7, '0')}`;
const getKey = (i: number): string => benchKey((i % GET_KEYS) + 1);

/**
 * Writes every key the get steps read, one request each, before anything is measured. The
 * put steps cannot be relied on for it: wrk calls a script's request() once before sending
 * anything (to check it), so with one thread the first key of the sequence is never written.
 */
async function writeGetKeys(write: (key: string) => Promise<Response>): Promise<void> {
  for (let i = 0; i < GET_KEYS; i += 16) {
    const batch = Array.from({ length: Math.min(16, GET_KEYS - i) }, (_, k) => getKey(i + k));
    const statuses = await Promise.all(batch.map(async (key) => (await write(key)).status));
    if (statuses.some((st) => st !== 200)) throw new Error(`writing the keys the gets read failed: HTTP ${statuses.join(',')}`);
  }
}

/** A Lua table literal of `count` strings, so a request costs wrk one lookup whatever the system. */
function luaStrings(count: number, text: (i: number) => string): string {
  return `{${Array.from({ length: count }, (_, i) => `"${text(i)}"`).join(',')}}`;
}

/**
 * wrk's threads (KEEL_BENCH_WRK_THREADS, default 1). One thread drives far more requests than
 * either system serves here, and takes the least of the two cores from the servers. With two,
 * a wrk thread starved of CPU by a saturated server at the start of a step leaves its requests
 * unread for a second or two: a p99 above 1 s and timeouts that are the load generator's (a
 * plain Node HTTP server loaded the same way shows them too, and with one thread they go away).
 */
const WRK_THREADS = Math.max(1, Number(process.env.KEEL_BENCH_WRK_THREADS ?? 1));

async function runWrk(script: string, target: string, connections: number, seconds: number): Promise<StepResult> {
  const threads = Math.min(WRK_THREADS, connections);
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('wrk', [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, `http://${target}`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (c: Buffer) => (text += c.toString('utf8')));
    child.once('error', reject);
    child.once('exit', () => resolve(text));
  });
  return parseWrk(out);
}

/** A running system under test: one step at a time, then stop. */
interface BenchedSystem {
  readonly name: 'keel' | 'etcd';
  readonly pids: readonly (number | undefined)[];
  /** Per-node labels for KEEL_BENCH_CPU_SPLIT, in the order of `pids`. */
  readonly labels: readonly string[];
  step(op: 'put' | 'get', connections: number, seconds: number): Promise<StepResult>;
  stop(): Promise<void>;
}

/**
 * A three-member etcd (Debian's etcd-server) on this machine, driven through its JSON gateway,
 * when etcd and wrk are installed: the ratios are then measured in one run.
 */
async function startEtcd(dir: string): Promise<BenchedSystem> {
  const ports = await freePorts(6);
  const client = (i: number): string => `127.0.0.1:${ports[i] ?? 0}`;
  const peer = (i: number): string => `http://127.0.0.1:${ports[3 + i] ?? 0}`;
  const cluster = [0, 1, 2].map((i) => `e${i}=${peer(i)}`).join(',');
  const members = [0, 1, 2].map((i) =>
    spawn('etcd', [
      '--name', `e${i}`, '--data-dir', path.join(dir, `etcd${i}`),
      '--listen-client-urls', `http://${client(i)}`, '--advertise-client-urls', `http://${client(i)}`,
      '--listen-peer-urls', peer(i), '--initial-advertise-peer-urls', peer(i),
      '--initial-cluster', cluster, '--initial-cluster-state', 'new', '--initial-cluster-token', 'keel-bench', '--log-level', 'error',
    ], { stdio: 'ignore' }),
  );
  const stop = async (): Promise<void> => {
    for (const m of members) m.kill('SIGTERM');
    await Promise.all(members.map((m) => new Promise((r) => (m.exitCode === null ? m.once('exit', r) : r(undefined)))));
  };
  try {
    let leader = '';
    for (const deadline = Date.now() + 30_000; leader === '' && Date.now() < deadline; ) {
      for (const i of [0, 1, 2]) {
        try {
          const res = await fetch(`http://${client(i)}/v3/maintenance/status`, { method: 'POST', body: '{}' });
          const s = (await res.json()) as { header?: { member_id?: string }; leader?: string };
          if (s.leader !== undefined && s.leader !== '0' && s.leader === s.header?.member_id) leader = client(i);
        } catch {
          // not up yet
        }
      }
      if (leader === '') await new Promise((r) => setTimeout(r, 200));
    }
    if (leader === '') throw new Error('etcd elected no leader');
    const b64 = (s: string): string => Buffer.from(s).toString('base64');
    const value = b64('v'.repeat(256));
    const put = path.join(dir, 'etcd-put.lua');
    const get = path.join(dir, 'etcd-get.lua');
    // etcd's JSON gateway takes keys and values in base64.
    await fs.writeFile(put, `local keys = ${luaStrings(PUT_KEYS, (i) => b64(benchKey(i)))}\nlocal n = 0\nrequest = function()\n  n = n + 1\n  return wrk.format("POST", "/v3/kv/put", {["Content-Type"] = "application/json"}, '{"key":"' .. keys[n % ${PUT_KEYS} + 1] .. '","value":"${value}"}')\nend\n`);
    await fs.writeFile(get, `local keys = ${luaStrings(GET_KEYS, (i) => b64(getKey(i)))}\nlocal n = 0\nrequest = function()\n  n = n + 1\n  return wrk.format("POST", "/v3/kv/range", {["Content-Type"] = "application/json"}, '{"key":"' .. keys[n % ${GET_KEYS} + 1] .. '"}')\nend\n`);
    // Warm-up, not reported: the same for both systems (first WAL segment, caches, JIT).
    await runWrk(put, leader, 16, WARM_UP_SECONDS);
    await writeGetKeys((key) => fetch(`http://${leader}/v3/kv/put`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: b64(key), value }) }));
    const targets = SPREAD ? [0, 1, 2].map(client) : [leader];
    return {
      name: 'etcd',
      pids: members.map((m) => m.pid),
      labels: [0, 1, 2].map((i) => `e${i}${client(i) === leader ? ' (leader)' : ''}`),
      step: (op, connections, secs) => runWrkOn(op === 'put' ? put : get, targets, connections, secs),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function printRow(op: string, connections: number, r: StepResult): void {
  const cpu = r.cpuMsPer1kOps === undefined || Number.isNaN(r.cpuMsPer1kOps) ? '-' : r.cpuMsPer1kOps.toFixed(0);
  process.stdout.write(`${op.padEnd(9)} ${String(connections).padStart(5)}   ${r.opsPerSecond.toFixed(0).padStart(7)}   ${r.p50Ms.toFixed(2).padStart(6)}   ${r.p99Ms.toFixed(2).padStart(6)}   ${cpu.padStart(12)}   ${r.errors}\n`);
}

/** One step with wrk: a Lua script builds each request; wrk reports throughput and latency percentiles. */
async function driveWrk(dir: string, targets: readonly string[], connections: number, seconds: number, op: 'put' | 'get', value: string): Promise<StepResult> {
  const script = path.join(dir, `${op}.lua`);
  const body = JSON.stringify({ value }).replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  await fs.writeFile(
    script,
    op === 'put'
      ? `local paths = ${luaStrings(PUT_KEYS, (i) => `/v1/groups/1/kv/${benchKey(i)}`)}\nlocal n = 0\nrequest = function()\n  n = n + 1\n  return wrk.format("PUT", paths[n % ${PUT_KEYS} + 1], {["Content-Type"] = "application/json"}, '${body}')\nend\n`
      : `local paths = ${luaStrings(GET_KEYS, (i) => `/v1/groups/1/kv/${getKey(i)}?consistency=linearizable`)}\nlocal n = 0\nrequest = function()\n  n = n + 1\n  return wrk.format("GET", paths[n % ${GET_KEYS} + 1])\nend\n`,
  );
  return runWrkOn(script, targets, connections, seconds);
}

export async function benchHttp(args: readonly string[]): Promise<void> {
  const seconds = Number(args[0] ?? 5);
  const nodeCount = Number(args[1] ?? 3);
  const steps = (args[2] ?? '1,16,64,256').split(',').map(Number);
  // The machine's speed drifts here by a fifth or more within minutes: the two systems take
  // turns at every step (see below), and rounds repeat the whole comparison and summarize it.
  const rounds = Math.max(1, Number(process.env.KEEL_BENCH_ROUNDS ?? 1));
  const dir = await tempDir('keel-bench-http-');
  const putRatios: number[] = [];
  const p50Wins: boolean[] = [];
  try {
    const useWrk = hasWrk();
    const withEtcd = useWrk && nodeCount === 3 && hasEtcd() && process.env.KEEL_BENCH_ETCD !== '0';
    process.stdout.write(`http bench: ${nodeCount} nodes, DiskFirst, two ${seconds} s runs per system and step (A B B A), load from ${useWrk ? 'wrk' : 'a Node driver (install wrk for the etcd-comparable driver)'}${withEtcd ? ', etcd in turns step by step' : ''}${rounds > 1 ? `, ${rounds} rounds` : ''}\n`);
    const ops = (process.env.KEEL_BENCH_OPS ?? 'put,get').split(',') as ('put' | 'get')[];
    for (let round = 1; round <= rounds; round++) {
      const roundDir = path.join(dir, `round${round}`);
      await fs.mkdir(roundDir);
      if (rounds > 1) process.stdout.write(`\nround ${round} of ${rounds}\n`);
      const results = new Map<string, Map<string, StepResult>>([['keel', new Map()], ['etcd', new Map()]]);
      // Both systems start once per round and take turns at every step, so the machine's drift
      // weighs on both sides of each ratio alike. The one waiting its turn is frozen (SIGSTOP):
      // an idle cluster beside the measured one disturbs its latency (etcd's idle members wake
      // far more often than Keel's), and restarting clusters every step would measure each on a
      // cold start instead (a JIT not yet warm, a young heap still growing). Which system goes
      // first alternates between rounds.
      const systems: BenchedSystem[] = [];
      try {
        systems.push(await startKeel(path.join(roundDir, 'keel'), nodeCount, useWrk));
        freeze(systems[0]);
        if (withEtcd) {
          systems.push(await startEtcd(roundDir));
          freeze(systems[1]);
        }
        if (round % 2 === 0) systems.reverse();
        process.stdout.write('op        conns   ops/s     p50 ms   p99 ms   cpu ms/1k op   errors\n');
        for (const op of ops) {
          for (const connections of steps) {
            // Each system runs the step twice, in the order A B B A: a drift of the machine's
            // speed during the step then weighs on both alike (to first order), where a single
            // A B would hand it all to one side.
            const slices = new Map<BenchedSystem, StepResult[]>(systems.map((sys) => [sys, []]));
            for (const sys of [...systems, ...[...systems].reverse()]) {
              await thaw(sys);
              const r = await measured(sys.pids, seconds, () => sys.step(op, connections, seconds));
              freeze(sys);
              slices.get(sys)?.push(r);
            }
            for (const sys of systems) {
              const r = combineSlices(slices.get(sys) ?? []);
              results.get(sys.name)?.set(`${op}${connections}`, r);
              printRow(`${sys.name} ${op}`, connections, r);
              if (process.env.KEEL_BENCH_CPU_SPLIT === '1') process.stdout.write(`          cpu ms/1k op by node: ${(r.cpuMsPer1kOpsEach ?? []).map((c, i) => `${sys.labels[i] ?? '?'} ${c.toFixed(0)}`).join(', ')}\n`);
            }
          }
        }
      } finally {
        for (const sys of systems) {
          signal(sys, 'SIGCONT');
          await sys.stop();
        }
      }
      const ratios = compare(results.get('keel') ?? new Map<string, StepResult>(), withEtcd ? results.get('etcd') : undefined, steps);
      if (ratios.put64 !== undefined) putRatios.push(ratios.put64);
      if (ratios.p50Win !== undefined) p50Wins.push(ratios.p50Win);
      await fs.rm(roundDir, { recursive: true, force: true });
    }
    if (rounds > 1 && putRatios.length > 0) {
      const sorted = [...putRatios].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)] ?? NaN;
      process.stdout.write(`\nover ${rounds} rounds: puts/s at 64 connections ${sorted.map((r) => r.toFixed(2)).join(', ')}x etcd's (median ${median.toFixed(2)}x); p50 at 1 connection no higher than etcd's in ${p50Wins.filter((w) => w).length} of ${p50Wins.length}\n`);
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

function signal(sys: BenchedSystem, sig: NodeJS.Signals): void {
  for (const pid of sys.pids) {
    try {
      if (pid !== undefined) process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

/** Stops every process of the system where it stands: no CPU, no timers, no wakeups. */
function freeze(sys: BenchedSystem | undefined): void {
  if (sys !== undefined) signal(sys, 'SIGSTOP');
}

/** Resumes a frozen system and gives it a moment to run the timers that came due meanwhile. */
async function thaw(sys: BenchedSystem): Promise<void> {
  signal(sys, 'SIGCONT');
  await new Promise((r) => setTimeout(r, 500));
}

/** Prints one round's comparison; returns its puts/s ratio at 64 connections and whether Keel's 1-connection p50 was no higher. */
function compare(keel: Map<string, StepResult>, etcd: Map<string, StepResult> | undefined, steps: readonly number[]): { put64?: number; p50Win?: boolean } {
  const ref = (k: string, fallback: StepResult): StepResult => etcd?.get(k) ?? fallback;
  const p1 = keel.get('put1');
  const p64 = keel.get('put64');
  const e1 = ref('put1', { opsPerSecond: ETCD.putsPerSecond1, p50Ms: ETCD.p50Ms1, p99Ms: NaN, errors: 0 });
  const e64 = ref('put64', { opsPerSecond: ETCD.putsPerSecond64, p50Ms: NaN, p99Ms: ETCD.p99Ms64, errors: 0 });
  process.stdout.write(`\nKeel vs etcd 3.4 (${etcd === undefined ? 'the reference figures: etcd or wrk is not installed here' : 'three etcd members measured in this run'}):\n`);
  if (p64 !== undefined) process.stdout.write(`  puts/s at 64 connections: ${p64.opsPerSecond.toFixed(0)} vs ${e64.opsPerSecond.toFixed(0)} = ${(p64.opsPerSecond / e64.opsPerSecond).toFixed(2)}x (target >= 2x)\n`);
  if (p64?.cpuMsPer1kOps !== undefined && e64.cpuMsPer1kOps !== undefined) process.stdout.write(`  server CPU per put at 64 connections: ${(p64.cpuMsPer1kOps / e64.cpuMsPer1kOps).toFixed(2)}x etcd's (${p64.cpuMsPer1kOps.toFixed(0)} vs ${e64.cpuMsPer1kOps.toFixed(0)} ms per 1,000 puts, all three nodes)\n`);
  if (p1 !== undefined) {
    process.stdout.write(`  p50 at 1 connection: ${p1.p50Ms.toFixed(2)} ms vs ${e1.p50Ms.toFixed(2)} ms (target: no higher)\n`);
    process.stdout.write(`  puts/s at 1 connection: ${p1.opsPerSecond.toFixed(0)} vs ${e1.opsPerSecond.toFixed(0)} = ${(p1.opsPerSecond / e1.opsPerSecond).toFixed(2)}x\n`);
  }
  for (const c of steps) {
    const g = keel.get(`get${c}`);
    const eg = etcd?.get(`get${c}`);
    if (g !== undefined && eg !== undefined) process.stdout.write(`  linearizable gets/s at ${c} connections: ${(g.opsPerSecond / eg.opsPerSecond).toFixed(2)}x\n`);
  }
  return {
    ...(p64 === undefined ? {} : { put64: p64.opsPerSecond / e64.opsPerSecond }),
    ...(p1 === undefined ? {} : { p50Win: p1.p50Ms <= e1.p50Ms }),
  };
}

/** A local Keel cluster, requests to its leader (or spread over every node with KEEL_BENCH_SPREAD=1). */
async function startKeel(dir: string, nodeCount: number, useWrk: boolean): Promise<BenchedSystem> {
  await fs.mkdir(dir, { recursive: true });
  const ids = Array.from({ length: nodeCount }, (_, i) => i + 1);
  const ports = await freePorts(nodeCount);
  const ep = (id: number): string => `127.0.0.1:${ports[id - 1] ?? 0}`;
  const cluster = ids.map((id) => `${id}=${ep(id)}`).join(',');
  const nodes = ids.map((id) => new KeelProcess(['serve', '--id', String(id), '--http-addr', ep(id), '--initial-cluster', cluster, '--data-dir', path.join(dir, `n${id}`), '--log-level', 'warn']));
  const stop = async (): Promise<void> => {
    const stopAt = Date.now();
    for (const n of nodes) n.kill('SIGTERM');
    await Promise.race([Promise.all(nodes.map((n) => n.exited)), new Promise((r) => setTimeout(r, 20_000))]);
    for (const n of nodes) n.kill('SIGKILL');
    if (process.env.KEEL_NODE_ARGS !== undefined) process.stderr.write(`stopped in ${Date.now() - stopAt} ms; node exit codes: ${(await Promise.all(nodes.map((n) => n.exited))).join(',')}\n`);
  };
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
    const targets = SPREAD ? ids.map(ep) : [leader];
    const step = async (op: 'put' | 'get', connections: number, seconds: number): Promise<StepResult> => {
      if (useWrk) return driveWrk(dir, targets, connections, seconds, op, 'v'.repeat(256));
      const pool = new Pool(`http://${leader}`, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
      const result = await drive(pool, connections, seconds, (i) => (op === 'put' ? { method: 'PUT', path: `/v1/groups/1/kv/${benchKey(i)}`, body: value } : { method: 'GET', path: `/v1/groups/1/kv/${getKey(i)}?consistency=linearizable` }));
      await pool.close();
      return result;
    };
    // Warm-up, not reported: the same for both systems (first WAL segment, caches, JIT).
    await step('put', 16, WARM_UP_SECONDS);
    await writeGetKeys((key) => fetch(`http://${leader}/v1/groups/1/kv/${key}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: value }));
    return {
      name: 'keel',
      pids: nodes.map((n) => n.pid),
      labels: ids.map((id) => `${id}${ep(id) === leader ? ' (leader)' : ''}`),
      step,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
