import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

/** Every child a test started, so afterEach can kill what a failure left running. */
export const liveChildren = new Set<ChildProcess>();

export function killLiveChildren(): void {
  for (const c of liveChildren) c.kill('SIGKILL');
  liveChildren.clear();
}

/**
 * Runs `node --import tsx SCRIPT ARGS...`, collecting its stdout lines. When `killWhen`
 * returns true the child is killed with SIGKILL; a child that exits by itself ends the run
 * too. Fails if neither happens before the deadline. Resolves with the lines seen, once the
 * child is gone.
 */
export async function runChildUntil(script: string, args: readonly string[], killWhen: (lines: readonly string[]) => boolean, deadlineMs = 60_000): Promise<string[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  liveChildren.add(child);
  const lines: string[] = [];
  let partial = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`${script} did not get there within ${deadlineMs} ms (${lines.length} lines)`)), deadlineMs);
      child.stdout?.on('data', (chunk: Buffer) => {
        partial += chunk.toString('utf8');
        const parts = partial.split('\n');
        partial = parts.pop() ?? '';
        lines.push(...parts);
        if (killWhen(lines)) {
          clearTimeout(deadline);
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.once('exit', () => {
        clearTimeout(deadline);
        resolve();
      });
    });
  } finally {
    child.kill('SIGKILL');
    await exited;
    liveChildren.delete(child);
  }
  return lines;
}
