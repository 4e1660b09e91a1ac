import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface LocalClusterOptions {
  readonly nodes: number;
  readonly basePort: number;
  readonly host: string;
  readonly dataDir: string;
  readonly extraArgs: readonly string[];
}

/**
 * `keel cluster` (what `npm start` runs): starts N `keel serve` processes on consecutive ports
 * with one --initial-cluster, prints each node's endpoints and one ready line once every node
 * is up, and on Ctrl-C or SIGTERM stops them all cleanly. A node that dies takes the rest down,
 * so a broken start never leaves orphans.
 */
export async function runLocalCluster(opts: LocalClusterOptions): Promise<number> {
  const ids = Array.from({ length: opts.nodes }, (_, i) => i + 1);
  const addr = (id: number): string => `${opts.host}:${opts.basePort + id - 1}`;
  const initialCluster = ids.map((id) => `${id}=${addr(id)}`).join(',');
  // Run the same build this process runs: dist/cli/main.js, or src/cli/main.ts under tsx.
  const here = fileURLToPath(import.meta.url);
  const fromSource = here.endsWith('.ts');
  const script = path.join(path.dirname(here), fromSource ? 'main.ts' : 'main.js');
  const execArgs = fromSource ? ['--import', 'tsx', script] : [script];
  const children = new Map<number, ChildProcess>();
  let stopping = false;
  let readyCount = 0;

  const stopAll = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    for (const c of children.values()) c.kill(signal);
  };
  process.once('SIGINT', () => stopAll('SIGTERM'));
  process.once('SIGTERM', () => stopAll('SIGTERM'));

  const exits = ids.map((id) => {
    const args = ['serve', '--id', String(id), '--http-addr', addr(id), '--initial-cluster', initialCluster, '--data-dir', path.join(opts.dataDir, `node${id}`), ...opts.extraArgs];
    const child = spawn(process.execPath, [...execArgs, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.set(id, child);
    let partial = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      partial += chunk.toString('utf8');
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('ready ')) continue;
        process.stdout.write(`node ${id}: ${line.slice(6)}\n`);
        if (++readyCount === ids.length) {
          process.stdout.write(`ready: ${ids.length} nodes; endpoints ${ids.map((i) => `http://${addr(i)}`).join(',')}\n`);
          process.stdout.write(`try: curl -X PUT ${`http://${addr(1)}`}/v1/groups/1/kv/hello -H 'content-type: application/json' -d '{"value":"world"}'\n`);
          process.stdout.write(`     curl ${`http://${addr(2)}`}/v1/groups/1/kv/hello ; Ctrl-C stops the cluster\n`);
        }
      }
    });
    return new Promise<number>((resolve) =>
      child.once('exit', (code, signal) => {
        children.delete(id);
        if (!stopping) {
          process.stderr.write(`node ${id} exited (${signal ?? `code ${code ?? '?'}`}); stopping the cluster\n`);
          stopAll('SIGTERM');
        }
        resolve(code ?? (signal === 'SIGTERM' ? 0 : 1));
      }),
    );
  });
  const codes = await Promise.all(exits);
  process.stdout.write('cluster stopped\n');
  return codes.every((c) => c === 0) ? 0 : 1;
}
