import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { liveChildren } from './child-lines.js';

const MAIN = path.resolve('src/cli/main.ts');

/** Free ports on 127.0.0.1, picked by binding port 0 and closing again. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<net.Server>((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

export async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** One `keel` process run from source, with its output collected. */
export class KeelProcess {
  readonly lines: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(args: readonly string[], env: Record<string, string> = {}) {
    // KEEL_NODE_ARGS adds Node flags to every node, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile a benchmark.
    const nodeArgs = (process.env.KEEL_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    this.child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    liveChildren.add(this.child);
    let out = '';
    this.child.stdout?.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const parts = out.split('\n');
      out = parts.pop() ?? '';
      this.lines.push(...parts);
    });
    let err = '';
    this.child.stderr?.on('data', (c: Buffer) => {
      err += c.toString('utf8');
      const parts = err.split('\n');
      err = parts.pop() ?? '';
      this.stderr.push(...parts);
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code) => {
        liveChildren.delete(this.child);
        resolve(code);
      }),
    );
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Waits for a stdout line matching `re`; fails with the process's stderr if it exits first. */
  async waitForLine(re: RegExp, deadlineMs = 30_000): Promise<string> {
    const deadline = Date.now() + deadlineMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    for (;;) {
      const line = this.lines.find((l) => re.test(l));
      if (line !== undefined) return line;
      if (exited) throw new Error(`process exited before printing ${String(re)}; stderr:\n${this.stderr.slice(-30).join('\n')}`);
      if (Date.now() > deadline) throw new Error(`no line matching ${String(re)} within ${deadlineMs} ms; stderr:\n${this.stderr.slice(-30).join('\n')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child.kill(signal);
  }
}

/** Runs a `keel` command to completion; returns its exit code and output. */
export async function runKeel(args: readonly string[], deadlineMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = new KeelProcess(args);
  const timer = setTimeout(() => p.kill(), deadlineMs);
  const code = await p.exited;
  clearTimeout(timer);
  // Let the pipes drain their last bytes.
  await new Promise((r) => setImmediate(r));
  return { code, stdout: p.lines.join('\n'), stderr: p.stderr.join('\n') };
}

/** Polls `probe` until it returns a value other than undefined, or fails at the deadline. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, deadlineMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError === undefined ? '' : `: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)}`}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
